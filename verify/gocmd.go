package verify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// goRun runs the go command in dir and returns its combined output. An
// *exec.ExitError means the command ran and failed.
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

// findingRE matches a "file:line:col: message" line of the go command.
var findingRE = regexp.MustCompile(`^(?:vet: )?([^\s:][^:]*\.go):(\d+)(?::\d+)?: (.*)$`)

// splitVet splits go vet's findings into those in files the split wrote
// (they block) and the others (reported only: the split never touched
// them, so they exist with the interface unextracted too). Lines that are
// neither a finding nor a package header block, since nothing says where
// they come from.
func splitVet(root, runDir, out string, split map[string]bool) (blocking, reported []string) {
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := findingRE.FindStringSubmatch(line)
		if m == nil {
			blocking = append(blocking, line)
			continue
		}
		file := m[1]
		if !filepath.IsAbs(file) {
			file = filepath.Join(runDir, file)
		}
		if rel, err := filepath.Rel(root, file); err == nil {
			file = rel
		}
		file = filepath.ToSlash(file)
		finding := file + ":" + m[2] + ": " + m[3]
		if split[file] {
			blocking = append(blocking, finding)
		} else {
			reported = append(reported, finding)
		}
	}
	return blocking, reported
}

// A run holds the outcome and output of each test of one go test run, by
// package and test name ("" for the package).
type run struct {
	outcome map[key]Outcome
	output  map[key][]string
	build   map[string][]string // build output by import path ("p [p.test]")
	failed  map[string]string   // FailedBuild of a package's fail event
}

type key struct{ pkg, test string }

func newRun() *run {
	return &run{outcome: map[key]Outcome{}, output: map[key][]string{}, build: map[string][]string{}, failed: map[string]string{}}
}

// event is one line of go test -json (see cmd/test2json and 'go help
// buildjson').
type event struct {
	Action      string
	Package     string
	ImportPath  string
	Test        string
	Output      string
	Elapsed     float64
	FailedBuild string
}

// add records one event; it returns whether the event ended a package.
func (r *run) add(e event) bool {
	if e.ImportPath != "" && e.Action == "build-output" {
		r.build[e.ImportPath] = append(r.build[e.ImportPath], strings.TrimRight(e.Output, "\n"))
		return false
	}
	if e.Package == "" {
		return false
	}
	k := key{e.Package, e.Test}
	switch e.Action {
	case "pass", "fail", "skip":
		r.outcome[k] = Outcome(e.Action)
		if e.FailedBuild != "" {
			r.failed[e.Package] = e.FailedBuild
		}
		return e.Test == ""
	case "output":
		r.output[k] = append(r.output[k], strings.TrimRight(e.Output, "\n"))
	}
	return false
}

// parseEvents reads go test -json output.
func parseEvents(data []byte) (*run, error) {
	r := newRun()
	err := scanEvents(bytes.NewReader(data), func(e event) { r.add(e) })
	return r, err
}

// scanEvents calls f for every JSON event line of rd; other lines (build
// output of older go commands) are skipped.
func scanEvents(rd io.Reader, f func(event)) error {
	sc := bufio.NewScanner(rd)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("reading go test -json output: %w", err)
		}
		f(e)
	}
	return sc.Err()
}

// heartbeat is how often the progress says which packages are still
// running when none finished meanwhile.
const heartbeat = 10 * time.Second

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

// firstError returns the first line of r's output for k that says what
// failed: a test's first failure, or a package's build error.
func firstError(r *run, k key) string {
	if line := firstFailure(r.output[k]); line != "" {
		return line
	}
	if ip := r.failed[k.pkg]; ip != "" {
		for _, l := range r.build[ip] {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
				return t
			}
		}
	}
	for _, l := range r.output[k] {
		t := strings.TrimSpace(l)
		if t == "" || t == "FAIL" || strings.HasPrefix(t, "FAIL\t") || strings.HasPrefix(t, "ok ") || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		return t
	}
	return ""
}
