package verify

// Outcome is a test's result in one run: "pass", "fail", "skip", or ""
// when the test did not run.
type Outcome string

// A Result compares one test (or, with Test empty, one package) across the
// two runs.
type Result struct {
	Package string  `json:"package"`
	Test    string  `json:"test,omitempty"`
	Local   Outcome `json:"local"`
	Remote  Outcome `json:"remote"`
	// Output holds the remote run's output of a test that failed remote.
	Output []string `json:"-"`
	// Causes name the causes of a test whose runs differ, each with the
	// test's file:line, then its first failure line.
	Causes []string `json:"causes,omitempty"`
	// Explained, when set, says why the difference is not the split's
	// fault (an error value that exists only in test code, compared by
	// identity); such a test does not fail verify.
	Explained string `json:"explained,omitempty"`
	// FirstError is the first error of a test or package that fails in
	// both runs.
	FirstError string `json:"first_error,omitempty"`
}

// Differs reports whether the two runs disagree.
func (r Result) Differs() bool { return r.Local != r.Remote }

// The exit codes of verify (cmd/meshsplit maps usage errors to 2).
const (
	// ExitOK: the tests agree and calls crossed the mesh.
	ExitOK = 0
	// ExitFailed: not extracted, vet or build failed, or a test differs
	// without an explanation.
	ExitFailed = 1
	// ExitUnproven: no call crossed the mesh, or (with Strict) a method
	// was never exercised remotely.
	ExitUnproven = 3
)

// A Report is the outcome of Run.
type Report struct {
	// Seam is the interface's qualified name.
	Seam string `json:"seam"`
	// Patterns are the packages tested.
	Patterns []string `json:"patterns"`
	// Strict is Options.Strict.
	Strict bool `json:"strict"`
	// NotExtracted, when set, says that the module has no generated file
	// for the interface and what to run; nothing else ran.
	NotExtracted string `json:"not_extracted,omitempty"`
	// FailedStep ("build", "go vet") and Failure (its output) say what
	// failed before the tests ran.
	FailedStep string `json:"failed_step,omitempty"`
	Failure    string `json:"failure,omitempty"`
	// Vet lists the type errors of packages that do not depend on the
	// interface's package and go vet's findings in files the split did not
	// write: they exist with the interface unextracted too, so they do not
	// block.
	Vet []string `json:"vet,omitempty"`
	// Results lists every test and package of either run, sorted.
	Results []Result `json:"results"`
	// Traffic sums up, per method of the interface, the calls that the
	// remote run recorded; a method never called has Calls 0.
	Traffic []MethodTraffic `json:"traffic"`
	// TrafficFile, with Options.Keep, is where the traffic was kept for
	// 'meshsplit impact'.
	TrafficFile string `json:"traffic_file,omitempty"`
	// Bypasses lists, when no call crossed, the places in test code that
	// give the tests an implementation without a switched constructor.
	Bypasses []string `json:"bypasses,omitempty"`
}

// Crossed counts the calls of the interface that crossed the mesh (reached
// the implementation and came back) in the remote run.
func (r *Report) Crossed() int {
	n := 0
	for _, m := range r.Traffic {
		n += m.Crossed()
	}
	return n
}

// Unexercised lists the methods no call crossed the mesh for.
func (r *Report) Unexercised() []string {
	var out []string
	for _, m := range r.Traffic {
		if m.Crossed() == 0 {
			out = append(out, m.Method)
		}
	}
	return out
}

// Differing returns the results that make verify fail: tests whose runs
// differ without an explanation, and packages whose runs differ while no
// test of theirs ran in one of them (the test binary did not build or
// died before its tests).
func (r *Report) Differing() []Result {
	hasTests := map[string]bool{}
	for _, res := range r.Results {
		if res.Test != "" {
			hasTests[res.Package] = true
		}
	}
	var out []Result
	for _, res := range r.Results {
		if !res.Differs() || res.Explained != "" {
			continue
		}
		if res.Test != "" || !hasTests[res.Package] {
			out = append(out, res)
		}
	}
	return out
}

// Explained returns the tests whose runs differ for a reason that is not
// the split's fault.
func (r *Report) Explained() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Differs() && res.Explained != "" {
			out = append(out, res)
		}
	}
	return out
}

// FailsInBoth returns the tests, and the packages without a failing test,
// that fail in both runs: not caused by the split.
func (r *Report) FailsInBoth() []Result {
	failingTest := map[string]bool{}
	for _, res := range r.Results {
		if res.Test != "" && res.Local == "fail" && res.Remote == "fail" {
			failingTest[res.Package] = true
		}
	}
	var out []Result
	for _, res := range r.Results {
		if res.Local == "fail" && res.Remote == "fail" && (res.Test != "" || !failingTest[res.Package]) {
			out = append(out, res)
		}
	}
	return out
}

// Verdict names the outcome: "not extracted", "failed" (a step before the
// tests), "differs", "unproven", "unexercised" (strict) or "ok".
func (r *Report) Verdict() string {
	switch {
	case r.NotExtracted != "":
		return "not extracted"
	case r.FailedStep != "":
		return "failed"
	case len(r.Differing()) > 0:
		return "differs"
	case r.Crossed() == 0:
		return "unproven"
	case r.Strict && len(r.Unexercised()) > 0:
		return "unexercised"
	}
	return "ok"
}

// ExitCode returns the exit code of the verdict.
func (r *Report) ExitCode() int {
	switch r.Verdict() {
	case "ok":
		return ExitOK
	case "unproven", "unexercised":
		return ExitUnproven
	}
	return ExitFailed
}
