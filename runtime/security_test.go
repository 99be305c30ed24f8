package runtime

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"

	"strings"
	"testing"
	"time"
)

// Cluster keys of the tests: long enough for Validate, and different.
var (
	testKey  = []byte("meshsplit test cluster key, one")
	otherKey = []byte("meshsplit test cluster key, two")
)

// keyed returns testConfig with a cluster key and the logs collected.
func keyed(key []byte) (Config, *logSink) {
	c := testConfig()
	c.ClusterKey = key
	logs := newLogSink()
	c.Logger = logs.logger()
	return c, logs
}

func TestKeyedNodesServeCallsAndNameEachOther(t *testing.T) {
	cfg, _ := keyed(testKey)
	srv, _ := serveGreeter(t, cfg, "a")
	caller, g := callerOf(t, cfg, srv.Addr())
	if got, err := g.Greet(within(t, 5*time.Second), "k"); err != nil || got != "hello k" {
		t.Fatalf("Greet with the cluster key = %q, %v", got, err)
	}
	// The id each side registered is the one the other's certificate names.
	srv.mu.Lock()
	_, known := srv.peers[caller.ID()]
	srv.mu.Unlock()
	if !known {
		t.Fatalf("the server does not know the caller by its id %s", caller.ID())
	}
}

// TestClusterKeyRefusals connects nodes whose settings differ and checks
// that both sides refuse, each saying why, and that nothing is served.
func TestClusterKeyRefusals(t *testing.T) {
	ca, caKey := newCA(t)
	tests := []struct {
		name      string
		serverKey []byte
		caller    func(c *Config)
		callerErr string // in the dialing side's error
		serverLog string // in the accepting side's log
	}{
		{"wrong key, caller refuses", testKey, func(c *Config) { c.ClusterKey = otherKey },
			"not signed by this cluster's key", "the peer refused this node's certificate: it has a different cluster key"},
		{"wrong key, server refuses", otherKey, func(c *Config) { c.ClusterKey = testKey },
			"not signed by this cluster's key", "the peer refused this node's certificate"},
		{"no key", testKey, func(c *Config) { c.ClusterKey = nil },
			"security mismatch: this node uses neither a cluster key nor TLS, the peer says it uses a cluster key",
			"security mismatch: this node uses a cluster key, the peer says it uses neither a cluster key nor TLS"},
		{"TLS certificates but no key", testKey, func(c *Config) { c.ClusterKey = nil; c.TLS = nodeTLS(t, ca, caKey) },
			"security mismatch: this node uses TLS certificates", "the peer says it uses TLS certificates"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, logs := keyed(tc.serverKey)
			srv, impl := serveGreeter(t, cfg, "a")
			c := testConfig()
			c.Listen = ""
			tc.caller(&c)
			caller := startNode(t, c)
			_, err := caller.dial(within(t, 10*time.Second), srv.Addr())
			if !errors.Is(err, ErrHandshake) || !strings.Contains(err.Error(), tc.callerErr) {
				t.Fatalf("dial: %v, want a refusal containing %q", err, tc.callerErr)
			}
			logs.waitLine(t, 10*time.Second, "inbound connection refused", "level=WARN", tc.serverLog)
			if n := impl.calls.Load(); n != 0 {
				t.Fatalf("the server ran %d calls", n)
			}
			srv.mu.Lock()
			peers := len(srv.peers)
			srv.mu.Unlock()
			if peers != 0 {
				t.Fatalf("the server kept %d peers that failed the handshake", peers)
			}
		})
	}
}

// TestForgedCertificateRefused plays a keyless attacker that speaks the
// protocol and presents a certificate of its own CA naming a node id.
func TestForgedCertificateRefused(t *testing.T) {
	cfg, logs := keyed(testKey)
	srv, impl := serveGreeter(t, cfg, "a")
	forger, err := newClusterCA(otherKey) // any CA but the cluster's
	if err != nil {
		t.Fatal(err)
	}
	forged, err := forger.issue("0123456789abcdef", x509.ExtKeyUsageClientAuth, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	conn := dialPreamble(t, srv.Addr(), modeKey)
	tc := tls.Client(conn, &tls.Config{
		MinVersion:           tls.VersionTLS13,
		InsecureSkipVerify:   true, // the attacker trusts anything
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return forged, nil },
	})
	if err := tc.Handshake(); err == nil {
		// TLS 1.3 clients finish before the server checks their
		// certificate: the refusal shows on the first read.
		tc.Write(appendHello(nil, hello{id: "0123456789abcdef"}))
		if _, err := tc.Read(make([]byte, 1)); err == nil {
			t.Fatal("the server answered a forged certificate")
		}
	}
	logs.waitLine(t, 10*time.Second, "inbound connection refused", "not signed by this cluster's key")
	if n := impl.calls.Load(); n != 0 {
		t.Fatalf("the server ran %d calls", n)
	}
}

