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
// Apply's check is served by it and still catches a misuse of the runtime's
// API in the generated code (only the runtime's own export data is read,
// not its dependencies'), and that a plan whose go.mod differs from the one
// fetched for falls back to the go command.
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
		t.Fatalf("check of the plan = %q, %v; want none", errs, err)
	}
}
