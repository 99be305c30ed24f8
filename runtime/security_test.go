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
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWrongClusterKeyRefused(t *testing.T) {
	cfg := testConfig()
	cfg.ClusterKey = []byte("right key")
	srv, impl := serveGreeter(t, cfg, "a")

	tests := []struct {
		name string
		key  []byte
		want string
	}{
		{"wrong key", []byte("wrong key"), "cluster key mismatch"},
		{"no key", nil, "cluster key mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig()
			c.Listen = ""
			c.ClusterKey = tc.key
			caller := startNode(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			err := caller.Join(ctx, srv.Addr())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Join with %s: %v, want an error containing %q", tc.name, err, tc.want)
			}
			g := &greeterClient{caller.Client(&greeterDesc)}
			short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel2()
			if _, err := g.Greet(short, "x"); err == nil {
				t.Fatal("a call went through without the cluster key")
			}
		})
	}
	if impl.calls.Load() != 0 {
		t.Fatalf("the server ran %d calls for peers without the key", impl.calls.Load())
	}
	srv.mu.Lock()
	peers := len(srv.peers)
	srv.mu.Unlock()
	if peers != 0 {
		t.Fatalf("the server kept %d peers that failed the key check", peers)
	}

	// The right key works.
	c := testConfig()
	c.ClusterKey = []byte("right key")
	_, g := callerOf(t, c, srv.Addr())
	if got, err := g.Greet(within(t, 5*time.Second), "k"); err != nil || got != "hello k" {
		t.Fatalf("Greet with the right key = %q, %v", got, err)
	}
}

func TestForeignProtocolDroppedAndNodeUnaffected(t *testing.T) {
	cfg := testConfig()
	cfg.DialTimeout = 500 * time.Millisecond // bounds the handshake of a silent peer
	srv, _ := serveGreeter(t, cfg, "a")
	for _, junk := range []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "MSHR\x09", strings.Repeat("\xff", 100)} {
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
