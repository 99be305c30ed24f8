package runtime

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestStreamsAreReusedAcrossCalls checks that calls do not open a stream
// each: concurrent fast-path calls share the caller's StreamsPerPeer
// streams, and HTTP requests through Transport reuse a kept-alive stream.
// The streams a node opened are counted by the id yamux gives the next
// one (a dialing node numbers its streams 1, 3, 5...), the fast-path ones
// by the caller's list of them.
func TestStreamsAreReusedAcrossCalls(t *testing.T) {
	srv, _ := serveGreeter(t, testConfig(), "a")
	cfg := testConfig()
	cfg.GossipInterval = time.Hour // no periodic gossip stream during the count
	caller, g := callerOf(t, cfg, srv.Addr())
	p := caller.peerByID(srv.ID())[0]
	// opened returns how many streams the caller opened so far, not
	// counting the probe itself.
	opened := func() int {
		st, err := p.sess.OpenStream()
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		return int(st.StreamID()-1) / 2
	}
	ctx := within(t, 30*time.Second)

	before := opened()
	const workers, calls = 8, 400
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range calls / workers {
				if _, err := g.Greet(ctx, "x"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Streams opened meanwhile include the gossip of the new connection, so
	// count the fast-path ones by what the caller keeps.
	p.mu.Lock()
	rpc := len(p.conns)
	p.mu.Unlock()
	if rpc > cfg.StreamsPerPeer {
		t.Errorf("%d concurrent calls opened %d fast-path streams, want at most StreamsPerPeer = %d", calls, rpc, cfg.StreamsPerPeer)
	}
	if all := opened() - before - 1; all > cfg.StreamsPerPeer+4 {
		t.Errorf("%d concurrent calls opened %d streams in all", calls, all)
	}

	before = opened()
	client := &http.Client{Transport: caller.Transport()}
	const requests = 100
	for i := range requests {
		resp, err := client.Post("http://mesh/"+greeterName+"/Greet", "application/json", strings.NewReader(`{"name":"h"}`))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	if h := opened() - before - 1; h > 1 {
		t.Errorf("%d sequential HTTP requests opened %d streams, want one kept alive", requests, h)
	}
	t.Logf("%d calls on %d fast-path streams", calls, rpc)
}
