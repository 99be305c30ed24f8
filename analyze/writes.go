package analyze

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/types/typeutil"
)

// A paramWrite is the first write an implementation makes through a
// parameter of a seam's method.
type paramWrite struct {
	param *types.Var // the interface method's parameter
	label string     // its name, or "parameter#N"
	impl  string     // the implementation's method, "(*T).M"
	at    token.Pos  // where it writes
}

// A funcDecl is a function's declaration and the package holding it.
type funcDecl struct {
	decl *ast.FuncDecl
	pkg  *packages.Package
}

// funcDecls indexes the declarations of the program's functions and
// methods by object (built on first use).
func (prog *Program) funcDecls() map[*types.Func]funcDecl {
	if prog.decls == nil {
		prog.decls = map[*types.Func]funcDecl{}
		for _, p := range prog.Packages {
			for _, f := range p.Syntax {
				for _, d := range f.Decls {
					if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
						if fn, ok := p.TypesInfo.Defs[fd.Name].(*types.Func); ok {
							prog.decls[fn] = funcDecl{fd, p}
						}
					}
				}
			}
		}
	}
	return prog.decls
}

// paramWrites scans every implementation of the pass's method for writes
// through its parameters that the caller could see in-process: through
// pointer parameters when pointers is true, through slices, maps and
// nested pointers of the other parameters otherwise. It returns the first
// write per parameter, implementations taken in order.
func paramWrites(p *Pass, pointers bool) []paramWrite {
	params := p.Method.Sig.Params()
	var out []paramWrite
	for i := range params.Len() {
		param := params.At(i)
		_, isPtr := param.Type().Underlying().(*types.Pointer)
		if isPtr != pointers {
			continue
		}
		for _, impl := range p.Seam.Impls {
			fd, fn := implMethod(p.Prog, impl, p.Method)
			if fd.decl == nil || i >= fn.Signature().Params().Len() {
				continue
			}
			v := fn.Signature().Params().At(i)
			if at := firstWrite(p.Prog, fd.pkg.TypesInfo, fd.decl.Body, v); at.IsValid() {
				out = append(out, paramWrite{param: param, label: varLabel(param, "parameter", i), impl: implName(impl, p.Method.Name), at: at})
				break
			}
		}
	}
	return out
}

// implMethod returns the declaration of impl's method m.
func implMethod(prog *Program, impl *Impl, m *Method) (funcDecl, *types.Func) {
	var t types.Type = impl.Named
	if impl.Pointer {
		t = types.NewPointer(t)
	}
	sel := types.NewMethodSet(t).Lookup(m.Func.Pkg(), m.Name)
	if sel == nil {
		return funcDecl{}, nil
	}
	fn, ok := sel.Obj().(*types.Func)
	if !ok {
		return funcDecl{}, nil
	}
	return prog.funcDecls()[fn.Origin()], fn
}

// maxCallDepth bounds how deep firstWrite follows a parameter into the
// module's functions it is passed to.
const maxCallDepth = 4

// firstWrite returns the position of the first statement of body that
// writes through v where v's owner could see it: an assignment or ++/--
// through a dereference, a field of a pointee, a slice or map element; a
// delete, clear or copy into such a place; a pointer-receiver method called
// on it (followed into the method when the module declares it, taken as a
// write otherwise); or a call of a module function that writes through the
// argument it is given (up to maxCallDepth calls deep). Calls into other
// modules are not followed and not taken as writes.
func firstWrite(prog *Program, info *types.Info, body *ast.BlockStmt, v *types.Var) token.Pos {
	s := &writeScan{decls: prog.funcDecls(), active: map[*types.Var]bool{}}
	return s.first(info, body, v, 0)
}

// A writeScan is one search of firstWrite.
type writeScan struct {
	decls  map[*types.Func]funcDecl
	active map[*types.Var]bool // variables being scanned: recursion ends there
}

// first scans body for a write through v, depth calls deep.
func (s *writeScan) first(info *types.Info, body *ast.BlockStmt, v *types.Var, depth int) token.Pos {
	if body == nil || s.active[v] {
		return token.NoPos
	}
	s.active[v] = true
	defer delete(s.active, v)
	var at token.Pos
	visible := func(e ast.Expr) bool {
		root, indirect := rootOf(info, e)
		return root != nil && info.Uses[root] == v && indirect
	}
	ast.Inspect(body, func(n ast.Node) bool {
		if at.IsValid() {
			return false
		}
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok != token.DEFINE {
				for _, lhs := range n.Lhs {
					if visible(lhs) {
						at = n.Pos()
					}
				}
			}
		case *ast.IncDecStmt:
			if visible(n.X) {
				at = n.Pos()
			}
		case *ast.CallExpr:
			if s.writesInCall(info, n, v, visible, depth) {
				at = n.Pos()
			}
		}
		return !at.IsValid()
	})
	return at
}

