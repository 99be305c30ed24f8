package bench

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/meshsplit/meshsplit/bench/greeter"
	"github.com/meshsplit/meshsplit/bench/stacks"
)

// streamEvents is the number of events one op of BenchmarkStream/*/events
// ranges over, and streamBytes the size one op of */bytes reads.
const (
	streamEvents = 100_000
	streamBytes  = 256 << 20
)

// BenchmarkStream measures a stream per op on every stream stack: events
// (100 000 small events through an iter.Seq2; gRPC server streaming; raw
// TCP frames) and bytes (256 MiB through an io.ReadCloser; gRPC chunks of
// 32 KiB; a raw TCP copy). Run with
//
//	go test -run '^$' -bench Stream -benchmem
func BenchmarkStream(b *testing.B) {
	for _, st := range stacks.StreamStacks() {
		b.Run(st.Name, func(b *testing.B) {
			conn, err := st.Start()
			if err != nil {
				b.Fatalf("start %s: %v", st.Name, err)
			}
			defer func() {
				if err := conn.Close(); err != nil {
					b.Errorf("close %s: %v", st.Name, err)
				}
			}()
			ctx := context.Background()
			b.Run("events", func(b *testing.B) {
				b.ReportAllocs()
				defer reportCPU(b)()
				start := time.Now()
				for b.Loop() {
					n := 0
					for ev, err := range conn.Events(ctx, streamEvents) {
						if err != nil {
							b.Fatal(err)
						}
						if ev.Qty != int32(n) {
							b.Fatalf("event %d has Qty %d", n, ev.Qty)
						}
						n++
					}
					if n != streamEvents {
						b.Fatalf("%d events, want %d", n, streamEvents)
					}
				}
				b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*streamEvents), "ns/event")
			})
			b.Run("bytes", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(streamBytes)
				defer reportCPU(b)()
				buf := make([]byte, 32<<10)
				for b.Loop() {
					r, err := conn.Download(ctx, streamBytes)
					if err != nil {
						b.Fatal(err)
					}
					n, err := io.CopyBuffer(io.Discard, r, buf)
					r.Close()
					if err != nil || n != streamBytes {
						b.Fatalf("downloaded %d bytes, %v; want %d", n, err, streamBytes)
					}
				}
			})
		})
	}
}

// TestStreamStacks checks that every stream stack carries the events and
// the bytes faithfully, and stops early, so that the benchmark measures
// working streams.
func TestStreamStacks(t *testing.T) {
	for _, st := range stacks.StreamStacks() {
		t.Run(st.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			conn, err := st.Start()
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			defer func() {
				if err := conn.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			}()
			n := 0
			for ev, err := range conn.Events(ctx, 5000) {
				if err != nil {
					t.Fatal(err)
				}
				if ev != greeter.Event(n) {
					t.Fatalf("event %d = %+v, want %+v", n, ev, greeter.Event(n))
				}
				n++
			}
			if n != 5000 {
				t.Fatalf("%d events, want 5000", n)
			}
			n = 0
			for _, err := range conn.Events(ctx, 1_000_000) {
				if err != nil {
					t.Fatal(err)
				}
				if n++; n == 10 {
					break
				}
			}
			const size = 3<<20 + 17
			r, err := conn.Download(ctx, size)
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(r)
			r.Close()
			if err != nil || len(data) != size {
				t.Fatalf("Download: %d bytes, %v; want %d", len(data), err, size)
			}
			for i, c := range data {
				if c != greeter.BlobByte(int64(i)) {
					t.Fatalf("byte %d = %d, want %d", i, c, greeter.BlobByte(int64(i)))
				}
			}
			// A download closed early frees its stream: the next call works.
			r, err = conn.Download(ctx, 1<<30)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(r, make([]byte, 100_000)); err != nil {
				t.Fatal(err)
			}
			r.Close()
			for _, err := range conn.Events(ctx, 3) {
				if err != nil {
					t.Fatalf("after an early close: %v", err)
				}
			}
		})
	}
}
