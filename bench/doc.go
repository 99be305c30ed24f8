// Package bench holds BenchmarkCall, which compares one service call made
// through meshsplit's runtime, through gRPC-go, as length-prefixed frames
// over raw TCP (the floor: no framework, the same codec work) and as a
// direct interface call, on the same handler logic (package greeter).
//
// Benchmarks are named BenchmarkCall/<stack>/<payload>/<mode>: stack
// grpc, meshsplit, tcp or direct, or grpc-otel and meshsplit-otel (the
// first two instrumented with OpenTelemetry: otelgrpc, runtime/otelmesh,
// the SDK always sampling into a discarding exporter), or meshsplit-icpt
// (meshsplit with pass-through interceptors: the runtime's share of
// meshsplit-otel); payload small (a ~20-byte string in and out)
// or 4k (a ~4 KB document echoed back); mode seq (one caller) or par
// (b.RunParallel with 8 goroutines per GOMAXPROCS). Besides ns/op and the
// allocations, each reports cpu-ns/op: the CPU time of the whole process
// (client and server) per call, which a busy machine disturbs far less than
// the wall-clock ns/op. Run them with
//
//	go test -run '^$' -bench Call -benchmem
//
// or, for tables of medians over interleaved runs with ratios against
// gRPC and against the tcp floor measured in the same run,
//
//	go run ./cmd/benchtable
//
// BenchmarkStream/<stack>/<kind> (stack meshsplit, grpc or tcp) races
// streaming methods (package greeter's Streamer): events ranges 100 000
// small events through an iter.Seq2 (gRPC server streaming; length-prefixed
// frames on raw TCP), bytes reads 256 MiB from an io.ReadCloser (gRPC
// chunks; a raw TCP copy). go run ./cmd/benchtable -bench Stream prints
// its tables; docs/performance.md has them.
//
// This is its own module so that gRPC stays out of meshsplit's go.mod.
package bench
