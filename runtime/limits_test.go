package runtime

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	stdruntime "runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
)

// rawRPCStream opens a fast-path stream from caller to srv on their
// session, for tests that write frames by hand.
func rawRPCStream(t *testing.T, caller, srv *Node) (*peer, *yamux.Stream) {
	t.Helper()
	p := caller.peerByID(srv.ID())
	if len(p) != 1 {
		t.Fatalf("no session from the caller to the server")
	}
	st, err := p[0].openStream(streamRPC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return p[0], st
}

// requestFrame appends a request frame for method of the greeter.
func requestFrame(b []byte, id uint64, method int, fingerprint string, timeout time.Duration, m Message) []byte {
	payload := requestPayload(method, fingerprint, int64(timeout), m)
	b = appendFrameHeader(b, frameRequest, id, len(payload))
	return append(b, payload...)
}

// TestDuplicateCallIDRefusedWithoutTouchingTheCallInFlight sends a second
// request under the id of a call still running: it is refused at once, and
// the first call keeps its id, so the peer's cancel still reaches it.
func TestDuplicateCallIDRefusedWithoutTouchingTheCallInFlight(t *testing.T) {
	srv, impl := serveGreeter(t, testConfig(), "a")
	impl.started = make(chan struct{}, 2)
	caller, _ := callerOf(t, testConfig(), srv.Addr())
	_, st := rawRPCStream(t, caller, srv)
	st.SetDeadline(time.Now().Add(20 * time.Second))
	r := newFrameReader(st)

	// Call 7 sleeps (a minute, or until cancelled).
	if _, err := st.Write(requestFrame(nil, 7, greeterSleep, "sleep-1", 0, &greeterSleepRequest{D: time.Minute})); err != nil {
		t.Fatal(err)
	}
	<-impl.started
	// A second call 7 must be refused, not run.
	if _, err := st.Write(requestFrame(nil, 7, greeterSleep, "sleep-1", 0, &greeterSleepRequest{D: time.Minute})); err != nil {
		t.Fatal(err)
	}
	f, err := r.read(1 << 20)
	if err != nil {
		t.Fatalf("no answer to the duplicate id: %v", err)
	}
	if f.id != 7 || len(f.payload) < 2 || f.payload[0] != statusProto || f.payload[1] != codeMalformed || !strings.Contains(string(f.payload), "already in flight") {
		t.Fatalf("answer to the duplicate id: id %d, payload %q; want a malformed-request refusal of id 7", f.id, f.payload)
	}
	if got := srv.inflightCount(); got != 1 {
		t.Fatalf("%d calls in flight after the refused duplicate, want the first one only", got)
	}
	// The first call still owns id 7: cancelling it ends it.
	var cf [frameHeaderLen]byte
	if _, err := st.Write(appendFrameHeader(cf[:0], frameCancel, 7, 0)); err != nil {
		t.Fatal(err)
	}
	f, err = r.read(1 << 20)
	if err != nil {
		t.Fatalf("no answer to the cancelled call: %v", err)
	}
	if f.id != 7 || len(f.payload) == 0 || f.payload[0] != statusAppError {
		t.Fatalf("answer to the cancelled call: id %d, payload %q; want its context's error", f.id, f.payload)
	}
	waitFor(t, 5*time.Second, "the server to end the cancelled call", func() bool { return srv.inflightCount() == 0 })
}

// TestPeerThatStopsReadingIsHeldBackAndOthersServed has a peer write
// 100 000 requests over four streams and never read a response. The server
// must stop reading its streams at the bounds (here the peer's bound on
// queued responses binds before the streams' own), so that the peer waits
// (its writes block on yamux's windows) while the server's heap stays within
// what the bounds allow, and another peer is served meanwhile.
func TestPeerThatStopsReadingIsHeldBackAndOthersServed(t *testing.T) {
	cfg := testConfig()
	cfg.MaxCallsPerStream, cfg.MaxCallsPerPeer = 32, 64
	cfg.MaxQueuedPerStream, cfg.MaxQueuedPerPeer = 256<<10, 512<<10
	srv, _ := serveGreeter(t, cfg, "a")
	abuser, _ := callerOf(t, testConfig(), srv.Addr())
	_, g := callerOf(t, testConfig(), srv.Addr())
	abuserAtSrv := srv.peerByID(abuser.ID())
	if len(abuserAtSrv) != 1 {
		t.Fatal("the server has no session from the abusive peer")
	}
	pl := &abuserAtSrv[0].load

	const streams, requests, size = 4, 100_000, 1 << 10
	before := heapInUse()
	var ap *peer
	var sent atomic.Int64
	wrote := make(chan error, streams)
	for range streams {
		var st *yamux.Stream
		ap, st = rawRPCStream(t, abuser, srv)
		go func() {
			w := bufio.NewWriterSize(st, 64<<10)
			data := bytes.Repeat([]byte{'x'}, size)
			var b []byte
			for i := range requests / streams {
				b = requestFrame(b[:0], uint64(i+1), greeterEcho, "echo-1", 0, &greeterEchoRequest{Data: data})
				if _, err := w.Write(b); err != nil {
					wrote <- err
					return
				}
				sent.Add(1)
			}
			wrote <- w.Flush()
		}()
	}

	// The server reaches the peer's bound on queued responses (they cannot
	// leave: the peer reads none), then holds still: the writers stop.
	waitFor(t, 60*time.Second, "the abusive peer's queued responses to reach the bound", func() bool {
		return pl.queued.Load() >= int64(cfg.MaxQueuedPerPeer)
	})
	stalled := func() bool {
		n := sent.Load()
		time.Sleep(50 * time.Millisecond)
		return sent.Load() == n
	}
	waitFor(t, 30*time.Second, "the abusive writers to be held back", stalled)
	if n := sent.Load(); n >= requests {
		t.Fatalf("the server took all %d requests of a peer that reads nothing: no backpressure", n)
	}

	// Heap: the bounded server state (queued responses, calls with their
	// request and response, goroutine stacks), the two yamux windows of each
	// stream (unread requests at the server, unread responses at the
	// abuser, at most streamWindow each, in buffers grown by doubling), read and
	// write buffers, the coalescing
	// buffers of the session's two ends, and slack for everything else.
	frameSize := int64(frameHeaderLen + len(requestPayload(greeterEcho, "echo-1", 0, &greeterEchoRequest{Data: make([]byte, size)})))
	bound := int64(cfg.MaxQueuedPerPeer) + int64(cfg.MaxCallsPerPeer)*(2*frameSize+16<<10) +
		streams*(4<<20+96<<10) + 2*(maxPending+1<<20) + 4<<20
	grew := heapInUse() - before
	t.Logf("%d of %d requests written before the peer was held back; %d calls running and %d response bytes queued on the server; heap grew by %d bytes (bound %d)",
		sent.Load(), requests, pl.calls.Load(), pl.queued.Load(), grew, bound)
	if grew > bound {
		t.Fatalf("heap grew by %d bytes while a peer stopped reading, over the %d the bounds allow", grew, bound)
	}
	if calls := pl.calls.Load(); calls > int64(cfg.MaxCallsPerPeer) {
		t.Fatalf("%d calls of one peer running, over MaxCallsPerPeer %d", calls, cfg.MaxCallsPerPeer)
	}
	// Past the bound by at most the responses of the calls that were
	// running when it was reached.
	if q := pl.queued.Load(); q > int64(cfg.MaxQueuedPerPeer)+int64(cfg.MaxCallsPerPeer)*frameSize {
		t.Fatalf("%d response bytes queued for one peer, over MaxQueuedPerPeer %d plus one response per call", q, cfg.MaxQueuedPerPeer)
	}

	// Another peer is served meanwhile.
	ctx := within(t, 20*time.Second)
	for i := range 20 {
		if got, err := g.Greet(ctx, "other"); err != nil || got != "hello other" {
			t.Fatalf("call %d of another peer while one is held back: %q, %v", i, got, err)
		}
	}

	// The abusive session ends: its writers return and the server lets go.
	ap.sess.Close()
	for range streams {
		select {
		case <-wrote:
		case <-ctx.Done():
			t.Fatal("an abusive writer did not return after its session closed")
		}
	}
	waitFor(t, 20*time.Second, "the server to release the abusive peer's calls and responses", func() bool {
		return pl.calls.Load() == 0 && pl.queued.Load() == 0 && srv.inflightCount() == 0
	})
}

// heapInUse returns the bytes of live heap objects after a collection.
func heapInUse() int64 {
	stdruntime.GC()
	var m stdruntime.MemStats
	stdruntime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestFullStreamWaitsUntilACallEnds checks the reader's wait directly: a
// stream at its calls bound is not read until one of its calls ends.
func TestFullStreamWaitsUntilACallEnds(t *testing.T) {
	cfg := testConfig()
	cfg.MaxCallsPerStream = 2
	srv, _ := serveGreeter(t, cfg, "a")
	caller, _ := callerOf(t, testConfig(), srv.Addr())
	_, st := rawRPCStream(t, caller, srv)
	st.SetDeadline(time.Now().Add(20 * time.Second))
	var b []byte
	for id, d := range []time.Duration{200 * time.Millisecond, time.Second, 10 * time.Millisecond} {
		b = requestFrame(b, uint64(id+1), greeterSleep, "sleep-1", 0, &greeterSleepRequest{D: d})
	}
	if _, err := st.Write(b); err != nil {
		t.Fatal(err)
	}
	// All three calls end (the third once the first made room) while the
	// server never runs more than two.
	answered := make(chan error, 1)
	go func() {
		r := newFrameReader(st)
		for range 3 {
			f, err := r.read(1 << 20)
			if err == nil && (len(f.payload) == 0 || f.payload[0] != statusOK) {
				err = fmt.Errorf("call %d failed: %q", f.id, f.payload)
			}
			if err != nil {
				answered <- err
				return
			}
		}
		answered <- nil
	}()
	most := int64(0)
	for done := false; !done; {
		select {
		case err := <-answered:
			if err != nil {
				t.Fatal(err)
			}
			done = true
		case <-time.After(time.Millisecond):
			most = max(most, srv.inflightCount())
		}
	}
	if most > 2 {
		t.Fatalf("%d calls ran at once on a stream bounded to 2", most)
	}
	if most < 2 {
		t.Fatalf("at most %d call ran at once; the test wants the stream at its bound of 2", most)
	}
}

// TestPeerOpeningTooManyStreamsHasTheExtraOnesClosed opens fast-path
// streams up to the bound, then one more: the server closes that one at
// once, and the others stay served.
func TestPeerOpeningTooManyStreamsHasTheExtraOnesClosed(t *testing.T) {
	srv, _ := serveGreeter(t, testConfig(), "a")
	caller, _ := callerOf(t, testConfig(), srv.Addr())
	atSrv := srv.peerByID(caller.ID())
	if len(atSrv) != 1 {
		t.Fatal("the server has no session from the caller")
	}
	var first *yamux.Stream
	for i := range maxRPCStreamsPerPeer {
		_, st := rawRPCStream(t, caller, srv)
		if i == 0 {
			first = st
		}
	}
	waitFor(t, 10*time.Second, "the server to serve every stream", func() bool {
		return atSrv[0].load.rpcStreams.Load() == maxRPCStreamsPerPeer
	})
	_, extra := rawRPCStream(t, caller, srv)
	extra.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := extra.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read on a stream past the bound: %d bytes, %v; want io.EOF (closed by the server)", n, err)
	}
	// The first stream still works.
	if _, err := first.Write(requestFrame(nil, 1, greeterGreet, "greet-1", 0, &greeterGreetRequest{Name: "x"})); err != nil {
		t.Fatal(err)
	}
	first.SetReadDeadline(time.Now().Add(10 * time.Second))
	f, err := newFrameReader(first).read(1 << 20)
	if err != nil || f.id != 1 || len(f.payload) == 0 || f.payload[0] != statusOK {
		t.Fatalf("call on a stream within the bound: id %d, payload %q, %v", f.id, f.payload, err)
	}
}
