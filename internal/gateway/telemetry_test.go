package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	meshrt "github.com/meshsplit/meshsplit/runtime"
	"github.com/meshsplit/meshsplit/runtime/otelmesh"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// The OpenTelemetry SDK the telemetry tests install as the global
// providers, once per test binary: the gateway's and otelmesh's
// instruments bind to the first global MeterProvider.
var (
	spanRecorder = tracetest.NewSpanRecorder()
	metricReader = sdkmetric.NewManualReader()
	installSDK   = sync.OnceFunc(func() {
		otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(spanRecorder)))
		otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(metricReader)))
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	})
)

// traceAPI is a published handler that answers the traceparent header it
// received.
func traceAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.Header.Get("traceparent")))
	})
}

// startTracedMesh is startMeshConfig with otelmesh's interceptors on both
// nodes (the service's server side, the gateway's client side) and the
// gateway's telemetry on.
func startTracedMesh(t *testing.T) *httptest.Server {
	t.Helper()
	installSDK()
	node := func(listen string, cfg meshrt.Config) *meshrt.Node {
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
	scfg := meshrt.DefaultConfig()
	scfg.ServerInterceptors = []meshrt.ServerInterceptor{otelmesh.ServerInterceptor()}
	server := node("127.0.0.1:0", scfg)
	if err := server.Publish(inventoryDesc(inventoryName), stock{"inv"}); err != nil {
		t.Fatal(err)
	}
	if err := server.PublishHTTP(legacyName, traceAPI()); err != nil {
		t.Fatal(err)
	}
	ccfg := meshrt.DefaultConfig()
	ccfg.ClientInterceptors = []meshrt.ClientInterceptor{otelmesh.ClientInterceptor()}
	caller := node("", ccfg)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := caller.Join(ctx, server.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := caller.Wait(ctx, inventoryName, legacyName); err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(New(caller, Config{Telemetry: true}))
	t.Cleanup(gw.Close)
	return gw
}

// spansOf waits until the recorder holds n ended spans of trace id and
// returns them.
func spansOf(t *testing.T, id trace.TraceID, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		var got []sdktrace.ReadOnlySpan
		for _, s := range spanRecorder.Ended() {
			if s.SpanContext().TraceID() == id {
				got = append(got, s)
			}
		}
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("trace %s: %d spans ended, want %d: %v", id, len(got), n, spanNames(got))
			}
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.Name()+"("+s.SpanKind().String()+", "+s.InstrumentationScope().Name+")")
	}
	return names
}

// spanAttrs returns a span's attributes by key.
func spanAttrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// find returns the one span of scope and kind.
func find(t *testing.T, spans []sdktrace.ReadOnlySpan, scope string, kind trace.SpanKind) sdktrace.ReadOnlySpan {
	t.Helper()
	var found sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.InstrumentationScope().Name == scope && s.SpanKind() == kind {
			if found != nil {
				t.Fatalf("two %s spans of %s: %v", kind, scope, spanNames(spans))
			}
			found = s
		}
	}
	if found == nil {
		t.Fatalf("no %s span of %s: %v", kind, scope, spanNames(spans))
	}
	return found
}

// TestGatewayTraces: the caller's trace context crosses the gateway; the
// gateway's server span is the parent of the mesh call's client span,
// itself the parent of the service's server span.
func TestGatewayTraces(t *testing.T) {
	gw := startTracedMesh(t)
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		spans                    int // the gateway's, otelmesh's client and server spans
		spanName, route          string
		errType                  string // "" for no error status
	}{
		{"call", "POST", "/inventory.Service/Reserve", `{"sku":"A1","qty":2}`, nil,
			200, 3, "POST /" + inventoryName + "/Reserve", "/" + inventoryName + "/Reserve", ""},
		{"method error", "POST", "/" + inventoryName + "/Reserve", `{"sku":"A1","qty":11}`, nil,
			500, 3, "POST /" + inventoryName + "/Reserve", "/" + inventoryName + "/Reserve", "500"},
		{"timeout", "POST", "/inventory.Service/Slow", `{"d":5000000000}`, map[string]string{meshrt.TimeoutHeader: "50ms"},
			504, 3, "POST /" + inventoryName + "/Slow", "/" + inventoryName + "/Slow", "504"},
		{"unknown service: the gateway's span alone", "POST", "/nothing.Here/Reserve", `{}`, nil,
			404, 1, "POST", "", ""},
		{"listing", "GET", "/", "", nil,
			200, 1, "GET /", "/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, parent := otel.Tracer("test").Start(context.Background(), "use case")
			header := map[string]string{}
			for k, v := range tt.header {
				header[k] = v
			}
			carrier := propagation.HeaderCarrier(http.Header{})
			otel.GetTextMapPropagator().Inject(ctx, carrier)
			header["traceparent"] = carrier.Get("traceparent")
			status, _, body := do(t, gw, tt.method, tt.path, tt.body, header)
			parent.End()
			if status != tt.status {
				t.Fatalf("status %d, want %d; body %s", status, tt.status, body)
			}
			spans := spansOf(t, parent.SpanContext().TraceID(), tt.spans+1)
			gws := find(t, spans, ScopeName, trace.SpanKindServer)
			if gws.Parent().SpanID() != parent.SpanContext().SpanID() || !gws.Parent().IsRemote() {
				t.Errorf("gateway span's parent %v, want the caller's span %v, remote", gws.Parent().SpanID(), parent.SpanContext().SpanID())
			}
			if gws.Name() != tt.spanName {
				t.Errorf("gateway span named %q, want %q", gws.Name(), tt.spanName)
			}
			a := spanAttrs(gws)
			if a["http.request.method"].AsString() != tt.method || a["http.response.status_code"].AsInt64() != int64(tt.status) ||
				a["url.path"].AsString() != tt.path || a["http.route"].AsString() != tt.route || a["url.scheme"].AsString() != "http" ||
				a["server.port"].AsInt64() == 0 || a["network.peer.address"].AsString() != "127.0.0.1" {
				t.Errorf("gateway span attributes %v", a)
			}
			if tt.route != "" && tt.route != "/" && (a["rpc.system"].AsString() != "meshsplit" || a["rpc.service"].AsString() != inventoryName) {
				t.Errorf("gateway span lacks the RPC attributes: %v", a)
			}
			if got := a["error.type"].AsString(); got != tt.errType || (gws.Status().Code == codes.Error) != (tt.errType != "") {
				t.Errorf("gateway span status %v, error.type %q; want error.type %q", gws.Status(), got, tt.errType)
			}
			if tt.spans == 1 {
				return
			}
			client := find(t, spans, otelmesh.ScopeName, trace.SpanKindClient)
			server := find(t, spans, otelmesh.ScopeName, trace.SpanKindServer)
			if client.Parent().SpanID() != gws.SpanContext().SpanID() {
				t.Errorf("mesh client span's parent %v, want the gateway's span %v", client.Parent().SpanID(), gws.SpanContext().SpanID())
			}
			if server.Parent().SpanID() != client.SpanContext().SpanID() || !server.Parent().IsRemote() {
				t.Errorf("service span's parent %v, want the mesh client span %v", server.Parent().SpanID(), client.SpanContext().SpanID())
			}
		})
	}
}

