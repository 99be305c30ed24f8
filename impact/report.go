package impact

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the impact for people: the calibration, one sentence
// per test, the call sites with the N+1 ones named, and the total.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "impact of cutting %s, from the calls meshsplit verify recorded at %s\n", r.Short, r.Taken.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "a call across the mesh on this machine: %s\n\n", r.Cost)
	for _, t := range r.Tests {
		fmt.Fprintln(&b, r.testSentence(t))
	}
	if len(r.Tests) > 0 {
		b.WriteString("\n")
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CALL SITE\tMETHODS\tCALLS\tBYTES\tTESTS\tMAX/TEST\tADDED\t")
	for _, s := range r.Sites {
		note := ""
		if s.InLoop {
			note = "inside a loop (N+1)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", s.Site, strings.Join(s.Methods, ","), s.Calls, s.Bytes, s.Tests, s.MaxPerTest, human(s.Added), note)
	}
	tw.Flush()
	if loops := r.Loops(); len(loops) > 0 {
		b.WriteString("\n")
		for _, s := range loops {
			fmt.Fprintf(&b, "%s %s\n", s.Site, loopAdvice(s))
		}
	}
	fmt.Fprintf(&b, "\n%d calls crossed %s (%d bytes): about %s more over the test run", r.Calls, r.Short, r.Bytes, human(r.Added))
	if r.Transport > 0 {
		fmt.Fprintf(&b, "; %s failed in the mesh (not priced)", plural(r.Transport, "call"))
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the impact: %w", err)
	}
	return nil
}

// testSentence says what one test's calls cost.
func (r *Report) testSentence(t Test) string {
	who := t.Test
	if who == "" {
		who = "goroutines the tests started"
	}
	verb := "makes"
	if t.Test == "" {
		verb = "make"
	}
	return fmt.Sprintf("%s %s %s across %s from %s: about %s more", who, verb, plural(t.Calls, "call"), r.Short, plural(t.Sites, "call site"), human(t.Added))
}

// loopAdvice says what to do about a call site in a loop.
func loopAdvice(s Site) string {
	return fmt.Sprintf("calls %s inside a loop (N+1): batch it into one call that takes the whole list (up to %s in one test)", strings.Join(s.Methods, " and "), plural(s.MaxPerTest, "call"))
}

// plural spells "1 call", "2 calls".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// WriteJSON writes the report as indented JSON (durations in nanoseconds;
// schema in docs/extract.md, "Impact").
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing the impact: %w", err)
	}
	return nil
}

// WriteHTML writes the report as one self-contained HTML page: the same
// sentences and tables, with a bar per call site scaled to its added time.
func (r *Report) WriteHTML(w io.Writer) error {
	esc := html.EscapeString
	var b strings.Builder
	title := "meshsplit impact: " + r.Short
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<style>\n%s</style>\n</head>\n<body>\n", esc(title), impactCSS)
	fmt.Fprintf(&b, "<h1>%s</h1>\n<p>From the calls <code>meshsplit verify</code> recorded at %s (%s).<br>A call across the mesh on this machine: %s.</p>\n",
		esc(title), esc(r.Taken.UTC().Format(time.RFC3339)), esc(r.TrafficFile), esc(r.Cost.String()))
	fmt.Fprintf(&b, "<p class=\"total\">%s calls crossed (%d bytes): about <b>%s</b> more over the test run.</p>\n", esc(fmt.Sprint(r.Calls)), r.Bytes, esc(human(r.Added)))
	if loops := r.Loops(); len(loops) > 0 {
		b.WriteString("<h2>N+1</h2>\n<ul class=\"loops\">\n")
		for _, s := range loops {
			fmt.Fprintf(&b, "<li><code>%s</code> %s</li>\n", esc(s.Site), esc(loopAdvice(s)))
		}
		b.WriteString("</ul>\n")
	}
	b.WriteString("<h2>Tests</h2>\n<ul class=\"tests\">\n")
	for _, t := range r.Tests {
		fmt.Fprintf(&b, "<li>%s</li>\n", esc(r.testSentence(t)))
	}
	b.WriteString("</ul>\n<h2>Call sites</h2>\n<table>\n<thead><tr><th>call site</th><th>methods</th><th>calls</th><th>bytes</th><th>tests</th><th>max/test</th><th>added</th><th></th></tr></thead>\n<tbody>\n")
	var most time.Duration
	for _, s := range r.Sites {
		most = max(most, s.Added)
	}
	for _, s := range r.Sites {
		width := 0
		if most > 0 {
			width = int(200 * s.Added / most)
		}
		class := ""
		if s.InLoop {
			class = " class=\"loop\""
		}
		fmt.Fprintf(&b, "<tr%s><td><code>%s</code></td><td>%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%s</td><td><span class=\"bar\" style=\"width:%dpx\"></span></td></tr>\n",
			class, esc(s.Site), esc(strings.Join(s.Methods, ", ")), s.Calls, s.Bytes, s.Tests, s.MaxPerTest, esc(human(s.Added)), width)
	}
	b.WriteString("</tbody>\n</table>\n</body>\n</html>\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the impact page: %w", err)
	}
	return nil
}

// impactCSS styles the impact page.
const impactCSS = `body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 16px 24px; color: #222; }
h1 { font-size: 18px; } h2 { font-size: 15px; margin-top: 18px; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 2px 8px; border-bottom: 1px solid #eee; }
tr.loop td { background: #ffe08a; }
.bar { display: inline-block; height: 10px; background: #1f4e99; }
.total { font-size: 15px; }
`
