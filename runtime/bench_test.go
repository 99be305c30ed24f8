package runtime

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the process CPU time per operation, client and server
// together: steadier than wall time on a busy machine.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkCall measures Client.Call over TCP on 127.0.0.1, one caller
// (seq) and b.RunParallel (par), small and 4 KB payloads, between two
// nodes without a key (sec=plain) and two nodes with a cluster key
// (sec=key: TLS 1.3 with certificates derived from the key), so that one
// run gives the price of the key: benchstat -col /sec (docs/performance.md).
// The bench/ module compares the runtime with gRPC; this one is for
// profiling the runtime alone.
func BenchmarkCall(b *testing.B) {
	keyed := testConfig()
	keyed.ClusterKey = []byte("benchmark cluster key, 32 bytes!")
	for _, sec := range []struct {
		name string
		cfg  Config
	}{
		{"plain", testConfig()},
		{"key", keyed},
	} {
		b.Run("sec="+sec.name, func(b *testing.B) { benchmarkCalls(b, sec.cfg) })
	}
}

// benchmarkCalls runs the payload and mode cells between a server and a
// caller configured by cfg.
func benchmarkCalls(b *testing.B, cfg Config) {
	srv, _ := serveGreeter(b, cfg, "a")
	_, g := callerOf(b, cfg, srv.Addr())
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789abcdef"), 256)
	cases := []struct {
		name string
		call func() error
	}{
		{"small", func() error { _, err := g.Greet(ctx, "Max"); return err }},
		{"4k", func() error { _, err := g.Echo(ctx, big); return err }},
	}
	for _, c := range cases {
		b.Run("payload="+c.name+"/mode=seq", func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			defer reportCPU(b, start)
			for b.Loop() {
				if err := c.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("payload="+c.name+"/mode=par", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			start := cpuTime()
			defer reportCPU(b, start)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
