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
		pkg     string
		needs   []string // packages it imports, directly or not
		never   []string // path prefixes it must not import
		stdOnly bool     // it imports the standard library only
	}{
		{pkg: "cmd/meshsplit", needs: []string{mod + "analyze", mod + "rewrite", mod + "verify", mod + "impact", mod + "internal/gateway", mod + "internal/deploy"}},
		{pkg: "analyze",
			needs: []string{"golang.org/x/tools/go/packages", "golang.org/x/tools/go/types/typeutil", "golang.org/x/tools/refactor/satisfy", "golang.org/x/mod/modfile", mod + "internal/wiretype"},
			never: []string{mod + "rewrite", mod + "verify", mod + "impact", mod + "runtime", "github.com/dave/dst", "github.com/chromedp"}},
		{pkg: "rewrite",
			needs: []string{mod + "analyze", mod + "rewrite/gen", mod + "internal/wiretype", "github.com/dave/dst", "golang.org/x/tools/go/packages", "golang.org/x/tools/go/ast/astutil", "golang.org/x/mod/modfile", "golang.org/x/mod/module"},
			never: []string{mod + "runtime", mod + "verify"}},
		{pkg: "rewrite/gen",
			needs: []string{mod + "internal/wiretype", "golang.org/x/tools/go/types/typeutil"},
			never: []string{mod + "analyze", mod + "runtime", mod + "verify", "github.com/dave/dst", "golang.org/x/tools/go/packages", "golang.org/x/mod"}},
		{pkg: "verify",
			needs: []string{mod + "analyze"},
			never: []string{mod + "rewrite", "github.com/dave/dst", mod + "runtime"}},
		{pkg: "impact", needs: []string{mod + "analyze", mod + "verify", mod + "runtime"},
			never: []string{mod + "rewrite", "github.com/dave/dst", "github.com/chromedp"}},
		{pkg: "internal/wiretype", needs: []string{"go/types"}, stdOnly: true},
		// The runtime, linked into every user binary, is yamux and the
		// standard library: no router, no x/tools or dst.
		{pkg: "runtime", needs: []string{"github.com/hashicorp/yamux"},
			never: []string{mod + "analyze", mod + "rewrite", mod + "verify", mod + "internal", "golang.org/x/tools", "github.com/dave/dst",
				"github.com/gin-gonic/gin", "github.com/quic-go", "go.mongodb.org", "google.golang.org/protobuf"}},
		// deploy reads and writes files; the k8s types are for its tests only.
		{pkg: "internal/deploy", needs: []string{"golang.org/x/mod/modfile"},
			never: []string{mod + "analyze", mod + "rewrite", mod + "verify", mod + "runtime", "k8s.io", "sigs.k8s.io", "github.com/gin-gonic/gin"}},
		// gin is the gateway's router, in the tool's module.
		{pkg: "internal/gateway", needs: []string{mod + "runtime", "github.com/gin-gonic/gin"},
			never: []string{mod + "analyze", mod + "rewrite", mod + "verify", "golang.org/x/tools", "github.com/dave/dst"}},
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
			if tt.stdOnly && d != mod+tt.pkg && strings.Contains(strings.Split(d, "/")[0], ".") {
				t.Errorf("%s imports %s, but it may import the standard library only (docs/design.md's dependency line)", tt.pkg, d)
			}
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
