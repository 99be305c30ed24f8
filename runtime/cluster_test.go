package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	stdruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// kill makes n die like a killed process: every connection drops at once,
// nothing is announced, nothing drains.
func (n *Node) kill() {
	n.mu.Lock()
	if n.closing {
		n.mu.Unlock()
		return
	}
	n.closing = true
	n.serverCalls.close()
	close(n.closed)
	var peers []*peer
	for _, p := range n.peers {
		peers = append(peers, p)
	}
	n.mu.Unlock()
	if n.ln != nil {
		n.ln.Close()
	}
	for _, p := range peers {
		p.sess.Close()
	}
	n.cancelBase()
	n.http.close()
}

// cluster starts size greeter nodes; every node after the first is seeded
// with the first one only. It returns the nodes and their implementations.
func cluster(t *testing.T, size int, cfg Config) ([]*Node, []*greeterImpl) {
	t.Helper()
	var nodes []*Node
	var impls []*greeterImpl
	for i := range size {
		c := cfg
		if i > 0 {
			c.Seeds = []string{nodes[0].Addr()}
		}
		n, impl := serveGreeter(t, c, fmt.Sprintf("n%d", i))
		nodes = append(nodes, n)
		impls = append(impls, impl)
	}
	return nodes, impls
}

// waitPeers waits until every node is connected to every other one.
func waitPeers(t *testing.T, nodes []*Node, want int) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("%d nodes to see %d greeter nodes each", len(nodes), want), func() bool {
		for _, n := range nodes {
			if len(n.nodesFor(greeterName)) != want {
				return false
			}
		}
		return true
	})
}

func TestThreeNodesJoinedThroughOneSeedFindEachOther(t *testing.T) {
	nodes, _ := cluster(t, 3, testConfig())
	// Nodes 1 and 2 only know node 0; gossip must connect them to each other.
	waitPeers(t, nodes, 2)

	// A caller that joins the last node learns all three.
	caller, _ := callerOf(t, testConfig(), nodes[2].Addr())
	waitFor(t, 5*time.Second, "the caller to learn all three nodes", func() bool {
		return len(caller.nodesFor(greeterName)) == 3
	})
	svcs := caller.Services()
	if len(svcs) != 1 || svcs[0].Name != greeterName || len(svcs[0].Nodes) != 3 || len(svcs[0].Methods) != len(greeterDesc.Methods) {
		t.Fatalf("Services() = %+v, want greeter on 3 nodes with its methods", svcs)
	}
	if p := svcs[0].Methods[greeterGreet].Params; len(p) != 1 || p[0] != "name" {
		t.Fatalf("Greet params = %v, want [name]", p)
	}
}

func TestRoundRobinSpreadsCallsEvenly(t *testing.T) {
	nodes, impls := cluster(t, 3, testConfig())
	_, g := callerOf(t, testConfig(), nodes[0].Addr())
	caller := g.c.n
	waitFor(t, 10*time.Second, "the caller to see 3 nodes", func() bool { return len(caller.nodesFor(greeterName)) == 3 })

	ctx := within(t, 30*time.Second)
	const calls = 3000
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < calls; i += 6 {
				if _, err := g.Greet(ctx, "x"); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d calls failed", failed.Load())
	}
	for i, impl := range impls {
		got := impl.calls.Load()
		if got < calls/3*9/10 || got > calls/3*11/10 {
			t.Errorf("node %d served %d of %d calls, want %d ±10%%", i, got, calls, calls/3)
		}
	}
}

func TestStickyKeysStayWhileTheNodeLivesAndMoveWhenItDies(t *testing.T) {
	nodes, _ := cluster(t, 3, testConfig())
	_, g := callerOf(t, testConfig(), nodes[0].Addr())
	caller := g.c.n
	waitFor(t, 10*time.Second, "the caller to see 3 nodes", func() bool { return len(caller.nodesFor(greeterName)) == 3 })
	ctx := within(t, 30*time.Second)

	owner := map[string]string{} // key -> node tag
	for k := range 30 {
		key := fmt.Sprintf("cart-%d", k)
		kctx := WithAffinity(ctx, key)
		for i := range 5 {
			tag, err := g.Whoami(kctx)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				owner[key] = tag
			} else if tag != owner[key] {
				t.Fatalf("key %s went to %s then to %s while both lived", key, owner[key], tag)
			}
		}
	}
	spread := map[string]int{}
	for _, tag := range owner {
		spread[tag]++
	}
	if len(spread) < 2 {
		t.Fatalf("30 keys all landed on %v; rendezvous hashing should spread them", spread)
	}

	// Kill one node that owns keys (not the seed, whose death the others
	// survive as well, but keep the test simple).
	victim := 1
	victimTag := fmt.Sprintf("n%d", victim)
	if spread[victimTag] == 0 {
		victim, victimTag = 2, "n2"
	}
	nodes[victim].kill()
	waitFor(t, 10*time.Second, "the caller to drop the killed node", func() bool { return len(caller.nodesFor(greeterName)) == 2 })

	moved := map[string]string{}
	for key, was := range owner {
		kctx := WithAffinity(ctx, key)
		for i := range 3 {
			tag, err := g.Whoami(kctx)
			if err != nil {
				t.Fatal(err)
			}
			if tag == victimTag {
				t.Fatalf("key %s still routed to the dead node", key)
			}
			if was != victimTag && tag != was {
				t.Fatalf("key %s moved from live node %s to %s", key, was, tag)
			}
			if i == 0 {
				moved[key] = tag
			} else if moved[key] != tag {
				t.Fatalf("orphaned key %s is not stable: %s then %s", key, moved[key], tag)
			}
		}
	}
}

