package runtime

import (
	"context"
	"errors"
	"math"
	stdruntime "runtime"
	"strings"
	"testing"
	"time"
)

// TestFailedSendDoesNotPoolACallTheReaderStillCompletes makes the stream
// fail between start registering a call and queueing its request: the read
// loop takes the pending map over and completes the call with ErrConnLost,
// then the queueing fails. The call record must not go back to the pool
// holding that completion, or the next call to draw it from the pool would
// receive it as its own result.
func TestFailedSendDoesNotPoolACallTheReaderStillCompletes(t *testing.T) {
	srv, _ := serveGreeter(t, testConfig(), "a")
	caller, _ := callerOf(t, testConfig(), srv.Addr())
	p := caller.peerByID(srv.ID())
	if len(p) != 1 {
		t.Fatalf("caller has no session to the server")
	}
	conn, err := p[0].rpcConn()
	if err != nil {
		t.Fatal(err)
	}
	var taken *pendingCall
	conn.registered = func(id uint64, pc *pendingCall) {
		taken = pc
		// The session dies now; wait until the read loop has failed the
		// call (which it does after closing the writer).
		p[0].sess.Close()
		waitFor(t, 10*time.Second, "the read loop to fail the registered call", func() bool { return len(pc.done) == 1 })
	}
	reqHdr := appendRequest(nil, greeterName, greeterGreet, "greet-1", 0, nil)
	var e Encoder
	(&greeterGreetRequest{Name: "x"}).MarshalMesh(&e)
	_, _, err = conn.start(context.Background(), reqHdr, e.Bytes())
	var ns *errNotSent
	if !errors.As(err, &ns) {
		t.Fatalf("start on a stream that failed meanwhile: %v, want *errNotSent", err)
	}
	if taken == nil {
		t.Fatal("the hook did not run")
	}
	if len(taken.done) != 0 || taken.err != nil {
		t.Fatalf("the call went back to the pool completed (done %d, err %v): the next call would receive that result", len(taken.done), taken.err)
	}
}

// TestTransportAndCloseDoNotRace builds the HTTP transport while the node
// closes: Close must read the transport through its once (run with -race).
func TestTransportAndCloseDoNotRace(t *testing.T) {
	cfg := testConfig()
	cfg.Listen = ""
	n, err := NewNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	built := make(chan struct{})
	go func() {
		defer close(built)
		n.Transport()
	}()
	if err := n.Close(within(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	<-built
}

// TestCloseGivingUpLeavesNoWaiterBehind closes a node whose handler ignores
// its context, with a short deadline: Close returns at the deadline, and
// nothing it started may still wait for the handler afterwards.
func TestCloseGivingUpLeavesNoWaiterBehind(t *testing.T) {
	srv := startNode(t, testConfig())
	release := make(chan struct{})
	b := &blocker{entered: make(chan struct{}, 1), release: release}
	if err := srv.Publish(&blockerDesc, b); err != nil {
		t.Fatal(err)
	}
	defer close(release)
	caller := startNode(t, func() Config { c := testConfig(); c.Listen = ""; return c }())
	ctx := within(t, 10*time.Second)
	if err := caller.Join(ctx, srv.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := caller.Wait(ctx, blockerDesc.Name); err != nil {
		t.Fatal(err)
	}
	go caller.Client(&blockerDesc).Call(ctx, 0, &greeterEmpty{}, &greeterEmpty{})
	select {
	case <-b.entered:
	case <-ctx.Done():
		t.Fatal("the blocking call never started")
	}
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Close(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with a handler that never returns: %v, want DeadlineExceeded", err)
	}
	buf := make([]byte, 1<<20)
	stack := string(buf[:stdruntime.Stack(buf, true)])
	for _, g := range strings.Split(stack, "\n\n") {
		if strings.Contains(g, ".(*Node).Close") {
			t.Fatalf("a goroutine of Close outlives it:\n%s", g)
		}
	}
}

// blocker is a service whose only method blocks until release is closed,
// whatever its context says: a handler that ignores cancellation.
type blocker struct {
	entered chan struct{}
	release chan struct{}
}

// blockerDesc describes blocker on the mesh.
var blockerDesc = ServiceDesc{
	Name:        "example.com/test/block.Blocker",
	Fingerprint: "svc-block-1",
	Methods: []MethodDesc{{
		Name: "Block", Fingerprint: "block-1",
		NewRequest:  func() Message { return new(greeterEmpty) },
		NewResponse: func() Message { return new(greeterEmpty) },
		Invoke: func(ctx context.Context, impl any, req Message) (Message, error) {
			b := impl.(*blocker)
			b.entered <- struct{}{}
			<-b.release
			return &greeterEmpty{}, nil
		},
	}},
}

// TestPickConnIndexStaysInRangeWhenTheCounterPassesInt32 runs the round
// robin over a counter past math.MaxInt32, where converting the uint32
// counter to int first goes negative on 32-bit platforms
// (GOARCH=386 go test -run PickConn ./runtime).
func TestPickConnIndexStaysInRangeWhenTheCounterPassesInt32(t *testing.T) {
	p := &peer{n: &Node{cfg: Config{StreamsPerPeer: 3}}, conns: []*rpcConn{{}, {}, {}}}
	p.next.Store(math.MaxInt32 - 2)
	seen := map[*rpcConn]int{}
	for range 9 {
		seen[p.pickConn()]++
	}
	for i, c := range p.conns {
		if seen[c] != 3 {
			t.Errorf("stream %d picked %d times of 9, want 3", i, seen[c])
		}
	}
}
