package analyze

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"sort"

	"github.com/meshsplit/meshsplit/internal/wiretype"
)

// A Rule is one remotability check, in the spirit of go/analysis: a named
// value with a one-line doc, a category and the severity of its findings.
// Method rules run once per method of every seam; seam rules (Seam set)
// once per seam.
type Rule struct {
	// Name is the rule's identifier, printed as [name] beside findings.
	Name string
	// Doc is one line saying what the rule reports and why.
	Doc string
	// Category groups rules: "types" (what a signature can carry),
	// "errors" (how failures reach the caller), "semantics" (what behaves
	// differently remotely) or "shape" (the interface itself).
	Category string
	// Severity is the severity of every finding of the rule.
	Severity Severity
	// SeamLevel reports whether the rule runs once per seam rather than
	// once per method.
	SeamLevel bool
	// Kind is the kind of wiretype problem a type rule reports (its name
	// is the rule's), or 0 for the other rules.
	Kind wiretype.Kind

	run func(*Pass)
}

// A Pass is what a rule sees: one seam and, for method rules, one method.
type Pass struct {
	// Prog is the analyzed program.
	Prog *Program
	// Seam is the seam under judgement.
	Seam *Seam
	// Method is the method under judgement, or nil for a seam rule.
	Method *Method

	rule     *Rule
	probs    []wiretype.Problem
	findings []*Finding
}

// Reportf records a finding of the pass's rule at pos.
func (p *Pass) Reportf(pos token.Pos, format string, args ...any) {
	f := &Finding{Rule: p.rule, Pos: pos, Message: fmt.Sprintf(format, args...)}
	if p.Method != nil {
		f.Method = p.Method.Name
	}
	p.findings = append(p.findings, f)
}

// Rules returns every rule, seam rules first, then by name.
func Rules() []*Rule {
	return []*Rule{
		BehindAggregateRule, GenericRule,
		AnyRule, ChanRule, DefinedTimeRule, FuncRule, InterfaceRule, JSONDashRule, LocalTypeRule, MapKeyRule, NoContextRule, NoErrorRule,
		OmittedRule, OutParamRule, ParamWriteRule, PointerKeyRule, RecursiveRule, UnexportedFieldRule, UnexportedMethodRule,
		StreamRule, UnexportedTypeRule, UnsafeRule, ZeroSizeRule,
	}
}

// applyRules runs every rule on s and fills in the findings and verdicts
// of s and its methods.
func applyRules(prog *Program, s *Seam) {
	rules := Rules()
	for _, r := range rules {
		if r.SeamLevel {
			p := &Pass{Prog: prog, Seam: s, rule: r}
			r.run(p)
			s.Findings = append(s.Findings, p.findings...)
		}
	}
	for _, m := range s.Methods {
		p := &Pass{Prog: prog, Seam: s, Method: m}
		for _, r := range rules {
			if !r.SeamLevel {
				p.rule = r
				r.run(p)
			}
		}
		m.Findings = p.findings
		if anchor := embedAnchor(s, m); anchor.IsValid() {
			for _, f := range m.Findings {
				f.Pos = anchor // a method embedded from another package: point at the embedding
			}
		}
		sortFindings(prog.Fset, m.Findings)
		for _, f := range m.Findings {
			m.Verdict = max(m.Verdict, verdictOf(f.Rule.Severity))
		}
		s.Findings = append(s.Findings, m.Findings...)
	}
	sortFindings(prog.Fset, s.Findings)
	for _, f := range s.Findings {
		s.Verdict = max(s.Verdict, verdictOf(f.Rule.Severity))
	}
}

// sortFindings orders findings by position, then rule name, then message.
func sortFindings(fset *token.FileSet, fs []*Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Pos != b.Pos {
			return posLess(fset, a.Pos, b.Pos)
		}
		if a.Rule.Name != b.Rule.Name {
			return a.Rule.Name < b.Rule.Name
		}
		return a.Message < b.Message
	})
}

// maxPerRoot caps the findings of one type rule under one parameter or
// result: a signature that reaches a large type graph would otherwise
// drown the report. The rest are counted in one more finding.
const maxPerRoot = 3

// typeRule builds the method rule that reports the problems of one kind
// that wiretype.Check finds in a signature (the rule is named after the
// kind), each with the message format returns, at most maxPerRoot per
// parameter or result.
func typeRule(kind wiretype.Kind, doc, category string, sev Severity, format func(p *Pass, pr wiretype.Problem, path string) string) *Rule {
	return &Rule{Name: kind.String(), Doc: doc, Category: category, Severity: sev, Kind: kind, run: func(p *Pass) {
		var c rootCounter
		for _, pr := range p.problems() {
			if pr.Kind == kind && c.take(pr) {
				p.Reportf(pr.Var.Pos(), "%s", format(p, pr, problemPath(pr)))
			}
		}
		c.reportRest(p)
	}}
}

// A rootCounter counts a rule's findings per parameter or result.
type rootCounter struct {
	order []wiretype.Problem
	count map[*types.Var]int
}

// take counts pr and reports whether it is within the cap.
func (c *rootCounter) take(pr wiretype.Problem) bool {
	if c.count == nil {
		c.count = map[*types.Var]int{}
	}
	if c.count[pr.Var] == 0 {
		c.order = append(c.order, pr)
	}
	c.count[pr.Var]++
	return c.count[pr.Var] <= maxPerRoot
}

// reportRest reports, per parameter or result, how many findings the cap
// left out.
func (c *rootCounter) reportRest(p *Pass) {
	for _, pr := range c.order {
		if n := c.count[pr.Var] - maxPerRoot; n > 0 {
			p.Reportf(pr.Var.Pos(), "and %d more like these under %s", n, problemPath(wiretype.Problem{Var: pr.Var, Index: pr.Index, Result: pr.Result}))
		}
	}
}

// qualifier spells types relative to the seam's package.
func (p *Pass) qualifier() types.Qualifier {
	return func(pkg *types.Package) string {
		if pkg == p.Seam.Obj.Pkg() {
			return ""
		}
		return pkg.Name()
	}
}

// typeString spells t relative to the seam's package.
func (p *Pass) typeString(t types.Type) string {
	return types.TypeString(t, p.qualifier())
}

// embedAnchor returns, for a method embedded from an interface of another
// package (a dependency's, or one the seam's readers would not look at),
// the position of the embedded type in the seam's declaration (the
// interface that brings the method in, directly or through further
// embedding), or the seam's name; NoPos for other methods.
func embedAnchor(s *Seam, m *Method) token.Pos {
	if m.Embedded == nil || m.Func.Pkg() == s.Obj.Pkg() {
		return token.NoPos
	}
	if s.Spec != nil {
		if it, ok := s.Spec.Type.(*ast.InterfaceType); ok && it.Methods != nil {
			for _, field := range it.Methods.List {
				if len(field.Names) > 0 {
					continue
				}
				if iface, ok := underOf(s.Pkg.TypesInfo, field.Type).(*types.Interface); ok {
					for i := range iface.NumMethods() {
						if iface.Method(i) == m.Func {
							return field.Type.Pos()
						}
					}
				}
			}
		}
	}
	return s.Obj.Pos()
}
