package runtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStreamSeqDeliversEveryItemInOrder(t *testing.T) {
	impl, c, _ := serveFeeder(t, testConfig())
	ctx := within(t, 20*time.Second)
	seq, err := c.Count(ctx, 20000)
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	want := int64(0)
	for v := range seq {
		if v != want {
			t.Fatalf("item %d is %d", want, v)
		}
		want++
	}
	if want != 20000 {
		t.Fatalf("got %d items, want 20000", want)
	}
	// A second range yields nothing: the items travel once.
	for range seq {
		t.Fatal("a second range of a remote iter.Seq yielded an item")
	}
	waitFor(t, 5*time.Second, "the producer's end", func() bool { return slices.Contains(impl.stops(), "end") })

	// The method's error is the call's, and the sequence is empty.
	seq, err = c.Count(ctx, -2)
	if !errors.Is(err, errNotFound) {
		t.Fatalf("Count(-2) error = %v, want errNotFound", err)
	}
	for range seq {
		t.Fatal("the sequence of a failed call yielded an item")
	}
}

func TestStreamSeq2MidStreamErrorKeepsIdentity(t *testing.T) {
	_, c, _ := serveFeeder(t, testConfig())
	ctx := within(t, 20*time.Second)
	var got []int64
	var errAt int64 = -1
	for b, err := range c.Tail(ctx, 10, 4, 3) {
		if err != nil {
			if !errors.Is(err, errNotFound) || errAt >= 0 {
				t.Fatalf("item %d: error %v; want errNotFound, once", b.N, err)
			}
			errAt = b.N
		}
		if len(b.Pad) != 3 {
			t.Fatalf("item %d: pad of %d bytes, want 3", b.N, len(b.Pad))
		}
		got = append(got, b.N)
	}
	// The error travels beside its item, and the producer goes on, as a
	// local iter.Seq2 would.
	if errAt != 4 || len(got) != 10 || got[9] != 9 {
		t.Fatalf("items %v with the error at %d; want 0..9 with the error at 4", got, errAt)
	}
	n := 0
	for _, err := range c.Tail(ctx, 10, 4, 0) {
		if err != nil {
			break // a consumer that stops at the first error
		}
		n++
	}
	if n != 4 {
		t.Fatalf("stopped after %d items, want 4", n)
	}
	// A second range of the same sequence says so.
	seq := c.Tail(ctx, 1, -1, 0)
	for range seq {
	}
	for _, err := range seq {
		if !errors.Is(err, ErrStreamConsumed) {
			t.Fatalf("second range: %v, want ErrStreamConsumed", err)
		}
	}
}

func TestStreamEarlyStopStopsTheProducer(t *testing.T) {
	impl, c, _ := serveFeeder(t, testConfig())
	ctx := within(t, 20*time.Second)
	n := 0
	for _, err := range c.Tail(ctx, -1, -1, 0) { // forever
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 5 {
			break
		}
	}
	// The server's yield returns false and its context is cancelled.
	waitFor(t, 10*time.Second, "the producer's yield to return false", func() bool { return slices.Contains(impl.stops(), "yield false") })
	select {
	case <-impl.ctxDone:
	case <-ctx.Done():
		t.Fatal("the producer's context was not cancelled")
	}
}

func TestStreamCallerCancelReachesProducer(t *testing.T) {
	impl, c, _ := serveFeeder(t, testConfig())
	ctx, cancel := context.WithCancel(within(t, 20*time.Second))
	defer cancel()
	n := 0
	var last error
	for _, err := range c.Tail(ctx, -1, -1, 0) {
		if err != nil {
			last = err
			continue
		}
		if n++; n == 100 {
			cancel()
		}
	}
	if last != context.Canceled {
		t.Fatalf("last error %v, want context.Canceled itself", last)
	}
	waitFor(t, 10*time.Second, "the producer to stop", func() bool { return slices.Contains(impl.stops(), "yield false") })
	<-impl.ctxDone
}

