package analyze

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"sort"

	"golang.org/x/tools/go/packages"

	"github.com/meshsplit/meshsplit/internal/wiretype"
)

// Run analyzes a loaded program: it finds the seams, their implementations,
// constructors, uses and conversions, judges every method with the rules,
// and ranks the seams. It never fails: packages with type errors are
// analyzed as far as their types allow.
func Run(prog *Program) *Report {
	a := &analysis{
		prog:      prog,
		seams:     map[string]*Seam{},
		ctors:     map[string][]*Constructor{},
		concretes: map[string]*concrete{},
		byMethod:  map[string][]*concrete{},

		seamByObj:  map[*types.TypeName]*Seam{},
		ctorsByObj: map[*types.Func][]*Constructor{},
		generated:  newGenFiles(prog.Fset, prog.Packages),
		sigs:       map[*types.Signature]string{},
	}
	a.findSeams()
	a.findConcretes()
	a.findImpls()
	a.findCtors()
	a.findUses()
	a.findAlsoUsedAs()
	rep := &Report{Program: prog, Seams: append([]*Seam(nil), a.order...), Notes: a.notes, byName: a.seams}
	for _, s := range rep.Seams {
		applyRules(prog, s)
	}
	behindAggregate(prog, rep.Seams)
	rank(rep.Seams)
	return rep
}

// analysis is the state of one Run.
type analysis struct {
	prog  *Program
	seams map[string]*Seam // by Seam.Name
	order []*Seam          // in declaration order
	// ctors maps a function's key (see funcKey) to the constructors it is.
	ctors map[string][]*Constructor
	// concretes maps a named type's key (see typeKey) to its description.
	concretes map[string]*concrete
	// byMethod indexes concretes by the names of their methods.
	byMethod map[string][]*concrete
	// notes collects what could not be analyzed fully (Report.Notes).
	notes []string
	// mentions holds the packages that mention a seam or an implementation.
	mentions map[*packages.Package]bool
	// seamByObj and ctorsByObj memoize seamOf and ctorsOfFunc: the walk of
	// every package asks them for every call and conversion.
	seamByObj  map[*types.TypeName]*Seam
	ctorsByObj map[*types.Func][]*Constructor
	// generated says which files a tool generated (see generated.go).
	generated genFiles
	// sigs memoizes sigString for implements.
	sigs map[*types.Signature]string
}

// ours reports whether pos is in a file meshsplit generated: such files
// declare no implementation, constructor or use.
func (a *analysis) ours(pos token.Pos) bool {
	return a.generated.at(a.prog.Fset, pos) == byMeshsplit
}

// seamOf returns the seam tn names, or nil.
func (a *analysis) seamOf(tn *types.TypeName) *Seam {
	s, ok := a.seamByObj[tn]
	if !ok {
		s = a.seams[typeKey(tn)]
		a.seamByObj[tn] = s
	}
	return s
}

// ctorsOfFunc returns the constructors fn is, if any.
func (a *analysis) ctorsOfFunc(fn *types.Func) []*Constructor {
	cs, ok := a.ctorsByObj[fn]
	if !ok {
		cs = a.ctors[funcKey(fn)]
		a.ctorsByObj[fn] = cs
	}
	return cs
}

// A concrete is a named non-interface, non-generic type of the module.
type concrete struct {
	named *types.Named
	pkg   *packages.Package
	impls []*Impl // one per seam it implements
	// msets are the method sets of T and *T, computed on first use by
	// implements.
	msets [2]*types.MethodSet
}

// typeKey names a package-level type as "path.Name". Keys rather than
// object identity let the test variant of a package ("p [p.test]") and its
// plain variant, which other packages import, meet.
func typeKey(obj types.Object) string {
	if obj == nil || obj.Pkg() == nil {
		return ""
	}
	return obj.Pkg().Path() + "." + obj.Name()
}

// funcKey names a package-level function as "path.Name".
func funcKey(fn *types.Func) string {
	if fn.Signature().Recv() != nil {
		return ""
	}
	return typeKey(fn)
}

// namedOf returns the named type t is, or points to, or nil.
func namedOf(t types.Type) *types.Named {
	t = types.Unalias(t)
	if p, ok := t.(*types.Pointer); ok {
		t = types.Unalias(p.Elem())
	}
	n, _ := t.(*types.Named)
	return n
}

