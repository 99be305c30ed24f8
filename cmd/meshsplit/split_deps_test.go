package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshsplit/meshsplit/rewrite"
	"golang.org/x/mod/modfile"
)

// TestSplitModuleGainsOnlyTheRuntime extracts an interface of a module as a
// new user would and runs 'go mod tidy' (see checkGainsOnlyTheRuntime), then
// -revert and tidy again, which gives the requirements and go line back.
// The module, testdata/ledger, looks like code written elsewhere: go 1.24.0
// with a toolchain line and two requirements, one used by its tests only,
// and no gin. (TestExtractShopEndToEnd makes the same check on the shop with
// every interface extracted.)
func TestSplitModuleGainsOnlyTheRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy twice and go list")
	}
	// The go command as a user's: the environment's GOPROXY (the module
	// cache usually holds everything), no workspace, no toolchain switch.
	t.Setenv("GOWORK", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOTOOLCHAIN", "local")
	dir := copyModule(t, filepath.Join("testdata", "ledger"))
	original, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	const iface = "ledger.Book"
	if code, stdout, stderr := meshsplit("extract", "-C", dir, "-iface", iface, "-w"); code != exitOK {
		t.Fatalf("extract -w %s: exit %d\n%s%s", iface, code, stdout, stderr)
	}
	goCmd(t, dir, nil, "mod", "tidy")
	checkGainsOnlyTheRuntime(t, original, dir, "./cmd/ledgerd")

	if code, stdout, stderr := meshsplit("extract", "-C", dir, "-iface", iface, "-revert", "-w"); code != exitOK {
		t.Fatalf("extract -revert -w %s: exit %d\n%s%s", iface, code, stdout, stderr)
	}
	goCmd(t, dir, nil, "mod", "tidy")
	before, reverted := parseModFile(t, "go.mod", original), readModFile(t, dir)
	if got, want := requirements(reverted), requirements(before); !sameRequirements(got, want) || goLine(reverted) != goLine(before) || toolchainLine(reverted) != toolchainLine(before) {
		t.Errorf("after -revert and go mod tidy: go %s, toolchain %s, requirements %v; want go %s, toolchain %s, %v",
			goLine(reverted), toolchainLine(reverted), got, goLine(before), toolchainLine(before), want)
	}
}

// checkGainsOnlyTheRuntime compares a split module's tidied go.mod in dir
// with the one it had before the split (original): the go and toolchain
// lines are the same, no requirement changed or went, the module gained at
// most the runtime module and yamux, and its main package links no gin,
// quic-go, mongo-driver, protobuf or sonic (what it gained when the runtime
// lived in meshsplit's module).
func checkGainsOnlyTheRuntime(t *testing.T, original []byte, dir, main string) {
	t.Helper()
	before, after := parseModFile(t, "go.mod", original), readModFile(t, dir)
	if goLine(before) != goLine(after) || toolchainLine(before) != toolchainLine(after) {
		t.Errorf("go line %q, toolchain %q became %q, %q", goLine(before), toolchainLine(before), goLine(after), toolchainLine(after))
	}
	gained := map[string]bool{rewrite.RuntimeModule: true, "github.com/hashicorp/yamux": true}
	was, now := requirements(before), requirements(after)
	for path, v := range now {
		switch old, ok := was[path]; {
		case ok && old != v:
			t.Errorf("requirement %s changed: %s -> %s", path, old, v)
		case !ok && !gained[path]:
			t.Errorf("the split module gained %s %s: only %s and yamux may come with the runtime", path, v, rewrite.RuntimeModule)
		}
	}
	for path := range was {
		if _, ok := now[path]; !ok {
			t.Errorf("requirement %s is gone", path)
		}
	}
	deps := goCmd(t, dir, []string{"GOWORK=off", "GOFLAGS=-mod=mod"}, "list", "-deps", "-f", "{{.ImportPath}}", main)
	if !strings.Contains(deps, rewrite.RuntimeModule+"\n") {
		t.Errorf("%s does not link the runtime after extract; go list -deps:\n%s", main, deps)
	}
	never := []string{"github.com/gin-gonic/", "github.com/quic-go/", "go.mongodb.org/", "google.golang.org/protobuf", "github.com/bytedance/sonic"}
	for _, dep := range strings.Fields(deps) {
		for _, bad := range never {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("%s links %s after the split", main, dep)
			}
		}
	}
}

// readModFile parses dir's go.mod.
func readModFile(t *testing.T, dir string) *modfile.File {
	t.Helper()
	path := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseModFile(t, path, data)
}

// parseModFile parses a go.mod's content.
func parseModFile(t *testing.T, path string, data []byte) *modfile.File {
	t.Helper()
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// requirements maps each required module to its version.
func requirements(f *modfile.File) map[string]string {
	m := map[string]string{}
	for _, r := range f.Require {
		m[r.Mod.Path] = r.Mod.Version
	}
	return m
}

func sameRequirements(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// goLine returns the go line's version, "" without one.
func goLine(f *modfile.File) string {
	if f.Go == nil {
		return ""
	}
	return f.Go.Version
}

// toolchainLine returns the toolchain line's name, "" without one.
func toolchainLine(f *modfile.File) string {
	if f.Toolchain == nil {
		return ""
	}
	return f.Toolchain.Name
}