// writesInCall reports whether call writes through v: delete, clear or
// copy into it, a pointer-receiver method called on it, or a module
// function given it (or what it points to) that writes through it.
func (s *writeScan) writesInCall(info *types.Info, call *ast.CallExpr, v *types.Var, visible func(ast.Expr) bool, depth int) bool {
	fun := ast.Unparen(call.Fun)
	if id, ok := fun.(*ast.Ident); ok && len(call.Args) > 0 {
		if b, ok := info.Uses[id].(*types.Builtin); ok {
			switch b.Name() {
			case "delete", "clear", "copy":
				return s.shares(info, call.Args[0], v)
			}
			return false
		}
	}
	callee := typeutil.StaticCallee(info, call)
	if sel, ok := fun.(*ast.SelectorExpr); ok {
		if m, ok := info.Selections[sel]; ok && m.Kind() == types.MethodVal && s.shares(info, sel.X, v) {
			if recv := m.Obj().(*types.Func).Signature().Recv(); recv != nil {
				if _, ptrRecv := recv.Type().(*types.Pointer); ptrRecv {
					fd, fn := s.declOf(callee)
					if fd.decl == nil {
						return true // a method we cannot read: assume it writes
					}
					if depth < maxCallDepth && s.first(fd.pkg.TypesInfo, fd.decl.Body, fn.Signature().Recv(), depth+1).IsValid() {
						return true
					}
				}
			}
		}
	}
	fd, fn := s.declOf(callee)
	if fd.decl == nil || depth >= maxCallDepth {
		return false
	}
	params := fn.Signature().Params()
	for i, arg := range call.Args {
		if fn.Signature().Variadic() && i >= params.Len()-1 {
			break // a variadic argument lands in a fresh slice
		}
		if i < params.Len() && s.shares(info, arg, v) {
			if s.first(fd.pkg.TypesInfo, fd.decl.Body, params.At(i), depth+1).IsValid() {
				return true
			}
		}
	}
	return false
}

// shares reports whether e is (or points into) what v shares with its
// owner: v itself when it is a pointer, slice or map, something reached
// from v through one, or the address of such a place.
func (s *writeScan) shares(info *types.Info, e ast.Expr, v *types.Var) bool {
	e = ast.Unparen(e)
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		root, indirect := rootOf(info, u.X)
		return root != nil && info.Uses[root] == v && indirect
	}
	root, indirect := rootOf(info, e)
	if root == nil || info.Uses[root] != v {
		return false
	}
	switch underOf(info, e).(type) {
	case *types.Pointer, *types.Slice, *types.Map:
		return true
	}
	return indirect
}

// declOf returns the module declaration of a static callee, or nothing.
func (s *writeScan) declOf(callee *types.Func) (funcDecl, *types.Func) {
	if callee == nil {
		return funcDecl{}, nil
	}
	origin := callee.Origin()
	return s.decls[origin], origin
}

// rootOf returns the variable an lvalue-like expression starts from
// (v in v.a[i].b, *v, (v)) and whether reaching e from it goes through a
// pointer, slice or map: a write there is seen by whoever shares v's value.
func rootOf(info *types.Info, e ast.Expr) (*ast.Ident, bool) {
	indirect := false
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.StarExpr:
			indirect = true
			e = x.X
		case *ast.SelectorExpr:
			sel, ok := info.Selections[x]
			if !ok || sel.Kind() != types.FieldVal {
				return nil, false
			}
			if sel.Indirect() {
				indirect = true
			}
			e = x.X
		case *ast.IndexExpr:
			switch underOf(info, x.X).(type) {
			case *types.Slice, *types.Map, *types.Pointer:
				indirect = true
			}
			e = x.X
		case *ast.Ident:
			return x, indirect
		default:
			return nil, false
		}
	}
}

// underOf returns the underlying type of e, or nil when the type checker
// recorded none (in a package with type errors).
func underOf(info *types.Info, e ast.Expr) types.Type {
	if t := info.TypeOf(e); t != nil {
		return t.Underlying()
	}
	return nil
}