// TestGatewayTracesPublishedHandlers: a published handler receives the
// gateway's trace context in traceparent, not the caller's.
func TestGatewayTracesPublishedHandlers(t *testing.T) {
	gw := startTracedMesh(t)
	ctx, parent := otel.Tracer("test").Start(context.Background(), "use case")
	carrier := propagation.HeaderCarrier(http.Header{})
	otel.GetTextMapPropagator().Inject(ctx, carrier)
	status, _, body := do(t, gw, "GET", "/legacy.API/orders/7", "", map[string]string{"traceparent": carrier.Get("traceparent")})
	parent.End()
	if status != 200 {
		t.Fatalf("status %d; body %s", status, body)
	}
	spans := spansOf(t, parent.SpanContext().TraceID(), 3) // the caller's, the gateway's, the mesh client's
	gws := find(t, spans, ScopeName, trace.SpanKindServer)
	if want := "/" + legacyName + "/orders/*"; spanAttrs(gws)["http.route"].AsString() != want {
		t.Errorf("http.route %v, want %s", spanAttrs(gws)["http.route"], want)
	}
	if !strings.Contains(body, gws.SpanContext().TraceID().String()+"-"+gws.SpanContext().SpanID().String()) {
		t.Errorf("the handler got traceparent %q, want the gateway span's %s", body, gws.SpanContext().SpanID())
	}
}

// TestGatewayMetrics: after calls, the HTTP server duration histogram
// counts them by route and status, and otelmesh's client duration counts
// the mesh calls.
func TestGatewayMetrics(t *testing.T) {
	gw := startTracedMesh(t)
	route := "/" + inventoryName + "/Reserve"
	before := histogramCount(t, "http.server.request.duration", route, 200)
	for i := range 3 {
		if status, _, body := do(t, gw, "POST", "/inventory.Service/Reserve", `{"sku":"M`+string(rune('0'+i))+`","qty":1}`, nil); status != 200 {
			t.Fatalf("status %d; body %s", status, body)
		}
	}
	if status, _, _ := do(t, gw, "POST", "/inventory.Service/Reserve", `{"sku":"M","qty":11}`, nil); status != 500 {
		t.Fatalf("status %d, want 500", status)
	}
	// The duration is recorded after the answer was written: wait for it.
	deadline := time.Now().Add(testTimeout)
	for histogramCount(t, "http.server.request.duration", route, 200)-before < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := histogramCount(t, "http.server.request.duration", route, 200) - before; got != 3 {
		t.Errorf("http.server.request.duration{route=%s,status=200} counted %d more requests, want 3", route, got)
	}
	if got := histogramCount(t, "http.server.request.duration", route, 500); got < 1 {
		t.Errorf("http.server.request.duration{route=%s,status=500} counted %d requests, want at least 1", route, got)
	}
	if got := histogramCount(t, "rpc.client.call.duration", "", 0); got < 4 {
		t.Errorf("rpc.client.call.duration counted %d calls, want at least 4", got)
	}
}

// histogramCount collects the metrics and returns the count of the
// histogram name's points with http.route route and status code status
// (any when route is "" and status 0).
func histogramCount(t *testing.T, name, route string, status int) uint64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := metricReader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			h, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				t.Fatalf("%s is a %T, want a float64 histogram", name, m.Data)
			}
			for _, p := range h.DataPoints {
				r, _ := p.Attributes.Value("http.route")
				s, _ := p.Attributes.Value("http.response.status_code")
				if (route == "" || r.AsString() == route) && (status == 0 || s.AsInt64() == int64(status)) {
					n += p.Count
				}
			}
		}
	}
	return n
}
