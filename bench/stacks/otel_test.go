package stacks

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/meshsplit/meshsplit/bench/greeter"
)

// TestOtelStacksRecord checks that the instrumented stacks do the work the
// benchmark charges them for: a client and a server span per call, handed
// to the exporter, and the RPC duration histograms of both sides.
func TestOtelStacksRecord(t *testing.T) {
	ctx := context.Background()
	sdk := OtelSDK()
	const calls = 5
	for _, tc := range []struct {
		start  func() (*Conn, error)
		scopes []string // instrumentation scopes whose histograms must count the calls
	}{
		{StartMeshsplitOtel, []string{"github.com/meshsplit/meshsplit/runtime/otelmesh"}},
		{StartGRPCOtel, []string{"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"}},
	} {
		conn, err := tc.start()
		if err != nil {
			t.Fatal(err)
		}
		before := sdk.Spans.Count()
		durBefore := durations(t, sdk)
		for range calls {
			if _, err := conn.Greet(ctx, greeter.SmallName); err != nil {
				t.Fatal(err)
			}
		}
		if err := conn.Close(); err != nil {
			t.Fatal(err)
		}
		if err := sdk.Tracer.ForceFlush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := sdk.Spans.Count() - before; got != 2*calls {
			t.Errorf("%s: %d spans exported for %d calls, want %d (a client and a server span each)", tc.scopes[0], got, calls, 2*calls)
		}
		after := durations(t, sdk)
		for _, scope := range tc.scopes {
			for _, name := range []string{"rpc.client.call.duration", "rpc.server.call.duration", "rpc.client.duration", "rpc.server.duration"} {
				key := scope + " " + name
				if d := after[key] - durBefore[key]; d != 0 && d != calls {
					t.Errorf("%s counted %d calls, want %d", key, d, calls)
				}
			}
			if after[scope+" client"]-durBefore[scope+" client"] != calls || after[scope+" server"]-durBefore[scope+" server"] != calls {
				t.Errorf("%s: the duration histograms counted %d client and %d server calls, want %d each", scope,
					after[scope+" client"]-durBefore[scope+" client"], after[scope+" server"]-durBefore[scope+" server"], calls)
			}
		}
	}
}

// durations returns the counts of the RPC duration histograms by
// "<scope> <name>", and by "<scope> client" and "<scope> server".
func durations(t *testing.T, sdk *Telemetry) map[string]uint64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := sdk.Reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			var n uint64
			switch h := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, p := range h.DataPoints {
					n += p.Count
				}
			case metricdata.Histogram[int64]:
				for _, p := range h.DataPoints {
					n += p.Count
				}
			default:
				continue
			}
			out[sm.Scope.Name+" "+m.Name] = n
			switch m.Name {
			case "rpc.client.call.duration", "rpc.client.duration":
				out[sm.Scope.Name+" client"] += n
			case "rpc.server.call.duration", "rpc.server.duration":
				out[sm.Scope.Name+" server"] += n
			}
		}
	}
	return out
}
