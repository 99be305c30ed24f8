package verify

import (
	"bytes"
	"strings"
	"testing"
)

// events builds go test -json lines.
func events(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

func TestCompare(t *testing.T) {
	local, err := parseEvents(events(
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"pass","Package":"p","Test":"TestB"}`,
		`{"Action":"skip","Package":"p","Test":"TestC"}`,
		`{"Action":"pass","Package":"p"}`,
		`not json: build output`,
	))
	if err != nil {
		t.Fatal(err)
	}
	remote, err := parseEvents(events(
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:12: got 0, want 4\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestB"}`,
		`{"Action":"skip","Package":"p","Test":"TestC"}`,
		`{"Action":"fail","Package":"p"}`,
		`{"Action":"fail","Package":"q"}`,
	))
	if err != nil {
		t.Fatal(err)
	}
	got := compare(local, remote)
	want := []Result{
		{Package: "p", Local: "pass", Remote: "fail"},
		{Package: "p", Test: "TestA", Local: "pass", Remote: "pass"},
		{Package: "p", Test: "TestB", Local: "pass", Remote: "fail", Output: []string{"    b_test.go:12: got 0, want 4"}},
		{Package: "p", Test: "TestC", Local: "skip", Remote: "skip"},
		{Package: "q", Local: "", Remote: "fail"},
	}
	if len(got) != len(want) {
		t.Fatalf("compare = %+v", got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Package != w.Package || g.Test != w.Test || g.Local != w.Local || g.Remote != w.Remote || strings.Join(g.Output, "|") != strings.Join(w.Output, "|") {
			t.Errorf("result %d = %+v, want %+v", i, g, w)
		}
	}

	rep := &Report{Seam: "example.com/m/p.I", Results: got}
	rep.Results[2].Causes = []string{"pointer aliasing (p/p.go:3:4): x", "first failure: b_test.go:12: got 0, want 4"}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"p        2 pass, 1 skip  1 pass, 1 FAIL, 1 skip  1",
		"q        0 pass          0 pass                  1",
		"2 differ:",
		"  p.TestB: local Pass, remote Fail\n      pointer aliasing (p/p.go:3:4): x\n      first failure: b_test.go:12: got 0, want 4\n",
		"  q: local did not run, remote Fail",
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, b.String())
		}
	}
	if !rep.Failed() {
		t.Error("a report with differences did not fail")
	}
}

func TestReportFailedStep(t *testing.T) {
	rep := &Report{Seam: "m.I", FailedStep: "go vet ./...", Failure: "x.go:1: bad"}
	var b bytes.Buffer
	rep.WriteText(&b)
	if !rep.Failed() || !strings.Contains(b.String(), "go vet ./... failed, no test ran:\n  x.go:1: bad") {
		t.Errorf("report:\n%s", b.String())
	}
	if (&Report{Results: []Result{{Package: "p", Test: "T", Local: "pass", Remote: "pass"}}}).Failed() {
		t.Error("an agreeing report failed")
	}
}

func TestMentions(t *testing.T) {
	tests := []struct {
		text, name string
		want       bool
	}{
		{"Check = x, want errBoom itself", "errBoom", true},
		{"errBoomer happened", "errBoom", false},
		{"myerrBoom", "errBoom", false},
		{"errBoom", "errBoom", true},
		{"after Fill, items", "Fill", true},
		{"Refill", "Fill", false},
	}
	for _, tt := range tests {
		if got := mentions(tt.text, tt.name); got != tt.want {
			t.Errorf("mentions(%q, %q) = %v", tt.text, tt.name, got)
		}
	}
}

func TestFirstFailure(t *testing.T) {
	lines := []string{"=== RUN   TestB", "    b_test.go:12: got 0, want 4", "--- FAIL: TestB (0.00s)"}
	if got := firstFailure(lines); got != "b_test.go:12: got 0, want 4" {
		t.Errorf("firstFailure = %q", got)
	}
	if got := firstFailure([]string{"=== RUN T", "ok"}); got != "" {
		t.Errorf("firstFailure of no failure = %q", got)
	}
}
