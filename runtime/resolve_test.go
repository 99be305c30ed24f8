package runtime

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// dnsServer is a DNS server over TCP on 127.0.0.1 that answers A queries
// for one name with the addresses currently set, and NXDOMAIN for any
// other name. Its resolver sends every query there.
type dnsServer struct {
	ln   net.Listener
	name string // fully qualified, lower case: "replicas.mesh.test."

	mu  sync.Mutex
	ips []net.IP
}

func startDNS(t *testing.T, name string, ips ...string) *dnsServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{ln: ln, name: strings.ToLower(name) + "."}
	s.set(ips...)
	t.Cleanup(func() { ln.Close() })
	go s.serve()
	return s
}

// set replaces the addresses the name resolves to.
func (s *dnsServer) set(ips ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ips = nil
	for _, ip := range ips {
		s.ips = append(s.ips, net.ParseIP(ip).To4())
	}
}

// resolver returns a pure-Go resolver that queries s over TCP.
func (s *dnsServer) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", s.ln.Addr().String())
	}}
}

func (s *dnsServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.handle(c)
	}
}

// handle answers the length-prefixed queries of one TCP connection.
func (s *dnsServer) handle(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	for {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return
		}
		q := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		resp := s.answer(q)
		if resp == nil {
			return
		}
		if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...)); err != nil {
			return
		}
	}
}

// answer builds the response to one query (RFC 1035, section 4): the
// header, the question echoed, and one A record per address when the
// query asks for the A records of s.name.
func (s *dnsServer) answer(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	// The question: labels up to a zero byte, then type and class.
	i, name := 12, ""
	for i < len(q) && q[i] != 0 {
		n := int(q[i])
		if i+1+n > len(q) {
			return nil
		}
		name += strings.ToLower(string(q[i+1:i+1+n])) + "."
		i += 1 + n
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1 : i+3])
	question := q[12 : i+5]

	var answers []net.IP
	rcode := uint16(0)
	switch {
	case name != s.name:
		rcode = 3 // NXDOMAIN
	case qtype == 1: // A
		s.mu.Lock()
		answers = append(answers, s.ips...)
		s.mu.Unlock()
	}
	resp := append([]byte(nil), q[0:2]...)                   // id
	resp = binary.BigEndian.AppendUint16(resp, 0x8180|rcode) // response, recursion desired and available
	resp = binary.BigEndian.AppendUint16(resp, 1)            // one question
	resp = binary.BigEndian.AppendUint16(resp, uint16(len(answers)))
	resp = append(resp, 0, 0, 0, 0) // no authority, no additional records
	resp = append(resp, question...)
	for _, ip := range answers {
		resp = append(resp, 0xc0, 12)                     // the name: a pointer to the question's
		resp = append(resp, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4) // type A, class IN, TTL 0, 4 bytes
		resp = append(resp, ip...)
	}
	return resp
}

// TestSeedNameReResolvedFindsNewReplicas puts two nodes that know nothing
// of each other behind one DNS name, the second one added to the name
// later: the caller seeded with the name must find it by resolving the
// name again.
func TestSeedNameReResolvedFindsNewReplicas(t *testing.T) {
	a, _ := serveGreeter(t, withListen(testConfig(), "127.0.0.2:0"), "a")
	_, port, _ := net.SplitHostPort(a.Addr())
	serveGreeter(t, withListen(testConfig(), net.JoinHostPort("127.0.0.3", port)), "b")

	dns := startDNS(t, "replicas.mesh.test", "127.0.0.2")
	cfg := testConfig()
	cfg.Listen = ""
	cfg.Seeds = []string{net.JoinHostPort("replicas.mesh.test", port)}
	cfg.Resolver = dns.resolver()
	cfg.ResolveInterval = 100 * time.Millisecond
	caller := startNode(t, cfg)
	ctx := within(t, 10*time.Second)
	if err := caller.Wait(ctx, greeterName); err != nil {
		t.Fatalf("seed given by name: %v", err)
	}
	if ids := peerIDs(caller.nodesFor(greeterName)); len(ids) != 1 || ids[0] != a.ID() {
		t.Fatalf("the caller routes to %v, want only the first replica %s", ids, a.ID())
	}

	dns.set("127.0.0.2", "127.0.0.3") // a new replica behind the name
	waitFor(t, 5*time.Second, "the caller to find the new replica by resolving the name again", func() bool {
		return len(caller.nodesFor(greeterName)) == 2
	})
	g := &greeterClient{caller.Client(&greeterDesc)}
	tags := map[string]bool{}
	for range 4 {
		tag, err := g.Whoami(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tags[tag] = true
	}
	if !tags["a"] || !tags["b"] {
		t.Fatalf("round robin over the name's replicas reached %v, want a and b", tags)
	}
}

// withListen returns cfg listening on addr.
func withListen(cfg Config, addr string) Config {
	cfg.Listen = addr
	return cfg
}

// peerIDs returns the ids of peers.
func peerIDs(peers []*peer) []string {
	var ids []string
	for _, p := range peers {
		ids = append(ids, p.id)
	}
	return ids
}
