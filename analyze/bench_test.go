package analyze

import (
	"context"
	"os"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/meshsplit/meshsplit/internal/benchmod"
)

// BenchmarkAnalyze measures analyze on a large real module against the bare
// packages.Load of the same packages in the same mode, in the same run:
//
//	go test ./analyze -run '^$' -bench BenchmarkAnalyze -benchtime 5x
//
// The module is golang.org/x/tools from the module cache (the version this
// module requires), copied without tests and testdata to a temporary
// directory with a go.mod that requires the dependency versions this
// module pins, so that it loads offline; the patterns are ./... (about 180
// packages). Each iteration runs the bare load and load+analyze one after
// the other, in alternating order. Reported: the mean time and sampled
// peak heap of each, the median of the per-iteration time and peak
// ratios, and the ratio of allocated bytes.
func BenchmarkAnalyze(b *testing.B) {
	dir := benchmod.XToolsCopy(b)
	env := append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOSUMDB=off", "GOFLAGS=-mod=mod")
	patterns := []string{"./..."}
	bare := func() int {
		pkgs, err := packages.Load(&packages.Config{Mode: LoadMode, Dir: dir, Env: env}, patterns...)
		if err != nil {
			b.Fatal(err)
		}
		return len(pkgs)
	}
	full := func() int {
		prog, err := Load(context.Background(), Config{Dir: dir, Patterns: patterns, Env: env})
		if err != nil {
			b.Fatal(err)
		}
		if len(prog.Errors) > 0 {
			b.Fatalf("x/tools copy has errors, first: %s", prog.Errors[0])
		}
		return len(Run(prog).Seams)
	}
	// Warm up: the first load builds the dependencies' export data.
	b.Logf("%d packages, %d seams", bare(), full())

	var load, analyze benchmod.Phase
	var timeRatios, peakRatios []float64
	b.ResetTimer()
	for i := range b.N {
		// Alternate the order, so that neither phase always runs in the
		// other's wake (garbage left behind, the go command's caches).
		var l, a benchmod.Phase
		if i%2 == 0 {
			l, a = benchmod.Measure(func() { bare() }), benchmod.Measure(func() { full() })
		} else {
			a, l = benchmod.Measure(func() { full() }), benchmod.Measure(func() { bare() })
		}
		load.Add(l)
		analyze.Add(a)
		timeRatios = append(timeRatios, a.Secs/l.Secs)
		peakRatios = append(peakRatios, float64(a.Peak)/float64(l.Peak))
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(load.Secs/n*1000, "load-ms")
	b.ReportMetric(analyze.Secs/n*1000, "analyze-ms")
	b.ReportMetric(benchmod.Median(timeRatios), "time-ratio")
	b.ReportMetric(float64(load.Peak)/n/(1<<20), "load-peak-MB")
	b.ReportMetric(float64(analyze.Peak)/n/(1<<20), "analyze-peak-MB")
	b.ReportMetric(benchmod.Median(peakRatios), "peak-ratio")
	b.ReportMetric(float64(analyze.Alloc)/float64(load.Alloc), "alloc-ratio")
}
