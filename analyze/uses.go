package analyze

import (
	"go/ast"
	"go/token"
	"go/types"
	"sort"

	"golang.org/x/tools/go/packages"
)

// findUses walks the syntax of every loaded package once and records, for
// every seam: the calls of its constructors, the calls of its methods, the
// packages that refer to it and the conversions of concrete values to it.
func (a *analysis) findUses() {
	a.mentions = map[*packages.Package]bool{}
	importers := map[*Seam]map[*packages.Package]*Importer{}
	reach := a.reachesSeams()
	known := map[*types.TypeName]int8{} // see typeNames
	for _, p := range a.prog.Packages {
		if !reach(p.Types) {
			continue // it cannot name a seam, an implementation or a constructor
		}
		w := &useWalker{a: a, pkg: p, info: p.TypesInfo, importers: importers, switches: a.generated.switchSpans(p)}
		w.typeNames(known)
		for _, f := range p.Syntax {
			if a.ours(f.Pos()) {
				continue // meshsplit's clients, handlers and mains are no uses
			}
			ast.Walk(w.visitor(false, nil), f)
		}
	}
	for _, s := range a.order {
		for _, imp := range importers[s] {
			s.Importers = append(s.Importers, imp)
		}
		sort.Slice(s.Importers, func(i, j int) bool { return s.Importers[i].Pkg.ID < s.Importers[j].Pkg.ID })
		for _, m := range s.Methods {
			sortSites(a.prog.Fset, m.CallSites)
		}
		for _, c := range s.Ctors {
			sortSites(a.prog.Fset, c.Calls)
		}
		sort.SliceStable(s.Conversions, func(i, j int) bool { return posLess(a.prog.Fset, s.Conversions[i].Pos, s.Conversions[j].Pos) })
	}
}

// reachesSeams returns a function reporting whether a package declares or
// (transitively) imports a package that declares a seam, an
// implementation or a constructor: only such a package can refer to one.
// For packages loaded from export data, types.Package.Imports lists the
// packages their exported API refers to, which is what matters here.
func (a *analysis) reachesSeams() func(*types.Package) bool {
	interesting := map[string]bool{}
	for _, s := range a.order {
		interesting[s.Obj.Pkg().Path()] = true
		for _, impl := range s.Impls {
			interesting[impl.Named.Obj().Pkg().Path()] = true
		}
		for _, c := range s.Ctors {
			interesting[c.Func.Pkg().Path()] = true
		}
	}
	memo := map[*types.Package]bool{}
	var reach func(*types.Package) bool
	reach = func(p *types.Package) bool {
		if p == nil {
			return false
		}
		if r, ok := memo[p]; ok {
			return r
		}
		memo[p] = false // an import cycle (only in broken code) ends here
		r := interesting[p.Path()]
		for _, imp := range p.Imports() {
			if r {
				break
			}
			r = reach(imp)
		}
		memo[p] = r
		return r
	}
	return reach
}

// sortSites sorts sites by position.
func sortSites(fset *token.FileSet, sites []*Site) {
	sort.Slice(sites, func(i, j int) bool { return posLess(fset, sites[i].Pos, sites[j].Pos) })
}

// A useWalker walks one package's syntax for findUses.
type useWalker struct {
	a         *analysis
	pkg       *packages.Package
	info      *types.Info
	importers map[*Seam]map[*packages.Package]*Importer
	// switches are the extents of the constructor switches an extraction
	// wrote in the package: not uses (see genFiles.switchSpans).
	switches [][2]token.Pos
}

// generated reports whether pos is in code meshsplit generated: a file of
// its own or a constructor switch.
func (w *useWalker) generated(pos token.Pos) bool {
	for _, s := range w.switches {
		if s[0] <= pos && pos < s[1] {
			return true
		}
	}
	return w.a.ours(pos)
}

// visitor returns an ast.Visitor that knows whether it is inside a loop and
// the signature of the function it is in (for return statements).
func (w *useWalker) visitor(inLoop bool, sig *types.Signature) ast.Visitor {
	return &useVisitor{w: w, inLoop: inLoop, sig: sig}
}

// A useVisitor is the per-scope state of a useWalker.
type useVisitor struct {
	w      *useWalker
	inLoop bool
	sig    *types.Signature
}

