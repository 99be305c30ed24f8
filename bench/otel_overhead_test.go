package bench

import (
	"context"
	"testing"

	"github.com/meshsplit/meshsplit/bench/stacks"
	meshrt "github.com/meshsplit/meshsplit/runtime"
	"github.com/meshsplit/meshsplit/runtime/otelmesh"
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
