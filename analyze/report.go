package analyze

import (
	"encoding/json"
	"fmt"
	"go/types"
	"io"
	"strings"
	"text/tabwriter"
)

// SchemaVersion is the version of the JSON report (see docs/analyze.md).
// It changes only when a field is removed or changes meaning; new fields
// may appear without a change.
const SchemaVersion = 1

// ShortName returns the seam's name with the package spelled relative to
// the module root ("inventory.Service"), or with its package name when the
// package is the module root.
func (r *Report) ShortName(s *Seam) string {
	path := s.Obj.Pkg().Path()
	mod := r.Program.Module
	switch {
	case path == mod:
		return s.Obj.Pkg().Name() + "." + s.Obj.Name()
	case strings.HasPrefix(path, mod+"/"):
		return path[len(mod)+1:] + "." + s.Obj.Name()
	}
	return s.Name
}

// WriteText writes the human report: one table line per seam, best first;
// with details, each seam's methods, implementations, constructors,
// importers and conversions (see WriteDetails); then every finding as
// "file:line:col: [rule] severity: seam.method: message" and a summary.
func (r *Report) WriteText(w io.Writer, details bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tSEAM\tVERDICT\tMETHODS\tIMPLS\tCTORS\tIMPORTERS\tSCORE")
	for _, s := range r.Seams {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", s.Rank, r.ShortName(s), s.Verdict, len(s.Methods), len(s.Impls), len(s.Ctors), len(s.Importers), s.Score)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if details {
		if err := r.WriteDetails(w); err != nil {
			return err
		}
	}
	counts := map[Severity]int{}
	first := true
	for _, s := range r.Seams {
		for _, f := range s.Findings {
			if first {
				fmt.Fprintln(w)
				first = false
			}
			counts[f.Rule.Severity]++
			where := r.ShortName(s)
			if f.Method != "" {
				where += "." + f.Method
			}
			fmt.Fprintf(w, "%s: [%s] %s: %s: %s\n", r.Program.Position(f.Pos), f.Rule.Name, f.Rule.Severity, where, f.Message)
		}
	}
	_, err := fmt.Fprintf(w, "\n%s: %s, %s, %s\n", plural(len(r.Seams), "seam"), plural(counts[Error], "error"), plural(counts[Warning], "warning"), plural(counts[Note], "note"))
	if err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

// plural spells "1 call", "2 calls".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// WriteDetails writes, for every seam in rank order, what the table only
// counts: its methods and their call sites, implementations (and the other
// interfaces they are used as), constructors and their call sites,
// importers and conversion sites.
func (r *Report) WriteDetails(w io.Writer) error {
	pos := r.Program.Position
	q := func(t types.Type) string {
		return types.TypeString(t, func(p *types.Package) string { return p.Name() })
	}
	var b strings.Builder
	for _, s := range r.Seams {
		fmt.Fprintf(&b, "\n%d. %s (%s): %s, score %d\n", s.Rank, r.ShortName(s), pos(s.Obj.Pos()), s.Verdict, s.Score)
		b.WriteString("   methods:\n")
		for _, m := range s.Methods {
			fmt.Fprintf(&b, "     %s%s: %s, %s (%d in loops)", m.Name, strings.TrimPrefix(types.TypeString(m.Sig, func(p *types.Package) string { return p.Name() }), "func"), m.Verdict, plural(m.Calls, "call"), m.CallsInLoops)
			if m.Embedded != nil {
				fmt.Fprintf(&b, ", from %s", q(m.Embedded))
			}
			b.WriteString("\n")
		}
		section := func(title string, n int) {
			if n == 0 {
				fmt.Fprintf(&b, "   %s: none\n", title)
			} else {
				fmt.Fprintf(&b, "   %s:\n", title)
			}
		}
		section("implementations", len(s.Impls))
		for _, impl := range s.Impls {
			name := q(impl.Named)
			if impl.Pointer {
				name = "*" + name
			}
			fmt.Fprintf(&b, "     %s (%s)", name, pos(impl.Named.Obj().Pos()))
			if len(impl.AlsoUsedAs) > 0 {
				var also []string
				for _, t := range impl.AlsoUsedAs {
					also = append(also, q(t))
				}
				fmt.Fprintf(&b, ", also used as %s", strings.Join(also, ", "))
			}
			b.WriteString("\n")
		}
		section("constructors", len(s.Ctors))
		for _, c := range s.Ctors {
			kind := "the interface"
			if !c.ReturnsInterface {
				kind = "the concrete " + q(c.Func.Signature().Results().At(c.Result).Type())
			}
			fmt.Fprintf(&b, "     %s.%s (%s) returns %s", c.Func.Pkg().Name(), c.Func.Name(), pos(c.Func.Pos()), kind)
			if len(c.Calls) > 0 {
				var at []string
				for _, site := range c.Calls {
					at = append(at, pos(site.Pos))
				}
				fmt.Fprintf(&b, ", called at %s", strings.Join(at, ", "))
			}
			b.WriteString("\n")
		}
		section("importers", len(s.Importers))
		for _, imp := range s.Importers {
			fmt.Fprintf(&b, "     %s: %s, %s\n", imp.Pkg.PkgPath, plural(imp.Refs, "reference"), plural(imp.Calls, "method call"))
		}
		section("conversions", len(s.Conversions))
		for _, c := range s.Conversions {
			fmt.Fprintf(&b, "     %s: %s, %s\n", pos(c.Pos), c.Kind, q(c.Concrete))
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing report details: %w", err)
	}
	return nil
}

// The JSON report. Field names and meanings are stable within a
// SchemaVersion; positions are "file:line:col" with the file relative to
// the module root, with slashes.
type (
	jsonReport struct {
		Version int         `json:"version"`
		Module  string      `json:"module"`
		Errors  []jsonError `json:"errors"`
		Notes   []string    `json:"notes"`
		Seams   []jsonSeam  `json:"seams"`
	}
	jsonError struct {
		Pos     string `json:"pos"`
		Message string `json:"message"`
	}
	jsonSeam struct {
		Rank            int              `json:"rank"`
		Name            string           `json:"name"`
		Package         string           `json:"package"`
		Interface       string           `json:"interface"`
		Pos             string           `json:"pos"`
		Generic         bool             `json:"generic"`
		Verdict         string           `json:"verdict"`
		Score           int              `json:"score"`
		Methods         []jsonMethod     `json:"methods"`
		Implementations []jsonImpl       `json:"implementations"`
		Constructors    []jsonCtor       `json:"constructors"`
		Importers       []jsonImporter   `json:"importers"`
		Conversions     []jsonConversion `json:"conversions"`
		Findings        []jsonFinding    `json:"findings"`
	}
	jsonMethod struct {
		Name         string   `json:"name"`
		Pos          string   `json:"pos"`
		Signature    string   `json:"signature"`
		Embedded     string   `json:"embedded,omitempty"`
		Verdict      string   `json:"verdict"`
		Calls        int      `json:"calls"`
		CallsInLoops int      `json:"callsInLoops"`
		CallSites    []string `json:"callSites"`
	}
	jsonImpl struct {
		Type       string   `json:"type"`
		Pos        string   `json:"pos"`
		Pointer    bool     `json:"pointer"`
		AlsoUsedAs []string `json:"alsoUsedAs"`
	}
	jsonCtor struct {
		Func    string   `json:"func"`
		Pos     string   `json:"pos"`
		Result  int      `json:"result"`
		Returns string   `json:"returns"`
		Type    string   `json:"type"`
		Calls   []string `json:"calls"`
	}
	jsonImporter struct {
		Package string `json:"package"`
		Refs    int    `json:"refs"`
		Calls   int    `json:"calls"`
	}
	jsonConversion struct {
		Pos  string `json:"pos"`
		Type string `json:"type"`
		Kind string `json:"kind"`
	}
	jsonFinding struct {
		Pos      string `json:"pos"`
		Rule     string `json:"rule"`
		Category string `json:"category"`
		Severity string `json:"severity"`
		Method   string `json:"method,omitempty"`
		Message  string `json:"message"`
	}
)

// WriteJSON writes the report as indented JSON (schema in docs/analyze.md).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r.jsonModel()); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

// jsonModel returns the report in its JSON form, which the HTML seam map
// embeds too.
func (r *Report) jsonModel() jsonReport {
	pos := r.Program.Position
	out := jsonReport{Version: SchemaVersion, Module: r.Program.Module, Errors: []jsonError{}, Notes: append([]string{}, r.Notes...), Seams: []jsonSeam{}}
	for _, e := range r.Program.Errors {
		out.Errors = append(out.Errors, jsonError{Pos: e.Pos, Message: e.Msg})
	}
	for _, s := range r.Seams {
		js := jsonSeam{
			Rank: s.Rank, Name: s.Name, Package: s.Obj.Pkg().Path(), Interface: s.Obj.Name(),
			Pos: pos(s.Obj.Pos()), Generic: s.Generic, Verdict: s.Verdict.String(), Score: s.Score,
			Methods: []jsonMethod{}, Implementations: []jsonImpl{}, Constructors: []jsonCtor{},
			Importers: []jsonImporter{}, Conversions: []jsonConversion{}, Findings: []jsonFinding{},
		}
		for _, m := range s.Methods {
			jm := jsonMethod{
				Name: m.Name, Pos: pos(m.Func.Pos()), Signature: sigString(m.Sig), Verdict: m.Verdict.String(),
				Calls: m.Calls, CallsInLoops: m.CallsInLoops, CallSites: []string{},
			}
			if m.Embedded != nil {
				jm.Embedded = types.TypeString(m.Embedded, nil)
			}
			for _, c := range m.CallSites {
				jm.CallSites = append(jm.CallSites, pos(c.Pos))
			}
			js.Methods = append(js.Methods, jm)
		}
		for _, impl := range s.Impls {
			ji := jsonImpl{Type: types.TypeString(impl.Named, nil), Pos: pos(impl.Named.Obj().Pos()), Pointer: impl.Pointer, AlsoUsedAs: []string{}}
			for _, t := range impl.AlsoUsedAs {
				ji.AlsoUsedAs = append(ji.AlsoUsedAs, types.TypeString(t, nil))
			}
			js.Implementations = append(js.Implementations, ji)
		}
		for _, c := range s.Ctors {
			jc := jsonCtor{
				Func: c.Func.Pkg().Path() + "." + c.Func.Name(), Pos: pos(c.Func.Pos()), Result: c.Result,
				Returns: "interface", Type: types.TypeString(c.Func.Signature().Results().At(c.Result).Type(), nil), Calls: []string{},
			}
			if !c.ReturnsInterface {
				jc.Returns = "concrete"
			}
			for _, site := range c.Calls {
				jc.Calls = append(jc.Calls, pos(site.Pos))
			}
			js.Constructors = append(js.Constructors, jc)
		}
		for _, imp := range s.Importers {
			js.Importers = append(js.Importers, jsonImporter{Package: imp.Pkg.PkgPath, Refs: imp.Refs, Calls: imp.Calls})
		}
		for _, c := range s.Conversions {
			js.Conversions = append(js.Conversions, jsonConversion{Pos: pos(c.Pos), Type: types.TypeString(c.Concrete, nil), Kind: string(c.Kind)})
		}
		for _, f := range s.Findings {
			js.Findings = append(js.Findings, jsonFinding{
				Pos: pos(f.Pos), Rule: f.Rule.Name, Category: f.Rule.Category, Severity: f.Rule.Severity.String(),
				Method: f.Method, Message: f.Message,
			})
		}
		out.Seams = append(out.Seams, js)
	}
	return out
}
