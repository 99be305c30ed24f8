package stacks

import (
	"context"
	"sync"

	"github.com/meshsplit/meshsplit/runtime/otelmesh"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
)

// setupOTel makes the OpenTelemetry SDK the application's global
// providers, as an instrumented service has them, once: every span sampled
// (AlwaysSample) and handed to a batch span processor whose exporter drops
// the batches; metrics aggregated by the SDK for a reader that is never
// collected; W3C trace context and baggage propagation. What is measured
// is then the instrumentation's own cost, without an exporter's I/O.
var setupOTel = sync.OnceFunc(func() {
	otel.SetTracerProvider(sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(discardExporter{}),
	))
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())))
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
})

// discardExporter is a span exporter that drops what it is given.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// StartMeshsplitOTel is StartMeshsplit with runtime/otelmesh's interceptors
// on both nodes: a client span and a server span per call, the trace
// context carried in the call's metadata, and the RPC metrics.
func StartMeshsplitOTel() (*Conn, error) {
	setupOTel()
	return startMeshsplit(otelmesh.ClientInterceptor(), otelmesh.ServerInterceptor())
}

// StartGRPCOTel is StartGRPC with otelgrpc's stats handlers on both sides:
// the same spans, propagation and metrics for gRPC-go.
func StartGRPCOTel() (*Conn, error) {
	setupOTel()
	return startGRPC(
		[]grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler())},
		[]grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler())},
	)
}
