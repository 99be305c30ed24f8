package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
)

// blackhole is a TCP proxy that can stop forwarding without closing
// anything, like a cable pulled out: no FIN, no RST.
type blackhole struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	stalled bool
	conns   []net.Conn
}

func newBlackhole(t *testing.T, target string) *blackhole {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		for _, c := range b.conns {
			c.Close()
		}
		b.mu.Unlock()
	})
	go b.serve()
	return b
}

func (b *blackhole) serve() {
	for {
		in, err := b.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", b.target)
		if err != nil {
			in.Close()
			continue
		}
		b.mu.Lock()
		b.conns = append(b.conns, in, out)
		b.mu.Unlock()
		go b.pipe(in, out)
		go b.pipe(out, in)
	}
}

// pipe copies until the proxy stalls; then it reads and drops.
func (b *blackhole) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		b.mu.Lock()
		stalled := b.stalled
		b.mu.Unlock()
		if !stalled {
			dst.Write(buf[:n])
		}
	}
}

func (b *blackhole) stall() {
	b.mu.Lock()
	b.stalled = true
	b.mu.Unlock()
}

func TestCutConnectionDetectedByKeepalive(t *testing.T) {
	srv, _ := serveGreeter(t, testConfig(), "a")
	proxy := newBlackhole(t, srv.Addr())
	cfg := testConfig() // keepalive 200ms, liveness 1s
	_, g := callerOf(t, cfg, proxy.ln.Addr().String())
	caller := g.c.n
	ctx := within(t, 10*time.Second)
	if _, err := g.Greet(ctx, "x"); err != nil {
		t.Fatal(err)
	}

	proxy.stall()
	cut := time.Now()
	waitFor(t, 10*time.Second, "the caller to drop the silent node", func() bool { return len(caller.nodesFor(greeterName)) == 0 })
	took := time.Since(cut)
	if bound := cfg.KeepAlive + cfg.LivenessTimeout + time.Second; took > bound {
		t.Errorf("the cut was detected after %v, want within %v", took, bound)
	}
	t.Logf("cut connection detected after %v", took)
}

func TestNewNodeUsedWithinOneSecond(t *testing.T) {
	// The default gossip, keepalive and backoff timings: the promise holds
	// without tuning.
	defaults := withListen(DefaultConfig(), "127.0.0.1:0")
	nodes, _ := cluster(t, 1, defaults)
	_, g := callerOf(t, defaults, nodes[0].Addr())
	ctx := within(t, 10*time.Second)

	cfg := defaults
	cfg.Seeds = []string{nodes[0].Addr()}
	joined := time.Now()
	_, late := serveGreeter(t, cfg, "late")
	for late.calls.Load() == 0 {
		if time.Since(joined) > time.Second {
			t.Fatalf("the new node got no call within a second of joining")
		}
		if _, err := g.Greet(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("new node served its first call %v after starting", time.Since(joined))
}

func TestNodeFailingBeforeSendIsRetriedElsewhere(t *testing.T) {
	srv, impl := serveGreeter(t, testConfig(), "live")
	caller, g := callerOf(t, testConfig(), srv.Addr())

	dead := plantDeadPeer(t, caller)

	// Find keys the dead peer owns, so that affinity sends them there first.
	ctx := within(t, 10*time.Second)
	sent := 0
	for k := 0; sent < 20 && k < 1000; k++ {
		key := string(rune('a'+k%26)) + string(rune('a'+k/26))
		if rendezvous(caller.nodesFor(greeterName), key) != dead {
			continue
		}
		sent++
		if got, err := g.Whoami(WithAffinity(ctx, key)); err != nil || got != "live" {
			t.Fatalf("call routed to a dead node first: %q, %v; want it retried on the live node", got, err)
		}
	}
	if sent == 0 || impl.calls.Load() != int64(sent) {
		t.Fatalf("the live node served %d calls, want %d", impl.calls.Load(), sent)
	}
}

// TestNodeFailingAfterSendIsNotRetried is the other half of the retry rule:
// once the request was written, a node that dies returns ErrConnLost to the
// caller, and the call is never sent to another node (no silent duplicate).
func TestNodeFailingAfterSendIsNotRetried(t *testing.T) {
	nodes, impls := cluster(t, 2, testConfig())
	_, g := callerOf(t, testConfig(), nodes[0].Addr())
	caller := g.c.n
	waitFor(t, 10*time.Second, "the caller to see 2 nodes", func() bool { return len(caller.nodesFor(greeterName)) == 2 })

	// A key that routes to node 1, so that the call lands there.
	key := ""
	for k := 0; key == "" && k < 1000; k++ {
		if cand := fmt.Sprintf("key-%d", k); rendezvous(caller.nodesFor(greeterName), cand).id == nodes[1].ID() {
			key = cand
		}
	}
	if key == "" {
		t.Fatal("no key routes to node 1")
	}
	impls[1].started = make(chan struct{}, 1)
	ctx := within(t, 10*time.Second)
	errc := make(chan error, 1)
	go func() { errc <- g.Sleep(WithAffinity(ctx, key), time.Minute) }()
	select {
	case <-impls[1].started: // the request was written and the method runs
	case <-ctx.Done():
		t.Fatal("the call never reached node 1")
	}
	nodes[1].kill()

	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		t.Fatalf("the call did not return after its node died (the other node ran %d calls)", impls[0].calls.Load())
	}
	var ce *CallError
	if !errors.Is(err, ErrConnLost) || !errors.As(err, &ce) || ce.Node != nodes[1].Addr() {
		t.Fatalf("call whose node died after the request was sent: %v, want a *CallError on %s wrapping ErrConnLost", err, nodes[1].Addr())
	}
	if got := impls[0].calls.Load(); got != 0 {
		t.Fatalf("the call was retried on the other node (%d calls there): a silent duplicate", got)
	}
	if got := impls[1].calls.Load(); got != 1 {
		t.Fatalf("node 1 ran the method %d times, want once", got)
	}
}

func TestWaitReturnsWhenTheServiceAppears(t *testing.T) {
	seed := startNode(t, testConfig())
	c := testConfig()
	c.Listen = ""
	caller := startNode(t, c)
	ctx := within(t, 10*time.Second)
	if err := caller.Join(ctx, seed.Addr()); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := caller.Wait(short, greeterName); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait for an absent service: %v, want DeadlineExceeded", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- caller.Wait(ctx, greeterName) }()
	if err := seed.Publish(&greeterDesc, &greeterImpl{}); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Wait after Publish: %v", err)
	}
}

