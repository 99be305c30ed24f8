package rewrite

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/packages"

	"github.com/meshsplit/meshsplit/analyze"
	"github.com/meshsplit/meshsplit/internal/wiretype"
	"github.com/meshsplit/meshsplit/rewrite/gen"
)

// A switchedCtor is a constructor that carries the mesh switch, after this
// plan: the service main builds the implementation with it.
type switchedCtor struct {
	Name string
	Pkg  *types.Package // the constructor's package
	Func *types.Func    // the constructor as loaded (before this plan)
	// Params are the constructor's parameters.
	Params *types.Tuple
	// WithError is set when the constructor returns an error too.
	WithError bool
}

// switchConstructors gives the mesh switch to every constructor that
// returns the interface (or an implementation, when every caller uses it as
// the interface) and is declared in the interface's package or in a package
// that declares an implementation (a factory elsewhere calls one of those). It returns the switched
// constructors, those switched by an earlier run included, by position.
func (p *planner) switchConstructors() ([]switchedCtor, error) {
	var out []switchedCtor
	for _, c := range p.seam.Ctors {
		path := p.prog.Fset.Position(c.Decl.Pos()).Filename
		name := c.Func.Name()
		at := p.pos(c.Decl.Pos())
		if strings.HasSuffix(path, "_test.go") {
			p.action("skip", at, "%s is declared in a test file: tests build what they like; left as it is", name)
			continue
		}
		if p.skipFile(path) {
			continue // meshsplit's own generated code
		}
		if c.Impl != nil && p.generatedByOther(path) {
			p.action("skip", at, "%s builds %s in a file another tool generated (a mock or a stub): left as it is", name, c.Impl.Named.Obj().Name())
			continue
		}
		outside := c.Pkg.Types.Path() != p.pkgPath()
		if outside && !p.declaresImpl(c.Pkg.Types.Path()) {
			p.action("skip", at, "%s is a factory outside package %s that declares no implementation: the constructors it calls switch; left as it is", name, p.seam.Obj.Pkg().Name())
			continue
		}
		if outside && !token.IsExported(p.ifaceName()) {
			p.manual(at, "%s builds the unexported %s outside package %s: it cannot be switched from there", name, p.ifaceName(), p.seam.Obj.Pkg().Name())
			continue
		}
		df, err := p.file(path)
		if err != nil {
			return nil, err
		}
		if df == nil {
			continue
		}
		if df.switchOf(name) != nil {
			continue // the original of a constructor an earlier run switched
		}
		sig := c.Func.Signature()
		res := sig.Results()
		withError := res.Len() == 2 && c.Result == 0 && wiretype.IsError(res.At(1).Type())
		if isSwitch(df.funcDecl(name), localName(name)) {
			out = append(out, switchedCtor{Name: name, Pkg: c.Pkg.Types, Func: c.Func, Params: sig.Params(), WithError: withError})
			p.exportedSwitch = p.exportedSwitch || outside
			continue
		}
		if !(res.Len() == 1 && c.Result == 0) && !withError {
			p.manual(at, "%s returns %s: only constructors returning the interface (or it and an error) are rewritten; %s",
				name, res, p.handSwitch(c.Pkg.Types))
			continue
		}
		if takesIface(sig, p.seam.Obj.Type()) {
			p.action("skip", at, "%s takes a %s and returns one: a wrapper, not a constructor; left as it is", name, p.ifaceName())
			continue
		}
		if obj := c.Pkg.Types.Scope().Lookup(localName(name)); obj != nil {
			p.manual(at, "%s is not rewritten: the package already declares %s, the name its original would take", name, localName(name))
			continue
		}
		change := ""
		if !c.ReturnsInterface {
			if where, why, in := p.concreteUse(c); where != "" {
				p.manual(at, "%s returns %s and is not rewritten: %s uses it as %s (%s); use it as %s there, or %s",
					name, types.TypeString(res.At(c.Result).Type(), types.RelativeTo(c.Pkg.Types)), where,
					types.TypeString(res.At(c.Result).Type(), types.RelativeTo(c.Pkg.Types)), why, p.ifaceName(), p.handSwitch(in))
				continue
			}
			change = fmt.Sprintf("; its result type changes from %s to %s (every caller uses it as %s)",
				types.TypeString(res.At(c.Result).Type(), types.RelativeTo(c.Pkg.Types)), p.ifaceName(), p.ifaceName())
		}
		s := ctorSwitch{Name: name, Local: localName(name), Switch: gen.SwitchName(p.ifaceName()), Iface: p.ifaceName(), WithError: withError}
		if outside {
			// mesh<Iface> is unexported: call the exported Switch<Iface> of
			// the switch file through the interface's package.
			q := df.importName(p.pkgPath(), p.seam.Obj.Pkg().Name())
			if q == "" {
				q = p.seam.Obj.Pkg().Name()
				df.addImport(p.pkgPath())
			}
			s.Switch, s.Iface = q+"."+switchExportName(p.ifaceName()), q+"."+p.ifaceName()
			p.exportedSwitch = true
		}
		if _, err := addSwitch(df.file, df.funcDecl(name), s); err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		p.action("constructor", at, "%s returns the mesh client when MESHRPC_REMOTE selects %s; its original body becomes %s%s",
			name, p.ifaceName(), s.Local, change)
		out = append(out, switchedCtor{Name: name, Pkg: c.Pkg.Types, Func: c.Func, Params: sig.Params(), WithError: withError})
	}
	return out, nil
}

