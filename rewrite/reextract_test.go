package rewrite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReextractAfterInterfaceChange extracts an interface with -w, adds a
// method to it, and expects the next plan to regenerate the mesh file and
// leave the switched constructor alone; then -revert gives the original
// bytes of the edited tree back.
func TestReextractAfterInterfaceChange(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks a module with the runtime twice")
	}
	runtimeDir, sum := offlineRuntime(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "store", "store.go")
	const before = "package store\n\nimport \"context\"\n\n// Store stores strings.\ntype Store interface {\n\tGet(ctx context.Context, id string) (string, error)\n}\n\ntype mem struct{}\n\nfunc (mem) Get(ctx context.Context, id string) (string, error) { return id, nil }\n\nfunc (mem) Put(ctx context.Context, id string) error { return nil }\n\n// NewStore returns a Store.\nfunc NewStore() Store { return mem{} }\n"
	writeFiles(t, map[string]string{
		filepath.Join(dir, "go.mod"): "module example.com/m\n\ngo 1.26\n\nreplace " + RuntimeModule + " => " + runtimeDir + "\n",
		filepath.Join(dir, "go.sum"): string(sum),
		store:                        before,
	})
	ctx := context.Background()
	extract := func(revert bool) *Plan {
		t.Helper()
		p, err := Extract(ctx, Options{Dir: dir, Iface: "store.Store", Revert: revert})
		if err != nil {
			t.Fatal(err)
		}
		if p.Refused() {
			t.Fatalf("refused: %v", p.Refusals)
		}
		return p
	}
	if err := extract(false).Apply(ctx, Writer{}); err != nil {
		t.Fatal(err)
	}
	original := map[string]string{store: before}

	// The interface gains Put: only the generated file changes.
	src, _ := os.ReadFile(store)
	edited := strings.Replace(string(src), "\tGet(ctx context.Context, id string) (string, error)\n}", "\tGet(ctx context.Context, id string) (string, error)\n\t// Put stores id.\n\tPut(ctx context.Context, id string) error\n}", 1)
	writeFiles(t, map[string]string{store: edited})
	original[store] = strings.Replace(before, "\tGet(ctx context.Context, id string) (string, error)\n}", "\tGet(ctx context.Context, id string) (string, error)\n\t// Put stores id.\n\tPut(ctx context.Context, id string) error\n}", 1)
	p := extract(false)
	var changed []string
	for _, c := range p.Changes {
		changed = append(changed, p.Rel(c.Path))
	}
	if strings.Join(changed, " ") != "store/store_mesh.go" {
		t.Fatalf("after the interface changed, the plan changes %v, want only store/store_mesh.go", changed)
	}
	if !strings.Contains(string(p.Changes[0].New), "func (c *StoreMeshClient) Put(") {
		t.Error("the regenerated file has no Put")
	}
	if err := p.Apply(ctx, Writer{}); err != nil {
		t.Fatal(err)
	}
	if p := extract(false); len(p.Changes) != 0 {
		t.Fatalf("third run plans %d changes, want none", len(p.Changes))
	}

	// Revert: the edited interface, with the original constructor.
	if err := extract(true).Apply(ctx, Writer{}); err != nil {
		t.Fatal(err)
	}
	wantFiles(t, original)
	for _, gone := range []string{"store/store_mesh.go", "cmd/store-svc"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s left behind after -revert", gone)
		}
	}
	if mod, _ := os.ReadFile(filepath.Join(dir, "go.mod")); strings.Contains(string(mod), "require") {
		t.Errorf("go.mod still requires meshsplit:\n%s", mod)
	}
}

// TestConstructorOutsideThePackage extracts an interface whose only
// implementation and constructor live in a subpackage: the constructor
// switches through the exported Switch<Iface>, the result type-checks, the
// service command builds it, and -revert gives the original bytes back.
func TestConstructorOutsideThePackage(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks a module with the runtime twice")
	}
	runtimeDir, sum := offlineRuntime(t)
	dir := t.TempDir()
	original := map[string]string{
		filepath.Join(dir, "go.mod"):            "module example.com/m\n\ngo 1.26\n\nreplace " + RuntimeModule + " => " + runtimeDir + "\n",
		filepath.Join(dir, "go.sum"):            string(sum),
		filepath.Join(dir, "store", "store.go"): "// Package store declares the Store seam.\npackage store\n\nimport \"context\"\n\n// Store stores strings.\ntype Store interface {\n\tGet(ctx context.Context, id string) (string, error)\n}\n",
		// The implementation and its constructor live in a subpackage.
		filepath.Join(dir, "store", "memstore", "memstore.go"): "// Package memstore keeps a Store in memory.\npackage memstore\n\nimport (\n\t\"context\"\n\n\t\"example.com/m/store\"\n)\n\ntype mem struct{ prefix string }\n\nfunc (m mem) Get(ctx context.Context, id string) (string, error) { return m.prefix + id, nil }\n\n// New returns an in-memory Store.\nfunc New(prefix string) store.Store { return mem{prefix: prefix} }\n",
	}
	writeFiles(t, original)
	ctx := context.Background()
	p, err := Extract(ctx, Options{Dir: dir, Iface: "store.Store"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Refused() {
		t.Fatalf("refused: %v", p.Refusals)
	}
	if err := p.Apply(ctx, Writer{}); err != nil {
		t.Fatal(err)
	}
	mem, _ := os.ReadFile(filepath.Join(dir, "store", "memstore", "memstore.go"))
	sw, _ := os.ReadFile(filepath.Join(dir, "store", switchFileName("Store")))
	svc, _ := os.ReadFile(filepath.Join(dir, "cmd", "store-svc", "main.go"))
	for _, c := range []struct{ file, src, want string }{
		{"memstore.go", string(mem), "if remote, ok := store.SwitchStore(func() store.Store {\n\t\treturn newLocal(prefix)\n\t}); ok {"},
		{"memstore.go", string(mem), "// newLocal is the original New, unchanged.\nfunc newLocal(prefix string) store.Store {"},
		{"store_mesh_switch.go", string(sw), "func SwitchStore(local func() Store) (Store, bool) { return meshStore(local) }"},
		{"cmd/store-svc/main.go", string(svc), "impl := memstore.New(d.Prefix)"},
	} {
		if !strings.Contains(c.src, c.want) {
			t.Errorf("%s lacks %q:\n%s", c.file, c.want, c.src)
		}
	}
	if p, err := Extract(ctx, Options{Dir: dir, Iface: "store.Store"}); err != nil || len(p.Changes) != 0 {
		t.Fatalf("second run: %v, %d changes", err, len(p.Changes))
	}
	p, err = Extract(ctx, Options{Dir: dir, Iface: "store.Store", Revert: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(ctx, Writer{}); err != nil {
		t.Fatal(err)
	}
	wantFiles(t, original)
}
