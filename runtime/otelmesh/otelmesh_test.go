package otelmesh_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	meshrt "github.com/meshsplit/meshsplit/runtime"
	"github.com/meshsplit/meshsplit/runtime/otelmesh"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// The process-wide SDK of these tests: every span goes to spans, every
// metric to reader; the runtime logs of every node go to logs.
var (
	spans  = tracetest.NewSpanRecorder()
	reader = sdkmetric.NewManualReader()
	logs   = &syncBuffer{}
)

// syncBuffer is a bytes.Buffer safe for concurrent writes.
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

func TestMain(m *testing.M) {
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(spans)))
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	// MESHRPC_LOOPBACK is read once, at the first Connect: only
	// TestLoopbackSpans calls Connect.
	os.Setenv(meshrt.EnvLoopback, "1")
	otelmesh.Install()
	otelmesh.Install() // twice: still one set of interceptors
	if err := meshrt.RegisterContextValue(meshrt.ContextValue{
		Name: "request-id",
		Encode: func(ctx context.Context) (string, bool) {
			v, ok := ctx.Value(requestIDKey{}).(string)
			return v, ok
		},
		Decode: func(ctx context.Context, v string) (context.Context, error) {
			return context.WithValue(ctx, requestIDKey{}, v), nil
		},
	}); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// requestIDKey is the context key of the registered context value.
type requestIDKey struct{}

// seen is what the implementation found in its context.
type seen struct {
	span      trace.SpanContext
	user      string // baggage member "user"
	requestID string
}

// store implements the test service and records what each call saw.
type store struct {
	mu   sync.Mutex
	last seen
}

func (s *store) Get(ctx context.Context, key string) (string, error) {
	rid, _ := ctx.Value(requestIDKey{}).(string)
	s.mu.Lock()
	s.last = seen{span: trace.SpanContextFromContext(ctx), user: baggage.FromContext(ctx).Member("user").Value(), requestID: rid}
	s.mu.Unlock()
	switch key {
	case "missing":
		return "", errMissing
	case "panic":
		panic("boom")
	}
	return "value of " + key, nil
}

func (s *store) saw() seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

var errMissing = errors.New("store: missing")

// The service as meshsplit generates it, written by hand.
type getRequest struct {
	Key string `json:"key"`
}

func (m *getRequest) MarshalMesh(e *meshrt.Encoder)   { e.String(m.Key) }
func (m *getRequest) UnmarshalMesh(d *meshrt.Decoder) { m.Key = d.String() }

type getResponse struct {
	R0 string `json:"r0"`
}

func (m *getResponse) MarshalMesh(e *meshrt.Encoder)   { e.String(m.R0) }
func (m *getResponse) UnmarshalMesh(d *meshrt.Decoder) { m.R0 = d.String() }

const storeName = "example.com/kv/store.Store"

var storeDesc = meshrt.ServiceDesc{
	Name:        storeName,
	Fingerprint: "store-1",
	Methods: []meshrt.MethodDesc{{
		Name: "Get", Fingerprint: "get-1", Params: []string{"key"},
		NewRequest:  func() meshrt.Message { return new(getRequest) },
		NewResponse: func() meshrt.Message { return new(getResponse) },
		Invoke: func(ctx context.Context, impl any, req meshrt.Message) (meshrt.Message, error) {
			r0, err := impl.(*store).Get(ctx, req.(*getRequest).Key)
			return &getResponse{R0: r0}, err
		},
	}},
	Errors: []meshrt.ErrorDesc{meshrt.Sentinel("example.com/kv/store.ErrMissing", errMissing)},
}

// get calls Get through c.
func get(ctx context.Context, c *meshrt.Client, key string) (string, error) {
	var resp getResponse
	err := c.Call(ctx, 0, &getRequest{Key: key}, &resp)
	return resp.R0, err
}