// unswitchConstructors plans giving every switched constructor its
// original form back.
func (p *planner) unswitchConstructors() error {
	for _, c := range p.seam.Ctors {
		path := p.prog.Fset.Position(c.Decl.Pos()).Filename
		if p.skipFile(path) {
			continue
		}
		name := c.Func.Name()
		df, err := p.file(path)
		if err != nil || df == nil {
			return err
		}
		w, l := df.funcDecl(name), df.funcDecl(localName(name))
		if l == nil || !isSwitch(w, localName(name)) {
			continue
		}
		removeSwitch(df.file, w, l)
		if c.Pkg.Types.Path() != p.pkgPath() {
			if q := df.importName(p.pkgPath(), p.seam.Obj.Pkg().Name()); q != "" {
				df.removeImport(p.pkgPath(), q) // if this plan added it
			}
		}
		p.action("constructor", p.pos(c.Decl.Pos()), "%s gets its original body back from %s", name, localName(name))
	}
	return nil
}

// declaresImpl reports whether the package at path declares an
// implementation of the interface.
func (p *planner) declaresImpl(path string) bool {
	for _, impl := range p.seam.Impls {
		if obj := impl.Named.Obj(); obj.Pkg() != nil && obj.Pkg().Path() == path && !strings.HasSuffix(p.prog.Fset.Position(obj.Pos()).Filename, "_test.go") {
			return true
		}
	}
	return false
}

// takesIface reports whether a signature has a parameter of type iface.
func takesIface(sig *types.Signature, iface types.Type) bool {
	for i := range sig.Params().Len() {
		if types.Identical(sig.Params().At(i).Type(), iface) {
			return true
		}
	}
	return false
}

// concreteUse returns the first place ("file:line") where the result of a
// constructor that returns a concrete type is used as that type rather than
// as the interface, with the reason, or "" when every use is as the
// interface: assigned, passed, returned or stored where the interface is
// expected, or only its interface methods called.
func (p *planner) concreteUse(c *analyze.Constructor) (where, why string, in *types.Package) {
	for _, site := range c.Calls {
		if why := p.useAsIface(site.Pkg, site.Call, c.Result, 0); why != "" {
			return p.pos(site.Call.Pos()), why, site.Pkg.Types
		}
	}
	return "", "", nil
}

