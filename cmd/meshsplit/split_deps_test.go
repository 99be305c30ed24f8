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
// new user would and runs 'go mod tidy': the go and toolchain lines stay,
// no requirement changes, the module gains at most the runtime module and
// yamux, and its main package links no gin, quic-go, mongo-driver or
// protobuf. -revert and another tidy give the requirements back. One module
// is the shop; the other, testdata/ledger, looks like code written
// elsewhere: go 1.24.0 with a toolchain line and two requirements, one used
// by its tests only.
func TestSplitModuleGainsOnlyTheRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy and go list on two modules")
	}
	// The go command as a user's: the environment's GOPROXY (the module
	// cache usually holds everything), no workspace, no toolchain switch.
	t.Setenv("GOWORK", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOTOOLCHAIN", "local")
	gained := map[string]bool{rewrite.RuntimeModule: true, "github.com/hashicorp/yamux": true}
	never := []string{"github.com/gin-gonic/", "github.com/quic-go/", "go.mongodb.org/", "google.golang.org/protobuf", "github.com/bytedance/sonic"}
	tests := []struct {
		name, src, iface, main string
	}{
		{"shop", filepath.Join(repoRoot(t), "testdata", "shop"), "inventory.Service", "./cmd/shop"},
		{"ledger", filepath.Join("testdata", "ledger"), "ledger.Book", "./cmd/ledgerd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyModule(t, tt.src)
			before := readModFile(t, dir)
			if code, stdout, stderr := meshsplit("extract", "-C", dir, "-iface", tt.iface, "-w"); code != exitOK {
				t.Fatalf("extract -w %s: exit %d\n%s%s", tt.iface, code, stdout, stderr)
			}
			goCmd(t, dir, nil, "mod", "tidy")
			after := readModFile(t, dir)
			if goLine(before) != goLine(after) || toolchainLine(before) != toolchainLine(after) {
				t.Errorf("go line %q, toolchain %q became %q, %q", goLine(before), toolchainLine(before), goLine(after), toolchainLine(after))
			}
			was := requirements(before)
			for path, v := range requirements(after) {
				switch old, ok := was[path]; {
				case ok && old != v:
					t.Errorf("requirement %s changed: %s -> %s", path, old, v)
				case !ok && !gained[path]:
					t.Errorf("the split module gained %s %s: only %s and yamux may come with the runtime", path, v, rewrite.RuntimeModule)
				}
			}
			for path := range was {
				if _, ok := requirements(after)[path]; !ok {
					t.Errorf("requirement %s is gone", path)
				}
			}
			deps := goCmd(t, dir, nil, "list", "-deps", "-f", "{{.ImportPath}}", tt.main)
			if !strings.Contains(deps, rewrite.RuntimeModule+"\n") {
				t.Errorf("%s does not link the runtime after extract; go list -deps:\n%s", tt.main, deps)
			}
			for _, dep := range strings.Fields(deps) {
				for _, bad := range never {
					if strings.HasPrefix(dep, bad) {
						t.Errorf("%s links %s after the split", tt.main, dep)
					}
				}
			}

			// -revert, then tidy: the requirements are the original ones.
			if code, stdout, stderr := meshsplit("extract", "-C", dir, "-iface", tt.iface, "-revert", "-w"); code != exitOK {
				t.Fatalf("extract -revert -w %s: exit %d\n%s%s", tt.iface, code, stdout, stderr)
			}
			goCmd(t, dir, nil, "mod", "tidy")
			reverted := readModFile(t, dir)
			if got, want := requirements(reverted), requirements(before); !sameRequirements(got, want) || goLine(reverted) != goLine(before) {
				t.Errorf("after -revert and go mod tidy: go %s, requirements %v; want go %s, %v", goLine(reverted), got, goLine(before), want)
			}
		})
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
