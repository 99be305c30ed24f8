package verify

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/meshsplit/meshsplit/rewrite/gen"
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

	rep := &Report{Seam: "example.com/m/p.I", Results: got, Traffic: []MethodTraffic{
		{Method: "Get", Calls: 3, Errors: 1, MedianNanos: 85_400, Sites: []string{"p/a_test.go:3", "p/b_test.go:9"}},
		{Method: "Put", Calls: 0, Sites: []string{}},
	}}
	rep.Results[2].Causes = []string{"a write through a pointer the caller keeps: x", "first failure: b_test.go:12: got 0, want 4"}
	var b bytes.Buffer
	if err := rep.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"p        2 pass, 1 skip  1 pass, 1 FAIL, 1 skip  1\n",
		"q        0 pass          0 pass                  1\n",
		"Get     3      1       85µs    2\n",
		"Put     0      -       -       -           never exercised remotely\n",
		"warning: 1 of 2 methods never exercised remotely: Put",
		"2 differ:",
		"  p.TestB: local Pass, remote Fail\n      a write through a pointer the caller keeps: x\n      first failure: b_test.go:12: got 0, want 4\n",
		"  q: local did not run, remote Fail",
		"FAIL: 2 test(s) differ between the runs\n",
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, b.String())
		}
	}
	if strings.Contains(b.String(), " \n") {
		t.Errorf("report has trailing blanks:\n%s", b.String())
	}
	if rep.ExitCode() != ExitFailed {
		t.Errorf("a report with differences exits %d", rep.ExitCode())
	}
}

// TestVerdicts checks the exit code of each verdict, strict or not.
func TestVerdicts(t *testing.T) {
	agree := []Result{{Package: "p", Test: "T", Local: "pass", Remote: "pass"}}
	crossed := []MethodTraffic{{Method: "A", Calls: 2}, {Method: "B"}}
	all := []MethodTraffic{{Method: "A", Calls: 2}, {Method: "B", Calls: 1}}
	mesh := []MethodTraffic{{Method: "A", Calls: 2, TransportFailures: 2}}
	tests := []struct {
		name    string
		rep     Report
		verdict string
		code    int
	}{
		{"not extracted", Report{NotExtracted: "not extracted: ..."}, "not extracted", ExitFailed},
		{"vet", Report{FailedStep: "go vet", Failure: "x.go:1: bad"}, "failed", ExitFailed},
		{"agree and crossed", Report{Results: agree, Traffic: all}, "ok", ExitOK},
		{"one method unexercised", Report{Results: agree, Traffic: crossed}, "ok", ExitOK},
		{"one method unexercised, strict", Report{Results: agree, Traffic: crossed, Strict: true}, "unexercised", ExitUnproven},
		{"all exercised, strict", Report{Results: agree, Traffic: all, Strict: true}, "ok", ExitOK},
		{"nothing crossed", Report{Results: agree, Traffic: []MethodTraffic{{Method: "A"}}}, "unproven", ExitUnproven},
		{"only mesh failures", Report{Results: agree, Traffic: mesh}, "unproven", ExitUnproven},
		{"differs", Report{Results: []Result{{Package: "p", Test: "T", Local: "pass", Remote: "fail"}}, Traffic: all}, "differs", ExitFailed},
		{"explained", Report{Results: []Result{{Package: "p", Local: "pass", Remote: "fail"}, {Package: "p", Test: "T", Local: "pass", Remote: "fail", Explained: "x"}}, Traffic: all}, "ok", ExitOK},
		{"fails in both", Report{Results: []Result{{Package: "p", Local: "fail", Remote: "fail"}, {Package: "p", Test: "T", Local: "fail", Remote: "fail"}}, Traffic: all}, "ok", ExitOK},
	}
	for _, tt := range tests {
		if v, c := tt.rep.Verdict(), tt.rep.ExitCode(); v != tt.verdict || c != tt.code {
			t.Errorf("%s: verdict %q exit %d, want %q %d", tt.name, v, c, tt.verdict, tt.code)
		}
	}
}

func TestReportFailedStep(t *testing.T) {
	rep := &Report{Seam: "m.I", FailedStep: "go vet", Failure: "x.go:1: bad", Vet: []string{"y.go:2: other"}}
	var b bytes.Buffer
	rep.WriteText(&b, false)
	if !strings.Contains(b.String(), "go vet failed, no test ran:\n  x.go:1: bad") || !strings.Contains(b.String(), "the split did not cause (reported, not blocking):\n  y.go:2: other") {
		t.Errorf("report:\n%s", b.String())
	}
}