func TestNodesDialingEachOtherKeepOneConnection(t *testing.T) {
	a, _ := serveGreeter(t, testConfig(), "a")
	cfg := testConfig()
	cfg.Seeds = []string{a.Addr()}
	b, _ := serveGreeter(t, cfg, "b")
	ctx := within(t, 10*time.Second)
	// a now dials b too: both directions at once.
	if err := a.Join(ctx, b.Addr()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "one live session each way", func() bool {
		return len(a.nodesFor(greeterName)) == 1 && len(b.nodesFor(greeterName)) == 1
	})
	a.mu.Lock()
	pa := a.peers[b.id]
	a.mu.Unlock()
	b.mu.Lock()
	pb := b.peers[a.id]
	b.mu.Unlock()
	if pa == nil || pb == nil || pa.dialer != pb.dialer {
		t.Fatalf("the nodes kept different connections: a's was dialed by %v, b's by %v", pa, pb)
	}
	ga := &greeterClient{a.Client(&greeterDesc)}
	if tag, err := ga.Whoami(ctx); err != nil || tag != "b" {
		t.Fatalf("a calling b = %q, %v", tag, err)
	}
}

func TestCallWithNoNodeFailsWithinRouteWait(t *testing.T) {
	c := testConfig()
	c.Listen = ""
	c.RouteWait = 100 * time.Millisecond
	caller := startNode(t, c)
	g := &greeterClient{caller.Client(&greeterDesc)}
	start := time.Now()
	_, err := g.Greet(within(t, 10*time.Second), "x")
	var ce *CallError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &ce) || ce.Service != greeterName {
		t.Fatalf("call with no node: %v, want a *CallError wrapping ErrUnavailable", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("call with no node took %v", took)
	}
}

func TestSeedNamesAreResolved(t *testing.T) {
	a, _ := serveGreeter(t, testConfig(), "a")
	_, port, _ := net.SplitHostPort(a.Addr())
	cfg := testConfig()
	cfg.Listen = ""
	cfg.Seeds = []string{net.JoinHostPort("localhost", port)}
	caller := startNode(t, cfg)
	if err := caller.Wait(within(t, 10*time.Second), greeterName); err != nil {
		t.Fatalf("seed given by name: %v", err)
	}
}