// findSeams collects the named interfaces declared in the module's packages,
// leaving out those of generated files unless Config.Generated.
func (a *analysis) findSeams() {
	generated, errs := map[string]bool{}, map[string]bool{} // left out, by key
	defer func() {
		if len(generated) > 0 {
			a.notes = append(a.notes, fmt.Sprintf("%d interface(s) declared in generated files (mocks, stubs) are not listed; -generated includes them", len(generated)))
		}
		if len(errs) > 0 {
			a.notes = append(a.notes, fmt.Sprintf("%d error interface(s) (with an Error() string method) are not listed: their values are errors, not services", len(errs)))
		}
	}()
	errorType := types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	for _, p := range a.prog.Packages {
		specs := typeSpecs(p)
		scope := p.Types.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok || tn.IsAlias() {
				continue
			}
			named, ok := tn.Type().(*types.Named)
			if !ok {
				continue
			}
			iface, ok := named.Underlying().(*types.Interface)
			if !ok || !iface.IsMethodSet() || iface.NumMethods() == 0 {
				continue // constraints and empty interfaces are not seams
			}
			if types.Implements(named, errorType) {
				errs[typeKey(tn)] = true
				continue
			}
			if k := a.generated.at(a.prog.Fset, tn.Pos()); k == byMeshsplit || (k == byOtherTool && !a.prog.Config.Generated) {
				if k == byOtherTool {
					generated[typeKey(tn)] = true
				}
				continue
			}
			s := &Seam{
				Name:    typeKey(tn),
				Pkg:     p,
				Obj:     tn,
				Iface:   iface,
				Spec:    specs[tn.Pos()],
				Generic: wiretype.Generic(named),
			}
			if _, dup := a.seams[s.Name]; dup {
				continue
			}
			for i := range iface.NumMethods() {
				fn := iface.Method(i)
				m := &Method{Name: fn.Name(), Func: fn, Sig: fn.Signature()}
				if recv := fn.Signature().Recv(); recv != nil {
					if rn := namedOf(recv.Type()); rn != nil && rn.Obj() != tn {
						m.Embedded = rn
					}
				}
				s.Methods = append(s.Methods, m)
			}
			a.seams[s.Name] = s
			a.order = append(a.order, s)
		}
	}
	sort.SliceStable(a.order, func(i, j int) bool { return posLess(a.prog.Fset, a.order[i].Obj.Pos(), a.order[j].Obj.Pos()) })
}

// typeSpecs maps the position of each package-level type name of p to its
// declaration.
func typeSpecs(p *packages.Package) map[token.Pos]*ast.TypeSpec {
	m := map[token.Pos]*ast.TypeSpec{}
	for _, f := range p.Syntax {
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.TYPE {
				for _, spec := range gd.Specs {
					ts := spec.(*ast.TypeSpec)
					m[ts.Name.Pos()] = ts
				}
			}
		}
	}
	return m
}

// findConcretes indexes the module's named non-interface types by method.
func (a *analysis) findConcretes() {
	for _, p := range a.prog.Packages {
		scope := p.Types.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok || tn.IsAlias() {
				continue
			}
			named, ok := tn.Type().(*types.Named)
			if !ok || types.IsInterface(named) || named.TypeParams().Len() > 0 || a.ours(tn.Pos()) {
				continue // a generated client is not an implementation
			}
			key := typeKey(tn)
			if _, dup := a.concretes[key]; dup {
				continue
			}
			c := &concrete{named: named, pkg: p}
			a.concretes[key] = c
			mset := types.NewMethodSet(types.NewPointer(named))
			for i := range mset.Len() {
				n := mset.At(i).Obj().Name()
				a.byMethod[n] = append(a.byMethod[n], c)
			}
		}
	}
}

// findImpls finds each seam's implementations among the concretes.
func (a *analysis) findImpls() {
	for _, s := range a.order {
		if s.Generic {
			continue // an uninstantiated generic interface has no implementations to check
		}
		for _, c := range a.byMethod[s.Methods[0].Name] {
			var impl *Impl
			switch {
			case a.implements(c, false, s):
				impl = &Impl{Named: c.named, Pkg: c.pkg, seam: s}
			case a.implements(c, true, s):
				impl = &Impl{Named: c.named, Pkg: c.pkg, Pointer: true, seam: s}
			default:
				continue
			}
			s.Impls = append(s.Impls, impl)
			c.impls = append(c.impls, impl)
		}
		sort.Slice(s.Impls, func(i, j int) bool {
			return typeKey(s.Impls[i].Named.Obj()) < typeKey(s.Impls[j].Named.Obj())
		})
	}
}

