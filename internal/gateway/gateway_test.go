package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// Service names of the test mesh: "inventory.Service" is unique,
// "catalog.Service" is served by two packages and so ambiguous.
const (
	inventoryName = "example.com/shop/inventory.Service"
	shopCatalog   = "example.com/shop/catalog.Service"
	whCatalog     = "example.com/warehouse/catalog.Service"
	legacyName    = "example.com/shop/legacy.API"
)

// testTimeout bounds every wait of these tests.
const testTimeout = 10 * time.Second

// startNode starts a node listening on 127.0.0.1 and closes it at the end
// of the test.
func startNode(t testing.TB, listen string) *meshrt.Node {
	t.Helper()
	cfg := meshrt.DefaultConfig()
	cfg.Listen = listen
	n, err := meshrt.NewNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		n.Close(ctx)
	})
	return n
}

// legacyAPI is a plain HTTP handler as a monolith had before the split: it
// echoes what it received.
func legacyAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/orders/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "body": string(body),
			"auth": r.Header.Get("Authorization"),
		})
	})
	return mux
}

// startMesh starts a serving node with every test service, a caller-only
// node joined to it and the gateway over the latter.
func startMesh(t *testing.T) (gw *httptest.Server, server *meshrt.Node) {
	t.Helper()
	return startMeshConfig(t, Config{})
}

