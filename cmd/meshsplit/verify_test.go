package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testVerifyNamesCauses extracts the tally fixture's Counter and checks
// that verify finds the four tests that pass in process and fail remote,
// explains the one that compares a test-only error by identity, and names
// the cause of each of the other three.
// It runs as a parallel subtest of TestVerifyVerdicts (which sets the
// offline environment).
func testVerifyNamesCauses(t *testing.T) {
	mod := copyModule(t, "testdata/tally")
	// Extracted with -json: the plan says it was written and that go.mod
	// needs 'go mod tidy'.
	code, stdout, stderr := meshsplit("extract", "-C", mod, "-iface", "tally.Counter", "-w", "-json")
	var plan struct {
		Written    bool `json:"written"`
		TidyNeeded bool `json:"tidy_needed"`
		Files      []struct{ Path string }
	}
	if code != exitOK || json.Unmarshal([]byte(stdout), &plan) != nil || !plan.Written || !plan.TidyNeeded || len(plan.Files) == 0 {
		t.Fatalf("extract -w -json: exit %d, plan %+v\n%s%s", code, plan, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(mod, "tally", "counter_mesh.go")); err != nil {
		t.Fatalf("extract -w -json wrote no mesh file: %v", err)
	}
	code, stdout, stderr = meshsplit("verify", "-C", mod, "-iface", "tally.Counter")
	if code != exitFailure {
		t.Fatalf("verify: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"example.com/tally/tally  5 pass  1 pass, 4 FAIL  3\n",
		"explained differences (not failing: the value compared exists only in test code):\n  example.com/tally/tally.TestCheckIdentity: errBoom (tally/tally_test.go:11) is declared in test code and compared by identity at tally/tally_test.go:26;",
		"3 differ:",
		"tally.TestFill: local Pass, remote Fail",
		"a write through a parameter the caller never sees (tally/tally.go:27:28): items ([]Item): (*memory).Fill writes into it",
		"tally.TestTrackBump: local Pass, remote Fail\n      a write through a pointer the caller keeps: tally/tally_test.go:48 passes it (*Item) to Track;",
		"tally.TestLogByTime: local Pass, remote Fail",
		"a time.Time map key (tally/tally.go:36:27): events is a map keyed by time.Time: a time compares its Location pointer too",
		"so the receiver's keys equal the caller's only for UTC times",
		"first failure: tally_test.go:",
		"FAIL: 3 test(s) differ between the runs\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "pointer aliasing") {
		t.Errorf("verify guessed pointer aliasing:\n%s", stdout)
	}
	if strings.Contains(stdout, "TestAdd:") {
		t.Errorf("TestAdd passes both ways but is listed:\n%s", stdout)
	}
}

func TestVerifyUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"verify"}, exitUsage, "-iface is required"},
		{[]string{"verify", "-iface", "a.B", "./...", "-json"}, exitUsage, `flag "-json" after the package patterns`},
		{[]string{"verify", "-bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"verify", "-C", "/nonexistent/dir", "-iface", "a.B"}, exitFailure, "does not exist"},
	}
	for _, tt := range tests {
		code, _, stderr := meshsplit(tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("meshsplit %v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}
