package runtime

import (
	"bytes"
	"context"
	"net"
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

// BenchmarkHandshake measures setting up one connection between two nodes
// over TCP on 127.0.0.1 (dial, preamble, TLS 1.3 with key, hello, verdict),
// without (sec=plain) and with (sec=key) a cluster key: what a reconnect
// costs before the first call.
func BenchmarkHandshake(b *testing.B) {
	for _, key := range []struct {
		name string
		key  []byte
	}{
		{"plain", nil},
		{"key", []byte("benchmark cluster key, 32 bytes!")},
	} {
		b.Run("sec="+key.name, func(b *testing.B) {
			cfg := testConfig()
			cfg.ClusterKey = key.key
			dialer, err := newSecurity(&cfg, "dialer")
			if err != nil {
				b.Fatal(err)
			}
			acceptor, err := newSecurity(&cfg, "acceptor")
			if err != nil {
				b.Fatal(err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			accepted := make(chan error, 1)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					_, _, err = acceptor.handshake(c, false, "acceptor", ln.Addr().String())
					c.Close()
					accepted <- err
				}
			}()
			b.ReportAllocs()
			start := cpuTime()
			defer reportCPU(b, start)
			for b.Loop() {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				_, _, err = dialer.handshake(c, true, "dialer", "")
				c.Close()
				if err != nil {
					b.Fatal(err)
				}
				if err := <-accepted; err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
