package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// otlpReceiver is a loopback OTLP/HTTP endpoint that keeps the bodies
// posted to /v1/traces.
type otlpReceiver struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" {
		o.mu.Lock()
		o.bodies = append(o.bodies, body)
		o.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// all returns every body received, concatenated.
func (o *otlpReceiver) all() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Join(o.bodies, nil)
}

// TestGatewayMetricsAndTraces runs the command with -metrics and an OTLP
// endpoint: /metrics counts the calls made through it, by route and
// status, and the mesh calls; the spans reach the endpoint when the
// gateway stops.
func TestGatewayMetricsAndTraces(t *testing.T) {
	node := startServingNode(t, "")
	receiver := &otlpReceiver{}
	otlp := httptest.NewServer(receiver)
	defer otlp.Close()
	t.Setenv(envOTLPEndpoint, otlp.URL)
	t.Setenv("OTEL_SERVICE_NAME", "gateway-under-test")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready, metrics := make(chan string, 1), make(chan string, 1)
	done := make(chan int, 1)
	var stdout, stderr syncBuffer
	go func() {
		done <- serveGateway(ctx, []string{"-http", "127.0.0.1:0", "-metrics", "127.0.0.1:0", "-nodes", node.Addr()},
			&stdout, &stderr, gatewayHooks{ready: func(addr string) { ready <- addr }, metrics: func(addr string) { metrics <- addr }})
	}()
	var base, metricsURL string
	for base == "" {
		select {
		case addr := <-metrics:
			metricsURL = "http://" + addr + "/metrics"
		case addr := <-ready:
			base = "http://" + addr
		case code := <-done:
			t.Fatalf("the gateway stopped with exit %d: %s", code, stderr.String())
		case <-time.After(gatewayTestTimeout):
			t.Fatal("the gateway did not start")
		}
	}
	if metricsURL == "" || !strings.Contains(stdout.String(), "metrics at "+metricsURL) || !strings.Contains(stdout.String(), "spans to the OTLP endpoint") {
		t.Fatalf("metrics at %q; stdout %q does not say where metrics and spans go", metricsURL, stdout.String())
	}

	client := &http.Client{Timeout: gatewayTestTimeout}
	get := func(method, url, body string, header map[string]string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The greeter is visible once the node told the gateway what it serves.
	deadline := time.Now().Add(gatewayTestTimeout)
	for {
		if status, _ := get("POST", base+"/greet.Greeter/Greet", `{"name":"Max"}`, nil); status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Greet through the gateway never answered 200")
		}
		time.Sleep(10 * time.Millisecond) // poll within the deadline above
	}
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	for range 4 {
		if status, body := get("POST", base+"/greet.Greeter/Greet", `{"name":"Max"}`,
			map[string]string{"traceparent": "00-" + traceID + "-00f067aa0ba902b7-01"}); status != 200 {
			t.Fatalf("Greet: status %d, body %s", status, body)
		}
	}
	if status, _ := get("POST", base+"/nothing.Here/Greet", `{}`, nil); status != 404 {
		t.Fatalf("unknown service: status %d, want 404", status)
	}

	// The duration is recorded once the answer is written: scrape until
	// the five 200s are counted.
	route := `http_route="/example.com/shop/greet.Greeter/Greet"`
	var scrape string
	for deadline := time.Now().Add(gatewayTestTimeout); ; {
		var status int
		status, scrape = get("GET", metricsURL, "", nil)
		if status != 200 {
			t.Fatalf("GET /metrics: status %d: %s", status, scrape)
		}
		if n, _ := sample(scrape, "http_server_request_duration_seconds_count", route, `http_response_status_code="200"`); n >= 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond) // poll within the deadline above
	}
	for _, c := range []struct {
		name   string
		labels []string
		min    float64
	}{
		{"http_server_request_duration_seconds_count", []string{route, `http_response_status_code="200"`, `http_request_method="POST"`}, 5},
		{"http_server_request_duration_seconds_bucket", []string{route, `le="+Inf"`}, 5},
		{"http_server_request_duration_seconds_count", []string{`http_response_status_code="404"`}, 1},
		{"http_server_response_body_size_bytes_count", []string{route}, 5},
		{"rpc_client_call_duration_seconds_count", []string{`rpc_service="example.com/shop/greet.Greeter"`, `rpc_method="Greet"`, `rpc_system="meshsplit"`}, 5},
		{"http_server_active_requests", []string{`http_request_method="POST"`}, 0},
		{"go_goroutines", nil, 1},
	} {
		n, ok := sample(scrape, c.name, c.labels...)
		if !ok || n < c.min {
			t.Errorf("/metrics: %s%v = %v (found %v), want at least %v", c.name, c.labels, n, ok, c.min)
		}
	}
	if n, _ := sample(scrape, "http_server_request_duration_seconds_count", route, `http_response_status_code="200"`); n != 5 {
		t.Errorf("/metrics counts %v calls of Greet, want 5:\n%s", n, scrape)
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d after the interrupt, want 0; stderr %s", code, stderr.String())
		}
	case <-time.After(gatewayTestTimeout):
		t.Fatal("the gateway did not stop after its context ended")
	}
	// The spans went out when the gateway stopped (tracer provider
	// shutdown); the protobuf holds the names and ids as raw bytes.
	got := receiver.all()
	for _, want := range [][]byte{
		[]byte("POST /example.com/shop/greet.Greeter/Greet"),
		[]byte("example.com/shop/greet.Greeter/Greet"),
		[]byte("gateway-under-test"),
		mustHex(t, traceID),
	} {
		if !bytes.Contains(got, want) {
			t.Errorf("the OTLP endpoint received %d bytes without %q", len(got), want)
		}
	}
	if strings.Contains(stderr.String(), "sending the last spans") {
		t.Errorf("stderr: %s", stderr.String())
	}
	// The log line of a traced call carries its trace id.
	if !strings.Contains(stderr.String(), "trace_id="+traceID) {
		t.Errorf("no log line with trace_id=%s in stderr:\n%s", traceID, stderr.String())
	}
}

