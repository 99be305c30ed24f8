package runtime

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// These tests play an attacker without the cluster key that sits on the
// path between keyed nodes (real sockets on 127.0.0.1): it relays,
// records, reflects, replays and alters bytes, or answers with a
// certificate it took from a node. Each attack must get nothing, and the
// honest node must say why it refused.

// relay is an on-path attacker: it accepts connections and forwards each
// to target, recording both directions. Armed with tamper, it flips one
// bit in the next TLS record the dialing side sends.
type relay struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	up, down bytes.Buffer // recorded dialer→target and target→dialer bytes
	conns    int

	tamper   atomic.Bool
	tampered chan struct{} // closed once a record was altered
	cut      chan struct{} // closed when the target ends the altered connection
}

// newRelay listens on 127.0.0.1 and forwards to target until the test ends.
func newRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, target: target, tampered: make(chan struct{}), cut: make(chan struct{})}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); r.serve(c) }()
		}
	}()
	return r
}

func (r *relay) addr() string { return r.ln.Addr().String() }

// serve forwards one connection.
func (r *relay) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", r.target)
	if err != nil {
		return
	}
	defer s.Close()
	r.mu.Lock()
	r.conns++
	r.mu.Unlock()
	altered := make(chan struct{})
	done := make(chan struct{}, 2)
	go func() { r.forwardUp(s, c, altered); done <- struct{}{} }()
	go func() {
		r.copy(c, s, &r.down)
		select {
		case <-altered:
			close(r.cut)
		default:
		}
		done <- struct{}{}
	}()
	<-done
	c.Close()
	s.Close()
	<-done
}

// copy forwards src to dst and records it in rec.
func (r *relay) copy(dst, src net.Conn, rec *bytes.Buffer) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			r.mu.Lock()
			rec.Write(buf[:n])
			r.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// forwardUp forwards the dialer's preamble, then its TLS records one by
// one, flipping the last bit of one record's body (in its authentication
// tag) when armed.
func (r *relay) forwardUp(dst, src net.Conn, altered chan struct{}) {
	pre := make([]byte, 6)
	if _, err := io.ReadFull(src, pre); err != nil {
		return
	}
	r.record(pre)
	if _, err := dst.Write(pre); err != nil {
		return
	}
	if pre[5] == modePlain { // no records to find
		r.copy(dst, src, &r.up)
		return
	}
	for {
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(src, hdr); err != nil {
			return
		}
		body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
		if _, err := io.ReadFull(src, body); err != nil {
			return
		}
		r.record(hdr, body)
		if len(body) > 0 && hdr[0] == 23 && r.tamper.CompareAndSwap(true, false) {
			body[len(body)-1] ^= 1
			close(altered)
			close(r.tampered)
		}
		if _, err := dst.Write(append(hdr, body...)); err != nil {
			return
		}
	}
}

func (r *relay) record(parts ...[]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range parts {
		r.up.Write(p)
	}
}

// recorded returns copies of what the relay saw.
func (r *relay) recorded() (up, down []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.up.Bytes()), bytes.Clone(r.down.Bytes())
}

func peerCount(n *Node) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.peers)
}

// TestRelayReadsNothing: a relay between two keyed nodes sees only
// ciphertext: neither the call's bytes nor the nodes' ids.
func TestRelayReadsNothing(t *testing.T) {
	cfg, _ := keyed(testKey)
	srv, _ := serveGreeter(t, cfg, "b")
	mitm := newRelay(t, srv.Addr())
	caller, g := callerOf(t, cfg, mitm.addr())
	secret := []byte("card number 4111-1111-1111-1111")
	got, err := g.Echo(within(t, 5*time.Second), secret)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Echo through the relay = %q, %v", got, err)
	}
	up, down := mitm.recorded()
	for _, leak := range [][]byte{secret, []byte(greeterName), []byte(srv.ID()), []byte(caller.ID())} {
		if bytes.Contains(up, leak) || bytes.Contains(down, leak) {
			t.Errorf("the relay read %q", leak)
		}
	}
}

// TestRelayedCertificateRefused is the attack of the issue on the new
// handshake: the attacker takes a node's certificate (B's, or A's own) and
// presents it to A as its own. Without the certificate's private key it
// cannot sign the TLS handshake, and A refuses.
func TestRelayedCertificateRefused(t *testing.T) {
	cfgA, _ := keyed(testKey)
	a := startNode(t, cfgA)
	cfgB, logsB := keyed(testKey)
	b, implB := serveGreeter(t, cfgB, "b")
	tests := []struct {
		name string
		from *Node
	}{
		{"B's certificate relayed to A", b},
		{"A's certificate reflected to A", a},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stolen := stealCertificate(t, tc.from.Addr())
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			attacker := make(chan error, 1)
			go func() { attacker <- impersonate(ln, stolen) }()
			_, err = a.dial(within(t, 10*time.Second), ln.Addr().String())
			if !errors.Is(err, ErrHandshake) || !strings.Contains(err.Error(), "the peer does not hold the private key of the certificate it presented") {
				t.Fatalf("A dialing the attacker: %v, want a refusal naming the missing private key", err)
			}
			if err := <-attacker; err == nil {
				t.Fatal("the attacker completed a TLS handshake with A")
			}
			if peerCount(a) != 0 {
				t.Fatal("A registered the attacker as a peer")
			}
		})
	}
	// B refused the attacker's own certificate when it took B's.
	logsB.waitLine(t, 10*time.Second, "inbound connection refused", "not signed by this cluster's key")
	if n := implB.calls.Load(); n != 0 {
		t.Fatalf("B ran %d calls", n)
	}
}

