package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// BenchmarkVerifySpeed measures verify against a plain 'go test -count=1
// ./...' of the same extracted module, alternating the two in one run,
// and reports the ratio of their medians (target: at most 2.2). The
// modules: the shop, and a larger one made of the shop and two renamed
// copies of its packages (three times the tests; only the original
// inventory.Service is extracted). Run with a fixed count of rounds:
//
//	go test -run XXX -bench VerifySpeed -benchtime=3x ./cmd/meshsplit
func BenchmarkVerifySpeed(b *testing.B) {
	offlineEnv(b)
	for _, m := range []struct {
		name   string
		copies []string
	}{
		{"shop", nil},
		{"shop3x", []string{"east", "west"}},
	} {
		b.Run(m.name, func(b *testing.B) {
			mod := copyModule(b, filepath.Join(repoRoot(b), "testdata", "shop"))
			for _, c := range m.copies {
				cloneShop(b, mod, c)
			}
			if code, stdout, stderr := meshsplit("extract", "-C", mod, "-iface", "example.com/shop/inventory.Service", "-w"); code != exitOK {
				b.Fatalf("extract: exit %d\n%s%s", code, stdout, stderr)
			}
			goCmd(b, mod, nil, "test", "-count=1", "./...") // warm the build cache
			var plain, verify []time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				goCmd(b, mod, nil, "test", "-count=1", "./...")
				plain = append(plain, time.Since(start))
				start = time.Now()
				if code, stdout, stderr := meshsplit("verify", "-C", mod, "-iface", "example.com/shop/inventory.Service"); code != exitOK {
					b.Fatalf("verify: exit %d\n%s%s", code, stdout, stderr)
				}
				verify = append(verify, time.Since(start))
			}
			p, v := medianDuration(plain), medianDuration(verify)
			b.ReportMetric(p.Seconds(), "gotest-s")
			b.ReportMetric(v.Seconds(), "verify-s")
			b.ReportMetric(v.Seconds()/p.Seconds(), "verify/gotest")
		})
	}
}

// cloneShop copies the shop's packages of mod under mod/name, with their
// imports of each other renamed, so that the module has that many more
// packages and tests.
func cloneShop(b *testing.B, mod, name string) {
	b.Helper()
	entries, err := os.ReadDir(mod)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "east" || e.Name() == "west" {
			continue
		}
		src, dst := filepath.Join(mod, e.Name()), filepath.Join(mod, name, e.Name())
		copyTree(b, src, dst)
		err := filepath.WalkDir(dst, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			data = []byte(strings.ReplaceAll(string(data), `"example.com/shop/`, `"example.com/shop/`+name+`/`))
			return os.WriteFile(path, data, 0o644)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// medianDuration returns the median of ds.
func medianDuration(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)/2]
}
