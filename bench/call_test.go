package bench

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/meshsplit/meshsplit/bench/greeter"
	"github.com/meshsplit/meshsplit/bench/stacks"
)

// parallelism is the number of goroutines per GOMAXPROCS in par mode: 16
// callers on this project's 2-core machines, as in the transport probe.
const parallelism = 8

// A payload is one kind of call, made the same way on every stack.
type payload struct {
	name string
	// call makes one call and reports a wrong answer as an error.
	call func(ctx context.Context, svc greeter.Service) error
}

func payloads() []payload {
	const wantGreeting = "hello, " + greeter.SmallName
	doc := greeter.SampleDoc()
	return []payload{
		{"small", func(ctx context.Context, svc greeter.Service) error {
			out, err := svc.Greet(ctx, greeter.SmallName)
			if err != nil {
				return err
			}
			if out != wantGreeting {
				return &wrongAnswer{got: out, want: wantGreeting}
			}
			return nil
		}},
		{"4k", func(ctx context.Context, svc greeter.Service) error {
			out, err := svc.Echo(ctx, doc)
			if err != nil {
				return err
			}
			if out.ID != doc.ID || len(out.Lines) != len(doc.Lines) || len(out.Blob) != len(doc.Blob) {
				return &wrongAnswer{got: out.Title, want: doc.Title}
			}
			return nil
		}},
	}
}

// wrongAnswer is a call that succeeded with the wrong result.
type wrongAnswer struct{ got, want string }

func (w *wrongAnswer) Error() string { return "wrong answer: got " + w.got + ", want " + w.want }

// BenchmarkCall measures one call per op for every stack, payload and mode.
func BenchmarkCall(b *testing.B) {
	for _, st := range stacks.All() {
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
			for _, p := range payloads() {
				b.Run(p.name, func(b *testing.B) {
					benchSeqPar(b, func(ctx context.Context) error { return p.call(ctx, conn) })
				})
			}
		})
	}
}

// reportCPU starts measuring the process's CPU time; the function it
// returns reports it per op as "cpu-ns/op". It counts both ends of the call
// (client and server share the process) and every goroutine, so it says
// what a call costs in CPU whatever else runs on the machine, where ns/op
// also counts waiting for a busy CPU.
func reportCPU(b *testing.B) func() {
	start, ok := processCPU()
	return func() {
		end, _ := processCPU()
		if ok && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

// TestStacks checks that every stack carries both calls and the handler's
// errors faithfully, so that the benchmark measures working calls.
func TestStacks(t *testing.T) {
	ctx := context.Background()
	for _, st := range stacks.All() {
		t.Run(st.Name, func(t *testing.T) {
			conn, err := st.Start()
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			defer func() {
				if err := conn.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			}()
			for _, p := range payloads() {
				if err := p.call(ctx, conn); err != nil {
					t.Errorf("%s: %v", p.name, err)
				}
			}
			doc := greeter.SampleDoc()
			got, err := conn.Echo(ctx, doc)
			if err != nil {
				t.Fatalf("Echo: %v", err)
			}
			if !reflect.DeepEqual(got, doc) {
				t.Errorf("Echo changed the document:\n got %+v\nwant %+v", got, doc)
			}
			if _, err := conn.Greet(ctx, ""); err == nil || !strings.Contains(err.Error(), "greet: empty name") {
				t.Errorf("Greet(\"\") error = %v, want the handler's \"greet: empty name\"", err)
			}
			if _, err := conn.Echo(ctx, greeter.Doc{}); err == nil || !strings.Contains(err.Error(), "echo: document has no ID") {
				t.Errorf("Echo(Doc{}) error = %v, want the handler's \"echo: document has no ID\"", err)
			}
		})
	}
}
