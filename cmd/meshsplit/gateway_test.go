package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// gatewayTestTimeout bounds every wait of the gateway command's tests.
const gatewayTestTimeout = 10 * time.Second

// greetDesc is a one-method service in the shape generated code has.
var greetDesc = meshrt.ServiceDesc{
	Name:        "example.com/shop/greet.Greeter",
	Fingerprint: "greeter-1",
	Methods: []meshrt.MethodDesc{{
		Name: "Greet", Fingerprint: "greet-1", Params: []string{"name"},
		NewRequest:  func() meshrt.Message { return new(greetMessage) },
		NewResponse: func() meshrt.Message { return new(greetMessage) },
		Invoke: func(ctx context.Context, impl any, req meshrt.Message) (meshrt.Message, error) {
			return &greetMessage{Name: "hello, " + req.(*greetMessage).Name}, nil
		},
	}},
}

// greetMessage is both the request ({"name": ...}) and the response.
type greetMessage struct {
	Name string `json:"name"`
}

func (m *greetMessage) MarshalMesh(e *meshrt.Encoder)   { e.String(m.Name) }
func (m *greetMessage) UnmarshalMesh(d *meshrt.Decoder) { m.Name = d.String() }

// startServingNode starts a node on 127.0.0.1 with the greeter and a legacy
// handler published, under cluster key key.
func startServingNode(t *testing.T, key string) *meshrt.Node {
	t.Helper()
	cfg := meshrt.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	if key != "" {
		cfg.ClusterKey = []byte(key)
	}
	n, err := meshrt.NewNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), gatewayTestTimeout)
		defer cancel()
		n.Close(ctx)
	})
	if err := n.Publish(&greetDesc, struct{}{}); err != nil {
		t.Fatal(err)
	}
	legacy := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "legacy "+r.URL.Path) })
	if err := n.PublishHTTP("example.com/shop/legacy.API", legacy); err != nil {
		t.Fatal(err)
	}
	return n
}

