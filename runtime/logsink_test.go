package runtime

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// logSink collects a node's logs so that a test can wait for a line.
type logSink struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newLogSink() *logSink { return &logSink{changed: make(chan struct{})} }

// Write appends p and wakes waiters.
func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	close(s.changed)
	s.changed = make(chan struct{})
	return len(p), nil
}

// logger returns a debug-level logger writing to s.
func (s *logSink) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(s, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// String returns everything logged so far.
func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitLine waits until a logged line contains every one of parts, and
// returns it; the test fails when none does within d.
func (s *logSink) waitLine(t testing.TB, d time.Duration, parts ...string) string {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		text, ch := s.buf.String(), s.changed
		s.mu.Unlock()
		for _, line := range strings.Split(text, "\n") {
			if containsAll(line, parts) {
				t.Logf("logged: %s", line)
				return line
			}
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("no log line containing %q within %s; the log:\n%s", parts, d, text)
			return ""
		}
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
