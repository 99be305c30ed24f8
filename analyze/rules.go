package analyze

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"sort"
	"strings"
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
	reach    []reached
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

// reached returns every type reachable from the method's signature.
func (p *Pass) reached() []reached {
	if p.reach == nil {
		named, _ := p.Seam.Obj.Type().(*types.Named)
		p.reach = walkSignature(p.Method.Sig, named)
	}
	return p.reach
}

// Rules returns every rule, seam rules first, then by name.
func Rules() []*Rule {
	return []*Rule{
		GenericRule,
		ChanRule, FuncRule, InterfaceRule, JSONDashRule, MapKeyRule, NoContextRule, NoErrorRule,
		OutParamRule, ParamWriteRule, RecursiveRule, UnexportedFieldRule, UnexportedMethodRule,
		UnexportedTypeRule, UnsafeRule, ZeroSizeRule,
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

// typeRule builds a method rule that reports each reached type for which
// check returns a non-empty message, at most maxPerRoot per parameter or
// result.
func typeRule(name, doc, category string, sev Severity, check func(p *Pass, r reached) string) *Rule {
	return &Rule{Name: name, Doc: doc, Category: category, Severity: sev, run: func(p *Pass) {
		var c rootCounter
		for _, r := range p.reached() {
			if msg := check(p, r); msg != "" && c.take(r) {
				p.Reportf(r.Pos, "%s", msg)
			}
		}
		c.reportRest(p)
	}}
}

// A rootCounter counts a rule's findings per parameter or result.
type rootCounter struct {
	order []reached
	count map[token.Pos]int
}

// take counts r and reports whether it is within the cap.
func (c *rootCounter) take(r reached) bool {
	if c.count == nil {
		c.count = map[token.Pos]int{}
	}
	if c.count[r.Pos] == 0 {
		c.order = append(c.order, r)
	}
	c.count[r.Pos]++
	return c.count[r.Pos] <= maxPerRoot
}

// reportRest reports, per parameter or result, how many findings the cap
// left out.
func (c *rootCounter) reportRest(p *Pass) {
	for _, r := range c.order {
		if n := c.count[r.Pos] - maxPerRoot; n > 0 {
			root, _, _ := strings.Cut(r.Path, ".")
			root, _, _ = strings.Cut(root, "[")
			p.Reportf(r.Pos, "and %d more like these under %s", n, root)
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

// GenericRule reports generic interfaces.
var GenericRule = &Rule{
	Name:      "generic",
	Doc:       "a generic interface has no single wire format; extract an instantiation behind a non-generic interface",
	Category:  "shape",
	Severity:  Error,
	SeamLevel: true,
	run: func(p *Pass) {
		if p.Seam.Generic {
			p.Reportf(p.Seam.Obj.Pos(), "%s has type parameters: declare a non-generic interface for the instantiation to extract", p.Seam.Obj.Name())
		}
	},
}

// ChanRule reports channels reachable from a signature.
var ChanRule = typeRule("chan",
	"a channel cannot cross the network: its two ends would live in different processes",
	"types", Error,
	func(p *Pass, r reached) string {
		if _, ok := r.Type.Underlying().(*types.Chan); ok && r.fresh() {
			return fmt.Sprintf("%s is a channel (%s): a channel cannot cross the network; return a slice or poll", r.Path, p.typeString(r.Type))
		}
		return ""
	})

// FuncRule reports functions (callbacks) reachable from a signature.
var FuncRule = typeRule("func",
	"a function value (callback) cannot cross the network: its code and closure stay in the caller's process",
	"types", Error,
	func(p *Pass, r reached) string {
		if _, ok := r.Type.Underlying().(*types.Signature); ok && r.fresh() {
			return fmt.Sprintf("%s is a function (%s): a callback cannot cross the network; pass data, or split the callback into its own interface", r.Path, p.typeString(r.Type))
		}
		return ""
	})

// InterfaceRule reports interface values (any included) reachable from a
// signature; an error result and a context.Context parameter are fine.
var InterfaceRule = typeRule("interface",
	"an interface value's dynamic type is unknown to the codec; only error results and context.Context parameters may be interfaces",
	"types", Error,
	func(p *Pass, r reached) string {
		if !types.IsInterface(r.Type) || !r.fresh() {
			return ""
		}
		if r.Top && r.Result && isError(r.Type) {
			return ""
		}
		if r.Top && !r.Result && isContext(r.Type) {
			return ""
		}
		return fmt.Sprintf("%s is an interface value (%s): the codec cannot know its dynamic type; use a concrete type", r.Path, p.typeString(r.Type))
	})

// UnsafeRule reports unsafe.Pointer and uintptr values.
var UnsafeRule = typeRule("unsafe",
	"unsafe.Pointer and uintptr hold addresses that mean nothing in another process",
	"types", Error,
	func(p *Pass, r reached) string {
		if b, ok := r.Type.Underlying().(*types.Basic); ok && r.fresh() && (b.Kind() == types.UnsafePointer || b.Kind() == types.Uintptr) {
			return fmt.Sprintf("%s is %s: an address means nothing in another process", r.Path, p.typeString(r.Type))
		}
		return ""
	})

// UnexportedFieldRule reports unexported struct fields. The generated codec
// lives in the interface's package, so it carries that package's
// unexported fields (a note); another package's unexported fields are out
// of its reach and would be dropped (an error).
var UnexportedFieldRule = &Rule{
	Name:     "unexported-field",
	Doc:      "unexported fields of another package's types cannot be carried by the codec generated in the interface's package",
	Category: "types",
	Severity: Error,
	run: func(p *Pass) {
		// One finding per struct value, naming all its unreachable fields.
		type group struct {
			at     reached
			fields []string
		}
		var order []string
		groups := map[string]*group{}
		var c rootCounter
		for _, r := range p.reached() {
			if r.Field == nil || r.Field.Exported() || r.Field.Name() == "_" || r.Field.Pkg() == p.Seam.Obj.Pkg() {
				continue // blank fields carry nothing
			}
			parent := strings.TrimSuffix(r.Path, "."+r.Field.Name())
			g := groups[parent]
			if g == nil {
				if !c.take(r) {
					continue
				}
				g = &group{at: r}
				groups[parent] = g
				order = append(order, parent)
			}
			g.fields = append(g.fields, r.Field.Name())
		}
		for _, parent := range order {
			g := groups[parent]
			p.Reportf(g.at.Pos, "%s is a %s, whose unexported fields (%s) the codec generated in package %s cannot reach: they would be dropped; pass a type with exported fields", parent, ownerName(g.at), strings.Join(g.fields, ", "), p.Seam.Obj.Pkg().Name())
		}
		c.reportRest(p)
	},
}

// UnexportedTypeRule reports unexported named types of another package:
// the code generated in the interface's package cannot name them.
var UnexportedTypeRule = typeRule("unexported-type",
	"an unexported type of another package cannot be named by the code generated in the interface's package",
	"types", Error,
	func(p *Pass, r reached) string {
		n, ok := types.Unalias(r.Type).(*types.Named)
		if !ok || !r.fresh() || n.Obj().Exported() || n.Obj().Pkg() == nil || n.Obj().Pkg() == p.Seam.Obj.Pkg() {
			return ""
		}
		if r.Field != nil && !r.Field.Exported() && r.Field.Pkg() != p.Seam.Obj.Pkg() {
			return "" // an unexported field of another package: unexported-field reports it
		}
		return fmt.Sprintf("%s is of type %s, unexported in package %s: generated code cannot name it; export the type", r.Path, n.Obj().Name(), n.Obj().Pkg().Path())
	})

// UnexportedMethodRule reports unexported methods embedded from another
// package's interface: only that package's types can implement them, so
// no generated client can.
var UnexportedMethodRule = &Rule{
	Name:     "unexported-method",
	Doc:      "an unexported method of another package's interface cannot be implemented by a generated client",
	Category: "shape",
	Severity: Error,
	run: func(p *Pass) {
		fn := p.Method.Func
		if fn.Exported() || fn.Pkg() == nil || fn.Pkg() == p.Seam.Obj.Pkg() {
			return
		}
		p.Reportf(fn.Pos(), "%s is an unexported method of package %s: only that package's types can implement it, so no generated client can", fn.Name(), fn.Pkg().Path())
	},
}

// ZeroSizeRule reports slices and maps of values that encode to no bytes
// (struct{}, [0]T): a decoder could not bound their length.
var ZeroSizeRule = typeRule("zero-size",
	"slices of values that encode to no bytes (struct{}, [0]T) cannot be bounded by the decoder",
	"types", Error,
	func(p *Pass, r reached) string {
		if !r.fresh() {
			return ""
		}
		switch u := r.Type.Underlying().(type) {
		case *types.Slice:
			if wireEmpty(u.Elem()) {
				return fmt.Sprintf("%s is a slice of %s, whose values encode to no bytes: the decoder could not bound its length; send a count instead", r.Path, p.typeString(u.Elem()))
			}
		case *types.Map:
			if wireEmpty(u.Key()) && wireEmpty(u.Elem()) {
				return fmt.Sprintf("%s is a map whose entries encode to no bytes: the decoder could not bound its length", r.Path)
			}
		}
		return ""
	})

// wireEmpty reports whether values of t encode to no bytes: structs of such
// fields (blank ones aside) and arrays of length 0 or of such elements.
func wireEmpty(t types.Type) bool {
	if n, ok := types.Unalias(t).(*types.Named); ok && isTime(n) {
		return false
	}
	switch u := t.Underlying().(type) {
	case *types.Struct:
		for i := range u.NumFields() {
			if f := u.Field(i); f.Name() != "_" && !wireEmpty(f.Type()) {
				return false
			}
		}
		return true
	case *types.Array:
		return u.Len() == 0 || wireEmpty(u.Elem())
	}
	return false
}

// ownerName spells the struct type that declares r.Field.
func ownerName(r reached) string {
	if r.Owner != nil {
		return types.TypeString(r.Owner, nil)
	}
	return "an unnamed struct"
}

// JSONDashRule notes exported fields tagged json:"-": the mesh codec
// carries them, the JSON path (gateway, curl) does not.
var JSONDashRule = typeRule("json-dash",
	`fields tagged json:"-" are carried by the mesh codec but not by the JSON path (gateway, curl)`,
	"semantics", Note,
	func(p *Pass, r reached) string {
		if r.Field == nil || !r.Field.Exported() || !jsonDropped(r.Tag) {
			return ""
		}
		return fmt.Sprintf(`%s is tagged json:"-": generated clients carry it, but JSON callers (gateway, curl) neither send nor see it`, r.Path)
	})

// RecursiveRule reports recursive types: the codec encodes trees, not
// cycles or shared pointers.
var RecursiveRule = typeRule("recursive",
	"a recursive type is encoded as a tree: a cyclic value fails the call and shared pointers arrive as copies",
	"types", Warning,
	func(p *Pass, r reached) string {
		if !r.Cycle {
			return ""
		}
		return fmt.Sprintf("%s refers back to %s: values are encoded as trees, so a cyclic value fails the call (past the codec's depth limit) and shared pointers arrive as separate copies", r.Path, p.typeString(r.Type))
	})

// MapKeyRule reports maps whose keys neither JSON nor the codec can encode.
var MapKeyRule = typeRule("map-key",
	"map keys must be strings, integers, booleans or floats to be encoded",
	"types", Error,
	func(p *Pass, r reached) string {
		m, ok := r.Type.Underlying().(*types.Map)
		if !ok || !r.fresh() {
			return ""
		}
		if b, ok := m.Key().Underlying().(*types.Basic); ok && b.Info()&(types.IsString|types.IsInteger|types.IsBoolean|types.IsFloat) != 0 && b.Kind() != types.Uintptr {
			return ""
		}
		return fmt.Sprintf("%s is a map keyed by %s: only string, integer, boolean and float keys can be encoded; key it by a string", r.Path, p.typeString(m.Key()))
	})

// NoErrorRule reports methods whose last result is not an error.
var NoErrorRule = &Rule{
	Name:     "no-error",
	Doc:      "a method without an error result cannot report a network failure; the generated client logs it and returns zero values",
	Category: "errors",
	Severity: Warning,
	run: func(p *Pass) {
		res := p.Method.Sig.Results()
		if res.Len() > 0 && isError(res.At(res.Len()-1).Type()) {
			return
		}
		p.Reportf(p.Method.Func.Pos(), "%s has no error result: a network failure cannot reach the caller (the client logs it and returns zero values); add an error result", p.Method.Name)
	},
}

// NoContextRule notes methods without a context.Context parameter.
var NoContextRule = &Rule{
	Name:     "no-context",
	Doc:      "without a context.Context parameter no deadline or cancellation reaches the server",
	Category: "semantics",
	Severity: Note,
	run: func(p *Pass) {
		params := p.Method.Sig.Params()
		for i := range params.Len() {
			if isContext(params.At(i).Type()) {
				return
			}
		}
		p.Reportf(p.Method.Func.Pos(), "%s has no context.Context parameter: remote calls run with context.Background(), so no deadline or cancellation reaches the server", p.Method.Name)
	},
}

// OutParamRule reports pointer parameters an implementation writes
// through. Extract copies the pointee back when the call returns, so the
// caller sees the writes; what it cannot restore is other aliasing.
var OutParamRule = &Rule{
	Name:     "out-param",
	Doc:      "a pointer parameter the implementation writes through is copied back when a remote call returns; other aliases of the pointee are not updated",
	Category: "semantics",
	Severity: Warning,
	run: func(p *Pass) {
		for _, w := range paramWrites(p, true) {
			p.Reportf(w.param.Pos(), "%s (%s) is an out-parameter: %s writes through it at %s; extract copies the pointee back when the call returns, but other pointers to it are not updated", w.label, p.typeString(w.param.Type()), w.impl, p.Prog.Position(w.at))
		}
	},
}

// ParamWriteRule reports slice and map parameters (or pointers inside
// value parameters) an implementation writes through: remotely the write
// lands in the server's copy and the caller never sees it.
var ParamWriteRule = &Rule{
	Name:     "param-write",
	Doc:      "writes through a slice, map or nested pointer of a non-pointer parameter are lost remotely",
	Category: "semantics",
	Severity: Warning,
	run: func(p *Pass) {
		for _, w := range paramWrites(p, false) {
			p.Reportf(w.param.Pos(), "%s (%s): %s writes into it at %s; remotely the write lands in the server's copy and the caller never sees it; return the result instead", w.label, p.typeString(w.param.Type()), w.impl, p.Prog.Position(w.at))
		}
	},
}

// implName spells an implementation's method, "(*T).M" or "T.M".
func implName(impl *Impl, method string) string {
	if impl.Pointer {
		return "(*" + impl.Named.Obj().Name() + ")." + method
	}
	return impl.Named.Obj().Name() + "." + method
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
