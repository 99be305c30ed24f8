// Package verify proves that extracting an interface preserves behaviour:
// it builds and vets a module, runs its tests once with the interface in
// process and once remote over loopback (MESHRPC_REMOTE=<iface>
// MESHRPC_LOOPBACK=1), and compares the two runs test by test, naming the
// likely cause of each test that passes in process and fails remote.
package verify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/meshsplit/meshsplit/analyze"
)

// Options say what Run verifies.
type Options struct {
	// Dir is the module's directory; empty means ".".
	Dir string
	// Iface names the interface as for extract: "pkg.Iface".
	Iface string
	// Env is the environment of the go command; nil means os.Environ().
	// MESHRPC_REMOTE and MESHRPC_LOOPBACK are replaced in it.
	Env []string
	// Progress, when set, receives one line per step as it starts.
	Progress io.Writer
}

// Outcome is a test's result in one run: "pass", "fail", "skip", or ""
// when the test did not run.
type Outcome string

// A Result compares one test (or, with Test empty, one package) across the
// two runs.
type Result struct {
	Package string
	Test    string
	Local   Outcome
	Remote  Outcome
	// Output holds the remote run's output of a test that failed remote.
	Output []string
	// Causes name the likely causes of a test that passes in process and
	// fails remote, most specific first, and its first failure line.
	Causes []string
}

// Differs reports whether the two runs disagree.
func (r Result) Differs() bool { return r.Local != r.Remote }

// A Report is the outcome of Run.
type Report struct {
	// Seam is the interface's qualified name.
	Seam string
	// Failure is the output of the step that failed before the tests ran
	// (go build or go vet), or "".
	FailedStep, Failure string
	// Results lists every test and package of either run, sorted.
	Results []Result
}

// Failed reports whether the split does not preserve behaviour: a step
// failed or some test differs.
func (r *Report) Failed() bool {
	if r.FailedStep != "" {
		return true
	}
	for _, res := range r.Results {
		if res.Differs() {
			return true
		}
	}
	return false
}

// Run verifies the module in opts.Dir for opts.Iface. It returns an error
// when the module cannot be loaded, the interface is not found, or the go
// command cannot run at all; test failures are in the report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	// The whole module, whatever directory inside it opts.Dir names.
	prog, err := analyze.Load(ctx, analyze.Config{Dir: moduleRoot(dir), Tests: true, Env: opts.Env})
	if err != nil {
		return nil, err
	}
	rep := analyze.Run(prog)
	seam, err := rep.Lookup(opts.Iface)
	if err != nil {
		return nil, err
	}
	report := &Report{Seam: seam.Name}
	base := cleanEnv(opts.Env)
	progress := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, format+"\n", args...)
		}
	}

	for _, step := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
		progress("go %s", strings.Join(step, " "))
		out, err := goRun(ctx, prog.Root, base, step...)
		if err != nil {
			report.FailedStep, report.Failure = "go "+strings.Join(step, " "), strings.TrimSpace(string(out))
			return report, nil
		}
	}
	progress("go test -json ./...  (%s in process)", seam.Name)
	local, err := goTest(ctx, prog.Root, base)
	if err != nil {
		return nil, err
	}
	progress("go test -json ./...  (MESHRPC_REMOTE=%s MESHRPC_LOOPBACK=1)", seam.Name)
	remote, err := goTest(ctx, prog.Root, append(base[:len(base):len(base)], "MESHRPC_REMOTE="+seam.Name, "MESHRPC_LOOPBACK=1"))
	if err != nil {
		return nil, err
	}
	report.Results = compare(local, remote)
	d := newDiagnoser(prog, seam)
	for i := range report.Results {
		r := &report.Results[i]
		if r.Local == "pass" && r.Remote == "fail" {
			r.Causes = d.causes(*r)
		}
	}
	return report, nil
}

// moduleRoot returns the directory of the go.mod that governs dir, or dir
// itself when there is none (analyze.Load then says what is wrong).
func moduleRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// cleanEnv returns env without the mesh switches, so that the local run is
// local whatever the caller's environment says.
func cleanEnv(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "MESHRPC_REMOTE=") || strings.HasPrefix(kv, "MESHRPC_LOOPBACK=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// goRun runs the go command in dir and returns its combined output.
func goRun(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return out, fmt.Errorf("running go %s: %w", strings.Join(args, " "), err)
		}
	}
	return out, err
}

// A run holds the outcome and output of each test of one go test run, by
// package and test name ("" for the package).
type run struct {
	outcome map[key]Outcome
	output  map[key][]string
}

type key struct{ pkg, test string }

// event is one line of go test -json (see cmd/test2json).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	FailedBuild string
}

// goTest runs go test -json ./... and collects the outcomes. A failing test
// run is not an error; a go command that produces no events is.
func goTest(ctx context.Context, dir string, env []string) (*run, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-json", "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, fmt.Errorf("running go test: %w", err)
	}
	r, perr := parseEvents(out)
	if perr != nil {
		return nil, perr
	}
	if len(r.outcome) == 0 && err != nil {
		return nil, fmt.Errorf("go test failed before running anything: %s", strings.TrimSpace(stderr.String()))
	}
	return r, nil
}

// parseEvents reads go test -json output.
func parseEvents(data []byte) (*run, error) {
	r := &run{outcome: map[key]Outcome{}, output: map[key][]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("reading go test -json output: %w", err)
		}
		if e.Package == "" {
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "pass", "fail", "skip":
			r.outcome[k] = Outcome(e.Action)
		case "output":
			r.output[k] = append(r.output[k], strings.TrimRight(e.Output, "\n"))
		}
	}
	return r, sc.Err()
}

// compare lines the two runs up.
func compare(local, remote *run) []Result {
	keys := map[key]bool{}
	for k := range local.outcome {
		keys[k] = true
	}
	for k := range remote.outcome {
		keys[k] = true
	}
	var out []Result
	for k := range keys {
		res := Result{Package: k.pkg, Test: k.test, Local: local.outcome[k], Remote: remote.outcome[k]}
		if res.Remote == "fail" {
			res.Output = remote.output[k]
		}
		out = append(out, res)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Package != out[j].Package {
			return out[i].Package < out[j].Package
		}
		return out[i].Test < out[j].Test
	})
	return out
}