// closedPort returns a 127.0.0.1 address nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestGatewayUsageErrors(t *testing.T) {
	t.Setenv(meshrt.EnvNodes, "")
	tests := []struct {
		args []string
		want string
	}{
		{nil, "-nodes is required"},
		{[]string{"-nodes", " , "}, `-nodes " , ": no node in the list`},
		{[]string{"-nodes", "a:b:c"}, `entry 1 "a:b:c": want host or host:port`},
		{[]string{"-nodes", "127.0.0.1:1,host:99999"}, `entry 2 "host:99999": port "99999" is not a number from 1 to 65535`},
		{[]string{"-nodes", ":7000"}, `entry 1 ":7000": no host`},
		{[]string{"-nodes", "h:1", "-http", "8282"}, `-http "8282": want host:port or :port`},
		{[]string{"-nodes", "h:1", "-http", ":http"}, `-http ":http": port "http" is not a number`},
		{[]string{"-nodes", "h:1", "-metrics", "9464"}, `-metrics "9464": want host:port or :port`},
		{[]string{"-nodes", "h:1", "-wait", "0s"}, "-wait 0s: want a positive duration"},
		{[]string{"-nodes", "h:1", "-wait", "soon"}, `invalid value "soon" for flag -wait`},
		{[]string{"-nodes", "h:1", "extra"}, `unexpected argument "extra"`},
		{[]string{"-bogus"}, "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := serveGateway(context.Background(), tt.args, &stdout, &stderr, gatewayHooks{})
		if code != exitUsage || !strings.Contains(stderr.String(), tt.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("gateway %q: exit %d, stderr %q; want exit 2 and one line containing %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

func TestGatewayBadEnv(t *testing.T) {
	t.Setenv(meshrt.EnvMaxBody, "lots")
	var stdout, stderr bytes.Buffer
	code := serveGateway(context.Background(), []string{"-http", "127.0.0.1:0", "-nodes", "127.0.0.1:1"}, &stdout, &stderr, gatewayHooks{})
	if code != exitUsage || !strings.Contains(stderr.String(), meshrt.EnvMaxBody) {
		t.Errorf("exit %d, stderr %q; want exit 2 naming %s", code, stderr.String(), meshrt.EnvMaxBody)
	}
}

func TestGatewayHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := serveGateway(context.Background(), []string{"-h"}, &stdout, &stderr, gatewayHooks{}); code != exitOK {
		t.Errorf("gateway -h: exit %d, want 0", code)
	}
	if !strings.Contains(stdout.String(), "usage: meshsplit gateway") || !strings.Contains(stdout.String(), "-nodes") {
		t.Errorf("gateway -h printed %q", stdout.String())
	}
}

func TestGatewayUnreachable(t *testing.T) {
	tests := []struct {
		name string
		key  string // the serving node's cluster key
		env  string // the gateway's
		want string
	}{
		{name: "nobody listens", want: "connection refused"},
		{name: "wrong cluster key", key: "the right cluster key", env: "a wrong cluster key", want: "not signed by this cluster's key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := closedPort(t)
			if tt.key != "" {
				addr = startServingNode(t, tt.key).Addr()
			}
			t.Setenv(meshrt.EnvClusterKey, tt.env)
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := serveGateway(context.Background(), []string{"-http", "127.0.0.1:0", "-nodes", addr, "-wait", "500ms"}, &stdout, &stderr, gatewayHooks{})
			if code != exitFailure {
				t.Errorf("exit %d, want 1; stderr %q", code, stderr.String())
			}
			msg := stderr.String()
			if !strings.Contains(msg, "cannot reach any mesh node within -wait 500ms: node "+addr+" unreachable") || !strings.Contains(msg, tt.want) {
				t.Errorf("stderr %q; want it to name %s and contain %q", msg, addr, tt.want)
			}
			// A gateway that ignored -wait 500ms would wait the default 10 s:
			// that, not a guess at the machine's speed, is the bound.
			if el := time.Since(start); el >= 10*time.Second {
				t.Errorf("gave up after %v, want about -wait 500ms (the default -wait is 10s)", el)
			}
		})
	}
}

func TestGatewayInterruptedWhileJoining(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := serveGateway(ctx, []string{"-http", "127.0.0.1:0", "-nodes", closedPort(t)}, &stdout, &stderr, gatewayHooks{})
	if code != exitFailure || stderr.String() != "meshsplit gateway: interrupted while joining the mesh\n" {
		t.Errorf("exit %d, stderr %q; want exit 1 saying it was interrupted", code, stderr.String())
	}
}

func TestGatewayHTTPInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stdout, stderr bytes.Buffer
	code := serveGateway(context.Background(), []string{"-http", ln.Addr().String(), "-nodes", "127.0.0.1:1"}, &stdout, &stderr, gatewayHooks{})
	if code != exitFailure || !strings.Contains(stderr.String(), "cannot serve HTTP on -http "+ln.Addr().String()) {
		t.Errorf("exit %d, stderr %q; want exit 1 saying it cannot serve on %s", code, stderr.String(), ln.Addr())
	}
}

// syncBuffer is a bytes.Buffer safe for the gateway goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestGatewayServes(t *testing.T) {
	const key = "gateway test cluster key"
	node := startServingNode(t, key)
	dead := closedPort(t)
	t.Setenv(meshrt.EnvClusterKey, key)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan int, 1)
	var stdout, stderr syncBuffer
	go func() {
		done <- serveGateway(ctx, []string{"-http", "127.0.0.1:0", "-nodes", node.Addr() + "," + dead, "-wait", "500ms"},
			&stdout, &stderr, gatewayHooks{ready: func(addr string) { ready <- addr }})
	}()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case code := <-done:
		t.Fatalf("the gateway stopped with exit %d: %s", code, stderr.String())
	case <-time.After(gatewayTestTimeout):
		t.Fatal("the gateway did not start")
	}
	if !strings.Contains(stdout.String(), "serving "+base) {
		t.Errorf("stdout %q does not say where it serves", stdout.String())
	}
	if !strings.Contains(stderr.String(), "warning: node "+dead+" unreachable") {
		t.Errorf("stderr %q does not warn about the dead node %s", stderr.String(), dead)
	}

	client := &http.Client{Timeout: gatewayTestTimeout}
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The greeter becomes visible once the node has told the gateway what
	// it serves; the gateway answers 404 until then, so retry briefly.
	deadline := time.Now().Add(gatewayTestTimeout)
	for {
		status, body := call("POST", "/greet.Greeter/Greet", `{"name":"Max"}`)
		if status == http.StatusOK {
			if body != `{"name":"hello, Max"}` {
				t.Errorf("Greet answered %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Greet through the gateway: status %d, body %s", status, body)
		}
		time.Sleep(10 * time.Millisecond) // poll within the deadline above
	}
	if status, body := call("GET", "/legacy.API/orders/1", ""); status != 200 || body != "legacy /orders/1" {
		t.Errorf("legacy handler: status %d, body %q", status, body)
	}
	if status, body := call("GET", "/", ""); status != 200 || !strings.Contains(body, `"call": "POST /greet.Greeter/Greet"`) {
		t.Errorf("GET /: status %d, body %s", status, body)
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
}