func TestStreamDeadlineCoversTheWholeStream(t *testing.T) {
	impl, c, _ := serveFeeder(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	ch, err := c.Feed(ctx, 1<<30) // far more than the deadline lets through
	if err != nil {
		t.Fatalf("Feed: %v", err)
	}
	start := time.Now()
	n := 0
	for range ch {
		n++
	}
	if ctx.Err() == nil {
		t.Fatalf("the channel closed after %d items before the deadline", n)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the channel closed %v after the start", took)
	}
	// The server's context ended too: its sender saw ctx.Done.
	waitFor(t, 10*time.Second, "the producer to see its context end", func() bool { return slices.Contains(impl.stops(), "ctx") })
}

func TestStreamChanClosesAtEndAndOnFailure(t *testing.T) {
	_, c, _ := serveFeeder(t, testConfig())
	ctx := within(t, 20*time.Second)
	ch, err := c.Feed(ctx, 1000)
	if err != nil {
		t.Fatalf("Feed: %v", err)
	}
	i := 0
	for s := range ch {
		if want := fmt.Sprint("event ", i); s != want {
			t.Fatalf("item %d = %q, want %q", i, s, want)
		}
		i++
	}
	if i != 1000 {
		t.Fatalf("%d items, want 1000", i)
	}
	ch, err = c.Feed(ctx, -1)
	var de *declinedError
	if !errors.As(err, &de) || de.Code != 7 {
		t.Fatalf("Feed(-1) error = %v, want *declinedError 7", err)
	}
	if _, ok := <-ch; ok {
		t.Fatal("the channel of a failed call is open")
	}
}

func TestStreamReaderResult(t *testing.T) {
	impl, c, _ := serveFeeder(t, bulkConfig())
	ctx := within(t, 60*time.Second)
	const size = 5<<20 + 123
	r, err := c.Export(ctx, size, -1)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	got, err := io.ReadAll(r)
	if err != nil || len(got) != size {
		t.Fatalf("ReadAll: %d bytes, %v; want %d, nil", len(got), err, size)
	}
	for i, b := range got {
		if b != pattern(i) {
			t.Fatalf("byte %d = %d, want %d", i, b, pattern(i))
		}
	}
	r.Close()
	waitFor(t, 5*time.Second, "the server to close its reader", func() bool { return impl.closed.Load() == 1 })

	// An error of the server's reader is the caller's Read error, after
	// the bytes before it.
	r, err = c.Export(ctx, size, 100_000)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	got, err = io.ReadAll(r)
	if !errors.Is(err, errNotFound) || len(got) != 100_000 {
		t.Fatalf("ReadAll: %d bytes, %v; want 100000 and errNotFound", len(got), err)
	}

	// Close before the end stops the server's copy and closes its reader.
	r, err = c.Export(ctx, 1<<30, -1)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
		t.Fatalf("ReadFull: %v", err)
	}
	r.Close()
	waitFor(t, 10*time.Second, "the server to close the abandoned reader", func() bool { return impl.closed.Load() == 3 })
	if _, err := r.Read(make([]byte, 10)); err == nil {
		t.Fatal("Read after Close succeeded")
	}
}

// failingReader returns n bytes, then err.
type failingReader struct {
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

func TestStreamReaderParam(t *testing.T) {
	_, c, _ := serveFeeder(t, bulkConfig())
	ctx := within(t, 60*time.Second)
	data := bytes.Repeat([]byte("meshsplit streams "), 300_000) // 5.4 MB
	sum := sha256.Sum256(data)
	n, h, err := c.Import(ctx, "bulk", bytes.NewReader(data))
	if err != nil || n != int64(len(data)) || h != hex.EncodeToString(sum[:]) {
		t.Fatalf("Import = %d, %s, %v; want %d, %x", n, h, err, len(data), sum)
	}
	n, _, err = c.Import(ctx, "empty", bytes.NewReader(nil))
	if err != nil || n != 0 {
		t.Fatalf("Import(empty) = %d, %v", n, err)
	}
	// The caller's reader failing mid-upload is the server's Read error,
	// with its identity, and the method's error comes back.
	n, _, err = c.Import(ctx, "broken", &failingReader{n: 70_000, err: fmt.Errorf("disk: %w", errNotFound)})
	if !errors.Is(err, errNotFound) || n != 70_000 {
		t.Fatalf("Import(broken) = %d, %v; want 70000 and errNotFound", n, err)
	}
}

func TestStreamSlowConsumerBoundsTheProducer(t *testing.T) {
	impl, c, _ := serveFeeder(t, bulkConfig())
	ctx := within(t, 60*time.Second)
	const items, pad = 10_000, 1000 // 10 MB if nothing held the producer
	next, stop := iter.Pull2(c.Tail(ctx, items, -1, pad))
	defer stop()
	if _, err, ok := next(); !ok || err != nil {
		t.Fatalf("first item: %v, %v", ok, err)
	}
	// The consumer holds still: the producer must stall with at most a
	// window's worth of items in flight (yamux's window, streamWindow, the
	// writer's 64 KiB queue, the reader's 32 KiB buffer), not run on.
	var last int64 = -1
	deadline := time.Now().Add(20 * time.Second)
	for {
		cur := impl.produced.Load()
		if cur == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the producer did not stall: %d items produced", cur)
		}
		last = cur
		time.Sleep(100 * time.Millisecond)
	}
	const bound = (streamWindow + 64<<10 + 32<<10 + 64<<10) / pad
	if last > bound {
		t.Fatalf("the producer ran %d items ahead of a consumer that read 1; bound %d", last, bound)
	}
	if last >= items {
		t.Fatalf("the producer finished (%d items) while the consumer held still", last)
	}
	// Reading on lets it finish.
	got := 1
	for {
		b, err, ok := next()
		if !ok {
			break
		}
		if err != nil || b.N != int64(got) {
			t.Fatalf("item %d: %d, %v", got, b.N, err)
		}
		got++
	}
	if got != items {
		t.Fatalf("got %d items, want %d", got, items)
	}
	t.Logf("producer stalled at %d items (%d KiB) ahead of the consumer", last, last*pad>>10)
}

