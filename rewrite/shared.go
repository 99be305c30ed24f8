package rewrite

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/ast/astutil"

	"github.com/meshsplit/meshsplit/analyze"
)

// This file finds state that the split stops sharing: a value that code
// outside tests passes both to a switched constructor and to some other
// call. In process both get the same repository or DB handle; once the
// interface is remote, its service builds its own (in deps.go) and the two
// no longer see each other's writes. The plan says so at the call site.

// sharedState adds a manual step for each argument of a call of a switched
// constructor, outside tests, that the calling function also passes to
// another call.
func (p *planner) sharedState(switched []switchedCtor) {
	for _, c := range p.seam.Ctors {
		if !isSwitched(c.Func, switched) {
			continue
		}
		for _, site := range c.Calls {
			if strings.HasSuffix(p.prog.Fset.Position(site.Pos).Filename, "_test.go") {
				continue
			}
			p.sharedArgs(c, site)
		}
	}
}

// isSwitched reports whether fn is one of the switched constructors.
func isSwitched(fn *types.Func, switched []switchedCtor) bool {
	for _, s := range switched {
		if s.Func == fn {
			return true
		}
	}
	return false
}

// sharedArgs reports the arguments of one constructor call that the
// enclosing function also passes to another call.
func (p *planner) sharedArgs(c *analyze.Constructor, site *analyze.Site) {
	f := fileOf(site.Pkg, site.Pos)
	if f == nil {
		return
	}
	path, _ := astutil.PathEnclosingInterval(f, site.Call.Pos(), site.Call.End())
	var body *ast.BlockStmt
	for _, n := range path {
		if fd, ok := n.(*ast.FuncDecl); ok {
			body = fd.Body
			break
		}
	}
	if body == nil {
		return
	}
	info := site.Pkg.TypesInfo
	for _, arg := range site.Call.Args {
		key := exprKey(info, arg)
		if key == "" || !shareable(info.TypeOf(arg)) {
			continue
		}
		if other, at := otherUse(info, body, site.Call, key); other != "" {
			p.manual(p.pos(site.Pos), "%s's argument %s is also given to %s (%s): in process both share it; once %s is remote its service builds its own in deps.go, so they no longer see each other's changes",
				c.Func.Name(), types.ExprString(arg), other, filepath.Base(p.pos(at)), p.ifaceName())
		}
	}
}

// exprKey names the variable, or the field path from a variable
// ("s.ledger"), that e denotes, by object identity; "" for anything else.
func exprKey(info *types.Info, e ast.Expr) string {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		if v, ok := info.Uses[e].(*types.Var); ok {
			return fmt.Sprintf("%p", v)
		}
	case *ast.SelectorExpr:
		if sel, ok := info.Selections[e]; ok && sel.Kind() == types.FieldVal {
			if base := exprKey(info, e.X); base != "" {
				return base + "." + e.Sel.Name
			}
		}
	}
	return ""
}

// shareable reports whether values of type t can carry shared state: pointers,
// maps, slices, channels, funcs and interfaces (a repository, a DB handle),
// not plain values that every receiver copies.
func shareable(t types.Type) bool {
	switch t.Underlying().(type) {
	case *types.Pointer, *types.Map, *types.Slice, *types.Chan, *types.Signature, *types.Interface:
		return true
	}
	return false
}

// otherUse returns what else in body, besides the call skip, is given the
// value key names: a call's argument ("catalog.NewMemory") or a field or
// element of a composite literal ("orders.Config{…}"), with its position.
func otherUse(info *types.Info, body *ast.BlockStmt, skip *ast.CallExpr, key string) (string, token.Pos) {
	var name string
	var at token.Pos
	ast.Inspect(body, func(n ast.Node) bool {
		if name != "" || n == skip {
			return false
		}
		switch n := n.(type) {
		case *ast.CallExpr:
			for _, a := range n.Args {
				if exprKey(info, a) == key {
					name, at = calleeString(n), n.Pos()
				}
			}
		case *ast.CompositeLit:
			for _, e := range n.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					e = kv.Value
				}
				if exprKey(info, e) == key {
					name, at = types.ExprString(n.Type)+"{…}", n.Pos()
				}
			}
		}
		return name == ""
	})
	return name, at
}

// calleeString spells the function a call calls ("catalog.NewMemory",
// "srv.Handle"), or "a call".
func calleeString(call *ast.CallExpr) string {
	switch fun := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		return fun.Name
	case *ast.SelectorExpr:
		if x, ok := fun.X.(*ast.Ident); ok {
			return x.Name + "." + fun.Sel.Name
		}
		return fun.Sel.Name
	}
	return "a call"
}
