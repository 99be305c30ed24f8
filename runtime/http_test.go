package runtime

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// nodeHTTPClient returns an HTTP client whose connections are 'H' streams
// to the peer with the given id.
func nodeHTTPClient(n *Node, peerID string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return n.dialHTTP(ctx, "tcp", net.JoinHostPort(peerID+meshHostSuffix, "80"))
		},
	}}
}

func TestHTTPPath(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBody = 4 << 10
	srv, _ := serveGreeter(t, cfg, "a")
	legacy := http.NewServeMux()
	legacy.HandleFunc("/list", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "orders: "+r.URL.Path) })
	if err := srv.PublishHTTP("legacy/orders", legacy); err != nil {
		t.Fatal(err)
	}
	caller, _ := callerOf(t, testConfig(), srv.Addr())
	waitFor(t, 5*time.Second, "the legacy service to be announced", func() bool { return len(caller.nodesFor("legacy/orders")) == 1 })
	direct := nodeHTTPClient(caller, srv.ID())
	mesh := &http.Client{Transport: caller.Transport()}

	tests := []struct {
		name   string
		client *http.Client
		method string
		path   string
		body   string
		header map[string]string
		status int
		want   []string // substrings of the response body
	}{
		{"ping", direct, "GET", "/ping", "", nil, 200, []string{"pong"}},
		{"heartbeat", direct, "GET", "/__heartbeat__", "", nil, 200, []string{srv.ID(), greeterName, "legacy/orders"}},
		{"call", mesh, "POST", "/" + greeterName + "/Greet", `{"name":"Max"}`, nil, 200, []string{`"r0":"hello Max"`}},
		{"error keeps sentinels", mesh, "POST", "/" + greeterName + "/Fail", `{"kind":"wrapped"}`, nil, 500,
			[]string{`"error":"looking up sku 42: greeter: not found"`, `"is":["example.com/test/greet.ErrNotFound"]`, `"r0":7`}},
		{"unknown parameter", mesh, "POST", "/" + greeterName + "/Greet", `{"nom":"Max"}`, nil, 400, []string{`"code":"malformed"`, "nom", "[name]"}},
		{"bad json", mesh, "POST", "/" + greeterName + "/Greet", `{"name":`, nil, 400, []string{`"code":"malformed"`}},
		{"too large", mesh, "POST", "/" + greeterName + "/Greet", `{"name":"` + strings.Repeat("x", 8<<10) + `"}`, nil, 413, []string{`"code":"too_large"`, "4096"}},
		{"unknown method", mesh, "POST", "/" + greeterName + "/Nope", `{}`, nil, 404, []string{`"code":"unknown_method"`, "Nope"}},
		{"panic", mesh, "POST", "/" + greeterName + "/Panic", `{}`, nil, 500, []string{`"code":"panic"`}},
		{"timeout", mesh, "POST", "/" + greeterName + "/Sleep", `{"d":10000000000}`, map[string]string{TimeoutHeader: "50ms"}, 504, []string{`"code":"timeout"`}},
		{"bad timeout", mesh, "POST", "/" + greeterName + "/Sleep", `{"d":1}`, map[string]string{TimeoutHeader: "soon"}, 400, []string{TimeoutHeader}},
		{"GET on a method", mesh, "GET", "/" + greeterName + "/Greet", "", nil, 405, []string{"POST"}},
		{"legacy handler", mesh, "GET", "/legacy/orders/list", "", nil, 200, []string{"orders: /list"}},
		{"no pprof", direct, "GET", "/debug/pprof/", "", nil, 404, []string{`"code":"unknown_service"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, header := httpCase(t, tc.client, tc.method, tc.path, tc.body, tc.header, tc.status, tc.want)
			if strings.HasPrefix(header.Get("Content-Type"), "application/json") && !json.Valid(body) {
				t.Errorf("invalid JSON body %s", body)
			}
		})
	}

	// An unknown service is a routing error on the caller, not a hang.
	_, err := mesh.Post("http://mesh/no/such.Service/M", "application/json", strings.NewReader("{}"))
	if err == nil || !strings.Contains(err.Error(), "no live node") {
		t.Fatalf("POST to an unknown service: %v", err)
	}
}

// TestWriteJSONRefusesWhatJSONCannotEncode checks that results JSON cannot
// carry become a 500 with code "internal", never a half-written answer.
func TestWriteJSONRefusesWhatJSONCannotEncode(t *testing.T) {
	tests := []struct {
		name   string
		v      any
		status int
		want   string
	}{
		{"plain", map[string]int{"r0": 7}, 200, `{"r0":7}`},
		{"NaN", struct{ R0 float64 }{math.NaN()}, 500, `"code":"internal"`},
		{"channel", map[string]any{"r0": make(chan int)}, 500, "chan int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeJSON(rec, http.StatusOK, tt.v)
			body := rec.Body.String()
			if rec.Code != tt.status || !strings.Contains(body, tt.want) || !json.Valid(rec.Body.Bytes()) {
				t.Errorf("writeJSON(%v): %d %s, want %d with %s", tt.v, rec.Code, body, tt.status, tt.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("content type %q", ct)
			}
		})
	}
}

// httpCase sends one request through client to the mesh's HTTP path and
// checks its status and that the body holds each of want; it returns the
// body and the headers.
func httpCase(t *testing.T, client *http.Client, method, path, body string, header map[string]string, status int, want []string) ([]byte, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(within(t, 10*time.Second), method, "http://mesh"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, got)
	}
	for _, w := range want {
		if !strings.Contains(string(got), w) {
			t.Errorf("body %s does not contain %s", got, w)
		}
	}
	return got, resp.Header
}