func TestStreamingMethodRefusedOnTheFastPath(t *testing.T) {
	_, c, _ := serveFeeder(t, testConfig())
	ctx := within(t, 10*time.Second)
	err := c.c.Call(ctx, feederCount, &feederIntRequest{N: 1}, &greeterEmpty{})
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("Call of a streaming method: %v, want ErrMalformed", err)
	}
}

func TestStreamingMethodRefusedOnTheHTTPPath(t *testing.T) {
	_, _, caller := serveFeeder(t, testConfig())
	mesh := &http.Client{Transport: caller.Transport()}
	httpCase(t, mesh, http.MethodPost, "/"+feederName+"/Count", `{"n":1}`, nil, http.StatusNotImplemented,
		[]string{"Count streams", "generated client"})
}

func TestStreamNodeCloseEndsItsStreams(t *testing.T) {
	srv := startNode(t, testConfig())
	impl := newFeederImpl()
	if err := srv.Publish(&feederDesc, impl); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Listen = ""
	caller := startNode(t, cfg)
	ctx := within(t, 20*time.Second)
	if err := caller.Join(ctx, srv.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := caller.Wait(ctx, feederName); err != nil {
		t.Fatal(err)
	}
	c := &feederClient{caller.Client(&feederDesc)}
	ch, err := c.Feed(ctx, 1<<30) // a feed that would run for hours
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	closeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := srv.Close(closeCtx); err != nil {
		t.Fatalf("Close with a live stream: %v", err)
	}
	for range ch {
		// drained until the caller's channel closes
	}
	waitFor(t, 5*time.Second, "the producer to see its context end", func() bool { return slices.Contains(impl.stops(), "ctx") })
}

func TestStreamCallsAreRecordedInTheTrafficLog(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.TrafficDir = dir
	_, c, caller := serveFeeder(t, cfg)
	ctx := within(t, 10*time.Second)
	for range c.Tail(ctx, 3, -1, 0) {
	}
	if _, err := c.Feed(ctx, -1); err == nil {
		t.Fatal("Feed(-1) succeeded")
	}
	if _, _, err := c.Import(ctx, "x", bytes.NewReader([]byte("abc"))); err != nil {
		t.Fatal(err)
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	caller.Close(closeCtx)
	var got []string
	for _, r := range readTraffic(t, dir) {
		if r.Service != feederName || r.Nanos <= 0 {
			t.Errorf("record %+v", r)
		}
		got = append(got, r.Method+" "+r.Outcome)
	}
	if want := []string{"Tail ok", "Feed error", "Import ok"}; !slices.Equal(got, want) {
		t.Fatalf("records %q, want %q", got, want)
	}
}

func TestStreamingMethodsSayHowTheyStream(t *testing.T) {
	_, _, caller := serveFeeder(t, testConfig())
	want := map[string]string{"Count": "out", "Export": "out", "Feed": "out", "Import": "in", "Tail": "out", "Upper": "in,out"}
	for _, s := range caller.Services() {
		if s.Name != feederName {
			continue
		}
		for _, m := range s.Methods {
			if m.Stream != want[m.Name] {
				t.Errorf("%s: stream %q, want %q", m.Name, m.Stream, want[m.Name])
			}
			delete(want, m.Name)
		}
	}
	if len(want) > 0 {
		t.Fatalf("methods not listed: %v", want)
	}
}

func TestStreamPanicsAreCallErrors(t *testing.T) {
	_, c, _ := serveFeeder(t, testConfig())
	ctx := within(t, 10*time.Second)
	for _, tt := range []struct {
		pad, items int
	}{{-2, 0}, {-1, 2}} {
		n := 0
		var last error
		for _, err := range c.Tail(ctx, 10, -1, tt.pad) {
			if err != nil {
				last = err
				continue
			}
			n++
		}
		var ce *CallError
		if !errors.As(last, &ce) || !errors.Is(last, ErrHandlerPanic) || n != tt.items {
			t.Errorf("pad %d: %d items, then %v; want %d and a CallError wrapping ErrHandlerPanic", tt.pad, n, last, tt.items)
		}
	}
	// The node serves on.
	for _, err := range c.Tail(ctx, 1, -1, 0) {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestStreamUploadAndDownloadAtOnce(t *testing.T) {
	_, c, _ := serveFeeder(t, bulkConfig())
	ctx := within(t, 60*time.Second)
	// 6 MB: several windows each way, so that the upload and the download
	// must both move for either to finish.
	in := bytes.Repeat([]byte("stream me "), 600_000)
	r, err := c.Upper(ctx, bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading the upper-cased stream: %v", err)
	}
	if !bytes.Equal(out, bytes.ToUpper(in)) {
		t.Fatalf("got %d bytes, want %d upper-cased", len(out), len(in))
	}
}

// TestStreamCarriesContextValues checks that a registered context value
// reaches a streaming method's context, as it does a unary method's.
func TestStreamCarriesContextValues(t *testing.T) {
	if err := registerTenant(); err != nil {
		t.Fatal(err)
	}
	impl, c, _ := serveFeeder(t, testConfig())
	ctx := context.WithValue(within(t, 10*time.Second), tenantKey{}, "acme")
	ch, err := c.Feed(ctx, 3)
	if err != nil {
		t.Fatalf("Feed: %v", err)
	}
	for range ch {
	}
	if got, _ := impl.tenant.Load().(string); got != "acme" {
		t.Fatalf("the streaming method's context holds tenant %q, want acme", got)
	}
}

// TestStreamInterceptors checks that the node's interceptors see a
// streaming call on both sides, up to its response, and that what the
// client's adds to the metadata reaches the server's; one that refuses the
// call without running the method fails it with its error.
func TestStreamInterceptors(t *testing.T) {
	rec := &recorder{}
	cfg := testConfig()
	cfg.ClientInterceptors = []ClientInterceptor{rec.clientICPT}
	cfg.ServerInterceptors = []ServerInterceptor{rec.serverICPT}
	impl, c, _ := serveFeeder(t, cfg)
	ctx := within(t, 10*time.Second)
	ch, err := c.Feed(ctx, 3)
	if err != nil {
		t.Fatalf("Feed: %v", err)
	}
	n := 0
	for range ch {
		n++
	}
	if n != 3 || impl.produced.Load() != 3 {
		t.Fatalf("got %d events of 3 produced (%d), want 3", n, impl.produced.Load())
	}
	client, server, cerr := rec.last(t)
	if cerr != nil || client.Method != "Feed" || server.Method != "Feed" || client.Peer == "" || server.Peer == "" {
		t.Fatalf("interceptors saw client %+v (err %v) and server %+v, want Feed on both sides with their peers", client, cerr, server)
	}
	if got := server.Metadata.Get("x-client"); got != "c1" {
		t.Errorf("the server interceptor saw x-client %q, want the client interceptor's c1", got)
	}
	if client.RequestBytes <= 0 {
		t.Errorf("the client interceptor saw a request of %d bytes", client.RequestBytes)
	}

	rec.mu.Lock()
	rec.skipRun = true
	rec.mu.Unlock()
	before := impl.produced.Load()
	if _, err := c.Feed(ctx, 3); err == nil || !strings.Contains(err.Error(), "refused by the interceptor") {
		t.Fatalf("Feed refused by the server interceptor: err %v, want its error", err)
	}
	if impl.produced.Load() != before {
		t.Error("the method ran although the server interceptor refused the call")
	}
}