// stealCertificate connects to a keyed node as a keyless client and
// returns the certificate chain the node presents.
func stealCertificate(t *testing.T, addr string) [][]byte {
	t.Helper()
	forger, err := newClusterCA(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	own, err := forger.issue("attacker", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var stolen [][]byte
	tc := tls.Client(dialPreamble(t, addr, modeKey), &tls.Config{
		MinVersion:           tls.VersionTLS13,
		InsecureSkipVerify:   true,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return own, nil },
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			stolen = raw
			return nil
		},
	})
	tc.Handshake() // the node refuses the attacker's certificate: fine
	tc.Close()
	if len(stolen) == 0 {
		t.Fatal("the node presented no certificate")
	}
	return stolen
}

// impersonate accepts one connection on ln and answers it as a keyed node
// presenting the stolen chain with a key of its own.
func impersonate(ln net.Listener, stolen [][]byte) error {
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var pre [6]byte
	if _, err := io.ReadFull(c, pre[:]); err != nil {
		return err
	}
	if _, err := c.Write(append(handshakeMagic[:], protocolVersion, modeKey)); err != nil {
		return err
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	tc := tls.Server(c, &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{{Certificate: stolen, PrivateKey: key}},
		ClientAuth:   tls.RequireAnyClientCert,
	})
	return tc.Handshake()
}

// TestReflectedConnectionIsSelf: a relay that sends a node's connection
// back to the node itself gets a node talking to itself, which refuses.
func TestReflectedConnectionIsSelf(t *testing.T) {
	cfg, logs := keyed(testKey)
	a, impl := serveGreeter(t, cfg, "a")
	mirror := newRelay(t, a.Addr())
	_, err := a.dial(within(t, 10*time.Second), mirror.addr())
	if !errors.Is(err, errSelf) {
		t.Fatalf("dial through the mirror: %v, want %v", err, errSelf)
	}
	logs.waitLine(t, 10*time.Second, "inbound connection refused", "connected to itself")
	if peerCount(a) != 0 || impl.calls.Load() != 0 {
		t.Fatalf("A kept %d peers and ran %d calls", peerCount(a), impl.calls.Load())
	}
}

// TestReplayedHandshakeRefused records an honest caller's whole session
// (handshake and a call) and plays the caller's bytes to the node again.
func TestReplayedHandshakeRefused(t *testing.T) {
	cfg, logs := keyed(testKey)
	srv, impl := serveGreeter(t, cfg, "b")
	tap := newRelay(t, srv.Addr())
	caller, g := callerOf(t, cfg, tap.addr())
	if _, err := g.Greet(within(t, 5*time.Second), "once"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := caller.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the server to drop the closed caller", func() bool { return peerCount(srv) == 0 })
	calls := impl.calls.Load()
	up, _ := tap.recorded()

	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(up)
	io.Copy(io.Discard, c) // until the node hangs up
	logs.waitLine(t, 10*time.Second, "inbound connection refused", "a replayed or altered handshake")
	if peerCount(srv) != 0 || impl.calls.Load() != calls {
		t.Fatalf("the replay gave a peer (%d) or ran calls (%d, was %d)", peerCount(srv), impl.calls.Load(), calls)
	}
}

// TestAlteredByteBreaksTheSession flips one bit of a record a caller sends
// after the handshake: the node must drop the session and never serve a
// call with altered data.
func TestAlteredByteBreaksTheSession(t *testing.T) {
	cfg, logs := keyed(testKey)
	srv, _ := serveGreeter(t, cfg, "b")
	mitm := newRelay(t, srv.Addr())
	_, g := callerOf(t, cfg, mitm.addr())
	payload := bytes.Repeat([]byte("pay 10 EUR to alice "), 50)
	if got, err := g.Echo(within(t, 5*time.Second), payload); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("Echo before the attack = %v", err)
	}
	mitm.tamper.Store(true)
	// Calls until the relay altered a record (a call's, or a keepalive's).
	for i := 0; i < 1000 && !closed(mitm.tampered); i++ {
		got, err := g.Echo(within(t, 5*time.Second), payload)
		if err == nil && !bytes.Equal(got, payload) {
			t.Fatal("a call was served with altered data")
		}
	}
	select {
	case <-mitm.tampered:
	case <-time.After(10 * time.Second):
		t.Fatal("the relay altered nothing")
	}
	select {
	case <-mitm.cut:
	case <-time.After(10 * time.Second):
		t.Fatal("the node kept the session after an altered record")
	}
	logs.waitLine(t, 10*time.Second, "mesh session broken by a TLS error", "bad record MAC")
	// The caller reconnects through the relay (no longer armed) and works.
	waitFor(t, 20*time.Second, "a call after the caller reconnected", func() bool {
		got, err := g.Echo(within(t, 2*time.Second), payload)
		return err == nil && bytes.Equal(got, payload)
	})
}

// closed reports whether ch is closed.
func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
