package gateway

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	meshrt "github.com/meshsplit/meshsplit/runtime"
	"github.com/meshsplit/meshsplit/runtime/otelmesh"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestGatewayTracesAndMetrics sends a request carrying a caller's W3C
// traceparent through the gateway to a service: the gateway's server span
// continues the caller's trace, the mesh call's client span (otelmesh on
// the gateway's node) is its child, and the service's server span the
// client span's; the Prometheus metrics count and time the request.
func TestGatewayTracesAndMetrics(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	node := func(listen string) *meshrt.Node {
		cfg := meshrt.DefaultConfig()
		cfg.Listen = listen
		cfg.ClientInterceptors = []meshrt.ClientInterceptor{otelmesh.ClientInterceptor()}
		cfg.ServerInterceptors = []meshrt.ServerInterceptor{otelmesh.ServerInterceptor()}
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
	server, caller := node("127.0.0.1:0"), node("")
	if err := server.Publish(inventoryDesc(inventoryName), stock{"inv"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := caller.Join(ctx, server.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := caller.Wait(ctx, inventoryName); err != nil {
		t.Fatal(err)
	}
	metrics := NewMetrics()
	gw := httptest.NewServer(New(caller, Config{Metrics: metrics}))
	t.Cleanup(gw.Close)

	const traceID, parentID = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	status, _, body := do(t, gw, "POST", "/inventory.Service/Reserve", `{"sku":"A1","qty":2}`,
		map[string]string{"traceparent": "00-" + traceID + "-" + parentID + "-01"})
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	do(t, gw, "POST", "/inventory.Service/Nope", `{}`, nil)

	var gwSpan, client, srv sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.SpanContext().TraceID().String() != traceID {
			continue
		}
		switch {
		case s.SpanKind() == trace.SpanKindServer && strings.HasPrefix(s.Name(), "gateway "):
			gwSpan = s
		case s.SpanKind() == trace.SpanKindClient:
			client = s
		case s.SpanKind() == trace.SpanKindServer:
			srv = s
		}
	}
	if gwSpan == nil || client == nil || srv == nil {
		t.Fatalf("trace %s: gateway span %v, client span %v, service span %v; want all three", traceID, gwSpan != nil, client != nil, srv != nil)
	}
	if gwSpan.Parent().SpanID().String() != parentID || !gwSpan.Parent().IsRemote() {
		t.Errorf("gateway span's parent %s, want the caller's %s", gwSpan.Parent().SpanID(), parentID)
	}
	if gwSpan.Name() != "gateway POST "+inventoryName+"/Reserve" {
		t.Errorf("gateway span named %q", gwSpan.Name())
	}
	if client.Parent().SpanID() != gwSpan.SpanContext().SpanID() {
		t.Errorf("client span's parent %s, want the gateway span %s", client.Parent().SpanID(), gwSpan.SpanContext().SpanID())
	}
	if srv.Parent().SpanID() != client.SpanContext().SpanID() {
		t.Errorf("service span's parent %s, want the client span %s", srv.Parent().SpanID(), client.SpanContext().SpanID())
	}

	scrape := httptest.NewServer(metrics.Handler())
	t.Cleanup(scrape.Close)
	resp, err := http.Get(scrape.URL)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`meshsplit_gateway_requests_total{code="200",method="Reserve",service="` + inventoryName + `"} 1`,
		`meshsplit_gateway_requests_total{code="404",method="_handler",service="` + inventoryName + `"} 1`,
		`meshsplit_gateway_request_duration_seconds_count{method="Reserve",service="` + inventoryName + `"} 1`,
		`meshsplit_gateway_requests_in_flight 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("metrics lack %s:\n%s", want, text)
		}
	}
}
