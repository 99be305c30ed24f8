package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/meshsplit/meshsplit/rewrite"
	"golang.org/x/mod/modfile"
)

// otelDeps downloads runtime/otelmesh's requirements (OpenTelemetry's API
// and SDK) into the module cache once per test binary, as runtimeDeps does
// the runtime's.
var otelDeps struct {
	once sync.Once
	err  error
	out  []byte
}

// copyOTelModule is copyModule for a module that uses OpenTelemetry and
// replaces runtime/otelmesh too: that replace is pointed at this checkout,
// and otelmesh's go.sum lines are added.
func copyOTelModule(t *testing.T, src string) string {
	t.Helper()
	otelDeps.once.Do(func() {
		cmd := exec.Command("go", "mod", "download")
		cmd.Dir = filepath.Join(repoRoot(t), "runtime", "otelmesh")
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GOPROXY="+startGoproxy)
		otelDeps.out, otelDeps.err = cmd.CombinedOutput()
	})
	if otelDeps.err != nil {
		t.Fatalf("go mod download in runtime/otelmesh: %v\n%s", otelDeps.err, otelDeps.out)
	}
	mod := copyModule(t, src)
	gomod := filepath.Join(mod, "go.mod")
	data, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse(gomod, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.AddReplace(rewrite.OTelModule, "", filepath.Join(repoRoot(t), "runtime", "otelmesh"), ""); err != nil {
		t.Fatal(err)
	}
	if data, err = f.Format(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gomod, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(repoRoot(t), "runtime", "otelmesh", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	own, _ := os.ReadFile(filepath.Join(mod, "go.sum"))
	if err := os.WriteFile(filepath.Join(mod, "go.sum"), append(own, sum...), 0o644); err != nil {
		t.Fatal(err)
	}
	return mod
}

// TestExtractKeepsTraces extracts rates.Quoter of testdata/parcel, a module
// that uses OpenTelemetry (its use cases start spans from the caller's
// context, its prices read baggage): the generated code installs
// runtime/otelmesh, go.mod gains it, and the module's own tests, which
// check that the quote's span descends from the shipping span and that the
// baggage reaches the quoter, pass with MESHRPC_REMOTE set, the calls going
// over TCP between two in-process nodes. A module that does not use
// OpenTelemetry gets none of it (TestExtractShop's modules, and
// rewrite/gen's TestInstrumentedGolden).
func TestExtractKeepsTraces(t *testing.T) {
	offlineEnv(t)
	mod := copyOTelModule(t, "testdata/parcel")
	code, stdout, stderr := meshsplit("extract", "-C", mod, "-iface", "rates.Quoter", "-w")
	if code != exitOK {
		t.Fatalf("extract: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "require "+rewrite.OTelModule) {
		t.Errorf("extract's plan does not require %s:\n%s", rewrite.OTelModule, stdout)
	}
	gen, err := os.ReadFile(filepath.Join(mod, "rates", "quoter_mesh.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gen), "func init() { otelmesh.Install() }") {
		t.Errorf("quoter_mesh.go does not install otelmesh:\n%s", gen)
	}
	gomod, err := os.ReadFile(filepath.Join(mod, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{rewrite.RuntimeModule + " ", rewrite.OTelModule + " "} {
		if !strings.Contains(string(gomod), "\t"+m) {
			t.Errorf("go.mod does not require %s:\n%s", m, gomod)
		}
	}
	goCmd(t, mod, nil, "mod", "tidy")
	goCmd(t, mod, nil, "vet", "./...")
	// In process, then remote: the same tests, the same trace.
	goCmd(t, mod, nil, "test", "-count=1", "./...")
	out := goCmd(t, mod, []string{"MESHRPC_REMOTE=rates.Quoter", "MESHRPC_LOOPBACK=1"}, "test", "-count=1", "-v", "./shipping")
	// The remote run went through the mesh: its trace holds the client and
	// server spans of the call, between shipping.Ship and rates.Quote.
	if strings.Count(out, `span "example.com/parcel/rates.Quoter/Quote"`) < 2 {
		t.Errorf("the remote run's trace lacks the mesh call's client and server spans:\n%s", out)
	}
}
