package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// The tests run as go test would run them, but each test binary is built
// once and run twice (in process, then remote): go test relinks every test
// binary on every run, which would double the build work of verify.

// A testPkg is a package with test files, as go list reports it.
type testPkg struct {
	ImportPath   string
	Dir          string
	TestGoFiles  []string
	XTestGoFiles []string
}

// A testBinaries is what buildTests produced: a binary per package that
// built, and the failed builds in the form of go test -json events.
type testBinaries struct {
	pkgs   []testPkg
	binary map[string]string // by import path
	failed *run              // build output and failures (see run.build, run.failed)
	tool   []string          // the test2json command
}

// buildTests lists the packages with tests among patterns and builds
// their test binaries into dir: one 'go test -c -o dir/n/' per batch of
// packages whose names differ (go names the binaries <name>.test).
func buildTests(ctx context.Context, runDir string, env, patterns []string, dir string, progress func(string, ...any)) (*testBinaries, error) {
	out, err := goRun(ctx, runDir, env, append([]string{"list", "-e", "-json=ImportPath,Dir,TestGoFiles,XTestGoFiles"}, patterns...)...)
	if err != nil {
		return nil, fmt.Errorf("go list %s: %v\n%s", strings.Join(patterns, " "), err, bytes.TrimSpace(out))
	}
	tb := &testBinaries{binary: map[string]string{}, failed: newRun()}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p testPkg
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("reading go list output: %w", err)
		}
		if len(p.TestGoFiles)+len(p.XTestGoFiles) > 0 {
			tb.pkgs = append(tb.pkgs, p)
		}
	}
	var batches [][]testPkg
	for _, p := range tb.pkgs {
		placed := false
		for i, b := range batches {
			if !hasBinary(b, binaryName(p)) {
				batches[i] = append(b, p)
				placed = true
				break
			}
		}
		if !placed {
			batches = append(batches, []testPkg{p})
		}
	}
	for i, b := range batches {
		bdir := filepath.Join(dir, fmt.Sprint(i)) + string(filepath.Separator)
		args := []string{"test", "-c", "-vet=off", "-json", "-o", bdir}
		if !strings.Contains(getenv(env, "GOFLAGS"), "-ldflags") {
			// As go test links the binaries it runs: without the symbol
			// table and DWARF, which halves the link time.
			args = append(args, "-ldflags=-s -w")
		}
		for _, p := range b {
			args = append(args, p.ImportPath)
		}
		progress("building %d test binaries: go test -c -vet=off -o <tmp>/ ...", len(b))
		out, err := goRun(ctx, runDir, env, args...)
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			return nil, err
		}
		if perr := scanEvents(bytes.NewReader(out), func(e event) { tb.failed.add(e) }); perr != nil {
			return nil, perr
		}
		for _, p := range b {
			bin := filepath.Join(bdir, binaryName(p))
			if _, serr := os.Stat(bin); serr == nil {
				tb.binary[p.ImportPath] = bin
				continue
			}
			// The build failed: its output is under "p [p.test]" or
			// "p_test [p.test]" (or p itself when the package does not build).
			for ip := range tb.failed.build {
				if ip == p.ImportPath || strings.HasSuffix(ip, "["+p.ImportPath+".test]") {
					tb.failed.failed[p.ImportPath] = ip
				}
			}
			if tb.failed.failed[p.ImportPath] == "" {
				// No build output names it: say so rather than guess.
				ip := p.ImportPath + " [build]"
				tb.failed.build[ip] = []string{"the test binary did not build; run go test -c " + p.ImportPath + " to see why"}
				tb.failed.failed[p.ImportPath] = ip
			}
		}
	}
	tool, err := test2json(ctx, runDir, env)
	if err != nil {
		return nil, err
	}
	tb.tool = tool
	return tb, nil
}