// TestCertificateIDMustMatchHello: a node with the key (an insider) whose
// certificate names one id cannot claim another in its hello, nor pass for
// the node it connects to.
func TestCertificateIDMustMatchHello(t *testing.T) {
	cfg, logs := keyed(testKey)
	srv, _ := serveGreeter(t, cfg, "a")
	ca, err := newClusterCA(testKey)
	if err != nil {
		t.Fatal(err)
	}
	const certID = "1111111111111111"
	cert, err := ca.issue(certID, x509.ExtKeyUsageClientAuth, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, client := keyedTLS(&nodeCerts{ca: ca, id: certID, now: time.Now, client: cert})
	for _, claimed := range []string{"2222222222222222", srv.ID()} {
		tc := tls.Client(dialPreamble(t, srv.Addr(), modeKey), client)
		if err := tc.Handshake(); err != nil {
			t.Fatalf("TLS with a certificate of the cluster: %v", err)
		}
		tc.Write(appendHello(nil, hello{id: claimed}))
		r := exactReader{tc}
		if _, err := readHello(r); err != nil {
			t.Fatal(err)
		}
		if v, err := r.ReadByte(); err != nil || v != 1 {
			t.Fatalf("claiming %s: verdict %d, %v; want a refusal", claimed, v, err)
		}
		why, _ := readString(r, 1024)
		want := fmt.Sprintf("the peer claims node id %q but its certificate is for %q", claimed, certID)
		if why != want {
			t.Fatalf("refusal %q, want %q", why, want)
		}
		logs.waitLine(t, 10*time.Second, "inbound connection refused", "the peer claims node id", claimed, certID)
	}
}

// dialPreamble connects to addr and exchanges the cleartext preamble of a
// node in the given mode, as an attacker that speaks the protocol would.
func dialPreamble(t *testing.T, addr string, mode byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(append(handshakeMagic[:], protocolVersion, mode)); err != nil {
		t.Fatal(err)
	}
	var pre [6]byte
	if _, err := io.ReadFull(c, pre[:]); err != nil {
		t.Fatalf("reading the node's preamble: %v", err)
	}
	return c
}

func TestTLSWithClusterKeyNeedsBoth(t *testing.T) {
	ca, caKey := newCA(t)
	cfg, logs := keyed(testKey)
	cfg.TLS = nodeTLS(t, ca, caKey)
	srv, impl := serveGreeter(t, cfg, "tls+key")
	good := testConfig()
	good.ClusterKey, good.TLS = testKey, nodeTLS(t, ca, caKey)
	_, g := callerOf(t, good, srv.Addr())
	if got, err := g.Greet(within(t, 5*time.Second), "both"); err != nil || got != "hello both" {
		t.Fatalf("Greet over TLS with the key = %q, %v", got, err)
	}
	before := impl.calls.Load()

	// The right certificates with another key.
	bad := good
	bad.Listen, bad.ClusterKey = "", otherKey
	stranger := startNode(t, bad)
	_, err := stranger.dial(within(t, 10*time.Second), srv.Addr())
	const want = "cluster key mismatch: the peer's proof of the cluster key is wrong"
	if !errors.Is(err, ErrHandshake) || !strings.Contains(err.Error(), want) {
		t.Fatalf("dial with another key: %v, want %q", err, want)
	}
	logs.waitLine(t, 10*time.Second, "inbound connection refused", want)
	if impl.calls.Load() != before {
		t.Fatal("the server ran a call for a peer without the key")
	}
}

func TestForeignProtocolDroppedAndNodeUnaffected(t *testing.T) {
	cfg := testConfig()
	cfg.DialTimeout = 500 * time.Millisecond // bounds the handshake of a silent peer
	srv, _ := serveGreeter(t, cfg, "a")
	for _, junk := range []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "MSHR\x01\x01", "MSHR\x02\x09", strings.Repeat("\xff", 100)} {
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte(junk))
		// The node answers with its own hello at most, then hangs up.
		if _, err := io.ReadAll(c); err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("junk %q: the node did not hang up: %v", junk, err)
		}
		c.Close()
	}
	_, g := callerOf(t, testConfig(), srv.Addr())
	if got, err := g.Greet(within(t, 5*time.Second), "x"); err != nil || got != "hello x" {
		t.Fatalf("Greet after junk connections = %q, %v", got, err)
	}
}

