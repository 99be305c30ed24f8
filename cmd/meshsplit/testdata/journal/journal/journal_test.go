package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// newLog returns the journal under test, and a context for the test's calls.
// Every test writes its own topics, so that the tests can share one
// journal.
func newLog(t *testing.T) (Log, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return New(), ctx
}

// appendAll appends bodies to topic.
func appendAll(t *testing.T, ctx context.Context, log Log, topic string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := log.Append(ctx, topic, b); err != nil {
			t.Fatalf("Append(%q, %q): %v", topic, b, err)
		}
	}
}

// settle waits until the journal serves no reader any more.
func settle(t *testing.T, ctx context.Context, log Log) {
	t.Helper()
	for {
		st, err := log.Stats(ctx)
		if err != nil {
			t.Fatalf("Stats: %v", err)
		}
		if st == (Stats{}) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("readers still open: %+v", st)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func bodies(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

func TestTailYieldsEveryEvent(t *testing.T) {
	log, ctx := newLog(t)
	appendAll(t, ctx, log, "tail-all", bodies(500, "e")...)
	var got []string
	for ev, err := range log.Tail(ctx, "tail-all", 100) {
		if err != nil {
			t.Fatalf("event %d: %v", ev.Seq, err)
		}
		if ev.Seq != int64(100+len(got)) || ev.Topic != "tail-all" || ev.At.IsZero() {
			t.Fatalf("event %+v out of place", ev)
		}
		got = append(got, ev.Body)
	}
	if !slices.Equal(got, bodies(500, "e")[100:]) {
		t.Fatalf("got %d events, want 400", len(got))
	}
	settle(t, ctx, log)
}

func TestTailStopsEarly(t *testing.T) {
	log, ctx := newLog(t)
	appendAll(t, ctx, log, "tail-stop", bodies(1000, "e")...)
	n := 0
	for _, err := range log.Tail(ctx, "tail-stop", 0) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
	if n != 10 {
		t.Fatalf("ranged %d events", n)
	}
	// The journal's tail ends when its reader stops.
	settle(t, ctx, log)
}

func TestTailMidStreamError(t *testing.T) {
	log, ctx := newLog(t)
	appendAll(t, ctx, log, "tail-corrupt", "ok", "\xff\xfe", "fine")
	var seqs []int64
	var bad []int64
	for ev, err := range log.Tail(ctx, "tail-corrupt", 0) {
		seqs = append(seqs, ev.Seq)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("event %d: %v, want ErrCorrupt", ev.Seq, err)
			}
			bad = append(bad, ev.Seq)
		}
	}
	if !slices.Equal(seqs, []int64{0, 1, 2}) || !slices.Equal(bad, []int64{1}) {
		t.Fatalf("events %v, corrupt %v; want 0 1 2 with 1 corrupt", seqs, bad)
	}
	// A topic with no events: the error is the only pair.
	for _, err := range log.Tail(ctx, "tail-none", 0) {
		if !errors.Is(err, ErrNoTopic) {
			t.Fatalf("tail of a missing topic: %v, want ErrNoTopic", err)
		}
	}
}

func TestTopicsSorted(t *testing.T) {
	log, ctx := newLog(t)
	appendAll(t, ctx, log, "topics-b", "x")
	appendAll(t, ctx, log, "topics-a", "x")
	seq, err := log.Topics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mine []string
	for name := range seq {
		if strings.HasPrefix(name, "topics-") {
			mine = append(mine, name)
		}
	}
	if !slices.Equal(mine, []string{"topics-a", "topics-b"}) {
		t.Fatalf("topics %v", mine)
	}
}

func TestFollowUntilCancelled(t *testing.T) {
	log, ctx := newLog(t)
	appendAll(t, ctx, log, "follow", "a", "b")
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := log.Follow(fctx, "follow")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "b"} {
		if ev := <-ch; ev.Body != want {
			t.Fatalf("got %q, want %q", ev.Body, want)
		}
	}
	appendAll(t, ctx, log, "follow", "c")
	if ev := <-ch; ev.Body != "c" || ev.Seq != 2 {
		t.Fatalf("live event %+v, want c at 2", ev)
	}
	cancel()
	for range ch {
		// drained until closed
	}
	settle(t, ctx, log)
	if _, err := log.Follow(ctx, ""); err == nil {
		t.Fatal("Follow of an empty topic name succeeded")
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	log, ctx := newLog(t)
	big := strings.Repeat("payload ", 200)
	appendAll(t, ctx, log, "export-src", bodies(3000, big)...)
	r, err := log.Export(ctx, "export-src")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		t.Fatalf("reading the export: %v", err)
	}
	if lines := bytes.Count(data, []byte("\n")); lines != 3000 {
		t.Fatalf("export has %d lines, want 3000", lines)
	}
	n, err := log.Import(ctx, "export-dst", bytes.NewReader(data))
	if err != nil || n != 3000 {
		t.Fatalf("Import = %d, %v", n, err)
	}
	i := 0
	for ev, err := range log.Tail(ctx, "export-dst", 0) {
		if err != nil || ev.Body != fmt.Sprintf("%s-%d", big, i) {
			t.Fatalf("imported event %d: %q, %v", i, ev.Body[:min(20, len(ev.Body))], err)
		}
		i++
	}
	if i != 3000 {
		t.Fatalf("%d imported events", i)
	}
	settle(t, ctx, log)
	if _, err := log.Export(ctx, "export-none"); !errors.Is(err, ErrNoTopic) {
		t.Fatalf("Export of a missing topic: %v", err)
	}
}

func TestExportClosedEarly(t *testing.T) {
	log, ctx := newLog(t)
	// 3 MB: more than a stream window, so the export is still running.
	appendAll(t, ctx, log, "export-early", bodies(3000, strings.Repeat("z", 1000))...)
	r, err := log.Export(ctx, "export-early")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, make([]byte, 4096)); err != nil {
		t.Fatalf("reading the start of the export: %v", err)
	}
	r.Close()
	settle(t, ctx, log)
}

// failingReader gives some lines, then fails.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestImportErrors(t *testing.T) {
	log, ctx := newLog(t)
	lines := "{\"body\":\"one\"}\n{\"body\":\"two\"}\nnot json\n{\"body\":\"four\"}\n"
	n, err := log.Import(ctx, "import-bad", strings.NewReader(lines))
	if err == nil || !strings.Contains(err.Error(), "line 3") || n != 2 {
		t.Fatalf("Import of a bad line = %d, %v; want 2 and an error naming line 3", n, err)
	}
	n, err = log.Import(ctx, "import-broken", &failingReader{r: strings.NewReader(lines[:30]), err: errors.New("disk on fire")})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || n != 2 {
		t.Fatalf("Import from a failing reader = %d, %v; want 2 and the reader's error", n, err)
	}
}
