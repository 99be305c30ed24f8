package rewrite

import (
	"fmt"
	"go/token"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dave/dst"
)

// This file turns a constructor into the mesh switch and back, on dst trees.
// The shape, for func NewService(db *DB, cfg Config) Service:
//
//	// (the original doc comment)
//	func NewService(db *DB, cfg Config) Service {
//		if remote, ok := meshService(func() Service { return newServiceLocal(db, cfg) }); ok {
//			return remote
//		}
//		return newServiceLocal(db, cfg)
//	}
//
//	// newServiceLocal is the original NewService, unchanged: it builds the
//	// in-process implementation.
//	func newServiceLocal(db *DB, cfg Config) Service { /* original body */ }
//
// A constructor with results (Service, error) reports the error of the
// local implementation that MESHRPC_LOOPBACK builds:
//
//	func NewService(db *DB) (Service, error) {
//		var localErr error
//		if remote, ok := meshService(func() Service {
//			impl, err := newServiceLocal(db)
//			localErr = err
//			return impl
//		}); ok {
//			return remote, localErr
//		}
//		return newServiceLocal(db)
//	}

// A ctorSwitch describes the switch to add to one constructor.
type ctorSwitch struct {
	// Name is the constructor's name; Local the name the original takes.
	Name, Local string
	// Switch is the function that decides: "meshService" in the
	// interface's own package, "inventory.MeshServiceSwitch" elsewhere.
	Switch string
	// Iface is the interface type as the file spells it: "Service" or
	// "inventory.Service".
	Iface string
	// WithError is set when the constructor returns (iface-or-impl, error).
	WithError bool
}

// localName returns the name the original constructor takes: NewService
// becomes newServiceLocal, newStore becomes newStoreLocal.
func localName(ctor string) string {
	r, n := utf8.DecodeRuneInString(ctor)
	return string(unicode.ToLower(r)) + ctor[n:] + "Local"
}