// twoNodes starts a node on 127.0.0.1 serving a store and a caller-only
// node joined to it.
func twoNodes(t *testing.T) (srv, caller *meshrt.Node, impl *store, c *meshrt.Client) {
	t.Helper()
	start := func(cfg meshrt.Config) *meshrt.Node {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		n, err := meshrt.NewNode(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			n.Close(ctx)
		})
		return n
	}
	cfg := meshrt.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	srv = start(cfg)
	impl = &store{}
	if err := srv.Publish(&storeDesc, impl); err != nil {
		t.Fatal(err)
	}
	cfg.Listen = ""
	caller = start(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := caller.Join(ctx, srv.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := caller.Wait(ctx, storeName); err != nil {
		t.Fatal(err)
	}
	return srv, caller, impl, caller.Client(&storeDesc)
}

// spansOf returns the ended spans of trace id, by kind.
func spansOf(id trace.TraceID) map[trace.SpanKind][]sdktrace.ReadOnlySpan {
	out := map[trace.SpanKind][]sdktrace.ReadOnlySpan{}
	for _, s := range spans.Ended() {
		if s.SpanContext().TraceID() == id {
			out[s.SpanKind()] = append(out[s.SpanKind()], s)
		}
	}
	return out
}

// attrs returns a span's attributes as a map.
func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// useCase starts the caller's own span, with baggage and a request id, as
// an instrumented application does.
func useCase(t *testing.T) (context.Context, trace.Span) {
	t.Helper()
	member, err := baggage.NewMember("user", "max")
	if err != nil {
		t.Fatal(err)
	}
	bag, err := baggage.New(member)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	ctx = baggage.ContextWithBaggage(ctx, bag)
	ctx = context.WithValue(ctx, requestIDKey{}, "req-42")
	return otel.Tracer("test").Start(ctx, "use case")
}

// checkTrace checks the client and server spans of one call made under
// parent: parent → client → server, names, kinds, attributes, status.
func checkTrace(t *testing.T, parent trace.Span, impl *store, wantErr string) (client, server sdktrace.ReadOnlySpan) {
	t.Helper()
	got := spansOf(parent.SpanContext().TraceID())
	if len(got[trace.SpanKindClient]) != 1 || len(got[trace.SpanKindServer]) != 1 {
		t.Fatalf("trace has %d client and %d server spans, want one each", len(got[trace.SpanKindClient]), len(got[trace.SpanKindServer]))
	}
	client, server = got[trace.SpanKindClient][0], got[trace.SpanKindServer][0]
	if client.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("client span's parent %s, want the use case's span %s", client.Parent().SpanID(), parent.SpanContext().SpanID())
	}
	if server.Parent().SpanID() != client.SpanContext().SpanID() || !server.Parent().IsRemote() {
		t.Errorf("server span's parent %s (remote %v), want the client span %s", server.Parent().SpanID(), server.Parent().IsRemote(), client.SpanContext().SpanID())
	}
	for _, s := range []sdktrace.ReadOnlySpan{client, server} {
		if s.Name() != storeName+"/Get" {
			t.Errorf("span name %q, want %s/Get", s.Name(), storeName)
		}
		a := attrs(s)
		if a["rpc.system"].AsString() != "meshsplit" || a["rpc.service"].AsString() != storeName || a["rpc.method"].AsString() != "Get" {
			t.Errorf("%s span attributes %v", s.SpanKind(), a)
		}
		if wantErr == "" && s.Status().Code != codes.Unset {
			t.Errorf("%s span status %v, want unset", s.SpanKind(), s.Status())
		}
		if wantErr != "" && (s.Status().Code != codes.Error || a["error.type"].AsString() != wantErr) {
			t.Errorf("%s span status %v error.type %q, want Error and %q", s.SpanKind(), s.Status(), a["error.type"].AsString(), wantErr)
		}
	}
	if a := attrs(client); a["server.address"].AsString() != "127.0.0.1" || a["server.port"].AsInt64() == 0 {
		t.Errorf("client span: server.address %v server.port %v", a["server.address"], a["server.port"])
	}
	if a := attrs(server); a["network.peer.address"].AsString() != "127.0.0.1" {
		t.Errorf("server span: network.peer.address %v", a["network.peer.address"])
	}
	if impl != nil && wantErr != "handler_panic" {
		s := impl.saw()
		if s.span.SpanID() != server.SpanContext().SpanID() {
			t.Errorf("the implementation ran in span %s, want the server span %s", s.span.SpanID(), server.SpanContext().SpanID())
		}
		if s.user != "max" || s.requestID != "req-42" {
			t.Errorf("the implementation saw baggage user=%q and request id %q, want max and req-42", s.user, s.requestID)
		}
	}
	return client, server
}

func TestSpansAcrossTwoNodes(t *testing.T) {
	_, _, impl, c := twoNodes(t)
	tests := []struct {
		key, want, errType string
	}{
		{"a", "value of a", ""},
		{"missing", "", "*errors.errorString"},
		{"panic", "", "handler_panic"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			ctx, parent := useCase(t)
			got, err := get(ctx, c, tc.key)
			parent.End()
			if (err != nil) != (tc.errType != "") || got != tc.want {
				t.Fatalf("Get(%q) = %q, %v", tc.key, got, err)
			}
			checkTrace(t, parent, impl, tc.errType)
		})
	}
}

func TestSpansOverTheHTTPPath(t *testing.T) {
	_, caller, impl, _ := twoNodes(t)
	ctx, parent := useCase(t)
	req, err := newJSONRequest(ctx, "/"+storeName+"/Get", `{"key":"h"}`)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := caller.Transport().RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	client, _ := checkTrace(t, parent, impl, "")
	if a := attrs(client); a["meshsplit.path"].AsString() != "http" || a["http.response.status_code"].AsInt64() != 200 {
		t.Errorf("client span attributes %v", a)
	}
}

