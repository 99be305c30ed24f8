package main

import (
	"os/exec"
	"strings"
	"testing"
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
		{pkg: "cmd/meshsplit", needs: []string{mod + "analyze", mod + "rewrite", mod + "verify"}},
		{pkg: "analyze",
			needs: []string{"golang.org/x/tools/go/packages", "golang.org/x/tools/go/types/typeutil", "golang.org/x/tools/refactor/satisfy", "golang.org/x/mod/modfile", mod + "internal/wiretype"},
			never: []string{mod + "rewrite", mod + "verify", mod + "runtime", "github.com/dave/dst"}},
		{pkg: "rewrite",
			needs: []string{mod + "analyze", mod + "rewrite/gen", mod + "internal/wiretype", "github.com/dave/dst", "golang.org/x/tools/go/packages", "golang.org/x/tools/go/ast/astutil", "golang.org/x/mod/modfile", "golang.org/x/mod/module"},
			never: []string{mod + "runtime", mod + "verify"}},
		{pkg: "rewrite/gen",
			needs: []string{mod + "internal/wiretype", "golang.org/x/tools/go/types/typeutil"},
			never: []string{mod + "analyze", mod + "runtime", mod + "verify", "github.com/dave/dst", "golang.org/x/tools/go/packages", "golang.org/x/mod"}},
		{pkg: "verify",
			needs: []string{mod + "analyze"},
			never: []string{mod + "rewrite", "github.com/dave/dst", mod + "runtime"}},
		{pkg: "internal/wiretype", needs: []string{"go/types"}, stdOnly: true},
		{pkg: "runtime", needs: []string{"github.com/hashicorp/yamux", "github.com/gin-gonic/gin"},
			never: []string{mod + "analyze", mod + "rewrite", "golang.org/x/tools", "github.com/dave/dst"}},
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
