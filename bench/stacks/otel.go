package stacks

import (
	"context"
	"sync"

	meshrt "github.com/meshsplit/meshsplit/runtime"
	"github.com/meshsplit/meshsplit/runtime/otelmesh"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
)

// Telemetry is the OpenTelemetry SDK of the instrumented stacks, as an
// application that exports its traces and metrics installs it: every span
// sampled and handed to a batch span processor, whose exporter discards
// them (so that the cost measured is the instrumentation's and the SDK's,
// not a collector's), and the metrics aggregated by the SDK for a reader.
type Telemetry struct {
	Tracer *sdktrace.TracerProvider
	Meter  *sdkmetric.MeterProvider
	// Spans counts the spans the exporter received, for tests.
	Spans *SpanCounter
	// Reader reads the metrics, for tests.
	Reader *sdkmetric.ManualReader
}

// OtelSDK returns the process's Telemetry, set up at the first call as the
// global TracerProvider, MeterProvider and propagator (W3C trace context
// and baggage): runtime/otelmesh takes them from there, otelgrpc is given
// the same providers explicitly.
var OtelSDK = sync.OnceValue(func() *Telemetry {
	t := &Telemetry{Spans: &SpanCounter{}, Reader: sdkmetric.NewManualReader()}
	t.Tracer = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(t.Spans))
	t.Meter = sdkmetric.NewMeterProvider(sdkmetric.WithReader(t.Reader))
	otel.SetTracerProvider(t.Tracer)
	otel.SetMeterProvider(t.Meter)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return t
})

// SpanCounter is a span exporter that counts the spans and drops them:
// the no-op exporter of the instrumented stacks.
type SpanCounter struct {
	mu sync.Mutex
	n  int
}

// ExportSpans counts spans.
func (e *SpanCounter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	e.n += len(spans)
	e.mu.Unlock()
	return nil
}

// Shutdown does nothing.
func (e *SpanCounter) Shutdown(context.Context) error { return nil }

// Count returns the number of spans exported so far.
func (e *SpanCounter) Count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// StartMeshsplitOtel is StartMeshsplit with runtime/otelmesh's interceptors
// on both nodes (the client's on the caller, the server's on the node that
// serves), reporting to OtelSDK: a client and a server span per call, the
// trace context in the call's metadata, the RPC metrics.
func StartMeshsplitOtel() (*Conn, error) {
	OtelSDK()
	scfg, ccfg := meshrt.DefaultConfig(), meshrt.DefaultConfig()
	scfg.ServerInterceptors = []meshrt.ServerInterceptor{otelmesh.ServerInterceptor()}
	ccfg.ClientInterceptors = []meshrt.ClientInterceptor{otelmesh.ClientInterceptor()}
	return startMeshsplit(scfg, ccfg)
}

// StartMeshsplitIntercepted is StartMeshsplit with interceptors that only
// call next on both nodes: the runtime's intercepted path (the CallInfo,
// the metadata, the response built inside the server interceptor) without
// OpenTelemetry, to tell the runtime's share of meshsplit-otel's cost from
// the instrumentation's.
func StartMeshsplitIntercepted() (*Conn, error) {
	scfg, ccfg := meshrt.DefaultConfig(), meshrt.DefaultConfig()
	scfg.ServerInterceptors = []meshrt.ServerInterceptor{func(ctx context.Context, _ *meshrt.CallInfo, next func(context.Context) error) error {
		return next(ctx)
	}}
	ccfg.ClientInterceptors = []meshrt.ClientInterceptor{func(ctx context.Context, _ *meshrt.CallInfo, next func(context.Context) error) error {
		return next(ctx)
	}}
	return startMeshsplit(scfg, ccfg)
}

// StartGRPCOtel is StartGRPC with otelgrpc's stats handlers on the server
// and the client, reporting to OtelSDK: what a gRPC-go service instrumented
// the recommended way does.
func StartGRPCOtel() (*Conn, error) {
	sdk := OtelSDK()
	opts := []otelgrpc.Option{otelgrpc.WithTracerProvider(sdk.Tracer), otelgrpc.WithMeterProvider(sdk.Meter)}
	return startGRPC(
		[]grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(opts...))},
		[]grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(opts...))})
}
