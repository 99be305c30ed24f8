package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshsplit/meshsplit/rewrite"
	"golang.org/x/mod/modfile"
)

// TestDependencyLine checks the dependency line of docs/design.md: which
// packages each part may and may not pull in, directly or not.
func TestDependencyLine(t *testing.T) {
	const mod = "github.com/meshsplit/meshsplit/"
	tests := []struct {
		pkg   string
		needs []string // packages it imports, directly or not
		never []string // path prefixes it must not import
	}{
		{"analyze", []string{"golang.org/x/tools/go/packages", "golang.org/x/tools/refactor/satisfy"},
			[]string{mod + "rewrite", mod + "runtime", "github.com/dave/dst"}},
		{"rewrite", []string{mod + "analyze", mod + "rewrite/gen", "github.com/dave/dst", "golang.org/x/tools/go/ast/astutil", "golang.org/x/mod/modfile"},
			[]string{mod + "runtime", mod + "rewrite/verify"}},
		{"rewrite/gen", nil,
			[]string{mod + "analyze", mod + "runtime", "github.com/dave/dst", "golang.org/x/tools/go/packages"}},
		{"rewrite/verify", []string{mod + "analyze"},
			[]string{mod + "rewrite/gen", "github.com/dave/dst", mod + "runtime"}},
		// The runtime, linked into every user binary, is yamux and the
		// standard library: no router, no x/tools or dst.
		{"runtime", []string{"github.com/hashicorp/yamux"},
			[]string{mod + "analyze", mod + "rewrite", mod + "internal", "golang.org/x/tools", "github.com/dave/dst",
				"github.com/gin-gonic/gin", "github.com/quic-go", "go.mongodb.org", "google.golang.org/protobuf"}},
		// gin is the gateway's router, in the tool's module.
		{"internal/gateway", []string{mod + "runtime", "github.com/gin-gonic/gin"},
			[]string{mod + "analyze", mod + "rewrite", "golang.org/x/tools", "github.com/dave/dst"}},
	}
	for _, tt := range tests {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", mod+tt.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", tt.pkg, err, out)
		}
		deps := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			deps[d] = true
		}
		for _, n := range tt.needs {
			if !deps[n] {
				t.Errorf("%s no longer imports %s: update docs/design.md's dependency line and this test", tt.pkg, n)
			}
		}
		for d := range deps {
			for _, bad := range tt.never {
				if d != mod+tt.pkg && (d == bad || strings.HasPrefix(d, bad+"/")) {
					t.Errorf("%s imports %s, against docs/design.md's dependency line", tt.pkg, d)
				}
			}
		}
	}
}

// TestRuntimeModuleIsLean checks the runtime's go.mod: every user module
// that meshsplit splits gains this module's requirements and go line, so it
// requires yamux alone (not even for its tests) and says go 1.24.
func TestRuntimeModuleIsLean(t *testing.T) {
	path := filepath.Join("..", "..", "runtime", "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Module.Mod.Path != rewrite.RuntimeModule {
		t.Errorf("%s: module %s, want %s (the import path generated code uses)", path, f.Module.Mod.Path, rewrite.RuntimeModule)
	}
	if f.Go == nil || f.Go.Version != "1.24" || f.Toolchain != nil {
		t.Errorf("%s: want the line 'go 1.24' and no toolchain line: a higher go line raises every user's", path)
	}
	var reqs []string
	for _, r := range f.Require {
		reqs = append(reqs, r.Mod.Path)
	}
	if len(reqs) != 1 || reqs[0] != "github.com/hashicorp/yamux" || len(f.Replace) > 0 {
		t.Errorf("%s requires %v and has %d replaces, want github.com/hashicorp/yamux alone and none", path, reqs, len(f.Replace))
	}
}
