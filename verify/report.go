package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the report for people: the two runs side by side per
// package, the calls that crossed per method, the differences with their
// causes, and the verdict on the last line. verbose adds every call site
// and the remote output of each differing test.
func (r *Report) WriteText(w io.Writer, verbose bool) error {
	var b bytes.Buffer
	r.writeText(&b, verbose)
	// The tables' empty last cells leave trailing blanks: trim them.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}

// writeText writes the report into b.
func (r *Report) writeText(w io.Writer, verbose bool) {
	if r.NotExtracted != "" {
		fmt.Fprintf(w, "verify %s: %s\n", r.Seam, r.NotExtracted)
		return
	}
	if r.FailedStep != "" {
		fmt.Fprintf(w, "verify %s: %s failed, no test ran:\n%s\n", r.Seam, r.FailedStep, indent(r.Failure))
		r.writeVet(w)
		return
	}
	fmt.Fprintf(w, "verify %s: the module's tests in process and with MESHRPC_REMOTE=%s MESHRPC_LOOPBACK=1\n\n", r.Seam, r.Seam)
	r.writePackages(w)
	fmt.Fprintln(w)
	r.writeTraffic(w, verbose)
	r.writeVet(w)

	if ex := r.Explained(); len(ex) > 0 {
		fmt.Fprintf(w, "\nexplained differences (not failing: the value compared exists only in test code):\n")
		for _, res := range ex {
			fmt.Fprintf(w, "  %s: %s\n", name(res), res.Explained)
		}
	}
	if both := r.FailsInBoth(); len(both) > 0 {
		fmt.Fprintf(w, "\nfails in both runs (not caused by the split):\n")
		for _, res := range both {
			fmt.Fprintf(w, "  %s: %s\n", name(res), orDash(res.FirstError))
		}
	}
	if differ := r.Differing(); len(differ) > 0 {
		fmt.Fprintf(w, "\n%d differ:\n", len(differ))
		for _, res := range differ {
			fmt.Fprintf(w, "  %s: local %s, remote %s\n", name(res), orNone(res.Local), orNone(res.Remote))
			for _, c := range res.Causes {
				fmt.Fprintf(w, "      %s\n", c)
			}
			if verbose {
				for _, l := range res.Output {
					fmt.Fprintf(w, "      | %s\n", l)
				}
			}
		}
	}
	if len(r.Bypasses) > 0 {
		fmt.Fprintf(w, "\nthe tests build the implementation without a switched constructor here:\n")
		for _, b := range r.Bypasses {
			fmt.Fprintf(w, "  %s\n", b)
		}
	}
	fmt.Fprintf(w, "\n%s\n", r.summary())
}

// summary is the verdict's line.
func (r *Report) summary() string {
	crossed, methods := r.Crossed(), 0
	for _, m := range r.Traffic {
		if m.Crossed() > 0 {
			methods++
		}
	}
	switch r.Verdict() {
	case "differs":
		return fmt.Sprintf("FAIL: %d test(s) differ between the runs", len(r.Differing()))
	case "unproven":
		return fmt.Sprintf("UNPROVEN (exit 3): no call of %s crossed the mesh in the remote run, so the agreeing tests prove nothing about the split; make the tests build it with its constructor", r.Seam)
	case "unexercised":
		return fmt.Sprintf("UNPROVEN (exit 3, -strict): %d of %d methods never exercised remotely: %s", len(r.Unexercised()), len(r.Traffic), strings.Join(r.Unexercised(), ", "))
	}
	s := fmt.Sprintf("ok: the tests agree, and %d call(s) of %d of %d methods crossed the mesh", crossed, methods, len(r.Traffic))
	if len(r.Explained()) > 0 {
		s += fmt.Sprintf(" (%d explained difference(s))", len(r.Explained()))
	}
	return s
}

// writePackages writes the per-package table of the two runs.
func (r *Report) writePackages(w io.Writer) {
	type counts struct{ pass, fail, skip int }
	type row struct {
		pkg           string
		local, remote counts
		differ        int
		both          bool
	}
	var rows []*row
	byPkg := map[string]*row{}
	get := func(pkg string) *row {
		rw := byPkg[pkg]
		if rw == nil {
			rw = &row{pkg: pkg}
			byPkg[pkg] = rw
			rows = append(rows, rw)
		}
		return rw
	}
	for _, res := range r.Results {
		if res.Test == "" {
			// Packages without test files show only when they fail.
			if res.Local == "fail" || res.Remote == "fail" {
				rw := get(res.Package)
				rw.both = res.Local == "fail" && res.Remote == "fail"
			}
			continue
		}
		rw := get(res.Package)
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
	}
	for _, res := range r.Differing() {
		get(res.Package).differ++
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "package\tlocal\tremote\tdiffer\t")
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
		note := ""
		if rw.both {
			note = "fails in both runs"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", rw.pkg, show(rw.local), show(rw.remote), rw.differ, note)
	}
	tw.Flush()
}

// writeTraffic writes the per-method table of the calls that crossed.
func (r *Report) writeTraffic(w io.Writer, verbose bool) {
	fmt.Fprintf(w, "calls of %s that crossed the mesh in the remote run:\n", r.Seam)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "method\tcalls\terrors\tmedian\tcall sites\t")
	for _, m := range r.Traffic {
		if m.Calls == 0 {
			fmt.Fprintf(tw, "%s\t0\t-\t-\t-\tnever exercised remotely\n", m.Method)
			continue
		}
		errs := fmt.Sprint(m.Errors)
		if m.TransportFailures > 0 {
			errs += fmt.Sprintf(" (+%d transport)", m.TransportFailures)
		}
		note := ""
		if m.Crossed() == 0 {
			note = "never exercised remotely: every call failed in the mesh"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\n", m.Method, m.Calls, errs, duration(m.MedianNanos), len(m.Sites), note)
	}
	tw.Flush()
	if verbose {
		for _, m := range r.Traffic {
			if len(m.Sites) > 0 {
				fmt.Fprintf(w, "call sites of %s:\n", m.Method)
				for _, s := range m.Sites {
					fmt.Fprintf(w, "  %s\n", s)
				}
			}
		}
	}
	if un := r.Unexercised(); len(un) > 0 && len(un) < len(r.Traffic) && !r.Strict {
		fmt.Fprintf(w, "warning: %d of %d methods never exercised remotely: %s (the tests prove nothing about them; -strict makes this exit 3)\n", len(un), len(r.Traffic), strings.Join(un, ", "))
	}
	if r.TrafficFile != "" {
		fmt.Fprintf(w, "traffic kept in %s: 'meshsplit impact -iface %s' says what the calls cost\n", r.TrafficFile, shortIface(r.Seam))
	}
}

// shortIface spells a qualified interface name as -iface takes it:
// "pkg.Iface" with the package's last path element.
func shortIface(seam string) string {
	if i := strings.LastIndexByte(seam, '/'); i >= 0 {
		return seam[i+1:]
	}
	return seam
}

// writeVet lists the type errors and go vet findings that do not block.
func (r *Report) writeVet(w io.Writer) {
	if len(r.Vet) == 0 {
		return
	}
	fmt.Fprintf(w, "\ntype errors and go vet findings the split did not cause (reported, not blocking):\n")
	for _, v := range r.Vet {
		fmt.Fprintf(w, "  %s\n", v)
	}
}

// WriteJSON writes the report as one JSON object: the Report's fields plus
// the verdict, the exit code and the lists the text derives (see
// docs/extract.md for the schema).
func (r *Report) WriteJSON(w io.Writer) error {
	out := struct {
		*Report
		Verdict     string   `json:"verdict"`
		ExitCode    int      `json:"exit_code"`
		Crossed     int      `json:"crossed"`
		Unexercised []string `json:"unexercised"`
		Differing   []Result `json:"differing"`
		Explained   []Result `json:"explained"`
		FailsInBoth []Result `json:"fails_in_both"`
	}{r, r.Verdict(), r.ExitCode(), r.Crossed(), nonNil(r.Unexercised()), nonNilR(r.Differing()), nonNilR(r.Explained()), nonNilR(r.FailsInBoth())}
	if out.Report.Results == nil {
		out.Report.Results = []Result{}
	}
	if out.Report.Traffic == nil {
		out.Report.Traffic = []MethodTraffic{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilR(s []Result) []Result {
	if s == nil {
		return []Result{}
	}
	return s
}

// duration formats nanoseconds to three significant digits at most.
func duration(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d >= time.Microsecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}

func name(res Result) string {
	if res.Test != "" {
		return res.Package + "." + res.Test
	}
	return res.Package
}

func orNone(o Outcome) string {
	if o == "" {
		return "did not run"
	}
	return strings.ToUpper(string(o[:1])) + string(o[1:])
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
