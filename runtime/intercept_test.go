package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a pair of interceptors that record what they saw and add
// metadata: "x-client" on requests, "x-server" on responses.
type recorder struct {
	mu      sync.Mutex
	client  []CallInfo
	server  []CallInfo
	errs    []error // client outcomes
	skipRun bool    // the server interceptor refuses without running the method
}

func (r *recorder) clientICPT(ctx context.Context, call *CallInfo, next func(context.Context) error) error {
	call.Metadata.Set("X-Client", "c1")
	err := next(ctx)
	r.mu.Lock()
	r.client = append(r.client, *call)
	r.errs = append(r.errs, err)
	r.mu.Unlock()
	return err
}

func (r *recorder) serverICPT(ctx context.Context, call *CallInfo, next func(context.Context) error) error {
	call.ResponseMetadata.Set("x-server", "s1:"+call.Metadata.Get("x-client"))
	var err error
	if r.skipRun {
		err = errors.New("refused by the interceptor")
	} else {
		err = next(ctx)
	}
	r.mu.Lock()
	r.server = append(r.server, *call)
	r.mu.Unlock()
	return err
}

// last returns the last client and server records.
func (r *recorder) last(t *testing.T) (client, server CallInfo, err error) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.client) == 0 || len(r.server) == 0 {
		t.Fatalf("interceptors saw %d client and %d server calls, want at least one each", len(r.client), len(r.server))
	}
	return r.client[len(r.client)-1], r.server[len(r.server)-1], r.errs[len(r.errs)-1]
}

// interceptedPair starts a server and a caller node, each with the
// recorder's interceptors.
func interceptedPair(t *testing.T, rec *recorder) (srv, caller *Node, g *greeterClient) {
	cfg := testConfig()
	cfg.ClientInterceptors = []ClientInterceptor{rec.clientICPT}
	cfg.ServerInterceptors = []ServerInterceptor{rec.serverICPT}
	srv, _ = serveGreeter(t, cfg, "a")
	caller, g = callerOf(t, cfg, srv.Addr())
	return srv, caller, g
}

func TestInterceptorsSeeFastPathCalls(t *testing.T) {
	rec := &recorder{}
	srv, _, g := interceptedPair(t, rec)
	ctx := within(t, 5*textTimeout)

	tests := []struct {
		name     string
		call     func() error
		method   string
		wantErr  error
		reqBytes int
	}{
		{"ok", func() error { _, err := g.Greet(ctx, "Max"); return err }, "Greet", nil, 4},
		{"method error", func() error { _, err := g.Fail(ctx, "sentinel"); return err }, "Fail", errNotFound, 9},
		{"panic", func() error { return g.Panic(ctx) }, "Panic", ErrHandlerPanic, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("call: %v, want %v", err, tc.wantErr)
			}
			c, s, cerr := rec.last(t)
			if cerr != err {
				t.Errorf("client interceptor saw outcome %v, the caller got %v", cerr, err)
			}
			for _, ci := range []CallInfo{c, s} {
				if ci.Service != greeterName || ci.Method != tc.method {
					t.Errorf("saw %s.%s, want %s.%s", ci.Service, ci.Method, greeterName, tc.method)
				}
				if ci.RequestBytes != tc.reqBytes {
					t.Errorf("request bytes %d, want %d", ci.RequestBytes, tc.reqBytes)
				}
				if ci.HTTP {
					t.Errorf("fast-path call marked HTTP")
				}
			}
			if c.Peer != srv.Addr() {
				t.Errorf("client saw peer %q, want the server %q", c.Peer, srv.Addr())
			}
			if !strings.HasPrefix(s.Peer, "127.0.0.1:") {
				t.Errorf("server saw peer %q, want the caller's 127.0.0.1 address", s.Peer)
			}
			if got := s.Metadata.Get("x-client"); got != "c1" {
				t.Errorf("server saw request metadata x-client=%q, want c1", got)
			}
			if tc.wantErr == ErrHandlerPanic {
				return // a panic answers a protocol error: no response metadata
			}
			if got := c.ResponseMetadata.Get("x-server"); got != "s1:c1" {
				t.Errorf("client saw response metadata x-server=%q, want s1:c1", got)
			}
			if c.ResponseBytes <= 0 || c.ResponseBytes != s.ResponseBytes {
				t.Errorf("response bytes: client %d, server %d; want equal and positive", c.ResponseBytes, s.ResponseBytes)
			}
		})
	}
}

