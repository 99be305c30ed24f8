package switchbench

import (
	"context"
	"slices"
	"testing"
	"time"
)

// sink keeps the benchmark's results alive.
var sink int64

// held are the two values under test, held in interface-typed variables as
// a program holds its services (so that neither call is devirtualized at
// compile time).
var held struct{ original, switched Counter }

// BenchmarkConstructorSwitch compares, in one run, a method call on the
// value the switched NewCounter returns (MESHRPC_REMOTE unset) with a call
// on the value of the original constructor, newCounterLocal. It reports
// ns/call of each and the median over rounds of their ratio,
// switched/original; the target is ≤ 1.02. The two alternate in rounds so
// that drift on a busy machine hits both alike.
func BenchmarkConstructorSwitch(b *testing.B) {
	held.original, held.switched = newCounterLocal(), NewCounter()
	ctx := context.Background()
	const rounds = 32
	n := b.N/rounds + 1
	var orig, sw time.Duration
	ratios := make([]float64, 0, rounds)
	b.ResetTimer()
	for range rounds {
		start := time.Now()
		for range n {
			v, _ := held.original.Add(ctx, 1)
			sink += v
		}
		o := time.Since(start)
		start = time.Now()
		for range n {
			v, _ := held.switched.Add(ctx, 1)
			sink += v
		}
		s := time.Since(start)
		orig, sw = orig+o, sw+s
		ratios = append(ratios, float64(s)/float64(o))
	}
	slices.Sort(ratios)
	calls := float64(rounds * n)
	b.ReportMetric(float64(orig.Nanoseconds())/calls, "original-ns/call")
	b.ReportMetric(float64(sw.Nanoseconds())/calls, "switched-ns/call")
	b.ReportMetric(ratios[rounds/2], "switched/original")
}

// TestSwitchStaysLocal checks that, with MESHRPC_REMOTE unset, the switched
// constructor returns the in-process implementation itself.
func TestSwitchStaysLocal(t *testing.T) {
	t.Setenv("MESHRPC_REMOTE", "")
	if _, ok := NewCounter().(*counter); !ok {
		t.Fatalf("NewCounter() = %T, want *counter", NewCounter())
	}
}