func TestLoopbackSpans(t *testing.T) {
	impl := &store{}
	c := meshrt.Connect(&storeDesc, func() any { return impl })
	ctx, parent := useCase(t)
	if _, err := get(ctx, c, "loop"); err != nil {
		t.Fatal(err)
	}
	parent.End()
	checkTrace(t, parent, impl, "")
}

func TestLogsCarryTraceIDs(t *testing.T) {
	_, _, _, c := twoNodes(t)
	ctx, parent := useCase(t)
	get(ctx, c, "panic")
	parent.End()
	_, server := checkTrace(t, parent, nil, "handler_panic")
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"handler panicked"`) && strings.Contains(l, server.SpanContext().TraceID().String()) {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no 'handler panicked' record with trace_id %s in the logs:\n%s", server.SpanContext().TraceID(), logs.String())
	}
	if !strings.Contains(line, `"span_id":"`+server.SpanContext().SpanID().String()+`"`) {
		t.Errorf("record %s lacks the server span's span_id %s", line, server.SpanContext().SpanID())
	}
}

func TestMetrics(t *testing.T) {
	srv, _, _, c := twoNodes(t)
	ctx, parent := useCase(t)
	const calls = 5
	for range calls {
		if _, err := get(ctx, c, "m"); err != nil {
			t.Fatal(err)
		}
	}
	get(ctx, c, "missing")
	parent.End()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	byName := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelmesh.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			byName[m.Name] = m.Data
		}
	}
	okCall := attribute.NewSet(attribute.String("rpc.system", "meshsplit"), attribute.String("rpc.service", storeName), attribute.String("rpc.method", "Get"), attribute.String("meshsplit.path", "fast"))
	for _, name := range []string{"rpc.client.call.duration", "rpc.server.call.duration"} {
		h, ok := byName[name].(metricdata.Histogram[float64])
		if !ok {
			t.Fatalf("%s: %T, want a float64 histogram", name, byName[name])
		}
		var okCount, errCount uint64
		for _, dp := range h.DataPoints {
			if dp.Attributes.Equals(&okCall) {
				okCount += dp.Count
				// A call over loopback TCP takes more than nothing and less
				// than the test's deadline.
				if lo, _ := dp.Min.Value(); lo <= 0 {
					t.Errorf("%s: a call took %gs", name, lo)
				}
				if hi, _ := dp.Max.Value(); hi >= 5 {
					t.Errorf("%s: a call took %gs", name, hi)
				}
			}
			if v, _ := dp.Attributes.Value("error.type"); v.AsString() == "*errors.errorString" {
				errCount += dp.Count
			}
		}
		if okCount < calls || errCount < 1 {
			t.Errorf("%s: %d successful and %d failed calls recorded, want at least %d and 1", name, okCount, errCount, calls)
		}
	}
	for _, name := range []string{"rpc.client.request.size", "rpc.server.request.size", "rpc.client.response.size", "rpc.server.response.size"} {
		h, ok := byName[name].(metricdata.Histogram[int64])
		if !ok {
			t.Fatalf("%s: %T, want an int64 histogram", name, byName[name])
		}
		found := false
		for _, dp := range h.DataPoints {
			if dp.Attributes.Equals(&okCall) {
				found = true
				// A request is the key "m": 2 bytes; a response "value of m": 11.
				want := int64(2)
				if strings.HasSuffix(name, "response.size") {
					want = 11
				}
				if v, ok := dp.Min.Value(); !ok || v != want {
					t.Errorf("%s: min %d, want %d", name, v, want)
				}
			}
		}
		if !found {
			t.Errorf("%s: no data point for %v", name, okCall.ToSlice())
		}
	}
	for _, name := range []string{"rpc.client.active_calls", "rpc.server.active_calls"} {
		s, ok := byName[name].(metricdata.Sum[int64])
		if !ok || s.IsMonotonic {
			t.Fatalf("%s: %T, want a non-monotonic int64 sum", name, byName[name])
		}
		for _, dp := range s.DataPoints {
			if dp.Value != 0 {
				t.Errorf("%s = %d with no call in flight, want 0", name, dp.Value)
			}
		}
	}
	g, ok := byName["meshsplit.node.services"].(metricdata.Gauge[int64])
	if !ok {
		t.Fatalf("meshsplit.node.services: %T", byName["meshsplit.node.services"])
	}
	found := false
	for _, dp := range g.DataPoints {
		if v, _ := dp.Attributes.Value("meshsplit.node.id"); v.AsString() == srv.ID() {
			found = dp.Value == 1
		}
	}
	if !found {
		t.Errorf("meshsplit.node.services has no value 1 for the serving node %s: %+v", srv.ID(), g.DataPoints)
	}
	if p, ok := byName["meshsplit.node.peers"].(metricdata.Gauge[int64]); !ok || len(p.DataPoints) == 0 {
		t.Errorf("meshsplit.node.peers: %+v", byName["meshsplit.node.peers"])
	}
}

// newJSONRequest returns a POST of body to path on the mesh's HTTP path.
func newJSONRequest(ctx context.Context, path, body string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://mesh"+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}
