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
		{"runtime", []string{"github.com/hashicorp/yamux", "github.com/gin-gonic/gin"},
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