func TestMutualTLS(t *testing.T) {
	ca, caKey := newCA(t)
	good := testConfig()
	good.TLS = nodeTLS(t, ca, caKey)
	srv, _ := serveGreeter(t, good, "tls")
	_, g := callerOf(t, good, srv.Addr())
	if got, err := g.Greet(within(t, 5*time.Second), "t"); err != nil || got != "hello t" {
		t.Fatalf("Greet over TLS = %q, %v", got, err)
	}

	// A node with a certificate from another CA is refused.
	otherCA, otherKey := newCA(t)
	bad := testConfig()
	bad.Listen = ""
	bad.TLS = nodeTLS(t, otherCA, otherKey)
	stranger := startNode(t, bad)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := stranger.Join(ctx, srv.Addr()); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("Join with a foreign certificate: %v, want a TLS error", err)
	}
}

// newCA returns a self-signed CA certificate and its key.
func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "meshsplit test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// nodeTLS returns a mutual-TLS config with a certificate for 127.0.0.1
// signed by ca.
func nodeTLS(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "node"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}
}

func TestTLSFromEnvironmentFiles(t *testing.T) {
	ca, caKey := newCA(t)
	cfg := nodeTLS(t, ca, caKey)
	dir := t.TempDir()
	keyDER, err := x509.MarshalECPrivateKey(cfg.Certificates[0].PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cfg.Certificates[0].Certificate[0]}),
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		"ca.pem":   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}),
		"junk.pem": []byte("not a certificate"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := func(ca string) func(string) string {
		vars := map[string]string{
			EnvListen:  "127.0.0.1:0",
			EnvTLSCert: filepath.Join(dir, "cert.pem"),
			EnvTLSKey:  filepath.Join(dir, "key.pem"),
			EnvTLSCA:   filepath.Join(dir, ca),
		}
		return func(k string) string { return vars[k] }
	}
	if _, err := configFrom(env("junk.pem")); err == nil || !strings.Contains(err.Error(), EnvTLSCA) {
		t.Fatalf("a CA file without a certificate: %v, want an error naming %s", err, EnvTLSCA)
	}
	c, err := configFrom(env("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := serveGreeter(t, c, "env-tls")
	_, g := callerOf(t, c, srv.Addr())
	if got, err := g.Greet(within(t, 5*time.Second), "pem"); err != nil || got != "hello pem" {
		t.Fatalf("Greet over TLS from PEM files = %q, %v", got, err)
	}
}

func TestValidateSecuritySettings(t *testing.T) {
	ca, caKey := newCA(t)
	noClientAuth := nodeTLS(t, ca, caKey)
	noClientAuth.ClientAuth = tls.NoClientCert
	tests := []struct {
		name string
		set  func(c *Config)
		want string // "" valid
	}{
		{"16-byte key", func(c *Config) { c.ClusterKey = []byte("0123456789abcdef") }, ""},
		{"15-byte key", func(c *Config) { c.ClusterKey = []byte("0123456789abcde") }, "is 15 bytes: use at least 16 random bytes"},
		{"mutual TLS", func(c *Config) { c.TLS = nodeTLS(t, ca, caKey) }, ""},
		{"TLS without client certificates", func(c *Config) { c.TLS = noClientAuth }, "set tls.RequireAndVerifyClientCert"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.set(&c)
			err := c.Validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestVersion1NodeRefused: a node of the previous protocol (HMAC handshake)
// is told apart from junk and refused with a reason naming both versions.
func TestVersion1NodeRefused(t *testing.T) {
	cfg, logs := keyed(testKey)
	srv, _ := serveGreeter(t, cfg, "a")
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	v1 := append([]byte("MSHR\x01\x01"), make([]byte, 16)...) // magic, version 1, keyed, nonce
	v1 = appendString(appendString(v1, "0123456789abcdef"), "127.0.0.1:1")
	c.Write(v1)
	var pre [6]byte
	if _, err := io.ReadFull(c, pre[:]); err != nil || pre != [6]byte{'M', 'S', 'H', 'R', protocolVersion, modeKey} {
		t.Fatalf("preamble %q, %v", pre, err)
	}
	logs.waitLine(t, 10*time.Second, "inbound connection refused", "level=WARN", "protocol version 1, this node speaks 3")
}

// TestRefusedSeedLoggedAtWarn: a seed with another key is a misconfiguration
// the operator must see, not a debug line.
func TestRefusedSeedLoggedAtWarn(t *testing.T) {
	srvCfg, _ := keyed(otherKey)
	srv, _ := serveGreeter(t, srvCfg, "a")
	cfg, logs := keyed(testKey)
	cfg.Listen = ""
	cfg.Seeds = []string{srv.Addr()}
	startNode(t, cfg)
	logs.waitLine(t, 10*time.Second, "level=WARN", "dial failed", srv.Addr(), "not signed by this cluster's key")
}