// startMeshConfig is startMesh with the gateway configured by cfg.
func startMeshConfig(t testing.TB, cfg Config) (gw *httptest.Server, server *meshrt.Node) {
	t.Helper()
	server = startNode(t, "127.0.0.1:0")
	for _, p := range []struct {
		name string
		impl stock
	}{{inventoryName, stock{"inv"}}, {shopCatalog, stock{"shop"}}, {whCatalog, stock{"wh"}}} {
		if err := server.Publish(inventoryDesc(p.name), p.impl); err != nil {
			t.Fatal(err)
		}
	}
	if err := server.PublishHTTP(legacyName, legacyAPI()); err != nil {
		t.Fatal(err)
	}
	caller := startNode(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := caller.Join(ctx, server.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := caller.Wait(ctx, inventoryName, shopCatalog, whCatalog, legacyName); err != nil {
		t.Fatal(err)
	}
	gw = httptest.NewServer(New(caller, cfg))
	t.Cleanup(gw.Close)
	return gw, server
}

// do sends one request to the gateway and returns the status and body.
func do(t testing.TB, gw *httptest.Server, method, path, body string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, gw.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := gw.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, string(out)
}

func TestGatewayRequests(t *testing.T) {
	gw, _ := startMesh(t)
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		header     map[string]string
		wantStatus int
		want       []string // substrings of the body
	}{
		{"short name", "POST", "/inventory.Service/Reserve", `{"sku":"A1","qty":2}`, nil,
			200, []string{`"r0":{"sku":"A1","qty":2,"id":"inv/A1"}`}},
		{"full name", "POST", "/" + inventoryName + "/Reserve", `{"sku":"B2","qty":1}`, nil,
			200, []string{`"id":"inv/B2"`}},
		{"path suffix", "POST", "/shop/inventory.Service/Reserve", `{"sku":"C3","qty":1}`, nil,
			200, []string{`"id":"inv/C3"`}},
		{"suffix resolves an ambiguous short name", "POST", "/warehouse/catalog.Service/Reserve", `{"sku":"D4","qty":1}`, nil,
			200, []string{`"id":"wh/D4"`}},
		{"method error keeps its message and sentinel", "POST", "/inventory.Service/Reserve", `{"sku":"A1","qty":11}`, nil,
			500, []string{`"error":"inventory: out of stock"`, `"is":["example.com/shop/inventory.ErrOutOfStock"]`}},
		{"malformed body", "POST", "/inventory.Service/Reserve", `{"sku":5}`, nil,
			400, []string{`"code":"malformed"`, "parameters [sku qty]"}},
		{"unknown field", "POST", "/inventory.Service/Reserve", `{"skew":"x"}`, nil,
			400, []string{`"code":"malformed"`, `unknown field \"skew\"`}},
		{"no method", "POST", "/inventory.Service", `{}`, nil,
			404, []string{`"code": "unknown_method"`, `name a method of ` + inventoryName + ` in the path, POST /inventory.Service/<method>; it has Reserve, Slow`}},
		{"unknown method", "POST", "/inventory.Service/Nope", `{}`, nil,
			404, []string{`"code": "unknown_method"`, `has no method \"Nope\"; it has Reserve, Slow`}},
		{"method needs POST", "GET", "/inventory.Service/Reserve", "", nil,
			405, []string{`"code": "malformed"`, `with POST and a JSON body keyed by its parameters {\"sku\", \"qty\"}`}},
		{"unknown service", "POST", "/nothing.Here/Reserve", `{}`, nil,
			404, []string{`"code": "unknown_service"`, "no service on the mesh for path /nothing.Here/Reserve", inventoryName}},
		{"ambiguous short name", "POST", "/catalog.Service/Reserve", `{}`, nil,
			400, []string{`"code": "unknown_service"`, "names several services: " + shopCatalog + ", " + whCatalog + "; use the full name"}},
		{"legacy handler", "GET", "/legacy.API/orders/7?expand=lines", "", nil,
			200, []string{`"method":"GET"`, `"path":"/orders/7"`, `"query":"expand=lines"`}},
		{"legacy handler, full name and a body", "PUT", "/" + legacyName + "/orders/8", `{"state":"paid"}`, nil,
			200, []string{`"method":"PUT"`, `"path":"/orders/8"`, `"body":"{\"state\":\"paid\"}"`}},
		{"timeout header ends a slow call", "POST", "/inventory.Service/Slow", `{"d":5000000000}`, map[string]string{meshrt.TimeoutHeader: "100ms"},
			504, []string{"timeout"}},
		{"timeout header that is no duration", "POST", "/inventory.Service/Slow", `{"d":1}`, map[string]string{meshrt.TimeoutHeader: "soon"},
			400, []string{`"code": "malformed"`, `\"soon\" is not a positive Go duration`}},
		{"dot segment", "GET", "/legacy.API/orders/../admin", "", nil,
			400, []string{`"code": "malformed"`, `path /legacy.API/orders/../admin has a \".\" or \"..\" segment`}},
		{"listing wants GET", "POST", "/", `{}`, nil,
			405, []string{"GET / lists the services"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			status, _, body := do(t, gw, tt.method, tt.path, tt.body, tt.header)
			if status != tt.wantStatus {
				t.Errorf("%s %s: status %d, want %d; body %s", tt.method, tt.path, status, tt.wantStatus, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s %s: body %s\nlacks %s", tt.method, tt.path, body, w)
				}
			}
			// No answer waits for the runtime's route wait (every node is
			// known): the bound is that wait, not a guess at the machine.
			if el, wait := time.Since(start), meshrt.DefaultConfig().RouteWait; el >= wait {
				t.Errorf("%s %s took %v, the runtime's whole route wait (%v)", tt.method, tt.path, el, wait)
			}
		})
	}
}

func TestGatewayListing(t *testing.T) {
	gw, server := startMesh(t)
	status, header, body := do(t, gw, "GET", "/", "", nil)
	if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /: status %d, content type %q; body %s", status, header.Get("Content-Type"), body)
	}
	var l Listing
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatalf("GET /: %v in %s", err, body)
	}
	paths := map[string]string{}
	for _, s := range l.Services {
		paths[s.Name] = s.Path
		if !slices.Equal(s.Nodes, []string{server.Addr()}) {
			t.Errorf("%s: nodes %v, want [%s]", s.Name, s.Nodes, server.Addr())
		}
	}
	wantPaths := map[string]string{
		inventoryName: "/inventory.Service",
		shopCatalog:   "/shop/catalog.Service",
		whCatalog:     "/warehouse/catalog.Service",
		legacyName:    "/legacy.API",
	}
	if fmt.Sprint(paths) != fmt.Sprint(wantPaths) {
		t.Errorf("GET / paths = %v, want %v", paths, wantPaths)
	}
	for _, s := range l.Services {
		switch s.Name {
		case inventoryName:
			want := []MethodListing{
				{Name: "Reserve", Call: "POST /inventory.Service/Reserve", Params: []string{"sku", "qty"}},
				{Name: "Slow", Call: "POST /inventory.Service/Slow", Params: []string{"d"}},
			}
			if fmt.Sprint(s.Methods) != fmt.Sprint(want) || s.HTTP {
				t.Errorf("inventory listing = %+v, want methods %+v and no HTTP", s, want)
			}
		case legacyName:
			if !s.HTTP || len(s.Methods) != 0 {
				t.Errorf("legacy listing = %+v, want HTTP only", s)
			}
		}
	}
}

