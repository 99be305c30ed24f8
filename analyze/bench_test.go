package analyze

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/tools/go/packages"
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
	dir := xtoolsCopy(b)
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

	var load, analyze phaseStats
	var timeRatios, peakRatios []float64
	b.ResetTimer()
	for i := range b.N {
		// Alternate the order, so that neither phase always runs in the
		// other's wake (garbage left behind, the go command's caches).
		var l, a phaseStats
		if i%2 == 0 {
			l, a = measure(func() { bare() }), measure(func() { full() })
		} else {
			a, l = measure(func() { full() }), measure(func() { bare() })
		}
		load.add(l)
		analyze.add(a)
		timeRatios = append(timeRatios, a.secs/l.secs)
		peakRatios = append(peakRatios, float64(a.peak)/float64(l.peak))
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(load.secs/n*1000, "load-ms")
	b.ReportMetric(analyze.secs/n*1000, "analyze-ms")
	b.ReportMetric(median(timeRatios), "time-ratio")
	b.ReportMetric(float64(load.peak)/n/(1<<20), "load-peak-MB")
	b.ReportMetric(float64(analyze.peak)/n/(1<<20), "analyze-peak-MB")
	b.ReportMetric(median(peakRatios), "peak-ratio")
	b.ReportMetric(float64(analyze.alloc)/float64(load.alloc), "alloc-ratio")
}

// median returns the median of xs (which it sorts).
func median(xs []float64) float64 {
	sort.Float64s(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// phaseStats accumulates the measurements of one phase over iterations.
type phaseStats struct {
	secs        float64
	peak, alloc uint64
}

// add accumulates one measurement.
func (p *phaseStats) add(m phaseStats) {
	p.secs += m.secs
	p.peak += m.peak
	p.alloc += m.alloc
}

// measure runs f after a garbage collection and returns its wall time, the
// peak of the heap's object bytes sampled every millisecond above the
// level f started from, and the bytes it allocated.
func measure(f func()) phaseStats {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	base, alloc0 := sample[0].Value.Uint64(), sample[1].Value.Uint64()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	f()
	secs := time.Since(start).Seconds()
	metrics.Read(sample) // the result is still live here
	close(stop)
	<-done
	p := max(peak.Load(), sample[0].Value.Uint64())
	return phaseStats{secs: secs, peak: p - min(p, base), alloc: sample[1].Value.Uint64() - alloc0}
}

// xtoolsCopy copies the non-test Go files of golang.org/x/tools (from the
// module cache) into a temporary module that loads offline, or skips the
// benchmark when the module is not in the cache.
func xtoolsCopy(b *testing.B) string {
	b.Helper()
	src := goList(b, "golang.org/x/tools")
	if src == "" {
		b.Skip("golang.org/x/tools is not in the module cache; run 'go mod download golang.org/x/tools' to benchmark")
	}
	dst := b.TempDir()
	for _, sub := range []string{"go", "internal", "refactor", "imports", "txtar"} {
		root := filepath.Join(src, sub)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			rel, err := filepath.Rel(src, path)
			if err != nil {
				return err
			}
			return copyFile(path, filepath.Join(dst, rel))
		})
		if err != nil {
			b.Skipf("copying golang.org/x/tools from %s: %v", src, err)
		}
	}
	var req strings.Builder
	for _, m := range []string{"golang.org/x/mod", "golang.org/x/sync", "golang.org/x/sys"} {
		fmt.Fprintf(&req, "\t%s %s\n", m, goListVersion(b, m))
	}
	gomod := "module golang.org/x/tools\n\ngo 1.26.0\n\nrequire (\n" + req.String() + ")\n"
	if err := os.WriteFile(filepath.Join(dst, "go.mod"), []byte(gomod), 0o644); err != nil {
		b.Fatal(err)
	}
	return dst
}

// goList returns the directory of module m as this module requires it,
// or "" when it is not downloaded.
func goList(b *testing.B, m string) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", m).Output()
	if err != nil {
		return ""
	}
	dir := strings.TrimSpace(string(out))
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

// goListVersion returns the version of module m this module requires.
func goListVersion(b *testing.B, m string) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", m).Output()
	if err != nil {
		b.Skipf("go list -m %s: %v", m, err)
	}
	return strings.TrimSpace(string(out))
}

// copyFile copies one file, creating its directory.
func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
