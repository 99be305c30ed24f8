package runtime

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestProbe checks the health probe against a keyed node: it answers with
// the node's id and services; a probe with another key, of a closed port
// or of a node that is gone fails with the reason, within its deadline;
// the probe's own node never becomes a member of the probed node's mesh.
func TestProbe(t *testing.T) {
	cfg, _ := keyed(testKey)
	n, _ := serveGreeter(t, cfg, "a")

	res, err := Probe(within(t, 5*time.Second), cfg, n.Addr())
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if res.ID != n.ID() || res.Addr != n.Addr() || len(res.Services) != 1 || res.Services[0] != greeterName {
		t.Fatalf("Probe = %+v, want id %s addr %s services [%s]", res, n.ID(), n.Addr(), greeterName)
	}
	// The probe's node left: the probed node has no peer once it is gone.
	waitFor(t, 5*time.Second, "the probe's peer to go", func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		return len(n.peers) == 0
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	other, _ := keyed(otherKey)
	for _, tc := range []struct {
		name string
		cfg  Config
		addr string
		want string
	}{
		{"wrong key", other, n.Addr(), "connecting to"},
		{"no key", testConfig(), n.Addr(), "connecting to"},
		{"closed port", cfg, closed, "dialing"},
		{"not host:port", cfg, "nowhere", "want host:port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Probe(within(t, 3*time.Second), tc.cfg, tc.addr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Probe = %v, want an error containing %q", err, tc.want)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Fatalf("Probe took %v, past its 3s deadline", d)
			}
		})
	}
}

// TestProbeAddr checks the address a probe dials for each listen form.
func TestProbeAddr(t *testing.T) {
	for _, tc := range []struct{ listen, want, err string }{
		{":11999", "127.0.0.1:11999", ""},
		{"0.0.0.0:12001", "127.0.0.1:12001", ""},
		{"[::]:12001", "127.0.0.1:12001", ""},
		{"10.1.2.3:11999", "10.1.2.3:11999", ""},
		{"mesh.local:7", "mesh.local:7", ""},
		{"", "", "caller-only"},
		{"11999", "", "want host:port"},
	} {
		got, err := ProbeAddr(tc.listen)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ProbeAddr(%q) = %q, %v; want an error containing %q", tc.listen, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ProbeAddr(%q) = %q, %v; want %q", tc.listen, got, err, tc.want)
		}
	}
}