// TestGatewayRoundRobin checks that calls spread over every node serving a
// service.
func TestGatewayRoundRobin(t *testing.T) {
	a, b := startNode(t, "127.0.0.1:0"), startNode(t, "127.0.0.1:0")
	for _, n := range []struct {
		node *meshrt.Node
		name string
	}{{a, "a"}, {b, "b"}} {
		if err := n.node.Publish(inventoryDesc(inventoryName), stock{n.name}); err != nil {
			t.Fatal(err)
		}
	}
	caller := startNode(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := caller.Join(ctx, a.Addr(), b.Addr()); err != nil {
		t.Fatal(err)
	}
	// Both nodes are connected; wait until the caller has heard what each
	// serves. The runtime has no notification for that, so poll it, within
	// the test's deadline.
	for {
		if s := caller.Services(); len(s) == 1 && len(s[0].Nodes) == 2 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the caller never saw both nodes serve %s: %+v", inventoryName, caller.Services())
		}
		time.Sleep(5 * time.Millisecond)
	}
	gw := httptest.NewServer(New(caller, Config{}))
	defer gw.Close()
	seen := map[string]int{}
	for i := range 20 {
		status, _, body := do(t, gw, "POST", "/inventory.Service/Reserve", fmt.Sprintf(`{"sku":"S%d","qty":1}`, i), nil)
		if status != 200 {
			t.Fatalf("call %d: status %d, body %s", i, status, body)
		}
		var resp struct{ R0 reservation }
		if err := json.Unmarshal([]byte(body), &resp); err != nil {
			t.Fatal(err)
		}
		seen[strings.Split(resp.R0.ID, "/")[0]]++
	}
	if seen["a"] < 5 || seen["b"] < 5 {
		t.Errorf("20 calls went %v, want both nodes used about evenly", seen)
	}

	// With an affinity key every call goes to one node.
	for _, key := range []string{"cart-1", "cart-2", "cart-3"} {
		nodes := map[string]int{}
		for i := range 10 {
			status, _, body := do(t, gw, "POST", "/inventory.Service/Reserve", fmt.Sprintf(`{"sku":"K%d","qty":1}`, i), map[string]string{AffinityHeader: key})
			if status != 200 {
				t.Fatalf("key %s, call %d: status %d, body %s", key, i, status, body)
			}
			var resp struct{ R0 reservation }
			if err := json.Unmarshal([]byte(body), &resp); err != nil {
				t.Fatal(err)
			}
			nodes[strings.Split(resp.R0.ID, "/")[0]]++
		}
		if len(nodes) != 1 {
			t.Errorf("affinity key %s: 10 calls went %v, want one node", key, nodes)
		}
	}
}

// TestGatewayServiceGone checks that a service whose only node left gives a
// prompt, clear error rather than a hang.
func TestGatewayServiceGone(t *testing.T) {
	gw, server := startMesh(t)
	if status, _, body := do(t, gw, "POST", "/inventory.Service/Reserve", `{"sku":"A","qty":1}`, nil); status != 200 {
		t.Fatalf("before the node left: status %d, body %s", status, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := server.Close(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	status, _, body := do(t, gw, "POST", "/inventory.Service/Reserve", `{"sku":"A","qty":1}`, nil)
	if status != http.StatusNotFound && status != http.StatusServiceUnavailable {
		t.Errorf("after the node left: status %d, want 404 or 503; body %s", status, body)
	}
	if !strings.Contains(body, `"error"`) {
		t.Errorf("after the node left: body %s has no error", body)
	}
	// Prompt means without the runtime's route wait, which a gateway that
	// waited for a node would spend: the bound is that wait, not a guess at
	// the machine's speed.
	if el, wait := time.Since(start), meshrt.DefaultConfig().RouteWait; el >= wait {
		t.Errorf("after the node left the call took %v, the runtime's whole route wait (%v)", el, wait)
	}
}
