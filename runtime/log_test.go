package runtime

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestUnreportedLogsTheFailure(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)

	Unreported(greeterName, "Notify", errors.New("connection refused"))
	out := buf.String()
	for _, want := range []string{"level=ERROR", greeterName, "Notify", "connection refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q does not contain %q", out, want)
		}
	}
}

func TestNodeIsQuietByDefault(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(old)

	srv, _ := serveGreeter(t, testConfig(), "a")
	_, g := callerOf(t, testConfig(), srv.Addr())
	if _, err := g.Greet(within(t, 5*time.Second), "x"); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Fatalf("a node without a Logger wrote to the default logger: %s", buf.String())
	}
}