// useAsIface checks one use of a value of the concrete type: the call of
// the constructor (result is the index of the value among its results), or
// a variable that holds its result (result is 0). It returns why the use
// needs the concrete type, or "".
func (p *planner) useAsIface(pkg *packages.Package, x ast.Expr, result, depth int) string {
	f := fileOf(pkg, x.Pos())
	if f == nil {
		return "not found in the loaded syntax"
	}
	path, _ := astutil.PathEnclosingInterval(f, x.Pos(), x.End())
	child := ast.Node(x)
	i := 1
	for ; i < len(path); i++ {
		if _, ok := path[i].(*ast.ParenExpr); !ok {
			break
		}
		child = path[i]
	}
	if i >= len(path) {
		return "unexpected syntax"
	}
	info := pkg.TypesInfo
	iface := p.seam.Obj.Type()
	wantIface := func(t types.Type) string {
		if t != nil && types.IsInterface(t) && types.AssignableTo(iface, t) {
			return ""
		}
		return fmt.Sprintf("where %s is expected", types.TypeString(t, func(p *types.Package) string { return p.Name() }))
	}
	switch pn := path[i].(type) {
	case *ast.AssignStmt:
		if len(pn.Rhs) == 1 && pn.Rhs[0] == child && len(pn.Lhs) > 1 && result < len(pn.Lhs) {
			// s, err := NewStore(cfg): the value is the result-th operand.
			l := pn.Lhs[result]
			if id, ok := l.(*ast.Ident); ok && id.Name == "_" {
				return ""
			}
			if id, ok := l.(*ast.Ident); ok && pn.Tok == token.DEFINE && info.Defs[id] != nil {
				return p.varUses(pkg, info.Defs[id], depth)
			}
			return wantIface(info.TypeOf(l))
		}
		for j, r := range pn.Rhs {
			if r != child || len(pn.Lhs) != len(pn.Rhs) {
				continue
			}
			if id, ok := pn.Lhs[j].(*ast.Ident); ok && pn.Tok == token.DEFINE && info.Defs[id] != nil {
				return p.varUses(pkg, info.Defs[id], depth)
			}
			return wantIface(info.TypeOf(pn.Lhs[j]))
		}
		for _, l := range pn.Lhs {
			if l == child {
				return "" // assigning into the variable
			}
		}
	case *ast.ValueSpec:
		if len(pn.Values) == 1 && pn.Values[0] == child && len(pn.Names) > 1 && result < len(pn.Names) {
			// var s, err = NewStore(cfg)
			if pn.Type != nil {
				return wantIface(info.TypeOf(pn.Type))
			}
			if pn.Names[result].Name == "_" {
				return ""
			}
			return p.varUses(pkg, info.Defs[pn.Names[result]], depth)
		}
		for j, v := range pn.Values {
			if v != child || len(pn.Names) != len(pn.Values) {
				continue
			}
			if pn.Type != nil {
				return wantIface(info.TypeOf(pn.Type))
			}
			return p.varUses(pkg, info.Defs[pn.Names[j]], depth)
		}
	case *ast.CallExpr:
		sig, ok := info.TypeOf(pn.Fun).(*types.Signature)
		if !ok {
			return "passed to a conversion or a built-in"
		}
		for j, a := range pn.Args {
			if a != child {
				continue
			}
			params := sig.Params()
			if sig.Variadic() && j >= params.Len()-1 {
				if pn.Ellipsis.IsValid() {
					return "spread into a variadic parameter"
				}
				return wantIface(params.At(params.Len() - 1).Type().(*types.Slice).Elem())
			}
			return wantIface(params.At(j).Type())
		}
	case *ast.ReturnStmt:
		var sig *types.Signature
		for k := i + 1; k < len(path) && sig == nil; k++ {
			switch fn := path[k].(type) {
			case *ast.FuncDecl:
				if obj, ok := info.Defs[fn.Name].(*types.Func); ok {
					sig = obj.Signature()
				}
			case *ast.FuncLit:
				sig, _ = info.TypeOf(fn).(*types.Signature)
			}
		}
		if sig != nil && len(pn.Results) == sig.Results().Len() {
			for j, r := range pn.Results {
				if r == child {
					return wantIface(sig.Results().At(j).Type())
				}
			}
		}
		return "returned where the function's result type cannot be told"
	case *ast.KeyValueExpr:
		if pn.Value == child && i+1 < len(path) {
			if lit, ok := path[i+1].(*ast.CompositeLit); ok {
				switch u := underDeref(info.TypeOf(lit)).(type) {
				case *types.Struct:
					if key, ok := pn.Key.(*ast.Ident); ok {
						for k := range u.NumFields() {
							if u.Field(k).Name() == key.Name {
								return wantIface(u.Field(k).Type())
							}
						}
					}
				case *types.Map:
					return wantIface(u.Elem())
				case *types.Slice:
					return wantIface(u.Elem())
				}
			}
		}
	case *ast.CompositeLit:
		switch u := underDeref(info.TypeOf(pn)).(type) {
		case *types.Slice:
			return wantIface(u.Elem())
		case *types.Array:
			return wantIface(u.Elem())
		case *types.Struct:
			for k, e := range pn.Elts {
				if e == child && k < u.NumFields() {
					return wantIface(u.Field(k).Type())
				}
			}
		}
	case *ast.SelectorExpr:
		if sel, ok := info.Selections[pn]; ok && sel.Kind() == types.MethodVal {
			if obj, _, _ := types.LookupFieldOrMethod(iface, true, nil, pn.Sel.Name); obj != nil {
				return ""
			}
			return fmt.Sprintf("its method %s is not one of %s's", pn.Sel.Name, p.ifaceName())
		}
		return fmt.Sprintf("its field %s is used", pn.Sel.Name)
	}
	return fmt.Sprintf("in %s", strings.TrimSpace(nodeKind(path[i])))
}

