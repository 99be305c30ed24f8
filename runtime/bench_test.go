package runtime

import (
	"bytes"
	"context"
	"testing"
)

// BenchmarkCall measures Client.Call over TCP on 127.0.0.1, one caller
// (seq) and b.RunParallel (par), small and 4 KB payloads. The bench/ module
// compares it with gRPC; this one is for profiling the runtime alone.
func BenchmarkCall(b *testing.B) {
	srv, _ := serveGreeter(b, testConfig(), "a")
	_, g := callerOf(b, testConfig(), srv.Addr())
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
		b.Run(c.name+"/seq", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/par", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
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
