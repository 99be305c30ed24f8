package otelmesh_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	meshrt "github.com/meshsplit/meshsplit/runtime"
	"github.com/meshsplit/meshsplit/runtime/otelmesh"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Errors of distinct types, for outcomes of their own.
type errA struct{}
type errB struct{}

func (errA) Error() string { return "a" }
func (errB) Error() string { return "b" }

// TestCachesKeepCallsApart runs calls of two methods with three outcomes
// each, from many peers at once, through both interceptors (what is
// computed once per method, per outcome, and the pooled start options of
// the server span must not mix calls up): every span carries its own
// peer's address and its own outcome, and the metrics count each method
// and outcome apart.
func TestCachesKeepCallsApart(t *testing.T) {
	const service = "example.com/cache.Test"
	client, server := otelmesh.ClientInterceptor(), otelmesh.ServerInterceptor()
	outcomes := []struct {
		err     error
		errType string
	}{{nil, ""}, {errA{}, "otelmesh_test.errA"}, {errB{}, "otelmesh_test.errB"}}
	type want struct {
		method, errType string
		port            int
	}
	var (
		mu    sync.Mutex
		wants = map[trace.SpanID]want{} // by client and server span
	)
	const peers = 12
	var wg sync.WaitGroup
	for p := range peers {
		for _, method := range []string{"A", "B"} {
			for _, o := range outcomes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					w := want{method, o.errType, 10000 + p}
					call := &meshrt.CallInfo{Service: service, Method: method, Metadata: &meshrt.Metadata{}, RequestBytes: -1, ResponseBytes: -1}
					err := client(context.Background(), call, func(ctx context.Context) error {
						call.Peer = "10.0.0.1:" + strconv.Itoa(w.port) // the node the call went to
						call.RequestBytes, call.ResponseBytes = 3, 5
						mu.Lock()
						wants[trace.SpanContextFromContext(ctx).SpanID()] = w
						mu.Unlock()
						scall := &meshrt.CallInfo{Service: service, Method: method, Peer: "10.0.0.2:" + strconv.Itoa(w.port),
							Metadata: call.Metadata, ResponseMetadata: &meshrt.Metadata{}, RequestBytes: 3, ResponseBytes: 5}
						return server(context.Background(), scall, func(ctx context.Context) error {
							mu.Lock()
							wants[trace.SpanContextFromContext(ctx).SpanID()] = w
							mu.Unlock()
							return o.err
						})
					})
					if !errors.Is(err, o.err) {
						t.Errorf("%s from peer %d: error %v, want %v", method, p, err, o.err)
					}
				}()
			}
		}
	}
	wg.Wait()
	checked := 0
	for _, s := range spans.Ended() {
		w, ok := wants[s.SpanContext().SpanID()]
		if !ok {
			continue
		}
		checked++
		a := attrs(s)
		addr, port := "server.address", "server.port"
		if s.SpanKind() == trace.SpanKindServer {
			addr, port = "network.peer.address", "network.peer.port"
		}
		if s.Name() != service+"/"+w.method || a["rpc.method"].AsString() != w.method || a["error.type"].AsString() != w.errType ||
			a[attribute.Key(port)].AsInt64() != int64(w.port) || a[attribute.Key(addr)].AsString() == "" {
			t.Errorf("%s span %s: attributes %v, want method %s, error.type %q, port %d", s.SpanKind(), s.Name(), a, w.method, w.errType, w.port)
		}
	}
	if want := 2 * peers * 2 * len(outcomes); checked != want {
		t.Fatalf("%d spans checked, want %d", checked, want)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"rpc.client.call.duration", "rpc.server.call.duration"} {
		counts := map[string]uint64{} // method/error.type
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				h, ok := m.Data.(metricdata.Histogram[float64])
				if m.Name != name || !ok {
					continue
				}
				for _, dp := range h.DataPoints {
					if v, _ := dp.Attributes.Value("rpc.service"); v.AsString() != service {
						continue
					}
					method, _ := dp.Attributes.Value("rpc.method")
					errType, _ := dp.Attributes.Value("error.type")
					if dp.Attributes.Len() != 4+min(len(errType.AsString()), 1) {
						t.Errorf("%s: attributes %v", name, dp.Attributes.ToSlice())
					}
					counts[method.AsString()+"/"+errType.AsString()] += dp.Count
				}
			}
		}
		for _, method := range []string{"A", "B"} {
			for _, o := range outcomes {
				if got := counts[method+"/"+o.errType]; got != peers {
					t.Errorf("%s: %d calls of %s with error.type %q, want %d (all: %v)", name, got, method, o.errType, peers, counts)
				}
			}
		}
	}
}

// TestNewTracerProvider checks that spans go to the global TracerProvider
// of the moment, when the application replaces it after calls were made.
func TestNewTracerProvider(t *testing.T) {
	before := otel.GetTracerProvider()
	client := otelmesh.ClientInterceptor()
	call := func() {
		info := &meshrt.CallInfo{Service: "example.com/cache.Provider", Method: "M", Metadata: &meshrt.Metadata{}, RequestBytes: -1, ResponseBytes: -1}
		if err := client(context.Background(), info, func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	call() // the tracer of the first provider is cached
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(rec))
	otel.SetTracerProvider(tp)
	defer otel.SetTracerProvider(before)
	call()
	if got := rec.Ended(); len(got) != 1 || got[0].Name() != "example.com/cache.Provider/M" {
		t.Fatalf("the new provider recorded %d spans, want the call's", len(got))
	}
	otel.SetTracerProvider(before)
	call()
	if got := rec.Ended(); len(got) != 1 {
		t.Fatalf("the replaced provider recorded %d spans, want 1", len(got))
	}
}