// Visit records what n tells about seams and returns the visitor for n's
// children.
func (v *useVisitor) Visit(n ast.Node) ast.Visitor {
	w := v.w
	switch n := n.(type) {
	case *ast.FuncDecl:
		if len(w.switches) > 0 && w.generated(n.Pos()) {
			return nil // a constructor switch: the original it calls is walked
		}
		sig, _ := w.info.TypeOf(n.Name).(*types.Signature)
		if fn, ok := w.info.Defs[n.Name].(*types.Func); ok {
			sig = fn.Signature()
		}
		return w.visitor(false, sig)
	case *ast.FuncLit:
		sig, _ := w.info.TypeOf(n).(*types.Signature)
		return w.visitor(v.inLoop, sig)
	case *ast.ForStmt, *ast.RangeStmt:
		return w.visitor(true, v.sig)
	case *ast.CallExpr:
		w.call(n, v.inLoop)
	case *ast.AssignStmt:
		if n.Tok == token.ASSIGN && len(n.Lhs) == len(n.Rhs) {
			for i, rhs := range n.Rhs {
				w.convert(w.info.TypeOf(n.Lhs[i]), rhs, ConvAssign)
			}
		}
	case *ast.ValueSpec:
		if n.Type != nil && len(n.Values) == len(n.Names) {
			t := w.info.TypeOf(n.Type)
			for _, val := range n.Values {
				w.convert(t, val, ConvAssign)
			}
		}
	case *ast.ReturnStmt:
		if v.sig != nil && v.sig.Results().Len() == len(n.Results) {
			for i, r := range n.Results {
				w.convert(v.sig.Results().At(i).Type(), r, ConvReturn)
			}
		}
	case *ast.CompositeLit:
		w.compositeLit(n)
	case *ast.SendStmt:
		if ch, ok := coreType(w.info.TypeOf(n.Chan)).(*types.Chan); ok {
			w.convert(ch.Elem(), n.Value, ConvSend)
		}
	}
	return v
}

// typeNames counts the references to seams' names (per importer) and
// notes whether the package names a seam or an implementation. It ranges
// over the package's Uses once rather than looking up every identifier.
func (w *useWalker) typeNames(known map[*types.TypeName]int8) {
	const (
		unknown = iota
		other
		seam
		impl
	)
	for id, obj := range w.info.Uses {
		tn, ok := obj.(*types.TypeName)
		if !ok || w.generated(id.Pos()) {
			continue
		}
		kind, ok := known[tn]
		if !ok {
			key := typeKey(tn)
			switch {
			case w.a.seams[key] != nil:
				kind = seam
			case w.a.concretes[key] != nil && len(w.a.concretes[key].impls) > 0:
				kind = impl
			default:
				kind = other
			}
			known[tn] = kind
		}
		switch kind {
		case seam:
			w.a.mentions[w.pkg] = true
			if imp := w.importer(w.a.seamOf(tn)); imp != nil {
				imp.Refs++
			}
		case impl:
			w.a.mentions[w.pkg] = true
		}
	}
}

// importer returns the Importer record of w's package for s, or nil when
// the package is the one that declares s.
func (w *useWalker) importer(s *Seam) *Importer {
	if w.pkg.PkgPath == s.Obj.Pkg().Path() {
		return nil
	}
	m := w.importers[s]
	if m == nil {
		m = map[*packages.Package]*Importer{}
		w.importers[s] = m
	}
	imp := m[w.pkg]
	if imp == nil {
		imp = &Importer{Pkg: w.pkg}
		m[w.pkg] = imp
	}
	return imp
}

// call records a constructor call, a seam method call, an explicit
// conversion or the conversions of the arguments of a call.
func (w *useWalker) call(call *ast.CallExpr, inLoop bool) {
	fun := ast.Unparen(call.Fun)
	if tv, ok := w.info.Types[fun]; ok && tv.IsType() {
		if len(call.Args) == 1 {
			w.convert(tv.Type, call.Args[0], ConvExplicit)
		}
		return
	}
	site := func() *Site { return &Site{Pos: call.Pos(), Pkg: w.pkg, Call: call, InLoop: inLoop} }
	switch f := fun.(type) {
	case *ast.Ident:
		w.ctorCall(w.info.Uses[f], site)
	case *ast.IndexExpr: // a generic function is never a constructor
	case *ast.SelectorExpr:
		if sel, ok := w.info.Selections[f]; ok {
			if sel.Kind() == types.MethodVal {
				w.methodCall(sel, site)
			}
		} else {
			w.ctorCall(w.info.Uses[f.Sel], site)
		}
	}
	sig, ok := coreType(w.info.TypeOf(call.Fun)).(*types.Signature)
	if !ok {
		return
	}
	params := sig.Params()
	for i, arg := range call.Args {
		var t types.Type
		switch {
		case sig.Variadic() && i >= params.Len()-1:
			if call.Ellipsis.IsValid() {
				continue // f(xs...) passes the slice as is
			}
			if s, ok := params.At(params.Len() - 1).Type().Underlying().(*types.Slice); ok {
				t = s.Elem()
			}
		case i < params.Len():
			t = params.At(i).Type()
		}
		if t != nil {
			w.convert(t, arg, ConvArgument)
		}
	}
}

