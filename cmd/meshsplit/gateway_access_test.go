package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// Tokens of the gateway command's tests.
const (
	firstToken  = "first-secret-0123456789"
	secondToken = "second-secret-012345678"
)

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testCert is a self-signed certificate for 127.0.0.1 and its key, PEM.
type testCert struct {
	cert, key []byte
	x509      *x509.Certificate
}

// newTestCert makes a certificate for 127.0.0.1 with the given common name.
func newTestCert(t *testing.T, name string) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		x509: cert,
	}
}

// write writes the certificate and key to cert.pem and key.pem in dir and
// returns their paths.
func (c testCert) write(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	return writeFile(t, dir, "cert.pem", string(c.cert)), writeFile(t, dir, "key.pem", string(c.key))
}

func TestGatewayAccessUsageErrors(t *testing.T) {
	t.Setenv(meshrt.EnvNodes, "")
	dir := t.TempDir()
	certFile, keyFile := newTestCert(t, "gateway").write(t, dir)
	malformed := writeFile(t, dir, "malformed.txt", "# tokens\nshop "+firstToken+"\n")
	short := writeFile(t, dir, "short.txt", "shop short *\n")
	local := []string{"-nodes", "h:1", "-http", "127.0.0.1:0"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"default -http without tokens", []string{"-nodes", "h:1"},
			`-http ":8282" accepts calls from other hosts, and without -tokens anyone who reaches it calls every service: give -tokens FILE, listen on 127.0.0.1, or add -insecure-listen`},
		{"every interface without tokens", []string{"-nodes", "h:1", "-http", "0.0.0.0:8282"}, `-http "0.0.0.0:8282" accepts calls from other hosts`},
		{"a host name without tokens", []string{"-nodes", "h:1", "-http", "gateway.example:8282"}, `-http "gateway.example:8282" accepts calls from other hosts`},
		{"certificate without key", slices.Concat(local, []string{"-tls-cert", certFile}), "-tls-cert " + certFile + " needs -tls-key"},
		{"key without certificate", slices.Concat(local, []string{"-tls-key", keyFile}), "-tls-key " + keyFile + " needs -tls-cert"},
		{"key for the certificate swapped", slices.Concat(local, []string{"-tls-cert", keyFile, "-tls-key", certFile}), "-tls-cert " + keyFile + " -tls-key " + certFile + ": tls:"},
		{"certificate missing", slices.Concat(local, []string{"-tls-cert", filepath.Join(dir, "none.pem"), "-tls-key", keyFile}), "none.pem: no such file"},
		{"token file missing", slices.Concat(local, []string{"-tokens", filepath.Join(dir, "none.txt")}), "-tokens: token file " + filepath.Join(dir, "none.txt") + " does not exist"},
		{"token file malformed", slices.Concat(local, []string{"-tokens", malformed}), "-tokens: " + malformed + `:2: want "<name> <token> <pattern>[,<pattern>...]", got 2 field(s)`},
		{"token too short", slices.Concat(local, []string{"-tokens", short}), short + `:1: token "shop" is 5 bytes long, want at least 16`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := serveGateway(context.Background(), tt.args, &stdout, &stderr, gatewayHooks{})
			if code != exitUsage || !strings.Contains(stderr.String(), tt.want) || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("gateway %q: exit %d, stderr %q; want exit 2 and one line containing %q", tt.args, code, stderr.String(), tt.want)
			}
			if strings.Contains(stderr.String(), firstToken) {
				t.Errorf("stderr %q shows the token", stderr.String())
			}
		})
	}
}

func TestGatewayListenAddressesAccepted(t *testing.T) {
	t.Setenv(meshrt.EnvNodes, "")
	tests := [][]string{
		{"-http", "127.0.0.1:8282"},
		{"-http", "localhost:8282"},
		{"-http", "[::1]:8282"},
		{"-http", ":8282", "-insecure-listen"},
		{"-http", "0.0.0.0:8282", "-tokens", "tokens.txt"},
	}
	for _, args := range tests {
		f, err := parseGatewayFlags(append([]string{"-nodes", "h:1"}, args...), io.Discard)
		if err != nil {
			t.Errorf("gateway %q: %v, want it accepted", args, err)
		} else if f.cert != nil {
			t.Errorf("gateway %q: TLS without -tls-cert", args)
		}
	}
}

// gatewayClient calls a gateway at base with an optional bearer token.
type gatewayClient struct {
	t      *testing.T
	base   string
	client *http.Client
}

func (c gatewayClient) call(method, path, body, token string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitStatus calls until the answer has the wanted status, within the
// test's deadline: a node tells the gateway what it serves shortly after
// joining, and a reload happens when the gateway's loop gets to it.
func (c gatewayClient) waitStatus(method, path, body, token string, want int) string {
	c.t.Helper()
	deadline := time.Now().Add(gatewayTestTimeout)
	for {
		status, got := c.call(method, path, body, token)
		if status == want {
			return got
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, status, want, got)
		}
		time.Sleep(10 * time.Millisecond) // poll within the deadline above
	}
}