// sample returns the sum of the values of the samples of metric name whose
// labels include every one of labels, and whether there was one.
func sample(scrape, name string, labels ...string) (float64, bool) {
	line := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? (\S+)$`)
	var sum float64
	found := false
	for l := range strings.SplitSeq(scrape, "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		all := true
		for _, want := range labels {
			all = all && strings.Contains(m[1], want)
		}
		if !all {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			continue
		}
		sum += v
		found = true
	}
	return sum, found
}

// mustHex decodes a hex string.
func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b := make([]byte, len(s)/2)
	for i := range b {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			t.Fatal(err)
		}
		b[i] = byte(v)
	}
	return b
}

// TestGatewayMetricsAddressInUse: a -metrics address that cannot be
// listened on stops the gateway at start, exit 1, naming it.
func TestGatewayMetricsAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stdout, stderr bytes.Buffer
	code := serveGateway(context.Background(), []string{"-http", "127.0.0.1:0", "-metrics", ln.Addr().String(), "-nodes", closedPort(t)},
		&stdout, &stderr, gatewayHooks{})
	if want := "cannot serve metrics on -metrics " + ln.Addr().String(); code != exitFailure || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, stderr.String(), want)
	}
}

// TestGatewayBadOTLPEndpoint: an OTLP endpoint that is no http(s) URL is
// a usage error, one line naming the variable.
func TestGatewayBadOTLPEndpoint(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{envOTLPEndpoint, "::not a url"},
		{envOTLPEndpoint, "127.0.0.1:4318"},
		{envOTLPTracesEndpoint, "grpc://collector:4317"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			t.Setenv(envOTLPEndpoint, "")
			t.Setenv(envOTLPTracesEndpoint, "")
			t.Setenv(tc.name, tc.value)
			var stdout, stderr bytes.Buffer
			code := serveGateway(context.Background(), []string{"-http", "127.0.0.1:0", "-nodes", closedPort(t)}, &stdout, &stderr, gatewayHooks{})
			want := tc.name + " " + strconv.Quote(tc.value) + ": want the http:// or https:// URL"
			if code != exitUsage || !strings.Contains(stderr.String(), want) || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit 2 and one line containing %q", code, stderr.String(), want)
			}
		})
	}
}