// ctorCall records a call of obj when obj is a constructor.
func (w *useWalker) ctorCall(obj types.Object, site func() *Site) {
	fn, ok := obj.(*types.Func)
	if !ok {
		return
	}
	for _, c := range w.a.ctorsOfFunc(fn) {
		c.Calls = append(c.Calls, site())
		w.a.mentions[w.pkg] = true
	}
}

// methodCall records a call of a seam's method through a value of the
// seam's type.
func (w *useWalker) methodCall(sel *types.Selection, site func() *Site) {
	n := namedOf(sel.Recv())
	if n == nil {
		return
	}
	s := w.a.seamOf(n.Obj())
	if s == nil {
		return
	}
	for _, m := range s.Methods {
		if m.Name == sel.Obj().Name() {
			st := site()
			m.Calls++
			if st.InLoop {
				m.CallsInLoops++
			}
			m.CallSites = append(m.CallSites, st)
			if imp := w.importer(s); imp != nil {
				imp.Calls++
			}
			return
		}
	}
}

// compositeLit records conversions of a composite literal's fields and
// elements.
func (w *useWalker) compositeLit(lit *ast.CompositeLit) {
	switch t := coreType(derefType(w.info.TypeOf(lit))).(type) {
	case *types.Struct:
		for i, elt := range lit.Elts {
			if kv, ok := elt.(*ast.KeyValueExpr); ok {
				if id, ok := kv.Key.(*ast.Ident); ok {
					if fv, ok := w.info.Uses[id].(*types.Var); ok {
						w.convert(fv.Type(), kv.Value, ConvField)
					}
				}
			} else if i < t.NumFields() {
				w.convert(t.Field(i).Type(), elt, ConvField)
			}
		}
	case *types.Slice:
		w.elements(lit, nil, t.Elem())
	case *types.Array:
		w.elements(lit, nil, t.Elem())
	case *types.Map:
		w.elements(lit, t.Key(), t.Elem())
	}
}

// elements records the conversions of the keys and values of a slice,
// array or map literal.
func (w *useWalker) elements(lit *ast.CompositeLit, key, elem types.Type) {
	for _, elt := range lit.Elts {
		if kv, ok := elt.(*ast.KeyValueExpr); ok {
			if key != nil {
				w.convert(key, kv.Key, ConvElement)
			}
			elt = kv.Value
		}
		w.convert(elem, elt, ConvElement)
	}
}

// convert records a conversion when e, of a concrete type, flows into
// target, a seam's interface.
func (w *useWalker) convert(target types.Type, e ast.Expr, kind ConversionKind) {
	if target == nil {
		return
	}
	n, ok := types.Unalias(target).(*types.Named)
	if !ok {
		return
	}
	s := w.a.seamOf(n.Obj())
	if s == nil {
		return
	}
	tv, ok := w.info.Types[e]
	if !ok || tv.Type == nil || tv.IsNil() || types.IsInterface(tv.Type) {
		return
	}
	if b, ok := tv.Type.(*types.Basic); ok && b.Kind() == types.Invalid {
		return
	}
	w.a.mentions[w.pkg] = true
	s.Conversions = append(s.Conversions, &Conversion{
		Pos:      e.Pos(),
		Pkg:      w.pkg,
		Expr:     e,
		Concrete: tv.Type,
		Kind:     kind,
		Impl:     implOf(s, tv.Type),
	})
}

// derefType returns what t points to, or t.
func derefType(t types.Type) types.Type {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}

// coreType returns t's underlying type, or the common underlying type of a
// type parameter's type set (nil when there is none).
func coreType(t types.Type) types.Type {
	if t == nil {
		return nil
	}
	tp, ok := types.Unalias(t).(*types.TypeParam)
	if !ok {
		return t.Underlying()
	}
	iface, ok := tp.Constraint().Underlying().(*types.Interface)
	if !ok {
		return nil
	}
	var core types.Type
	for i := range iface.NumEmbeddeds() {
		u, ok := iface.EmbeddedType(i).Underlying().(*types.Union)
		if !ok {
			return nil
		}
		for j := range u.Len() {
			ut := u.Term(j).Type().Underlying()
			if core != nil && !types.Identical(core, ut) {
				return nil
			}
			core = ut
		}
	}
	return core
}