func TestKilledNodeUnderLoadCallsReturnThenSucceedElsewhere(t *testing.T) {
	nodes, impls := cluster(t, 3, testConfig())
	_, g := callerOf(t, testConfig(), nodes[0].Addr())
	caller := g.c.n
	waitFor(t, 10*time.Second, "the caller to see 3 nodes", func() bool { return len(caller.nodesFor(greeterName)) == 3 })

	const deadline = 2 * time.Second
	type result struct {
		err   error
		took  time.Duration
		after bool // started after the death was detected
	}
	var detected atomic.Bool
	results := make(chan result, 100000)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				after := detected.Load()
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				start := time.Now()
				e := g.Sleep(ctx, time.Millisecond)
				cancel()
				results <- result{err: e, took: time.Since(start), after: after}
			}
		}()
	}
	// Let load build up on every node, then kill one.
	waitFor(t, 10*time.Second, "load on node 2", func() bool { return impls[2].calls.Load() > 50 })
	nodes[2].kill()
	waitFor(t, 10*time.Second, "the caller to detect the death", func() bool { return len(caller.nodesFor(greeterName)) == 2 })
	detected.Store(true)
	// Keep the load going a little after detection, bounded by count.
	base := impls[0].calls.Load() + impls[1].calls.Load()
	waitFor(t, 10*time.Second, "calls after detection", func() bool {
		return impls[0].calls.Load()+impls[1].calls.Load() > base+400
	})
	close(stop)
	wg.Wait()
	close(results)

	var total, failedBefore, afterOK, afterFailed int
	for r := range results {
		total++
		if r.took > deadline+time.Second {
			t.Errorf("a call took %v, past its %v deadline", r.took, deadline)
		}
		switch {
		case r.after && r.err == nil:
			afterOK++
		case r.after:
			afterFailed++
			t.Errorf("call after detection failed: %v", r.err)
		case r.err != nil:
			failedBefore++
			var ce *CallError
			if !errors.As(r.err, &ce) && !errors.Is(r.err, context.DeadlineExceeded) {
				t.Errorf("call during the death failed with a non-transport error: %v", r.err)
			}
		}
	}
	t.Logf("%d calls: %d failed around the death, %d after detection all ok=%v", total, failedBefore, afterOK, afterFailed == 0)
	if afterOK == 0 {
		t.Fatal("no call ran after the death was detected")
	}
}

func TestCloseDrainsInFlightCalls(t *testing.T) {
	srv, impl := serveGreeter(t, testConfig(), "a")
	_, g := callerOf(t, testConfig(), srv.Addr())
	impl.started = make(chan struct{}, 4)
	ctx := within(t, 10*time.Second)

	errc := make(chan error, 4)
	for range 4 {
		go func() { errc <- g.Sleep(ctx, 300*time.Millisecond) }()
	}
	for range 4 {
		<-impl.started
	}
	if err := srv.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range 4 {
		if err := <-errc; err != nil {
			t.Fatalf("in-flight call cut by Close: %v", err)
		}
	}
	// Once closed, the service is gone for the caller: a new call fails fast
	// with ErrUnavailable instead of hanging.
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := g.Greet(short, "x"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("call after Close: %v, want ErrUnavailable", err)
	}
}

func TestCloseAnnouncesLeaveSoCallersStopRouting(t *testing.T) {
	nodes, impls := cluster(t, 2, testConfig())
	_, g := callerOf(t, testConfig(), nodes[0].Addr())
	caller := g.c.n
	waitFor(t, 10*time.Second, "the caller to see 2 nodes", func() bool { return len(caller.nodesFor(greeterName)) == 2 })
	ctx := within(t, 10*time.Second)
	if err := nodes[1].Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the caller to drop the closed node", func() bool { return len(caller.nodesFor(greeterName)) == 1 })
	before := impls[0].calls.Load()
	for range 50 {
		if _, err := g.Greet(ctx, "x"); err != nil {
			t.Fatalf("call after a graceful leave: %v", err)
		}
	}
	if impls[0].calls.Load()-before != 50 {
		t.Fatalf("the remaining node served %d of 50 calls", impls[0].calls.Load()-before)
	}
}

func TestCloseLeavesNoGoroutineBehind(t *testing.T) {
	before := goroutines()
	func() {
		cfg := testConfig()
		a, err := NewNode(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Publish(&greeterDesc, &greeterImpl{}); err != nil {
			t.Fatal(err)
		}
		cfg.Listen = ""
		b, err := NewNode(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx := within(t, 10*time.Second)
		if err := b.Join(ctx, a.Addr()); err != nil {
			t.Fatal(err)
		}
		if err := b.Wait(ctx, greeterName); err != nil {
			t.Fatal(err)
		}
		g := &greeterClient{b.Client(&greeterDesc)}
		for range 20 {
			if _, err := g.Greet(ctx, "x"); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := (&http.Client{Transport: b.Transport()}).Post("http://mesh/"+greeterName+"/Greet", "application/json", strings.NewReader(`{"name":"h"}`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err := b.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for goroutines() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := stdruntime.Stack(buf, true)
			t.Fatalf("%d goroutines before, %d after Close:\n%s", before, goroutines(), buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
