// Package verify proves that extracting an interface preserves behaviour:
// it vets a module, runs its tests once with the interface in process and
// once remote over loopback (MESHRPC_REMOTE=<iface> MESHRPC_LOOPBACK=1)
// while the runtime records every call that crosses the mesh
// (MESHRPC_TRAFFIC), compares the two runs test by test, and gives a
// verdict that is green only when the tests agree and calls did cross.
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/meshsplit/meshsplit/analyze"
	"golang.org/x/tools/go/packages"
)

// Options say what Run verifies.
type Options struct {
	// Dir is the module's directory (or one inside it); empty means ".".
	Dir string
	// Iface names the interface as for extract: "pkg.Iface".
	Iface string
	// Patterns are the packages to test, as go test takes them; empty
	// means "./...".
	Patterns []string
	// Strict makes a method that no call exercised remotely fail the
	// verdict (exit 3) instead of a warning.
	Strict bool
	// Env is the environment of the go command; nil means os.Environ().
	// MESHRPC_REMOTE, MESHRPC_LOOPBACK and MESHRPC_TRAFFIC are replaced in
	// it.
	Env []string
	// Keep, when set, keeps the remote run's traffic in TrafficFile for
	// 'meshsplit impact' and the seam map (Report.TrafficFile names it).
	Keep bool
	// Progress, when set, receives a line per step and per package as the
	// tests run, and a line every few seconds while a package runs long.
	Progress io.Writer
}

// The mesh switches verify sets; the runtime reads them (runtime/config.go,
// runtime/traffic.go).
const (
	envRemote   = "MESHRPC_REMOTE"
	envLoopback = "MESHRPC_LOOPBACK"
	envTraffic  = "MESHRPC_TRAFFIC"
)