// textTimeout bounds one call of these tests.
const textTimeout = 2e9

func TestServerInterceptorMayRefuse(t *testing.T) {
	rec := &recorder{skipRun: true}
	_, _, g := interceptedPair(t, rec)
	_, err := g.Greet(within(t, textTimeout), "Max")
	if err == nil || !strings.Contains(err.Error(), "refused by the interceptor") {
		t.Fatalf("call: %v, want the interceptor's error", err)
	}
}

func TestInterceptorsSeeHTTPPath(t *testing.T) {
	rec := &recorder{}
	srv, caller, _ := interceptedPair(t, rec)
	mesh := &http.Client{Transport: caller.Transport()}
	resp, err := mesh.Post("http://mesh/"+greeterName+"/Greet", "application/json", strings.NewReader(`{"name":"Max"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "hello Max") {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get(MetadataHeaderPrefix + "x-server"); got != "s1:c1" {
		t.Errorf("response header %sX-Server = %q, want s1:c1", MetadataHeaderPrefix, got)
	}
	c, s, _ := rec.last(t)
	for _, ci := range []CallInfo{c, s} {
		if !ci.HTTP || ci.Service != greeterName || ci.Method != "Greet" {
			t.Errorf("saw %+v, want an HTTP call of %s.Greet", ci, greeterName)
		}
		if ci.RequestBytes != len(`{"name":"Max"}`) {
			t.Errorf("request bytes %d", ci.RequestBytes)
		}
	}
	if c.Peer != srv.Addr() || c.HTTPStatus != 200 {
		t.Errorf("client saw peer %q status %d", c.Peer, c.HTTPStatus)
	}
	if c.ResponseMetadata.Get("x-server") != "s1:c1" {
		t.Errorf("client saw response metadata %v", c.ResponseMetadata.Keys())
	}

	// A published handler: its path is not a method.
	if err := srv.PublishHTTP("legacy/orders", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5e9, "the legacy service to be announced", func() bool { return len(caller.nodesFor("legacy/orders")) == 1 })
	resp, err = mesh.Get("http://mesh/legacy/orders/42")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rec.mu.Lock()
	c = rec.client[len(rec.client)-1]
	rec.mu.Unlock()
	if c.Service != "legacy/orders" || c.Method != "" || c.HTTPStatus != 200 {
		t.Errorf("handler request seen as service %q method %q status %d, want legacy/orders, no method, 200", c.Service, c.Method, c.HTTPStatus)
	}
}

// twiceSeq numbers the names TestRegisterContextValueRefuses registers.
var twiceSeq atomic.Int64

// tenantKey is the context key of the test's context value.
type tenantKey struct{}

// registerTenant registers the "test-tenant" context value once.
var registerTenant = sync.OnceValue(func() error {
	return RegisterContextValue(ContextValue{
		Name: "test-tenant",
		Encode: func(ctx context.Context) (string, bool) {
			v, ok := ctx.Value(tenantKey{}).(string)
			return v, ok
		},
		Decode: func(ctx context.Context, v string) (context.Context, error) {
			if v == "evil" {
				return nil, fmt.Errorf("tenant %q is not allowed", v)
			}
			return context.WithValue(ctx, tenantKey{}, v), nil
		},
	})
})

// tenantGreeter answers Whoami with the tenant of its context.
type tenantGreeter struct{ greeterImpl }

func (g *tenantGreeter) Whoami(ctx context.Context) (string, error) {
	v, _ := ctx.Value(tenantKey{}).(string)
	return "tenant=" + v, nil
}

func TestContextValueCrossesTheMesh(t *testing.T) {
	if err := registerTenant(); err != nil {
		t.Fatal(err)
	}
	for _, icpt := range []bool{false, true} {
		t.Run(fmt.Sprintf("interceptors=%v", icpt), func(t *testing.T) {
			cfg := testConfig()
			if icpt {
				rec := &recorder{}
				cfg.ClientInterceptors = []ClientInterceptor{rec.clientICPT}
				cfg.ServerInterceptors = []ServerInterceptor{rec.serverICPT}
			}
			srv := startNode(t, cfg)
			if err := srv.Publish(&greeterDesc, &tenantGreeter{}); err != nil {
				t.Fatal(err)
			}
			caller, g := callerOf(t, cfg, srv.Addr())
			ctx := within(t, textTimeout)
			tests := []struct {
				name, tenant string
				want         string
				wantErr      error
			}{
				{"carried", "acme", "tenant=acme", nil},
				{"absent", "", "tenant=", nil},
				{"refused by Decode", "evil", "", ErrMalformed},
				{"not printable", "caf\u00e9", "", ErrMalformed},
			}
			for _, tc := range tests {
				cctx := ctx
				if tc.tenant != "" {
					cctx = context.WithValue(ctx, tenantKey{}, tc.tenant)
				}
				got, err := g.Whoami(cctx)
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) || got != tc.want {
					t.Errorf("%s: Whoami = %q, %v; want %q, %v", tc.name, got, err, tc.want, tc.wantErr)
				}
				if err != nil && !strings.Contains(err.Error(), "test-tenant") {
					t.Errorf("%s: error %q does not name the context value", tc.name, err)
				}
			}
			// The HTTP path carries it too.
			req, _ := http.NewRequestWithContext(context.WithValue(ctx, tenantKey{}, "web"), "POST", "http://mesh/"+greeterName+"/Whoami", strings.NewReader(`{}`))
			resp, err := (&http.Client{Transport: caller.Transport()}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), "tenant=web") {
				t.Errorf("HTTP path: %d %s, want tenant=web", resp.StatusCode, body)
			}
		})
	}
}

func TestRegisterContextValueRefuses(t *testing.T) {
	twice := fmt.Sprintf("twice-%d", twiceSeq.Add(1)) // a new name under -count
	enc := func(context.Context) (string, bool) { return "", false }
	dec := func(ctx context.Context, _ string) (context.Context, error) { return ctx, nil }
	tests := []struct {
		name string
		cv   ContextValue
		want string
	}{
		{"no encode", ContextValue{Name: "a", Decode: dec}, "both required"},
		{"empty name", ContextValue{Name: "", Encode: enc, Decode: dec}, "want 1 to 64"},
		{"upper case", ContextValue{Name: "Tenant", Encode: enc, Decode: dec}, "want 1 to 64"},
		{"too long", ContextValue{Name: strings.Repeat("a", 65), Encode: enc, Decode: dec}, "over 64"},
		{"twice", ContextValue{Name: twice, Encode: enc, Decode: dec}, "registered twice"},
	}
	if err := RegisterContextValue(ContextValue{Name: twice, Encode: enc, Decode: dec}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		err := RegisterContextValue(tc.cv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestMetadataOverBoundsFailsBeforeSending(t *testing.T) {
	tests := []struct {
		name string
		set  func(m *Metadata)
		want string
	}{
		{"bad key", func(m *Metadata) { m.Set("with space", "v") }, "is not a lower-case letter"},
		{"long key", func(m *Metadata) { m.Set(strings.Repeat("k", MaxMetadataKey+1), "v") }, "want 1 to 128 bytes"},
		{"long value", func(m *Metadata) { m.Set("k", strings.Repeat("v", MaxMetadataValue+1)) }, "over the limit of 4096"},
		{"control byte", func(m *Metadata) { m.Set("k", "a\nb") }, "not printable ASCII"},
		{"too many", func(m *Metadata) {
			for i := range MaxMetadataPairs + 1 {
				m.Set(fmt.Sprint("k", i), "v")
			}
		}, "65 metadata keys"},
		{"too big", func(m *Metadata) {
			for i := range 5 {
				m.Set(fmt.Sprint("k", i), strings.Repeat("v", MaxMetadataValue))
			}
		}, "over the limit of 16384 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.ClientInterceptors = []ClientInterceptor{func(ctx context.Context, call *CallInfo, next func(context.Context) error) error {
				tc.set(call.Metadata)
				return next(ctx)
			}}
			srv, impl := serveGreeter(t, testConfig(), "a")
			_, g := callerOf(t, cfg, srv.Addr())
			_, err := g.Greet(within(t, textTimeout), "x")
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("call: %v, want ErrMalformed containing %q", err, tc.want)
			}
			if impl.calls.Load() != 0 {
				t.Fatalf("the method ran")
			}
		})
	}
}

func TestMetadataWireRoundTrip(t *testing.T) {
	var m Metadata
	m.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	m.Set("Baggage", "user=max")
	m.Set("baggage", "user=moritz") // replaces
	b := appendRequest(nil, "svc", 3, "fp", 42, &m)
	q, err := parseRequest(append(b, 9, 9))
	if err != nil {
		t.Fatal(err)
	}
	if q.md.Len() != 2 || q.md.Get("BAGGAGE") != "user=moritz" || q.md.Get("traceparent") != m.Get("traceparent") {
		t.Fatalf("decoded %v", q.md.kv)
	}
	if string(q.body) != "\x09\x09" || q.method != 3 || q.timeout != 42 {
		t.Fatalf("decoded %+v", q)
	}
	q, err = parseRequest(appendRequest(nil, "svc", 3, "fp", 42, nil))
	if err != nil || q.md != nil {
		t.Fatalf("no metadata: %v %v", q.md, err)
	}
}

// TestMetadataDecodeSizes checks decoded metadata of every size up to past
// the two pairs decoded in one allocation: the pairs in order, the keys of
// the W3C propagators and others alike, and room to set more afterwards.
func TestMetadataDecodeSizes(t *testing.T) {
	keys := []string{"traceparent", "baggage", "tracestate", "meshrpc-ctx-user", "x"}
	for n := 1; n <= len(keys); n++ {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			var m Metadata
			for i, k := range keys[:n] {
				m.Set(k, "v"+strconv.Itoa(i))
			}
			q, err := parseRequest(appendRequest(nil, "svc", 0, "fp", 0, &m))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(q.md.kv, m.kv) {
				t.Fatalf("decoded %q, want %q", q.md.kv, m.kv)
			}
			q.md.Set("added", "a")
			q.md.Set(keys[0], "changed")
			if q.md.Len() != n+1 || q.md.Get("added") != "a" || q.md.Get(keys[0]) != "changed" || m.Get(keys[0]) != "v0" {
				t.Fatalf("after Set: %q (sent: %q)", q.md.kv, m.kv)
			}
		})
	}
}

// TestInterceptedResponsesArriveWhole sends messages of many sizes through
// the server interceptors' path, whose response is queued in two parts
// (the head with the interceptors' metadata, then the encoded message), from
// several callers at once, so that frames of different calls interleave on
// the connection.
func TestInterceptedResponsesArriveWhole(t *testing.T) {
	rec := &recorder{}
	_, _, g := interceptedPair(t, rec)
	ctx := within(t, 10*time.Second)
	sizes := []int{0, 1, 100, 4 << 10, 100 << 10, 1 << 20}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(sizes))
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, n := range sizes {
				data := bytes.Repeat([]byte{byte('a' + c)}, n)
				out, err := g.Echo(ctx, data)
				if err != nil {
					errs <- fmt.Errorf("Echo(%d bytes): %v", n, err)
					return
				}
				if !bytes.Equal(out, data) {
					errs <- fmt.Errorf("Echo(%d bytes of %q) came back as %d bytes", n, 'a'+c, len(out))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c, s, _ := rec.last(t)
	if got := c.ResponseMetadata.Get("x-server"); got != "s1:c1" || c.ResponseBytes != s.ResponseBytes {
		t.Errorf("last call: response metadata x-server=%q, bytes client %d server %d; want s1:c1 and equal", got, c.ResponseBytes, s.ResponseBytes)
	}
}
