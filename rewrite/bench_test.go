package rewrite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshsplit/meshsplit/analyze"
	"github.com/meshsplit/meshsplit/internal/benchmod"
)

// BenchmarkExtract measures extract against analyze on the same module, in
// the same run, as a user runs them: 'meshsplit analyze' (the module's
// packages, no tests) against 'meshsplit extract' without -w (the dry run:
// load with tests, analysis, plan, generated code, the tidy preview) and
// with -w (the same, then the type check of the result and the writes;
// each iteration's -w is reverted, unmeasured, for the next):
//
//	go test ./rewrite -run '^$' -bench BenchmarkExtract -benchtime 3x
//
// Modules: the shop (inventory.Service); golang.org/x/tools from the
// module cache (its first remotable seam with a constructor, as analyze
// ranks them); a generated module of 200 layered packages (p100.Store).
// Reported per module: mean wall time and peak heap of each, and the
// median per-iteration ratios of extract to analyze (targets: time <= 2,
// peak <= 3).
func BenchmarkExtract(b *testing.B) {
	runtimeDir, sum := offlineRuntime(b)
	for _, m := range []struct {
		name  string
		dir   func(b *testing.B) string
		iface string // "" picks the first remotable seam with a constructor
	}{
		{"shop", func(b *testing.B) string { return copyFixture(b, "shop") }, "inventory.Service"},
		{"xtools", func(b *testing.B) string {
			dir := benchmod.XToolsCopy(b)
			f, err := os.OpenFile(filepath.Join(dir, "go.mod"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if _, err := fmt.Fprintf(f, "\nreplace %s => %s\n", RuntimeModule, runtimeDir); err != nil {
				b.Fatal(err)
			}
			return withSum(b, dir, sum)
		}, ""},
		{"gen200", func(b *testing.B) string { return withSum(b, benchmod.GeneratedModule(b, 200, runtimeDir), sum) }, "p100.Store"},
	} {
		b.Run(m.name, func(b *testing.B) {
			src := m.dir(b)
			env := append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOSUMDB=off", "GOFLAGS=-mod=mod")
			ctx := context.Background()
			runAnalyze := func() *analyze.Report {
				prog, err := analyze.Load(ctx, analyze.Config{Dir: src, Env: env})
				if err != nil {
					b.Fatal(err)
				}
				return analyze.Run(prog)
			}
			iface := m.iface
			if iface == "" {
				iface = firstRemotable(b, runAnalyze())
			}
			extract := func(revert, write bool) {
				p, err := Extract(ctx, Options{Dir: src, Iface: iface, Force: true, Revert: revert, Write: write, Env: env})
				if err != nil {
					b.Fatal(err)
				}
				if p.Refused() {
					b.Fatalf("extract %s refused: %v", iface, p.Refusals)
				}
				if write {
					if err := p.Apply(ctx, Writer{}); err != nil {
						b.Fatal(err)
					}
				}
			}
			// Warm the go command's caches (export data of the module and the
			// runtime) with a whole -w run, reverted.
			extract(false, true)
			extract(true, true)
			var an, dry, wr benchmod.Phase
			var dryTime, wTime, dryPeak, wPeak []float64
			b.ResetTimer()
			for range b.N {
				a := benchmod.Measure(func() { runAnalyze() })
				d := benchmod.Measure(func() { extract(false, false) })
				w := benchmod.Measure(func() { extract(false, true) })
				b.StopTimer()
				extract(true, true) // -revert -w, for the next iteration
				b.StartTimer()
				an.Add(a)
				dry.Add(d)
				wr.Add(w)
				dryTime = append(dryTime, d.Secs/a.Secs)
				wTime = append(wTime, w.Secs/a.Secs)
				dryPeak = append(dryPeak, float64(d.Peak)/float64(a.Peak))
				wPeak = append(wPeak, float64(w.Peak)/float64(a.Peak))
			}
			b.StopTimer()
			n := float64(b.N)
			b.Logf("%s: extract %s", m.name, iface)
			b.ReportMetric(an.Secs/n*1000, "analyze-ms")
			b.ReportMetric(dry.Secs/n*1000, "dry-ms")
			b.ReportMetric(wr.Secs/n*1000, "write-ms")
			b.ReportMetric(benchmod.Median(dryTime), "dry-time-ratio")
			b.ReportMetric(benchmod.Median(wTime), "write-time-ratio")
			b.ReportMetric(float64(an.Peak)/n/(1<<20), "analyze-peak-MB")
			b.ReportMetric(benchmod.Median(dryPeak), "dry-peak-ratio")
			b.ReportMetric(benchmod.Median(wPeak), "write-peak-ratio")
		})
	}
}

// withSum adds the runtime's go.sum lines to the go.sum of the module in
// dir, and returns dir.
func withSum(b *testing.B, dir string, sum []byte) string {
	path := filepath.Join(dir, "go.sum")
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, append(data, sum...), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// firstRemotable returns the name of the best-ranked seam of rep that is
// remotable (warnings allowed) and has a constructor outside tests.
func firstRemotable(b *testing.B, rep *analyze.Report) string {
	for _, s := range rep.Seams {
		if s.Verdict == analyze.NotRemotable || len(s.Ctors) == 0 || s.Generic {
			continue
		}
		return s.Name
	}
	b.Skip("no remotable seam with a constructor")
	return ""
}
