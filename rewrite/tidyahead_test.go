package rewrite

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// storeModule writes a module with one Store interface and its
// constructor, with the given go line and extra go.mod lines and an extra
// file (name and source; none when name is empty), and returns its
// directory.
func storeModule(t *testing.T, goLine, gomodExtra, name, src string) string {
	t.Helper()
	runtimeDir, sum := offlineRuntime(t)
	dir := t.TempDir()
	files := map[string]string{
		filepath.Join(dir, "go.mod"):         "module example.com/m\n\ngo " + goLine + "\n" + gomodExtra + "\nreplace " + RuntimeModule + " => " + runtimeDir + "\n",
		filepath.Join(dir, "go.sum"):         string(sum),
		filepath.Join(dir, "store/store.go"): "package store\n\nimport \"context\"\n\n// Store stores.\ntype Store interface {\n\tGet(ctx context.Context, id string) (string, error)\n}\n\ntype mem struct{}\n\nfunc (mem) Get(ctx context.Context, id string) (string, error) { return id, nil }\n\n// NewStore returns a Store.\nfunc NewStore() Store { return mem{} }\n",
	}
	if name != "" {
		files[filepath.Join(dir, name)] = src
	}
	writeFiles(t, files)
	return dir
}

// TestTidyAheadAsAfterThePlan checks that the 'go mod tidy' preview run
// during the load gives, for the plans of modules of several shapes, what
// the preview run after the plan on its files gives, and that the plan
// uses it (its prediction holds).
func TestTidyAheadAsAfterThePlan(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy")
	}
	for _, tc := range []struct {
		name  string
		dir   func(t *testing.T) string
		iface string
	}{
		{"shop", func(t *testing.T) string { return copyFixture(t, "shop") }, "inventory.Service"},
		{"go line below the runtime's", func(t *testing.T) string { return storeModule(t, "1.21", "", "", "") }, "store.Store"},
		{"yamux required above the runtime's", func(t *testing.T) string {
			return storeModule(t, "1.24", "\nrequire github.com/hashicorp/yamux v0.1.2\n", "mux/mux.go",
				"package mux\n\nimport \"github.com/hashicorp/yamux\"\n\n// Config is yamux's.\nvar Config = yamux.DefaultConfig\n")
		}, "store.Store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := tc.dir(t)
			gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err != nil {
				t.Fatal(err)
			}
			p, err := Extract(ctx, Options{Dir: dir, Iface: tc.iface, Force: true})
			if err != nil {
				t.Fatal(err)
			}
			if p.Refused() || !p.TidyNeeded {
				t.Fatalf("refused %v, tidy needed %v: want a plan that needs the preview", p.Refusals, p.TidyNeeded)
			}
			ahead := startTidyAhead(ctx, p.Root, gomod, nil)
			defer ahead.stop()
			before, after, ok := ahead.result(p.prog, p.Changes)
			if !ok {
				t.Fatalf("the preview run ahead does not hold for the plan (err %v)", ahead.err)
			}
			wantBefore, wantAfter, err := tidied(ctx, p.Root, p.Changes, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range [][2]interface{ Format() ([]byte, error) }{{before, wantBefore}, {after, wantAfter}} {
				got, err1 := f[0].Format()
				want, err2 := f[1].Format()
				if err1 != nil || err2 != nil || string(got) != string(want) {
					t.Errorf("go.mod from the preview ahead:\n%s\nafter the plan:\n%s", got, want)
				}
			}
			if got, want := tidyChanges(before, after), tidyChanges(wantBefore, wantAfter); !slices.Equal(got, want) {
				t.Errorf("tidy changes ahead %v, after the plan %v", got, want)
			}
			// What the plan shows is the preview's.
			var shown []string
			for _, s := range append(p.Actions, p.Manual...) {
				if strings.Contains(s.Message, "'go mod tidy' will") {
					shown = append(shown, s.Message)
				}
			}
			if len(shown) != len(tidyChanges(wantBefore, wantAfter)) {
				t.Errorf("the plan shows %q, want one line per change of %v", shown, tidyChanges(wantBefore, wantAfter))
			}
		})
	}
}

// TestTidyAheadNotForOtherPlans checks that the preview run ahead is not
// used for a plan that differs from its prediction: another go.mod, an
// import of a module the module does not import yet, or an import of
// another module dropped.
func TestTidyAheadNotForOtherPlans(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy")
	}
	ctx := context.Background()
	dir := storeModule(t, "1.24", "\nrequire github.com/hashicorp/yamux v0.1.2\n", "mux/mux.go",
		"package mux\n\nimport \"github.com/hashicorp/yamux\"\n\n// Config is yamux's.\nvar Config = yamux.DefaultConfig\n")
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Extract(ctx, Options{Dir: dir, Iface: "store.Store", Force: true})
	if err != nil || p.Refused() {
		t.Fatalf("%v %v", err, p.Refusals)
	}
	ahead := startTidyAhead(ctx, p.Root, gomod, nil)
	defer ahead.stop()
	if !ahead.coversImports(p.prog, p.Changes) {
		t.Fatal("the plan as made: the prediction should hold")
	}
	edit := func(f func(c *FileChange) bool) []FileChange {
		out := slices.Clone(p.Changes)
		for i := range out {
			if f(&out[i]) {
				return out
			}
		}
		t.Fatal("no change to edit")
		return nil
	}
	mux := filepath.Join(dir, "mux", "mux.go")
	for name, changes := range map[string][]FileChange{
		"another go.mod": edit(func(c *FileChange) bool {
			if filepath.Base(c.Path) != "go.mod" {
				return false
			}
			c.New = append(slices.Clone(c.New), "\nrequire golang.org/x/mod v0.1.0\n"...)
			return true
		}),
		"a new module imported": edit(func(c *FileChange) bool {
			if !strings.HasSuffix(c.Path, ".go") || c.New == nil {
				return false
			}
			c.New = []byte(strings.Replace(string(c.New), "import (", "import (\n\t_ \"golang.org/x/mod/modfile\"", 1))
			return strings.Contains(string(c.New), "x/mod")
		}),
		"the runtime not imported": func() []FileChange {
			var out []FileChange
			for _, c := range p.Changes {
				if !strings.HasSuffix(c.Path, ".go") {
					out = append(out, c)
				}
			}
			return out
		}(),
		"an import of another module dropped": append(slices.Clone(p.Changes), FileChange{Path: mux,
			Old: []byte("package mux\n\nimport \"github.com/hashicorp/yamux\"\n\n// Config is yamux's.\nvar Config = yamux.DefaultConfig\n"),
			New: []byte("package mux\n")}),
	} {
		if name != "another go.mod" && ahead.coversImports(p.prog, changes) {
			t.Errorf("%s: the prediction holds, want not", name)
		}
		if _, _, ok := startTidyAhead(ctx, p.Root, gomod, nil).result(p.prog, changes); ok {
			t.Errorf("%s: the preview ahead was used", name)
		}
	}
}