// Run verifies the module in opts.Dir for opts.Iface. It returns an error
// when the module cannot be loaded, the interface is not found, or the go
// command cannot run at all; everything else is in the report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	patterns := opts.Patterns
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	started := time.Now()
	progress := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "[%s] %s\n", clock(time.Since(started)), fmt.Sprintf(format, args...))
		}
	}
	base := cleanEnv(opts.Env)
	root := moduleRoot(dir)
	// The go commands run where the patterns are relative to, as go's -C.
	runDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}

	// The whole module, whatever directory inside it opts.Dir names, so
	// that test code anywhere is seen.
	progress("loading %s", root)
	prog, err := analyze.Load(ctx, analyze.Config{Dir: root, Tests: true, Env: base})
	if err != nil {
		return nil, vendorHint(err, root)
	}
	seam, err := analyze.Run(prog).Lookup(opts.Iface)
	if err != nil {
		return nil, err
	}
	report := &Report{Seam: seam.Name, Strict: opts.Strict, Patterns: patterns}
	if msg := notExtracted(prog, seam, dir, opts.Iface); msg != "" {
		report.NotExtracted = msg
		return report, nil
	}
	blocking, reported := splitLoadErrors(prog, seam)
	report.Vet = reported
	if len(blocking) > 0 {
		report.FailedStep, report.Failure = "build", strings.Join(blocking, "\n")
		return report, nil
	}

	progress("go vet %s", strings.Join(patterns, " "))
	vetOut, vetErr := goRun(ctx, runDir, base, append([]string{"vet"}, patterns...)...)
	if vetErr != nil {
		var ee *exec.ExitError
		if !errors.As(vetErr, &ee) {
			return nil, vetErr
		}
		blocking, reported := splitVet(prog.Root, runDir, string(vetOut), splitOf(prog, seam).files)
		report.Vet = appendNew(report.Vet, reported)
		if len(blocking) > 0 {
			report.FailedStep, report.Failure = "go vet", strings.Join(blocking, "\n")
			return report, nil
		}
	}

	tmp, err := os.MkdirTemp("", "meshsplit-verify-")
	if err != nil {
		return nil, fmt.Errorf("verify: a temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	traffic := filepath.Join(tmp, "traffic")
	if err := os.Mkdir(traffic, 0o755); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	taken := time.Now()
	bins, err := buildTests(ctx, runDir, base, patterns, filepath.Join(tmp, "bin"), progress)
	if err != nil {
		return nil, err
	}
	local, err := runTests(ctx, bins, base, "local", progress)
	if err != nil {
		return nil, err
	}
	remoteEnv := append(base[:len(base):len(base)], envRemote+"="+seam.Name, envLoopback+"=1", envTraffic+"="+traffic)
	remote, err := runTests(ctx, bins, remoteEnv, "remote", progress)
	if err != nil {
		return nil, err
	}
	report.Traffic, err = readTraffic(traffic, prog.Root, seam)
	if err != nil {
		return nil, err
	}
	if opts.Keep {
		calls, err := groupTraffic(traffic, prog.Root, seam)
		if err != nil {
			return nil, err
		}
		kept := &KeptTraffic{Version: TrafficVersion, Module: prog.Module, Root: prog.Root, Seam: seam.Name, Taken: taken.UTC(), Patterns: patterns, Calls: calls}
		if report.TrafficFile, err = keepTraffic(kept); err != nil {
			return nil, err
		}
	}
	report.Results = compare(local, remote)
	d := newDiagnoser(prog, seam)
	for i := range report.Results {
		r := &report.Results[i]
		switch {
		case r.Local == "fail" && r.Remote == "fail":
			r.FirstError = firstError(local, key{r.Package, r.Test})
		case r.Differs():
			d.diagnose(r)
		}
	}
	if report.Crossed() == 0 {
		report.Bypasses = d.bypasses()
	}
	progress("done")
	return report, nil
}

// splitLoadErrors splits the module's type errors into those that may come
// from the split (in the interface's package or a package that imports
// it, directly or not, or without a position) and the others, which exist
// with the interface unextracted too: reported, not blocking (their
// packages' tests then fail in both runs).
func splitLoadErrors(prog *analyze.Program, seam *analyze.Seam) (blocking, reported []string) {
	if len(prog.Errors) == 0 {
		return nil, nil
	}
	seamPath := seam.Obj.Pkg().Path()
	memo := map[*packages.Package]bool{}
	var dependsOnSeam func(p *packages.Package) bool
	dependsOnSeam = func(p *packages.Package) bool {
		if v, ok := memo[p]; ok {
			return v
		}
		memo[p] = false // cycles (test variants) end here
		v := strings.TrimSuffix(p.PkgPath, "_test") == seamPath
		for _, imp := range p.Imports {
			v = v || dependsOnSeam(imp)
		}
		memo[p] = v
		return v
	}
	affected := map[string]bool{} // module-relative directories
	for _, p := range prog.Packages {
		if dependsOnSeam(p) {
			for _, f := range p.GoFiles {
				affected[filepath.ToSlash(filepath.Dir(prog.RelFile(f)))] = true
			}
		}
	}
	for _, e := range prog.Errors {
		file := e.Pos
		for range 2 {
			if i := strings.LastIndexByte(file, ':'); i > 0 {
				file = file[:i]
			}
		}
		if e.Pos == "" || filepath.IsAbs(file) || affected[filepath.ToSlash(filepath.Dir(file))] {
			blocking = append(blocking, e.String())
		} else {
			reported = append(reported, e.String())
		}
	}
	return blocking, reported
}

// appendNew appends the findings of more whose file:line is not in list
// yet (go vet repeats the type errors the load reported).
func appendNew(list, more []string) []string {
	seen := map[string]bool{}
	fileLine := func(f string) string {
		parts := strings.SplitN(f, ":", 3)
		if len(parts) < 3 {
			return f
		}
		return parts[0] + ":" + parts[1]
	}
	for _, f := range list {
		seen[fileLine(f)] = true
	}
	for _, f := range more {
		if !seen[fileLine(f)] {
			seen[fileLine(f)] = true
			list = append(list, f)
		}
	}
	return list
}

// clock formats an elapsed time as m:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
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

// vendorHint names the command that fixes a vendor tree the split made
// inconsistent (extract adds a requirement to go.mod).
func vendorHint(err error, root string) error {
	if strings.Contains(err.Error(), "inconsistent vendoring") {
		return fmt.Errorf("%s/vendor/modules.txt is inconsistent with go.mod (extract adds a requirement to go.mod): run 'go mod vendor' in %s, then verify again", root, root)
	}
	return err
}

// cleanEnv returns env without the mesh switches, so that the local run is
// local whatever the caller's environment says.
func cleanEnv(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, envRemote+"=") || strings.HasPrefix(kv, envLoopback+"=") || strings.HasPrefix(kv, envTraffic+"=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