// getenv returns the value of name in env.
func getenv(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

func hasBinary(b []testPkg, name string) bool {
	for _, p := range b {
		if binaryName(p) == name {
			return true
		}
	}
	return false
}

// majorRE matches a module major version suffix.
var majorRE = regexp.MustCompile(`^v[2-9][0-9]*$`)

// binaryName is the name go test -c gives p's test binary: the last
// element of its import path (the one before a major version suffix),
// and ".test".
func binaryName(p testPkg) string {
	elem := path.Base(p.ImportPath)
	if majorRE.MatchString(elem) && strings.Count(p.ImportPath, "/") > 0 {
		elem = path.Base(path.Dir(p.ImportPath))
	}
	return elem + ".test"
}

// test2json returns the command of the go distribution's test2json (built
// and cached by 'go tool' on first use).
func test2json(ctx context.Context, dir string, env []string) ([]string, error) {
	out, err := goRun(ctx, dir, env, "tool", "-n", "test2json")
	if path := strings.TrimSpace(string(out)); err == nil && path != "" {
		if _, serr := os.Stat(path); serr == nil {
			return []string{path}, nil
		}
	}
	return []string{"go", "tool", "test2json"}, nil
}

// runTests runs every test binary of tb with env, at most GOMAXPROCS at a
// time as go test does, each in its package's directory, and collects the
// outcomes as go test -json would report them. label names the run in the
// progress lines.
func runTests(ctx context.Context, tb *testBinaries, env []string, label string, progress func(string, ...any)) (*run, error) {
	r := newRun()
	for ip, lines := range tb.failed.build {
		r.build[ip] = lines
	}
	for pkg, ip := range tb.failed.failed {
		r.failed[pkg] = ip
		r.outcome[key{pkg, ""}] = "fail"
		r.output[key{pkg, ""}] = []string{"FAIL\t" + pkg + " [build failed]"}
	}
	progress("%s run: %d test binaries", label, len(tb.binary))
	var (
		mu      sync.Mutex
		running = map[string]time.Time{}
		last    = time.Now()
		firstEr error
	)
	stop := make(chan struct{})
	var beat sync.WaitGroup
	beat.Go(func() {
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				mu.Lock()
				if now.Sub(last) >= heartbeat && len(running) > 0 {
					var names []string
					for pkg, since := range running {
						names = append(names, fmt.Sprintf("%s (%s)", pkg, clock(now.Sub(since))))
					}
					sort.Strings(names)
					progress("%s run: still running %s", label, strings.Join(names, ", "))
					last = now
				}
				mu.Unlock()
			}
		}
	})
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, p := range tb.pkgs {
		bin := tb.binary[p.ImportPath]
		if bin == "" {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			mu.Lock()
			running[p.ImportPath] = time.Now()
			mu.Unlock()
			events, err := runBinary(ctx, tb.tool, p, bin, env)
			mu.Lock()
			defer mu.Unlock()
			delete(running, p.ImportPath)
			last = time.Now()
			if err != nil {
				if firstEr == nil {
					firstEr = err
				}
				return
			}
			tests := 0
			var end event
			for _, e := range events {
				r.add(e)
				if e.Test != "" && (e.Action == "pass" || e.Action == "fail") {
					tests++
				}
				if e.Test == "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
					end = e
				}
			}
			word := "ok  "
			if end.Action == "fail" {
				word = "FAIL"
			}
			progress("%s run: %s %s (%d tests, %.1fs)", label, word, p.ImportPath, tests, end.Elapsed)
		})
	}
	wg.Wait()
	close(stop)
	beat.Wait()
	return r, firstEr
}

// testTimeout bounds one test binary, as go test's default -timeout.
const testTimeout = 10 * time.Minute

// runBinary runs one test binary through test2json in the package's
// directory and returns its events. A binary that fails is not an error;
// one that cannot start is.
func runBinary(ctx context.Context, tool []string, p testPkg, bin string, env []string) ([]event, error) {
	args := append(tool[1:len(tool):len(tool)], "-t", "-p", p.ImportPath, bin,
		"-test.v=test2json", "-test.count=1", "-test.paniconexit0", "-test.timeout="+testTimeout.String())
	cmd := exec.CommandContext(ctx, tool[0], args...)
	cmd.Dir = p.Dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, fmt.Errorf("running the tests of %s: %w", p.ImportPath, err)
	}
	var events []event
	if perr := scanEvents(bytes.NewReader(out), func(e event) { events = append(events, e) }); perr != nil {
		return nil, fmt.Errorf("the tests of %s: %w", p.ImportPath, perr)
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("the tests of %s reported nothing: %v: %s", p.ImportPath, err, strings.TrimSpace(stderr.String()))
	}
	return events, nil
}
