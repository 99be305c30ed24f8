package rewrite

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVendoredModule extracts from a module that vendors a dependency and
// patched it in vendor/ (a function the upstream copy lacks): extract loads
// it as the go command builds it, in vendor mode, so the patch is seen and
// nothing is downloaded; -w type-checks the result in process against that
// load; and the plan tells the user to run 'go mod vendor' afterwards.
func TestVendoredModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod vendor")
	}
	runtimeDir, sum := offlineRuntime(t)
	dir := t.TempDir()
	writeFiles(t, map[string]string{
		filepath.Join(dir, "go.mod"):         "module example.com/m\n\ngo 1.24\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ./lib\n\nreplace " + RuntimeModule + " => " + runtimeDir + "\n",
		filepath.Join(dir, "go.sum"):         string(sum),
		filepath.Join(dir, "lib/go.mod"):     "module example.com/lib\n\ngo 1.24\n",
		filepath.Join(dir, "lib/lib.go"):     "// Package lib formats ids.\npackage lib\n\n// Format formats an id.\nfunc Format(id string) string { return \"#\" + id }\n",
		filepath.Join(dir, "store/store.go"): "package store\n\nimport (\n\t\"context\"\n\n\t\"example.com/lib\"\n)\n\n// Store stores.\ntype Store interface {\n\tGet(ctx context.Context, id string) (string, error)\n}\n\ntype mem struct{}\n\nfunc (mem) Get(ctx context.Context, id string) (string, error) {\n\treturn lib.Format(id) + lib.Patched(), nil\n}\n\n// NewStore returns a Store.\nfunc NewStore() Store { return mem{} }\n",
	})
	// Vendor lib without the call to Patched, then patch the vendored copy.
	store := filepath.Join(dir, "store/store.go")
	src, _ := os.ReadFile(store)
	writeFiles(t, map[string]string{store: strings.Replace(string(src), " + lib.Patched()", "", 1)})
	vendor := exec.Command("go", "mod", "vendor")
	vendor.Dir = dir
	if out, err := vendor.CombinedOutput(); err != nil {
		t.Fatalf("go mod vendor: %v\n%s", err, out)
	}
	patched := filepath.Join(dir, "vendor/example.com/lib/lib.go")
	lib, err := os.ReadFile(patched)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, map[string]string{
		patched: string(lib) + "\n// Patched is a local patch of the vendored copy.\nfunc Patched() string { return \"!\" }\n",
		store:   string(src),
	})

	ctx := context.Background()
	p, err := Extract(ctx, Options{Dir: dir, Iface: "store.Store"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Refused() {
		t.Fatalf("refused (a load with -mod=mod misses the vendored patch): %v", p.Refusals)
	}
	var steps []string
	for _, s := range append(p.Actions, p.Manual...) {
		steps = append(steps, s.String())
	}
	if !strings.Contains(strings.Join(steps, "\n"), "then 'go mod vendor'") {
		t.Errorf("the plan does not say to run go mod vendor:\n%s", strings.Join(steps, "\n"))
	}
	if err := p.Apply(ctx, Writer{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "store", "store_mesh.go")); err != nil {
		t.Errorf("the generated file is not written: %v", err)
	}
}

// TestRefusalLeadsWithRootCause extracts from a module whose store imports
// a package no module provides and whose other package has a dozen type
// errors: the refusal names the missing package first, and counts the type
// errors past the first ten (those of calc, and the store's own use of the
// missing package) instead of listing them all.
func TestRefusalLeadsWithRootCause(t *testing.T) {
	for k, v := range map[string]string{"GOPROXY": "off", "GOSUMDB": "off", "GOFLAGS": "", "GOWORK": "off"} {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	var broken strings.Builder
	broken.WriteString("package calc\n\n")
	for i := range 12 {
		fmt.Fprintf(&broken, "var V%d int = \"not an int\"\n", i)
	}
	writeFiles(t, map[string]string{
		filepath.Join(dir, "go.mod"):         "module example.com/m\n\ngo 1.24\n",
		filepath.Join(dir, "calc/calc.go"):   broken.String(),
		filepath.Join(dir, "store/store.go"): "package store\n\nimport (\n\t\"context\"\n\n\t\"example.com/gone/kv\"\n)\n\n// Store stores.\ntype Store interface {\n\tGet(ctx context.Context, id string) (string, error)\n}\n\ntype mem struct{}\n\nfunc (mem) Get(ctx context.Context, id string) (string, error) { return kv.Get(id), nil }\n",
	})
	p, err := Extract(context.Background(), Options{Dir: dir, Iface: "store.Store"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Refusals) == 0 || !strings.Contains(p.Refusals[0].String(), "example.com/gone/kv") {
		t.Fatalf("first refusal is not the missing package: %v", p.Refusals)
	}
	last := p.Refusals[len(p.Refusals)-1].String()
	if !regexp.MustCompile(`^and \d+ type errors that follow`).MatchString(last) {
		t.Errorf("last refusal %q does not count the type errors past ten", last)
	}
	if len(p.Refusals) > 13 {
		t.Errorf("%d refusals, want the cause, ten type errors and a count", len(p.Refusals))
	}
}
