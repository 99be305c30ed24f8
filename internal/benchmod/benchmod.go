// Package benchmod holds what meshsplit's benchmarks share: the modules
// they run on (golang.org/x/tools from the module cache, a generated module
// of many packages) and the measurement of a phase's wall time, peak heap
// and allocations, so that analyze and extract are measured alike.
package benchmod

import (
	"fmt"
	"go/format"
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
)

// Median returns the median of xs (which it sorts).
func Median(xs []float64) float64 {
	sort.Float64s(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// Phase holds the measurements of one phase, or their sum over iterations.
type Phase struct {
	// Secs is the wall time in seconds.
	Secs float64
	// Peak is the peak of the heap's object bytes above the level the
	// phase started from; Alloc the bytes it allocated.
	Peak, Alloc uint64
}

// Add accumulates one measurement.
func (p *Phase) Add(m Phase) {
	p.Secs += m.Secs
	p.Peak += m.Peak
	p.Alloc += m.Alloc
}

// Measure runs f after a garbage collection and returns its wall time, the
// peak of the heap's object bytes sampled every millisecond above the
// level f started from, and the bytes it allocated.
func Measure(f func()) Phase {
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
	return Phase{Secs: secs, Peak: p - min(p, base), Alloc: sample[1].Value.Uint64() - alloc0}
}

// XToolsCopy copies the non-test Go files of golang.org/x/tools (from the
// module cache) into a temporary module that loads offline, or skips the
// benchmark when the module is not in the cache.
func XToolsCopy(b testing.TB) string {
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
func goList(b testing.TB, m string) string {
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
func goListVersion(b testing.TB, m string) string {
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

// GeneratedModule writes a module of n packages (example.com/big/p000 ...)
// that look like a layered service: each declares an Item, a Store
// interface with its in-memory implementation and constructor (which takes
// the previous package's Store, so the import graph is a chain with
// cross-links), and a test file. runtimeDir, when not empty, is the
// directory the module's go.mod replaces the meshsplit runtime module with.
func GeneratedModule(tb testing.TB, n int, runtimeDir string) string {
	tb.Helper()
	dir := tb.TempDir()
	gomod := "module example.com/big\n\ngo 1.24\n"
	if runtimeDir != "" {
		gomod += "\nreplace github.com/meshsplit/meshsplit/runtime => " + runtimeDir + "\n"
	}
	files := map[string]string{"go.mod": gomod}
	for i := range n {
		name := fmt.Sprintf("p%03d", i)
		var imports, next, nextField, nextGet string
		if i > 0 {
			prev := fmt.Sprintf("p%03d", i-1)
			imports = fmt.Sprintf("\t%q\n", "example.com/big/"+prev)
			next = "next " + prev + ".Store"
			nextField = "\tnext " + prev + ".Store\n"
			nextGet = fmt.Sprintf("\tif s.next != nil {\n\t\tif up, err := s.next.Get(ctx, id); err == nil {\n\t\t\treturn Item{ID: up.ID, N: up.N + 1, Tags: up.Tags}, nil\n\t\t}\n\t}\n")
		}
		src := fmt.Sprintf(`// Package %[1]s is layer %[2]d of a generated service.
package %[1]s

import (
	"context"
	"errors"
	"sync"
%[3]s)

// ErrNotFound is returned by Get for an unknown id.
var ErrNotFound = errors.New("%[1]s: not found")

// Item is what the layer stores.
type Item struct {
	ID   string
	N    int
	Tags []string
	Meta map[string]string
}

// Store is the layer's seam.
type Store interface {
	Get(ctx context.Context, id string) (Item, error)
	Put(ctx context.Context, it Item) error
	List(ctx context.Context, prefix string, limit int) ([]Item, error)
}

type mem struct {
	mu sync.Mutex
	m  map[string]Item
%[5]s}

// NewStore returns the in-memory Store of the layer.
func NewStore(%[4]s) Store {
	return &mem{m: map[string]Item{}%[6]s}
}

func (s *mem) Get(ctx context.Context, id string) (Item, error) {
	s.mu.Lock()
	it, ok := s.m[id]
	s.mu.Unlock()
	if ok {
		return it, nil
	}
%[7]s	return Item{}, ErrNotFound
}

func (s *mem) Put(ctx context.Context, it Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[it.ID] = it
	return nil
}

func (s *mem) List(ctx context.Context, prefix string, limit int) ([]Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Item
	for id, it := range s.m {
		if len(out) < limit && len(id) >= len(prefix) && id[:len(prefix)] == prefix {
			out = append(out, it)
		}
	}
	return out, nil
}
`, name, i, imports, next, nextField, map[bool]string{true: ", next: next", false: ""}[i > 0], nextGet)
		test := fmt.Sprintf(`package %[1]s

import (
	"context"
	"errors"
	"testing"
)

func TestPutGet(t *testing.T) {
	s := &mem{m: map[string]Item{}}
	if err := s.Put(context.Background(), Item{ID: "a", N: 1}); err != nil {
		t.Fatal(err)
	}
	if it, err := s.Get(context.Background(), "a"); err != nil || it.N != 1 {
		t.Fatalf("Get = %%v, %%v", it, err)
	}
	if _, err := s.Get(context.Background(), "b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get unknown: %%v", err)
	}
}
`, name)
		files[filepath.Join(name, name+".go")] = src
		files[filepath.Join(name, name+"_test.go")] = test
	}
	for rel, src := range files {
		if strings.HasSuffix(rel, ".go") {
			formatted, err := format.Source([]byte(src))
			if err != nil {
				tb.Fatalf("generated %s: %v", rel, err)
			}
			files[rel] = string(formatted)
		}
	}
	WriteModule(tb, dir, files)
	return dir
}

// WriteModule writes files, by slash-separated path relative to dir, into
// dir: a module for a test to load.
func WriteModule(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}
