package verify

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for people: the failed step, or the two runs
// side by side per package, then every test that differs with its likely
// cause.
func (r *Report) WriteText(w io.Writer) error {
	if r.FailedStep != "" {
		fmt.Fprintf(w, "verify %s: %s failed, no test ran:\n%s\n", r.Seam, r.FailedStep, indent(r.Failure))
		return nil
	}
	type counts struct{ pass, fail, skip int }
	type row struct {
		pkg           string
		local, remote counts
		differ        int
	}
	var rows []*row
	byPkg := map[string]*row{}
	for _, res := range r.Results {
		if res.Test == "" {
			continue
		}
		rw := byPkg[res.Package]
		if rw == nil {
			rw = &row{pkg: res.Package}
			byPkg[res.Package] = rw
			rows = append(rows, rw)
		}
		for _, side := range []struct {
			o Outcome
			c *counts
		}{{res.Local, &rw.local}, {res.Remote, &rw.remote}} {
			switch side.o {
			case "pass":
				side.c.pass++
			case "fail":
				side.c.fail++
			case "skip":
				side.c.skip++
			}
		}
		if res.Differs() {
			rw.differ++
		}
	}
	// Packages whose tests did not even start in one run (the test binary
	// did not build) show through their package-level result.
	pkgOnly := map[string]bool{}
	for _, res := range r.Results {
		if res.Test == "" && res.Differs() && byPkg[res.Package] == nil {
			pkgOnly[res.Package] = true
			rw := &row{pkg: res.Package, differ: 1}
			byPkg[res.Package] = rw
			rows = append(rows, rw)
		}
	}
	fmt.Fprintf(w, "verify %s: the module's tests in process and with MESHRPC_REMOTE=%s MESHRPC_LOOPBACK=1\n\n", r.Seam, r.Seam)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "package\tlocal\tremote\tdiffer")
	show := func(c counts) string {
		s := fmt.Sprintf("%d pass", c.pass)
		if c.fail > 0 {
			s += fmt.Sprintf(", %d FAIL", c.fail)
		}
		if c.skip > 0 {
			s += fmt.Sprintf(", %d skip", c.skip)
		}
		return s
	}
	for _, rw := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", rw.pkg, show(rw.local), show(rw.remote), rw.differ)
	}
	tw.Flush()

	var differ []Result
	for _, res := range r.Results {
		if res.Differs() && (res.Test != "" || pkgOnly[res.Package]) {
			differ = append(differ, res)
		}
	}
	if len(differ) == 0 {
		fmt.Fprintf(w, "\nno test differs: the split preserves the behaviour the tests check\n")
		return nil
	}
	fmt.Fprintf(w, "\n%d differ:\n", len(differ))
	for _, res := range differ {
		name := res.Package
		if res.Test != "" {
			name += "." + res.Test
		}
		fmt.Fprintf(w, "  %s: local %s, remote %s\n", name, orNone(res.Local), orNone(res.Remote))
		for _, c := range res.Causes {
			fmt.Fprintf(w, "      %s\n", c)
		}
	}
	return nil
}

func orNone(o Outcome) string {
	if o == "" {
		return "did not run"
	}
	return strings.ToUpper(string(o[:1])) + string(o[1:])
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