// implements reports whether c (or *c, with ptr) implements the seam's
// interface. Test variants of a package give the same type two
// identities, so with tests loaded the method signatures are also compared
// by their spelling.
func (a *analysis) implements(c *concrete, ptr bool, s *Seam) bool {
	t := types.Type(c.named)
	if ptr {
		t = types.NewPointer(c.named)
	}
	if types.Implements(t, s.Iface) {
		return true
	}
	if !a.prog.Config.Tests {
		return false
	}
	mset := c.msets[0]
	if ptr {
		mset = c.msets[1]
	}
	if mset == nil {
		mset = types.NewMethodSet(t) // computed once per type, not once per seam
		if ptr {
			c.msets[1] = mset
		} else {
			c.msets[0] = mset
		}
	}
	for _, m := range s.Methods {
		sel := mset.Lookup(m.Func.Pkg(), m.Name)
		if sel == nil {
			return false
		}
		got, ok := sel.Obj().Type().(*types.Signature)
		if !ok || a.sigString(got) != a.sigString(m.Sig) {
			return false
		}
	}
	return true
}

// sigString is sigString memoized: with tests loaded, every candidate
// implementation of every seam is compared by spelling, so the same
// signatures are spelled again and again (quadratic on a module of many
// alike layers).
func (a *analysis) sigString(sig *types.Signature) string {
	s, ok := a.sigs[sig]
	if !ok {
		s = sigString(sig)
		a.sigs[sig] = s
	}
	return s
}

// sigString spells a signature without its receiver, packages by path.
func sigString(sig *types.Signature) string {
	return types.TypeString(types.NewSignatureType(nil, nil, nil, sig.Params(), sig.Results(), sig.Variadic()), nil)
}

// implOf returns the seam's implementation that t is or points to.
func implOf(s *Seam, t types.Type) *Impl {
	n := namedOf(t)
	if n == nil {
		return nil
	}
	key := typeKey(n.Obj())
	for _, impl := range s.Impls {
		if typeKey(impl.Named.Obj()) == key {
			return impl
		}
	}
	return nil
}

// findCtors finds the package-level functions that return a seam or one of
// its implementations.
func (a *analysis) findCtors() {
	for _, p := range a.prog.Packages {
		for _, f := range p.Syntax {
			if a.ours(f.Pos()) {
				continue // generated switches and service mains build nothing new
			}
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv != nil {
					continue
				}
				fn, ok := p.TypesInfo.Defs[fd.Name].(*types.Func)
				if !ok || fn.Signature().TypeParams().Len() > 0 || a.generated.keptOriginal(fn) {
					continue
				}
				a.ctorsOf(p, fd, fn)
			}
		}
	}
	for _, s := range a.order {
		sort.Slice(s.Ctors, func(i, j int) bool { return posLess(a.prog.Fset, s.Ctors[i].Func.Pos(), s.Ctors[j].Func.Pos()) })
	}
}

// ctorsOf records fn as a constructor of each seam one of its results is
// (the first such result per seam).
func (a *analysis) ctorsOf(p *packages.Package, fd *ast.FuncDecl, fn *types.Func) {
	res := fn.Signature().Results()
	done := map[*Seam]bool{}
	for i := range res.Len() {
		n := namedOf(res.At(i).Type())
		if n == nil {
			continue
		}
		key := typeKey(n.Obj())
		if s := a.seams[key]; s != nil && !done[s] {
			if _, ptr := types.Unalias(res.At(i).Type()).(*types.Pointer); ptr {
				continue // *Iface is not the interface
			}
			done[s] = true
			c := &Constructor{Func: fn, Decl: fd, Pkg: p, Result: i, ReturnsInterface: true}
			s.Ctors = append(s.Ctors, c)
			a.ctors[funcKey(fn)] = append(a.ctors[funcKey(fn)], c)
			continue
		}
		con := a.concretes[key]
		if con == nil {
			continue
		}
		_, ptr := types.Unalias(res.At(i).Type()).(*types.Pointer)
		for _, impl := range con.impls {
			s := impl.seam
			if done[s] || (impl.Pointer && !ptr) {
				continue
			}
			done[s] = true
			c := &Constructor{Func: fn, Decl: fd, Pkg: p, Result: i, Impl: impl}
			s.Ctors = append(s.Ctors, c)
			a.ctors[funcKey(fn)] = append(a.ctors[funcKey(fn)], c)
		}
	}
}
