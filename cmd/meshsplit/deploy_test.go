package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeployCommand runs 'meshsplit deploy' on the split shop fixture of
// internal/deploy: exit codes, the report, and one line per refusal.
func TestDeployCommand(t *testing.T) {
	root := filepath.Join(t.TempDir(), "shop")
	if err := os.CopyFS(root, os.DirFS("../../internal/deploy/testdata/shop")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"writes", []string{"-C", root}, exitOK, "create    deploy/compose.yaml"},
		{"again", []string{"-C", root}, exitOK, "unchanged deploy/compose.yaml"},
		{"output outside", []string{"-C", root, "-o", "../x"}, exitUsage, "must be inside the module"},
		{"argument", []string{"-C", root, "extra"}, exitUsage, `unexpected argument "extra"`},
		{"no module", []string{"-C", t.TempDir()}, exitFailure, "no go.mod"},
		{"bad main", []string{"-C", root, "-main", "./nowhere"}, exitFailure, "-main ./nowhere: no main package there"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"deploy"}, tc.args...), &stdout, &stderr)
			out := stdout.String() + stderr.String()
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Fatalf("meshsplit deploy %v: exit %d\n%s\nwant exit %d and %q", tc.args, code, out, tc.code, tc.out)
			}
			if code != exitOK && strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Fatalf("want one line on stderr, got:\n%s", stderr.String())
			}
		})
	}
}
