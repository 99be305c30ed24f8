// Package impact says what cutting a seam costs at run time: it reads the
// traffic that 'meshsplit verify' kept of the remote run (calls per method,
// call site and test), finds the call sites that sit in a loop (N+1
// patterns) in the module's syntax, and prices the calls with the cost of a
// call across the mesh, measured on this machine against a loopback node.
package impact

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/meshsplit/meshsplit/analyze"
	"github.com/meshsplit/meshsplit/verify"
)

// Options say what Run looks at.
type Options struct {
	// Dir is the module's directory (or one inside it); empty means ".".
	Dir string
	// Iface names the interface as for extract and verify: "pkg.Iface".
	Iface string
	// Env is the go command's environment; nil means os.Environ().
	Env []string
	// Cost, when set, is used instead of calibrating (tests pin it).
	Cost *Cost
}

// A Site is one call site of the interface's methods in the remote run.
type Site struct {
	// Site is "file:line" relative to the module root (or absolute outside).
	Site string `json:"site"`
	// Methods are the methods called there, sorted.
	Methods []string `json:"methods"`
	// Calls counts the calls that crossed; Bytes their requests and
	// responses.
	Calls int   `json:"calls"`
	Bytes int64 `json:"bytes"`
	// Tests counts the tests whose calls came from the site; MaxPerTest is
	// the most calls one test made from it.
	Tests      int `json:"tests"`
	MaxPerTest int `json:"max_per_test"`
	// InLoop reports that the call sits inside a for or range statement
	// (from the module's syntax): an N+1 pattern.
	InLoop bool `json:"in_loop"`
	// Added is what the calls add at the calibrated cost.
	Added time.Duration `json:"added_ns"`
}

// A Test is one test's calls across the seam.
type Test struct {
	// Test is "pkg.TestName" with the package relative to the module, or
	// "" for calls made on goroutines a test started.
	Test string `json:"test"`
	// Calls counts the calls that crossed; Bytes their requests and
	// responses; Sites the distinct call sites.
	Calls int   `json:"calls"`
	Bytes int64 `json:"bytes"`
	Sites int   `json:"sites"`
	// Added is what the calls add at the calibrated cost.
	Added time.Duration `json:"added_ns"`
}

// A Report is the impact of cutting one seam.
type Report struct {
	// Seam is the interface's qualified name, Short as analyze prints it.
	Seam  string `json:"seam"`
	Short string `json:"short"`
	// TrafficFile is the traffic verify kept, Taken when.
	TrafficFile string    `json:"traffic_file"`
	Taken       time.Time `json:"taken"`
	// Cost is the calibrated cost of a call.
	Cost Cost `json:"cost"`
	// Calls, Bytes and Added total the crossed calls; Transport counts the
	// calls that failed in the mesh (not priced).
	Calls     int           `json:"calls"`
	Bytes     int64         `json:"bytes"`
	Transport int           `json:"transport"`
	Added     time.Duration `json:"added_ns"`
	// Tests lists the tests by calls, most first, then by name; Sites the
	// call sites the same way.
	Tests []Test `json:"tests"`
	Sites []Site `json:"sites"`
}

// Loops returns the sites that call inside a loop.
func (r *Report) Loops() []Site {
	var out []Site
	for _, s := range r.Sites {
		if s.InLoop {
			out = append(out, s)
		}
	}
	return out
}

// Run loads the module, reads the traffic verify kept for the interface,
// checks that it is not older than the code, calibrates and prices the
// calls. Every error is one sentence that says what to do.
func Run(ctx context.Context, opts Options) (*Report, error) {
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	prog, err := analyze.Load(ctx, analyze.Config{Dir: dir, Tests: true, Env: opts.Env})
	if err != nil {
		return nil, err
	}
	if len(prog.Errors) > 0 {
		return nil, fmt.Errorf("the module does not type-check (%s, and %d more): fix it, then run 'meshsplit verify -iface %s' and impact again", prog.Errors[0], len(prog.Errors)-1, opts.Iface)
	}
	rep := analyze.Run(prog)
	seam, err := rep.Lookup(opts.Iface)
	if err != nil {
		return nil, err
	}
	verifyCmd := fmt.Sprintf("meshsplit verify -C %s -iface %s", dir, opts.Iface)
	kept, file, err := verify.LoadTraffic(prog.Root, seam.Name)
	if errors.Is(err, verify.ErrNoTraffic) {
		return nil, fmt.Errorf("no verify report for %s (looked for %s): run '%s' first (after 'meshsplit extract -iface %s -w'); it records the calls that cross the mesh", rep.ShortName(seam), file, verifyCmd, opts.Iface)
	}
	if err != nil {
		return nil, err
	}
	newer, when, err := verify.NewerSource(prog.Root, kept.Taken)
	if err != nil {
		return nil, err
	}
	if newer != "" {
		return nil, fmt.Errorf("the verify report of %s (%s) is older than %s (changed %s): run '%s' again", rep.ShortName(seam), kept.Taken.Local().Format("2006-01-02 15:04:05"), newer, when.Local().Format("2006-01-02 15:04:05"), verifyCmd)
	}
	crossed := 0
	for _, g := range kept.Calls {
		crossed += g.Crossed()
	}
	if crossed == 0 {
		return nil, fmt.Errorf("no call of %s crossed the mesh in the verify run of %s: the tests do not reach it through its switched constructor ('%s -v' lists what they use instead), so there is nothing to price", rep.ShortName(seam), kept.Taken.Local().Format("2006-01-02 15:04:05"), verifyCmd)
	}
	var cost Cost
	if opts.Cost != nil {
		cost = *opts.Cost
	} else if cost, err = Calibrate(ctx); err != nil {
		return nil, err
	}
	r := Summarize(rep, seam, kept, cost)
	r.TrafficFile = file
	return r, nil
}