func TestSplitVet(t *testing.T) {
	out := `# example.com/m/a
# [example.com/m/a]
a/a.go:12:2: fmt.Printf format %d has arg s of wrong type string
# example.com/m/p
p/service_mesh.go:40:3: unreachable code
vet: p/store.go:7:1: something`
	split := map[string]bool{"p/service_mesh.go": true, "p/store.go": true}
	blocking, reported := splitVet("/m", "/m", out, split)
	if strings.Join(blocking, "|") != "p/service_mesh.go:40: unreachable code|p/store.go:7: something" {
		t.Errorf("blocking = %q", blocking)
	}
	if strings.Join(reported, "|") != "a/a.go:12: fmt.Printf format %d has arg s of wrong type string" {
		t.Errorf("reported = %q", reported)
	}
	// Run from a subdirectory, paths are relative to it.
	if b, _ := splitVet("/m", "/m/p", "service_mesh.go:1:1: x", split); len(b) != 1 {
		t.Errorf("from a subdirectory: blocking = %q", b)
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []int64
		want int64
	}{{nil, 0}, {[]int64{5}, 5}, {[]int64{9, 1, 5}, 5}, {[]int64{4, 1, 3, 2}, 2}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %d, want %d", tt.in, got, tt.want)
		}
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
	testify := []string{
		"=== RUN   TestPrice",
		"    price_test.go:31: ",
		"        \tError Trace:\t/src/shop/price_test.go:31",
		"        \tError:      \tNot equal: ",
		"        \t            \texpected: 12",
		"        \t            \tactual  : 11",
		"        \tTest:       \tTestPrice",
	}
	if got := firstFailure(testify); got != "price_test.go:31: Not equal: expected: 12 actual : 11" {
		t.Errorf("firstFailure of a testify report = %q", got)
	}
}

func TestVendorHint(t *testing.T) {
	err := vendorHint(errors.New("go: inconsistent vendoring in /m:\n\tgithub.com/meshsplit/meshsplit: is explicitly required in go.mod, but not marked as explicit in vendor/modules.txt"), "/m")
	if want := "/m/vendor/modules.txt is inconsistent with go.mod (extract adds a requirement to go.mod): run 'go mod vendor' in /m, then verify again"; err.Error() != want {
		t.Errorf("vendorHint = %q, want %q", err, want)
	}
	other := errors.New("no Go files")
	if vendorHint(other, "/m") != other {
		t.Error("vendorHint changed an unrelated error")
	}
}

func TestBinaryName(t *testing.T) {
	for _, tt := range []struct{ ip, want string }{
		{"example.com/shop/orders", "orders.test"},
		{"example.com/shop/cmd/shop", "shop.test"},
		{"example.com/lib/v2", "lib.test"},
		{"example.com/lib/v2/store", "store.test"},
	} {
		if got := binaryName(testPkg{ImportPath: tt.ip}); got != tt.want {
			t.Errorf("binaryName(%s) = %s, want %s", tt.ip, got, tt.want)
		}
	}
}

func TestFirstErrorOfABuildFailure(t *testing.T) {
	r := newRun()
	r.add(event{ImportPath: "m/p [m/p.test]", Action: "build-output", Output: "# m/p [m/p.test]\n"})
	r.add(event{ImportPath: "m/p [m/p.test]", Action: "build-output", Output: "p/x_test.go:2:3: undefined: y\n"})
	r.add(event{Package: "m/p", Action: "fail", FailedBuild: "m/p [m/p.test]"})
	if got := firstError(r, key{"m/p", ""}); got != "p/x_test.go:2:3: undefined: y" {
		t.Errorf("firstError = %q", got)
	}
}

// TestExplainIdentity: a difference is explained only when every failure
// line sits at an identity comparison of a test-only error.
func TestExplainIdentity(t *testing.T) {
	ids := []identityCmp{{name: "errBoom", decl: "p/a_test.go:11", where: "p/a_test.go:26", file: "a_test.go", line: 26}}
	tests := []struct {
		name   string
		output []string
		want   bool
	}{
		{"at the comparison's t.Fatalf", []string{"    a_test.go:27: Check = boom, want errBoom"}, true},
		{"one failure elsewhere too", []string{"    a_test.go:27: x", "    a_test.go:40: y"}, false},
		{"another file", []string{"    b_test.go:27: x"}, false},
		{"too far below", []string{"    a_test.go:31: x"}, false},
		{"no failure line (a panic)", []string{"panic: boom"}, false},
	}
	for _, tt := range tests {
		got := explainIdentity(ids, failureLines(tt.output))
		if (got != "") != tt.want {
			t.Errorf("%s: explainIdentity = %q, want explained %v", tt.name, got, tt.want)
		}
		if got != "" && !strings.Contains(got, "errBoom (p/a_test.go:11) is declared in test code and compared by identity at p/a_test.go:26") {
			t.Errorf("%s: explanation %q", tt.name, got)
		}
	}
	if explainIdentity(nil, failureLines([]string{"a_test.go:27: x"})) != "" {
		t.Error("explained without any identity comparison")
	}
}

// TestGeneratedHeader keeps verify's copy of the generated-file header
// equal to the generator's (verify does not import rewrite/gen).
func TestGeneratedHeader(t *testing.T) {
	if generatedHeader != gen.Header {
		t.Errorf("generatedHeader = %q, rewrite/gen writes %q", generatedHeader, gen.Header)
	}
}