func TestTransportRetriesANodeItCannotReach(t *testing.T) {
	srv, impl := serveGreeter(t, testConfig(), "live")
	caller, _ := callerOf(t, testConfig(), srv.Addr())
	plantDeadPeer(t, caller)
	client := &http.Client{Transport: caller.Transport()}
	for i := range 10 {
		resp, err := client.Post("http://mesh/"+greeterName+"/Whoami", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "live") {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if impl.calls.Load() != 10 {
		t.Fatalf("the live node served %d of 10 requests", impl.calls.Load())
	}
}

// plantDeadPeer adds to n's routing a peer serving the greeter whose
// connection is already dead, as in the moment between a crash and its
// detection.
func plantDeadPeer(t *testing.T, n *Node) *peer {
	t.Helper()
	a, b := net.Pipe()
	sess, err := yamux.Client(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	sess.Close()
	dead := newPeer(n, "00-dead", "127.0.0.1:1", n.id, "127.0.0.1:1")
	dead.sess = sess
	info := peerInfo{Version: 1, Services: []ServiceInfo{serviceInfoOf(greeterName, &greeterDesc)}}
	dead.info.Store(&info)
	n.mu.Lock()
	n.peers[dead.id] = dead
	n.rebuildRoutesLocked()
	n.mu.Unlock()
	if len(n.nodesFor(greeterName)) < 2 {
		t.Fatal("the dead peer is not routed to")
	}
	return dead
}

func TestDroppedSeedIsRedialedWhenItComesBack(t *testing.T) {
	first, _ := serveGreeter(t, testConfig(), "first")
	addr := first.Addr()
	cfg := testConfig()
	cfg.Listen = ""
	cfg.Seeds = []string{addr}
	caller := startNode(t, cfg)
	g := &greeterClient{caller.Client(&greeterDesc)}
	ctx := within(t, 20*time.Second)
	if tag, err := g.Whoami(ctx); err != nil || tag != "first" {
		t.Fatalf("Whoami = %q, %v", tag, err)
	}

	first.kill()
	waitFor(t, 10*time.Second, "the caller to drop the dead seed", func() bool { return len(caller.nodesFor(greeterName)) == 0 })
	// A new process takes the seed's address.
	again := testConfig()
	again.Listen = addr
	serveGreeter(t, again, "second")
	if err := caller.Wait(ctx, greeterName); err != nil {
		t.Fatalf("the caller did not redial the seed: %v", err)
	}
	if tag, err := g.Whoami(ctx); err != nil || tag != "second" {
		t.Fatalf("Whoami after the restart = %q, %v", tag, err)
	}
}

func TestNoNodeFailsAtOnceAfterStartUp(t *testing.T) {
	c := testConfig()
	c.Listen = ""
	c.RouteWait = time.Hour
	young := startNode(t, c)
	g := &greeterClient{young.Client(&greeterDesc)}
	// A young node waits for a route, within the call's deadline, and
	// returns ctx.Err() when it ends (Client.Call's contract).
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := g.Greet(ctx, "x")
	if err != context.DeadlineExceeded {
		t.Fatalf("young node, no route: %v, want context.DeadlineExceeded", err)
	}
	// Once the start-up window is over, no route means failing at once.
	old := startNode(t, c)
	old.started = time.Now().Add(-2 * time.Hour)
	g = &greeterClient{old.Client(&greeterDesc)}
	start := time.Now()
	_, err = g.Greet(within(t, time.Hour), "x")
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("settled node, no route: %v, want ErrUnavailable at once", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("settled node took %v to report no route", took)
	}
}

func TestJoinOfANodeThatDialedUsFirstReturns(t *testing.T) {
	a, _ := serveGreeter(t, testConfig(), "a")
	cfg := testConfig()
	cfg.Seeds = []string{a.Addr()}
	b, _ := serveGreeter(t, cfg, "b")
	waitFor(t, 5*time.Second, "b to connect to a", func() bool { return len(a.nodesFor(greeterName)) == 1 })
	if err := a.Join(within(t, 5*time.Second), b.Addr()); err != nil {
		t.Fatalf("Join of a node already connected: %v", err)
	}
}

// TestCallerReturnsAtItsDeadlineWhenThePeerStopsReading sends a request
// larger than yamux's flow-control window over a connection that stopped
// forwarding: the caller, blocked writing it, must still return at its
// deadline, long before the liveness timeout declares the peer dead.
func TestCallerReturnsAtItsDeadlineWhenThePeerStopsReading(t *testing.T) {
	cfg := testConfig()
	cfg.KeepAlive = time.Second
	cfg.LivenessTimeout = 10 * time.Second
	srv, _ := serveGreeter(t, cfg, "a")
	proxy := newBlackhole(t, srv.Addr())
	_, g := callerOf(t, cfg, proxy.ln.Addr().String())
	if _, err := g.Greet(within(t, 5*time.Second), "x"); err != nil {
		t.Fatal(err)
	}
	proxy.stall()
	for _, size := range []int{100, 8 << 20, 100} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		_, err := g.Echo(ctx, make([]byte, size))
		took := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Echo(%d bytes) over a stalled connection: %v, want DeadlineExceeded", size, err)
		}
		if took > cfg.LivenessTimeout/2 {
			t.Fatalf("Echo(%d bytes) with a 200ms deadline returned after %v: held by the stalled write", size, took)
		}
	}
}