// addSwitch renames fd to s.Local in place, body and all, and inserts
// before it a new function with fd's name, doc comment and parameters that
// calls s.Switch and falls back to the original. The result type of the new
// function is the interface. It returns the new function.
func addSwitch(file *dst.File, fd *dst.FuncDecl, s ctorSwitch) (*dst.FuncDecl, error) {
	idx := -1
	for i, d := range file.Decls {
		if d == fd {
			idx = i
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("%s: declaration not in its file", s.Name)
	}
	wrapper := &dst.FuncDecl{
		Name: dst.NewIdent(s.Name),
		Type: &dst.FuncType{
			TypeParams: cloneFieldList(fd.Type.TypeParams),
			Params:     wrapperParams(fd.Type.Params, s),
		},
	}
	results := []*dst.Field{{Type: typeExpr(s.Iface)}}
	if s.WithError {
		results = append(results, &dst.Field{Type: dst.NewIdent("error")})
	}
	wrapper.Type.Results = &dst.FieldList{List: results}

	call := func() *dst.CallExpr { return localCall(s.Local, fd.Type.TypeParams, wrapper.Type.Params) }
	var closure *dst.FuncLit
	var remoteBody []dst.Stmt
	var pre []dst.Stmt
	if s.WithError {
		// Under MESHRPC_LOOPBACK the switch builds the local value to serve
		// it; when that fails, the constructor returns what the original
		// returned, not a client and the error.
		pre = []dst.Stmt{&dst.DeclStmt{Decl: &dst.GenDecl{Tok: token.VAR, Specs: []dst.Spec{
			&dst.ValueSpec{Names: []*dst.Ident{dst.NewIdent("localImpl")}, Type: typeExpr(s.Iface)},
			&dst.ValueSpec{Names: []*dst.Ident{dst.NewIdent("localErr")}, Type: dst.NewIdent("error")},
		}}}}
		closure = &dst.FuncLit{
			Type: &dst.FuncType{Params: &dst.FieldList{}, Results: &dst.FieldList{List: []*dst.Field{{Type: typeExpr(s.Iface)}}}},
			Body: &dst.BlockStmt{List: []dst.Stmt{
				&dst.AssignStmt{Lhs: []dst.Expr{dst.NewIdent("localImpl"), dst.NewIdent("localErr")}, Tok: token.ASSIGN, Rhs: []dst.Expr{call()}},
				&dst.ReturnStmt{Results: []dst.Expr{dst.NewIdent("localImpl")}},
			}},
		}
		remoteBody = []dst.Stmt{
			&dst.IfStmt{
				Cond: &dst.BinaryExpr{X: dst.NewIdent("localErr"), Op: token.NEQ, Y: dst.NewIdent("nil")},
				Body: &dst.BlockStmt{List: []dst.Stmt{&dst.ReturnStmt{Results: []dst.Expr{dst.NewIdent("localImpl"), dst.NewIdent("localErr")}}}},
			},
			&dst.ReturnStmt{Results: []dst.Expr{dst.NewIdent("remote"), dst.NewIdent("nil")}},
		}
	} else {
		closure = &dst.FuncLit{
			Type: &dst.FuncType{Params: &dst.FieldList{}, Results: &dst.FieldList{List: []*dst.Field{{Type: typeExpr(s.Iface)}}}},
			Body: &dst.BlockStmt{List: []dst.Stmt{&dst.ReturnStmt{Results: []dst.Expr{call()}}}},
		}
		remoteBody = []dst.Stmt{&dst.ReturnStmt{Results: []dst.Expr{dst.NewIdent("remote")}}}
	}
	ifStmt := &dst.IfStmt{
		Init: &dst.AssignStmt{
			Lhs: []dst.Expr{dst.NewIdent("remote"), dst.NewIdent("ok")},
			Tok: token.DEFINE,
			Rhs: []dst.Expr{&dst.CallExpr{Fun: typeExpr(s.Switch), Args: []dst.Expr{closure}}},
		},
		Cond: dst.NewIdent("ok"),
		Body: &dst.BlockStmt{List: remoteBody},
	}
	wrapper.Body = &dst.BlockStmt{List: append(pre, ifStmt, &dst.ReturnStmt{Results: []dst.Expr{call()}})}

	// The wrapper takes the original's place and doc comment; the original
	// follows it under its new name.
	wrapper.Decs.Before = fd.Decs.Before
	wrapper.Decs.Start = fd.Decs.Start
	wrapper.Decs.After = dst.EmptyLine
	fd.Name.Name = s.Local
	fd.Decs.Before = dst.EmptyLine
	fd.Decs.Start = dst.Decorations{fmt.Sprintf("// %s is the original %s, unchanged.", s.Local, s.Name)}
	file.Decls = append(file.Decls[:idx], append([]dst.Decl{wrapper}, file.Decls[idx:]...)...)
	return wrapper, nil
}

// removeSwitch undoes addSwitch: it deletes the wrapper and gives the
// original its name and doc comment back.
func removeSwitch(file *dst.File, wrapper, local *dst.FuncDecl) {
	local.Name.Name = wrapper.Name.Name
	local.Decs.Before = wrapper.Decs.Before
	local.Decs.Start = wrapper.Decs.Start
	for i, d := range file.Decls {
		if d == wrapper {
			file.Decls = append(file.Decls[:i], file.Decls[i+1:]...)
			break
		}
	}
}

// isSwitch reports whether fd is a wrapper that addSwitch made: its body
// starts with `if remote, ok := <switch>(...); ok` and calls local.
func isSwitch(fd *dst.FuncDecl, local string) bool {
	if fd == nil || fd.Body == nil {
		return false
	}
	found := false
	for _, st := range fd.Body.List {
		ifs, ok := st.(*dst.IfStmt)
		if !ok {
			continue
		}
		as, ok := ifs.Init.(*dst.AssignStmt)
		if !ok || len(as.Lhs) != 2 || len(as.Rhs) != 1 || identName(as.Lhs[0]) != "remote" || identName(as.Lhs[1]) != "ok" {
			continue
		}
		if call, ok := as.Rhs[0].(*dst.CallExpr); ok && len(call.Args) == 1 {
			found = true
		}
	}
	if !found {
		return false
	}
	calls := false
	dst.Inspect(fd.Body, func(n dst.Node) bool {
		if call, ok := n.(*dst.CallExpr); ok && calleeName(call) == local {
			calls = true
		}
		return !calls
	})
	return calls
}

// wrapperParams copies the constructor's parameters for the wrapper,
// naming unnamed and blank ones p0, p1... and renaming those that would
// shadow a name the wrapper's body uses.
func wrapperParams(params *dst.FieldList, s ctorSwitch) *dst.FieldList {
	// remote and ok are declared in inner scopes and cannot clash;
	// localImpl, localErr, nil, the names the body calls and the types it
	// spells can.
	reserved := map[string]bool{"localImpl": true, "localErr": true, "error": true, "nil": true, s.Local: true}
	for _, q := range []string{s.Switch, s.Iface} {
		first, _, _ := strings.Cut(q, ".")
		reserved[first] = true
	}
	out := &dst.FieldList{}
	i := 0
	for _, f := range params.List {
		nf := &dst.Field{Type: dst.Clone(f.Type).(dst.Expr)}
		if len(f.Names) == 0 {
			nf.Names = []*dst.Ident{dst.NewIdent(fmt.Sprintf("p%d", i))}
			i++
		}
		for _, n := range f.Names {
			name := n.Name
			if name == "_" || reserved[name] {
				name = fmt.Sprintf("p%d", i)
			}
			nf.Names = append(nf.Names, dst.NewIdent(name))
			i++
		}
		out.List = append(out.List, nf)
	}
	return out
}

// localCall builds the call of the original constructor with the wrapper's
// parameters, its type parameters spelled out and a variadic one spread.
func localCall(local string, typeParams, params *dst.FieldList) *dst.CallExpr {
	var fun dst.Expr = dst.NewIdent(local)
	if typeParams != nil && len(typeParams.List) > 0 {
		var idx []dst.Expr
		for _, f := range typeParams.List {
			for _, n := range f.Names {
				idx = append(idx, dst.NewIdent(n.Name))
			}
		}
		if len(idx) == 1 {
			fun = &dst.IndexExpr{X: fun, Index: idx[0]}
		} else {
			fun = &dst.IndexListExpr{X: fun, Indices: idx}
		}
	}
	call := &dst.CallExpr{Fun: fun}
	for _, f := range params.List {
		for _, n := range f.Names {
			call.Args = append(call.Args, dst.NewIdent(n.Name))
		}
		if _, ok := f.Type.(*dst.Ellipsis); ok {
			call.Ellipsis = true
		}
	}
	return call
}

// cloneFieldList returns a deep copy of l, or nil.
func cloneFieldList(l *dst.FieldList) *dst.FieldList {
	if l == nil {
		return nil
	}
	return dst.Clone(l).(*dst.FieldList)
}

// typeExpr turns "Name" or "pkg.Name" into an expression.
func typeExpr(s string) dst.Expr {
	if pkg, name, ok := strings.Cut(s, "."); ok {
		return &dst.SelectorExpr{X: dst.NewIdent(pkg), Sel: dst.NewIdent(name)}
	}
	return dst.NewIdent(s)
}

// identName returns the name of an identifier expression, or "".
func identName(x dst.Expr) string {
	if id, ok := x.(*dst.Ident); ok {
		return id.Name
	}
	return ""
}

// calleeName returns "f" for f(...), f[T](...) and "pkg.f" for pkg.f(...).
func calleeName(call *dst.CallExpr) string {
	fun := call.Fun
	switch f := fun.(type) {
	case *dst.IndexExpr:
		fun = f.X
	case *dst.IndexListExpr:
		fun = f.X
	}
	switch f := fun.(type) {
	case *dst.Ident:
		return f.Name
	case *dst.SelectorExpr:
		if id, ok := f.X.(*dst.Ident); ok {
			return id.Name + "." + f.Sel.Name
		}
	}
	return ""
}
