package bench

import (
	"context"
	"testing"

	"github.com/meshsplit/meshsplit/bench/stacks"
	meshrt "github.com/meshsplit/meshsplit/runtime"
	"github.com/meshsplit/meshsplit/runtime/otelmesh"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// BenchmarkOtelInterceptors measures what runtime/otelmesh adds to one
// call, both ends, without the network: the client interceptor around the
// server interceptor around an empty method, with the SDK of the
// meshsplit-otel stack (always sample, batch processor, dropping
// exporter). The request metadata the client writes is what the server
// reads, as on the wire.
func BenchmarkOtelInterceptors(b *testing.B) {
	stacks.OtelSDK()
	client, server := otelmesh.ClientInterceptor(), otelmesh.ServerInterceptor()
	call := func(ctx context.Context) error {
		info := &meshrt.CallInfo{Service: "bench.Greeter", Method: "Greet", Metadata: &meshrt.Metadata{}, RequestBytes: -1, ResponseBytes: -1}
		return client(ctx, info, func(ctx context.Context) error {
			info.Peer = "127.0.0.1:7000"
			info.RequestBytes = 12
			sinfo := &meshrt.CallInfo{Service: info.Service, Method: info.Method, Peer: "127.0.0.1:40000", Metadata: info.Metadata, ResponseMetadata: &meshrt.Metadata{}, RequestBytes: 12, ResponseBytes: -1}
			err := server(context.Background(), sinfo, func(ctx context.Context) error {
				sinfo.ResponseBytes = 20
				return nil
			})
			info.ResponseBytes = 20
			return err
		})
	}
	benchSeqPar(b, call)
}

// BenchmarkOtelSDKFloor is the least a call instrumented like
// BenchmarkOtelInterceptors can cost with the same SDK: the same two spans
// with the same attributes, the trace context injected into the metadata
// and extracted from it, the six histogram records, everything computed
// ahead that can be, nothing else (no error handling, no calls in flight).
func BenchmarkOtelSDKFloor(b *testing.B) {
	stacks.OtelSDK()
	tr := otel.GetTracerProvider().Tracer("floor")
	m := otel.GetMeterProvider().Meter("floor")
	dur := func(name string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithExplicitBucketBoundaries(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
		if err != nil {
			b.Fatal(err)
		}
		return h
	}
	size := func(name string) metric.Int64Histogram {
		h, err := m.Int64Histogram(name)
		if err != nil {
			b.Fatal(err)
		}
		return h
	}
	cDur, sDur := dur("floor.client.duration"), dur("floor.server.duration")
	cReq, cResp, sReq, sResp := size("floor.client.req"), size("floor.client.resp"), size("floor.server.req"), size("floor.server.resp")
	attrs := []attribute.KeyValue{attribute.String("rpc.system", "meshsplit"), attribute.String("rpc.service", "bench.Greeter"),
		attribute.String("rpc.method", "Greet"), attribute.String("meshsplit.path", "fast")}
	cAttrs := append(attrs[:4:4], attribute.String("server.address", "127.0.0.1"), attribute.Int("server.port", 7000))
	sAttrs := append(attrs[:4:4], attribute.String("network.peer.address", "127.0.0.1"), attribute.Int("network.peer.port", 40000))
	cOpts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(cAttrs...)}
	sOpts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(sAttrs...)}
	rec := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attrs...))}
	prop := otel.GetTextMapPropagator()
	call := func(ctx context.Context) error {
		md := &meshrt.Metadata{}
		cctx, cspan := tr.Start(ctx, "bench.Greeter/Greet", cOpts...)
		prop.Inject(cctx, md)
		sctx, sspan := tr.Start(prop.Extract(context.Background(), md), "bench.Greeter/Greet", sOpts...)
		sspan.End()
		sDur.Record(sctx, 1e-5, rec...)
		sReq.Record(sctx, 12, rec...)
		sResp.Record(sctx, 20, rec...)
		cspan.End()
		cDur.Record(cctx, 2e-5, rec...)
		cReq.Record(cctx, 12, rec...)
		cResp.Record(cctx, 20, rec...)
		return nil
	}
	benchSeqPar(b, call)
}

// benchSeqPar runs call sequentially and from parallelism goroutines per
// CPU, reporting allocations and CPU per call.
func benchSeqPar(b *testing.B, call func(context.Context) error) {
	b.Run("seq", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		ctx := context.Background()
		for b.Loop() {
			if err := call(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("par", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				if err := call(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