func TestGatewayServesTLSWithTokens(t *testing.T) {
	const key = "gateway test cluster key"
	node := startServingNode(t, key)
	t.Setenv(meshrt.EnvClusterKey, key)
	dir := t.TempDir()
	first, second := newTestCert(t, "first"), newTestCert(t, "second")
	pool := x509.NewCertPool()
	pool.AddCert(first.x509)
	pool.AddCert(second.x509)
	certFile, keyFile := first.write(t, dir)
	tokens := writeFile(t, dir, "tokens.txt", "first "+firstToken+" greet.Greeter/*\n")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan int, 1)
	reload := make(chan os.Signal, 1)
	var stdout, stderr syncBuffer
	go func() {
		done <- serveGateway(ctx, []string{"-http", "127.0.0.1:0", "-nodes", node.Addr(), "-tokens", tokens, "-tls-cert", certFile, "-tls-key", keyFile},
			&stdout, &stderr, gatewayHooks{ready: func(addr string) { ready <- addr }, reload: reload})
	}()
	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		t.Fatalf("the gateway stopped with exit %d: %s", code, stderr.String())
	case <-time.After(gatewayTestTimeout):
		t.Fatal("the gateway did not start")
	}
	if want := "serving https://" + addr + " for the mesh at " + node.Addr() + " (GET / lists the services, 1 bearer token(s) from " + tokens + ")"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout %q does not say %q", stdout.String(), want)
	}
	c := gatewayClient{t: t, base: "https://" + addr, client: &http.Client{
		Timeout:   gatewayTestTimeout,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}}
	// served returns the name of the certificate a new connection gets.
	served := func() string {
		t.Helper()
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
		if err != nil {
			t.Fatalf("TLS to the gateway: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := served(); got != "first" {
		t.Errorf("the gateway serves certificate %q, want first", got)
	}
	if body := c.waitStatus("POST", "/greet.Greeter/Greet", `{"name":"Max"}`, firstToken, 200); body != `{"name":"hello, Max"}` {
		t.Errorf("Greet answered %s", body)
	}
	if status, body := c.call("POST", "/greet.Greeter/Greet", `{"name":"Max"}`, ""); status != 401 || !strings.Contains(body, `"status": 401`) {
		t.Errorf("without a token: status %d, body %s", status, body)
	}
	if status, body := c.call("GET", "/legacy.API/orders/1", "", firstToken); status != 403 || !strings.Contains(body, "token first may not call example.com/shop/legacy.API/orders") {
		t.Errorf("outside the allowlist: status %d, body %s", status, body)
	}
	plain := gatewayClient{t: t, base: "http://" + addr, client: &http.Client{Timeout: gatewayTestTimeout}}
	if status, _ := plain.call("GET", "/", "", firstToken); status != http.StatusBadRequest {
		t.Errorf("plain HTTP to the HTTPS port: status %d, want 400", status)
	}

	// New files, and SIGHUP as runGateway delivers it.
	writeFile(t, dir, "tokens.txt", "second "+secondToken+" *\n")
	second.write(t, dir)
	reload <- syscall.SIGHUP
	waitFor(t, func() bool { return strings.Contains(stderr.String(), `msg="certificate reloaded"`) }, "the reload logged")
	if status, body := c.call("GET", "/legacy.API/orders/1", "", secondToken); status != 200 {
		t.Errorf("a token the new file added: status %d, body %s", status, body)
	}
	if status, _ := c.call("GET", "/", "", firstToken); status != 401 {
		t.Errorf("a token the new file dropped: status %d, want 401", status)
	}
	if got := served(); got != "second" {
		t.Errorf("after the reload the gateway serves certificate %q, want second", got)
	}
	// Malformed files are logged and what is in use stays.
	writeFile(t, dir, "tokens.txt", "second "+secondToken+"\n")
	writeFile(t, dir, "cert.pem", "not a certificate")
	reload <- syscall.SIGHUP
	waitFor(t, func() bool {
		log := stderr.String()
		return strings.Contains(log, "token file not reloaded; the tokens in use stay") && strings.Contains(log, "certificate not reloaded; the one in use stays")
	}, "the failed reloads logged")
	if status, _ := c.call("GET", "/", "", secondToken); status != 200 {
		t.Errorf("after a failed reload: status %d, want 200 with the tokens kept", status)
	}
	if got := served(); got != "second" {
		t.Errorf("after a failed reload the gateway serves certificate %q, want second kept", got)
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d after the interrupt, want 0; stderr %s", code, stderr.String())
		}
	case <-time.After(gatewayTestTimeout):
		t.Fatal("the gateway did not stop after its context ended")
	}
	log := stderr.String()
	for _, want := range []string{`msg="gateway call" token=first service=example.com/shop/greet.Greeter method=Greet`, "status=401", "status=403", "msg=\"token file reloaded\""} {
		if !strings.Contains(log, want) {
			t.Errorf("stderr lacks %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, firstToken) || strings.Contains(log, secondToken) {
		t.Errorf("stderr shows a token:\n%s", log)
	}
}

// waitFor waits until cond holds, within the test's deadline.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(gatewayTestTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", gatewayTestTimeout, what)
		}
		time.Sleep(5 * time.Millisecond) // poll within the deadline above
	}
}
