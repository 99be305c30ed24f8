package rewrite

import (
	"context"
	"path/filepath"
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
	errs, err := checkInProcess(context.Background(), prog, nil, nil)
	if err != nil || len(errs) > 0 {
		t.Fatalf("checkInProcess = %q, %v; want no error", errs, err)
	}
}