// varUses checks every use of a variable that holds the constructor's
// result (up to a small depth of variables holding one another).
func (p *planner) varUses(pkg *packages.Package, obj types.Object, depth int) string {
	if obj == nil {
		return "unexpected syntax"
	}
	if depth > 3 {
		return fmt.Sprintf("the variable %s is passed through too many variables to follow", obj.Name())
	}
	for id, o := range pkg.TypesInfo.Uses {
		if o != obj {
			continue
		}
		if why := p.useAsIface(pkg, id, 0, depth+1); why != "" {
			return fmt.Sprintf("through the variable %s at %s: %s", obj.Name(), filepath.Base(p.pos(id.Pos())), why)
		}
	}
	return ""
}

// handSwitch says how code in package site can switch a value to the mesh
// by hand, naming only what site can call: inside the interface's package
// the unexported switch; elsewhere the exported Mesh<Iface> (which the plan
// then generates); nothing when the interface is unexported.
func (p *planner) handSwitch(site *types.Package) string {
	name := p.ifaceName()
	if site.Path() == p.pkgPath() {
		return fmt.Sprintf("switch it by hand: if remote, ok := %s(func() %s { return <the value> }); ok { return remote }", gen.SwitchName(name), name)
	}
	if !token.IsExported(name) {
		return fmt.Sprintf("package %s cannot switch it by hand: %s is unexported, so only package %s can name the switch", site.Name(), name, p.seam.Obj.Pkg().Name())
	}
	p.needWrap = true
	return fmt.Sprintf("switch it by hand: pass the value through %s.%s", p.seam.Obj.Pkg().Name(), wrapName(name))
}

// nodeKind names a syntax node for a message ("*ast.BinaryExpr" becomes
// "a binary expression").
func nodeKind(n ast.Node) string {
	switch n.(type) {
	case *ast.BinaryExpr:
		return "a comparison or arithmetic expression"
	case *ast.UnaryExpr:
		return "an address-of or unary expression"
	case *ast.StarExpr:
		return "a dereference"
	case *ast.TypeAssertExpr:
		return "a type assertion"
	case *ast.IndexExpr:
		return "an index expression"
	case *ast.SendStmt:
		return "a channel send"
	case *ast.AssignStmt:
		return "an assignment of several values"
	case *ast.ExprStmt:
		return "a statement that discards it"
	case *ast.IfStmt, *ast.SwitchStmt, *ast.ForStmt:
		return "a condition"
	case *ast.TypeSwitchStmt:
		return "a type switch"
	case *ast.RangeStmt:
		return "a range loop"
	case *ast.DeferStmt, *ast.GoStmt:
		return "a deferred or go call"
	case *ast.SliceExpr:
		return "a slice expression"
	case *ast.IncDecStmt:
		return "an increment"
	}
	return "an expression meshsplit does not follow"
}

// underDeref returns t's underlying type, or its pointee's when t is a
// pointer (not the core type of a type parameter, as analyze's coreType).
func underDeref(t types.Type) types.Type {
	if t == nil {
		return nil
	}
	u := t.Underlying()
	if ptr, ok := u.(*types.Pointer); ok {
		u = ptr.Elem().Underlying()
	}
	return u
}