// Summarize prices the kept traffic of seam at cost: per call site (with
// the loops found in the report's syntax) and per test.
func Summarize(rep *analyze.Report, seam *analyze.Seam, kept *verify.KeptTraffic, cost Cost) *Report {
	r := &Report{Seam: seam.Name, Short: rep.ShortName(seam), Taken: kept.Taken, Cost: cost, Tests: []Test{}, Sites: []Site{}}
	loops := loopSites(rep, seam)
	type siteAcc struct {
		s       Site
		methods map[string]bool
		perTest map[string]int
	}
	sites := map[string]*siteAcc{}
	tests := map[string]*Test{}
	testSites := map[string]map[string]bool{}
	for _, g := range kept.Calls {
		r.Transport += g.Transport
		n := g.Crossed()
		if n == 0 {
			continue
		}
		bytes := g.ReqBytes + g.RespBytes
		r.Calls += n
		r.Bytes += bytes
		a := sites[g.Site]
		if a == nil {
			a = &siteAcc{s: Site{Site: g.Site, InLoop: loops[g.Site]}, methods: map[string]bool{}, perTest: map[string]int{}}
			sites[g.Site] = a
		}
		a.s.Calls += n
		a.s.Bytes += bytes
		a.methods[g.Method] = true
		a.perTest[g.Test] += n
		name := testLabel(rep, g.Test)
		t := tests[name]
		if t == nil {
			t = &Test{Test: name}
			tests[name] = t
			testSites[name] = map[string]bool{}
		}
		t.Calls += n
		t.Bytes += bytes
		testSites[name][g.Site] = true
	}
	r.Added = cost.Of(r.Calls, r.Bytes)
	for _, a := range sites {
		for m := range a.methods {
			a.s.Methods = append(a.s.Methods, m)
		}
		sort.Strings(a.s.Methods)
		for test, n := range a.perTest {
			if test != "" {
				a.s.Tests++
			}
			a.s.MaxPerTest = max(a.s.MaxPerTest, n)
		}
		a.s.Added = cost.Of(a.s.Calls, a.s.Bytes)
		r.Sites = append(r.Sites, a.s)
	}
	// Most calls first (the fixed cost per call dominates the added time),
	// then by name: an order that the calibration does not change.
	sort.Slice(r.Sites, func(i, j int) bool {
		a, b := r.Sites[i], r.Sites[j]
		if a.Calls != b.Calls {
			return a.Calls > b.Calls
		}
		return verify.SiteLess(a.Site, b.Site)
	})
	for name, t := range tests {
		t.Sites = len(testSites[name])
		t.Added = cost.Of(t.Calls, t.Bytes)
		r.Tests = append(r.Tests, *t)
	}
	sort.Slice(r.Tests, func(i, j int) bool {
		a, b := r.Tests[i], r.Tests[j]
		if a.Calls != b.Calls {
			return a.Calls > b.Calls
		}
		return a.Test < b.Test
	})
	return r
}

// Measured sums up kept traffic for the seam map.
func Measured(rep *analyze.Report, seam *analyze.Seam, kept *verify.KeptTraffic) analyze.Measured {
	r := Summarize(rep, seam, kept, Cost{})
	m := analyze.Measured{Calls: r.Calls, Bytes: r.Bytes, Sites: len(r.Sites), Taken: kept.Taken.UTC().Format(time.RFC3339)}
	for _, t := range r.Tests {
		if t.Test != "" {
			m.Tests++
		}
	}
	for _, s := range r.Loops() {
		m.InLoops += s.Calls
	}
	return m
}

// loopSites returns the "file:line" of every call of the seam's methods
// that sits in a loop, relative to the module root.
func loopSites(rep *analyze.Report, seam *analyze.Seam) map[string]bool {
	out := map[string]bool{}
	for _, m := range seam.Methods {
		for _, c := range m.CallSites {
			if c.InLoop {
				out[fileLine(rep.Program.Position(c.Pos))] = true
			}
		}
	}
	return out
}

// fileLine cuts the column off "file:line:col".
func fileLine(pos string) string {
	i := strings.LastIndexByte(pos, ':')
	if i < 0 {
		return pos
	}
	if _, err := strconv.Atoi(pos[i+1:]); err != nil {
		return pos
	}
	return pos[:i]
}

// testLabel spells a recorded test "import/path.TestName" with the
// package relative to the module ("orders.TestPlace"; "_test" packages
// keep their suffix).
func testLabel(rep *analyze.Report, test string) string {
	if test == "" {
		return ""
	}
	start := strings.LastIndexByte(test, '/') + 1
	dot := strings.IndexByte(test[start:], '.')
	if dot < 0 {
		return test
	}
	pkg, name := test[:start+dot], test[start+dot+1:]
	mod := rep.Program.Module
	switch {
	case pkg == mod || pkg == mod+"_test":
		pkg = pkg[strings.LastIndexByte(pkg, '/')+1:]
	case strings.HasPrefix(pkg, mod+"/"):
		pkg = pkg[len(mod)+1:]
	}
	return pkg + "." + name
}
