package rewrite

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshsplit/meshsplit/analyze"
)

// TestCheckInProcessExternalTests checks a module whose external tests
// import a helper package that imports the package under test: go test
// builds the helper again against the package with its tests, and so must
// the in-process check, or the helper's ledger.Entry and the test's are two
// types.
func TestCheckInProcessExternalTests(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, map[string]string{
		filepath.Join(dir, "go.mod"):                        "module example.com/m\n\ngo 1.24\n",
		filepath.Join(dir, "ledger/ledger.go"):              "package ledger\n\n// Entry is a line.\ntype Entry struct{ Amount int }\n\n// Check checks an entry.\ntype Check struct{ Fn func(Entry) error }\n",
		filepath.Join(dir, "ledger/internal_test.go"):       "package ledger\n\nimport \"testing\"\n\nfunc TestEntry(t *testing.T) { _ = Entry{} }\n",
		filepath.Join(dir, "ledger/check_test.go"):          "package ledger_test\n\nimport (\n\t\"testing\"\n\n\t\"example.com/m/ledger\"\n\t\"example.com/m/ledgertest\"\n)\n\nfunc TestCheck(t *testing.T) {\n\tc := ledger.Check{Fn: ledgertest.FailingCheck}\n\t_ = c\n}\n",
		filepath.Join(dir, "ledgertest/ledgertest.go"):      "// Package ledgertest helps tests of ledger.\npackage ledgertest\n\nimport (\n\t\"errors\"\n\n\t\"example.com/m/ledger\"\n)\n\n// FailingCheck fails every entry.\nfunc FailingCheck(ledger.Entry) error { return errors.New(\"no\") }\n",
		filepath.Join(dir, "ledgertest/ledgertest_test.go"): "package ledgertest\n\nimport \"testing\"\n\nfunc TestFailing(t *testing.T) {}\n",
	})
	prog, err := analyze.Load(context.Background(), analyze.Config{Dir: dir, Tests: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(prog.Errors) > 0 {
		t.Fatalf("the fixture does not type-check: %v", prog.Errors)
	}
	errs, err := checkInProcess(context.Background(), prog, nil, nil, nil, nil)
	if err != nil || len(errs) > 0 {
		t.Fatalf("checkInProcess = %q, %v; want no error", errs, err)
	}
}

// TestCheckWithExportAhead extracts with Options.Write, so that the
// runtime's export data is fetched while the module loads, and checks that
// it is not offered for another go.mod, and that Apply's check, with no go
// command left to run, is served by it and still catches a misuse of the
// runtime's API in the generated code (only the export data of the
// packages the plan's files miss is read, not of their dependencies).
func TestCheckWithExportAhead(t *testing.T) {
	dir := copyFixture(t, "shop")
	ctx := context.Background()
	p, err := Extract(ctx, Options{Dir: dir, Iface: "inventory.Service", Force: true, Write: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.ahead == nil {
		t.Fatal("Extract with Write fetched nothing ahead")
	}
	gomod, _, err := planned(p.Root, p.Changes)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.ahead.files(gomod, map[string]bool{RuntimeModule: true}); !ok {
		t.Fatalf("the export data fetched ahead does not serve the plan's go.mod (err %v)", p.ahead.err)
	}
	if _, ok := p.ahead.files(append(gomod, '\n'), map[string]bool{RuntimeModule: true}); ok {
		t.Fatal("the export data fetched ahead served another go.mod")
	}

	// From here on no go command can run: the checks below must be served
	// by what was fetched ahead, or fail.
	t.Setenv("PATH", "")

	// A generated file that calls what the runtime does not export.
	broken := *p
	broken.Changes = append([]FileChange(nil), p.Changes...)
	found := false
	for i, c := range broken.Changes {
		if c.New != nil && bytes.Contains(c.New, []byte("meshrt.Connect")) {
			broken.Changes[i].New = bytes.Replace(c.New, []byte("meshrt.Connect"), []byte("meshrt.NoSuchConnect"), 1)
			found = true
			break
		}
	}
	if !found {
		t.Fatal("no generated file uses meshrt.Connect: update the test to another runtime name")
	}
	errs, err := broken.check(ctx)
	if err != nil || len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "NoSuchConnect") {
		t.Fatalf("check of a plan misusing the runtime = %q, %v; want an error naming NoSuchConnect", errs, err)
	}
	if errs, err := p.check(ctx); err != nil || len(errs) > 0 {
		t.Fatalf("check of the plan = %q, %v; want none without the go command (a package the generated code imports missing from aheadPackages?)", errs, err)
	}
}

// TestCheckInProcessAPI checks what the check re-checks when a plan edits
// one package: its importers only when its API changed, and then they must
// see the errors; when it only grew, code that mixes the package with an
// unchanged importer of it must not see two versions of its types.
func TestCheckInProcessAPI(t *testing.T) {
	const (
		store = "package store\n\n// Item is stored.\ntype Item struct{ ID string }\n\n// Get gets an item.\nfunc Get(id string) Item { return Item{ID: id} }\n"
		cache = "package cache\n\nimport \"example.com/m/store\"\n\n// Hot returns a cached item.\nfunc Hot() store.Item { return store.Get(\"hot\") }\n"
		user  = "package user\n\nimport \"example.com/m/store\"\n\n// Name names an item.\nfunc Name() string { return store.Get(\"x\").ID }\n"
	)
	tests := []struct {
		name    string
		files   map[string]string // besides go.mod, store, cache and user
		edit    map[string]string // path -> new content ("" removes)
		wantErr string            // "" for none
	}{{
		name: "grown, not broken",
		edit: map[string]string{"store/more.go": "package store\n\n// Put puts an item.\nfunc Put(Item) {}\n"},
	}, {
		name:    "a removed function breaks its importer",
		edit:    map[string]string{"store/store.go": "package store\n\n// Item is stored.\ntype Item struct{ ID string }\n"},
		wantErr: "user/user.go:6:",
	}, {
		name: "a removed field breaks an importer through another package",
		files: map[string]string{
			"report/report.go": "package report\n\nimport \"example.com/m/cache\"\n\n// Line reports the hot item.\nfunc Line() string { return cache.Hot().ID }\n",
		},
		edit:    map[string]string{"store/store.go": "package store\n\n// Item is stored.\ntype Item struct{ Key string }\n\n// Get gets an item.\nfunc Get(id string) Item { return Item{Key: id} }\n"},
		wantErr: "report/report.go:6:",
	}, {
		name: "a new package mixes the edited one with an unchanged importer of it",
		files: map[string]string{
			"app/app.go": "package app\n\nimport \"example.com/m/cache\"\n\n// ID is the hot item's.\nvar ID = cache.Hot().ID\n",
		},
		edit: map[string]string{
			"store/more.go": "package store\n\n// Put puts an item.\nfunc Put(Item) {}\n",
			"warm/warm.go":  "package warm\n\nimport (\n\t\"example.com/m/cache\"\n\t\"example.com/m/store\"\n)\n\n// Warm puts the hot item back.\nfunc Warm() { store.Put(cache.Hot()) }\n",
		},
	}, {
		name: "a new name clashes in a package that dot-imports it",
		files: map[string]string{
			"dot/dot.go": "package dot\n\nimport . \"example.com/m/store\"\n\n// Put clashes with nothing yet.\nfunc Put() {}\n\nvar _ = Get\n",
		},
		edit:    map[string]string{"store/more.go": "package store\n\n// Put puts an item.\nfunc Put(Item) {}\n"},
		wantErr: "dot/dot.go:",
	}, {
		name: "a new method makes an importer's selector ambiguous",
		files: map[string]string{
			"both/both.go": "package both\n\nimport \"example.com/m/store\"\n\ntype named struct{}\n\nfunc (named) Name() string { return \"n\" }\n\n// Pair embeds both.\ntype Pair struct {\n\tstore.Item\n\tnamed\n}\n\n// N names the pair.\nfunc N(p Pair) string { return p.Name() }\n",
		},
		edit:    map[string]string{"store/more.go": "package store\n\n// Name names the item.\nfunc (i Item) Name() string { return i.ID }\n"},
		wantErr: "both/both.go:",
	}, {
		name: "a test that uses what an edit removed",
		files: map[string]string{
			"audit/audit.go":      "package audit\n",
			"audit/audit_test.go": "package audit\n\nimport (\n\t\"testing\"\n\n\t\"example.com/m/store\"\n)\n\nfunc TestGet(t *testing.T) { _ = store.Get(\"a\") }\n",
		},
		edit:    map[string]string{"store/store.go": "package store\n\n// Item is stored.\ntype Item struct{ ID string }\n"},
		wantErr: "audit/audit_test.go:",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"go.mod": "module example.com/m\n\ngo 1.24\n", "store/store.go": store, "cache/cache.go": cache, "user/user.go": user}
			for k, v := range tt.files {
				files[k] = v
			}
			abs := map[string]string{}
			for k, v := range files {
				abs[filepath.Join(dir, k)] = v
			}
			writeFiles(t, abs)
			prog, err := analyze.Load(context.Background(), analyze.Config{Dir: dir, Tests: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(prog.Errors) > 0 {
				t.Fatalf("the fixture does not type-check: %v", prog.Errors)
			}
			var changes []FileChange
			for k, v := range tt.edit {
				c := FileChange{Path: filepath.Join(dir, k), Old: []byte(files[k])}
				if v != "" {
					c.New = []byte(v)
				}
				changes = append(changes, c)
			}
			errs, err := checkInProcess(context.Background(), prog, changes, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(errs, "\n")
			if tt.wantErr == "" && len(errs) > 0 || tt.wantErr != "" && !strings.Contains(got, tt.wantErr) {
				t.Fatalf("checkInProcess = %q; want an error at %q", errs, tt.wantErr)
			}
			// The go command agrees.
			cmdErrs, err := typeCheck(context.Background(), dir, changes, nil)
			if err != nil {
				t.Fatal(err)
			}
			if (len(cmdErrs) > 0) != (len(errs) > 0) {
				t.Fatalf("typeCheck = %q, checkInProcess = %q: they disagree", cmdErrs, errs)
			}
		})
	}
}
