package rewrite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshsplit/meshsplit/analyze"
)

// TestRequireRuntimeRoundTrip checks what extract does to go.mod: it adds
// the runtime module and nothing else (go line, toolchain line, other
// requirements and the file's layout stay), in the main require block, and
// -revert gives the file back byte for byte.
func TestRequireRuntimeRoundTrip(t *testing.T) {
	const rt = "\t" + RuntimeModule + " " + zeroVersion + "\n"
	tests := []struct {
		name, gomod string
		want        string // the go.mod after requireRuntime
	}{
		{"replace only",
			"module example.com/shop\n\ngo 1.26\n\nreplace " + RuntimeModule + " => ../../runtime\n",
			"module example.com/shop\n\ngo 1.26\n\nreplace " + RuntimeModule + " => ../../runtime\n\nrequire " + RuntimeModule + " " + zeroVersion + "\n"},
		{"direct and indirect blocks, toolchain line",
			"module example.com/m\n\ngo 1.24.0\n\ntoolchain go1.24.5\n\nrequire (\n\texample.com/a v1.0.0\n\texample.com/z v1.2.0\n\tgo.uber.org/zap v1.27.0\n)\n\nrequire example.com/c v0.3.0 // indirect\n",
			"module example.com/m\n\ngo 1.24.0\n\ntoolchain go1.24.5\n\nrequire (\n\texample.com/a v1.0.0\n\texample.com/z v1.2.0\n" + rt + "\tgo.uber.org/zap v1.27.0\n)\n\nrequire example.com/c v0.3.0 // indirect\n"},
		{"one-line block stays a block",
			"module example.com/m\n\ngo 1.22\n\nrequire (\n\texample.com/a v1.0.0\n)\n",
			"module example.com/m\n\ngo 1.22\n\nrequire (\n\texample.com/a v1.0.0\n" + rt + ")\n"},
		{"single require line",
			"module example.com/m\n\ngo 1.23\n\nrequire example.com/a v1.0.0\n\nreplace example.com/a => ./a\n",
			"module example.com/m\n\ngo 1.23\n\nrequire example.com/a v1.0.0\n\nrequire " + RuntimeModule + " " + zeroVersion + "\n\nreplace example.com/a => ./a\n"},
		{"no go line",
			"module example.com/old\n\nrequire (\n\texample.com/a v1.0.0 // pinned: see ISSUE-12\n)\n",
			"module example.com/old\n\nrequire (\n\texample.com/a v1.0.0 // pinned: see ISSUE-12\n" + rt + ")\n"},
		{"bare", "module example.com/shop\n\ngo 1.26\n",
			"module example.com/shop\n\ngo 1.26\n\nrequire " + RuntimeModule + " " + zeroVersion + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, changed, err := requireRuntime("go.mod", []byte(tt.gomod))
			if err != nil || !changed {
				t.Fatalf("requireRuntime = %v, %v", changed, err)
			}
			if string(added) != tt.want {
				t.Errorf("requireRuntime:\n%s", UnifiedDiff("go.mod", []byte(tt.want), added, false))
			}
			again, changed, err := requireRuntime("go.mod", added)
			if err != nil || changed || string(again) != string(added) {
				t.Fatalf("second requireRuntime changed the file: %v %v\n%s", changed, err, again)
			}
			back, changed, err := dropRuntime("go.mod", added)
			if err != nil || !changed {
				t.Fatalf("dropRuntime = %v, %v", changed, err)
			}
			if string(back) != tt.gomod {
				t.Errorf("add then drop:\n%s", UnifiedDiff("go.mod", []byte(tt.gomod), back, false))
			}
		})
	}
}

// TestRequireRuntimeReplacesToolModule checks a go.mod an older meshsplit
// edited: its require of meshsplit's own module goes, as that module and the
// runtime module would both provide the runtime package.
func TestRequireRuntimeReplacesToolModule(t *testing.T) {
	old := "module example.com/m\n\ngo 1.26\n\nrequire (\n\t" + toolModule + " v0.4.0\n\texample.com/a v1.0.0\n)\n"
	added, changed, err := requireRuntime("go.mod", []byte(old))
	if err != nil || !changed {
		t.Fatalf("requireRuntime = %v, %v", changed, err)
	}
	if strings.Contains(string(added), toolModule+" ") || !strings.Contains(string(added), RuntimeModule+" ") {
		t.Errorf("requireRuntime kept %s or did not add %s:\n%s", toolModule, RuntimeModule, added)
	}
}

// TestVendorStep checks that a vendoring module is told to run 'go mod
// vendor' too: its vendor/ must list the runtime, or the build fails.
func TestVendorStep(t *testing.T) {
	tests := []struct {
		name    string
		vendors bool
		want    string
	}{
		{"no vendor directory", false, ""},
		{"vendor/modules.txt", true, ", then 'go mod vendor' (this module vendors its dependencies)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if tt.vendors {
				if err := os.MkdirAll(filepath.Join(root, "vendor"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, "vendor", "modules.txt"), []byte("# example.com/a v1.0.0\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p := &planner{prog: &analyze.Program{Root: root}}
			if got := p.vendorStep(); got != tt.want {
				t.Errorf("vendorStep() = %q, want %q", got, tt.want)
			}
		})
	}
}
