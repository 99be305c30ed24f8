package analyze

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWorkspaceEnv(t *testing.T) {
	tests := []struct {
		name    string
		work    string // go.work in the parent of the module; "" for none
		env     []string
		wantOff bool   // GOWORK=off appended
		note    string // substring of the note; "" for no note
	}{
		{"no go.work", "", nil, false, ""},
		{"lists the module", "go 1.26\n\nuse ./m\n", nil, false, "using the workspace"},
		{"lists it by absolute path", "go 1.26\n\nuse ABS\n", nil, false, "using the workspace"},
		{"lists another module", "go 1.26\n\nuse ./other\n", nil, true, "does not list"},
		{"malformed", "go 1.26\n\nuse (\n", nil, true, "GOWORK=off"},
		{"the environment decides", "go 1.26\n\nuse ./other\n", []string{"GOWORK=off"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			root := filepath.Join(parent, "m")
			if err := os.MkdirAll(root, 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.work != "" {
				work := strings.ReplaceAll(tt.work, "ABS", root)
				if err := os.WriteFile(filepath.Join(parent, "go.work"), []byte(work), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			env := append([]string{"HOME=/nowhere"}, tt.env...)
			out, note := workspaceEnv(root, env)
			if off := slices.Contains(out[len(env):], "GOWORK=off"); off != tt.wantOff {
				t.Errorf("GOWORK=off added: %v, want %v (env %v)", off, tt.wantOff, out)
			}
			if (tt.note == "") != (note == "") || !strings.Contains(note, tt.note) {
				t.Errorf("note %q, want one containing %q", note, tt.note)
			}
		})
	}
}
