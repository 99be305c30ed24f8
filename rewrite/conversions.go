package rewrite

import (
	"fmt"
	"go/ast"
	"go/types"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
	"golang.org/x/tools/go/ast/astutil"

	"github.com/meshsplit/meshsplit/analyze"
)

// This file wraps, and unwraps, the values that become the interface where
// no constructor produces it: analyze's conversion sites (found with
// golang.org/x/tools/refactor/satisfy), outside tests.

// wrapConversions wraps, outside tests, each value of a concrete type that
// becomes the interface in a call of the generated Mesh<Iface>, so that it is
// replaced by the mesh client when MESHRPC_REMOTE selects the interface. It
// returns how many sites are wrapped (now or by an earlier run).
//
// Sites inside a switched constructor are left alone: the switch goes around
// the whole constructor, so a decorator's argument there
// (newLogging(&service{})) stays local, as the original code has it.
func (p *planner) wrapConversions(switched []switchedCtor) (int, error) {
	wrapped := 0
	for _, c := range p.seam.Conversions {
		path := p.prog.Fset.Position(c.Pos).Filename
		if p.skipFile(path) || c.Kind == analyze.ConvReturn {
			continue // returns are the constructors' business
		}
		f := fileOf(c.Pkg, c.Pos)
		if f == nil {
			continue
		}
		nodes, _ := astutil.PathEnclosingInterval(f, c.Expr.Pos(), c.Expr.End())
		if insideSwitched(c.Pkg.TypesInfo, nodes, switched) {
			continue
		}
		switch p.conversionRole(c, nodes) {
		case roleSkip:
			continue
		case roleWrapped:
			wrapped++
			continue
		}
		df, err := p.file(path)
		if err != nil {
			return 0, err
		}
		if df == nil {
			continue
		}
		start, end := p.offsets(c.Expr)
		target := df.exprAt(start, end)
		if target == nil {
			return 0, fmt.Errorf("%s: cannot find the converted expression in the file", p.pos(c.Pos))
		}
		fun := wrapName(p.ifaceName())
		if c.Pkg.Types.Path() != p.pkgPath() {
			q := df.importName(p.pkgPath(), p.seam.Obj.Pkg().Name())
			if q == "" {
				q = p.seam.Obj.Pkg().Name()
				df.addImport(p.pkgPath())
			}
			fun = q + "." + fun
		}
		call := &dst.CallExpr{Fun: typeExpr(fun)}
		replaced := false
		dstutil.Apply(df.file, func(cur *dstutil.Cursor) bool {
			if replaced || cur.Node() != target {
				return !replaced
			}
			call.Decs.NodeDecs, target.Decorations().Before, target.Decorations().After = *target.Decorations(), dst.None, dst.None
			target.Decorations().Start, target.Decorations().End = nil, nil
			call.Args = []dst.Expr{target}
			cur.Replace(call)
			replaced = true
			return false
		}, nil)
		if !replaced {
			return 0, fmt.Errorf("%s: cannot replace the converted expression", p.pos(c.Pos))
		}
		wrapped++
		p.action("wrap", p.pos(c.Pos), "%s (a %s, the %s) becomes %s(...): the mesh client when MESHRPC_REMOTE selects %s",
			types.ExprString(c.Expr), types.TypeString(c.Concrete, func(p *types.Package) string { return p.Name() }), c.Kind, fun, p.ifaceName())
	}
	return wrapped, nil
}

// Roles of a conversion site.
const (
	roleWrap    = iota // wrap it
	roleSkip           // leave it: an assertion, a constructor's own result...
	roleWrapped        // an earlier run wrapped it
)

// conversionRole decides what to do with a conversion site, given the path
// from the converted expression up to the file.
func (p *planner) conversionRole(c *analyze.Conversion, nodes []ast.Node) int {
	if len(nodes) < 2 {
		return roleSkip
	}
	x := ast.Unparen(c.Expr)
	if id, ok := x.(*ast.Ident); ok && id.Name == "nil" {
		return roleSkip
	}
	if call, ok := x.(*ast.CallExpr); ok {
		if tv, ok := c.Pkg.TypesInfo.Types[call.Fun]; ok && tv.IsType() {
			if id, ok := ast.Unparen(call.Args[0]).(*ast.Ident); len(call.Args) == 1 && ok && id.Name == "nil" {
				return roleSkip // (*T)(nil): a compile-time assertion
			}
		}
		if fn := calledFunc(c.Pkg.TypesInfo, call); fn != nil {
			for _, ctor := range p.seam.Ctors {
				if ctor.Func == fn {
					return roleSkip // the constructor decides
				}
			}
		}
	}
	parent := nodes[1]
	for i := 1; i < len(nodes); i++ {
		if _, ok := nodes[i].(*ast.ParenExpr); !ok {
			parent = nodes[i]
			break
		}
	}
	switch pn := parent.(type) {
	case *ast.ValueSpec:
		for _, n := range pn.Names {
			if n.Name == "_" {
				return roleSkip // var _ Iface = v: an assertion
			}
		}
	case *ast.AssignStmt:
		for _, l := range pn.Lhs {
			if id, ok := l.(*ast.Ident); ok && id.Name == "_" {
				return roleSkip
			}
		}
	case *ast.CallExpr:
		if fn := calledFunc(c.Pkg.TypesInfo, pn); fn != nil && fn.Name() == wrapName(p.ifaceName()) && fn.Pkg() != nil && fn.Pkg().Path() == p.pkgPath() {
			return roleWrapped
		}
	}
	return roleWrap
}

// insideSwitched reports whether the innermost function declaration among
// nodes is one of the switched constructors, or the local original that an
// earlier extraction kept of one (newXLocal for NewX).
func insideSwitched(info *types.Info, nodes []ast.Node, switched []switchedCtor) bool {
	for _, n := range nodes {
		fd, ok := n.(*ast.FuncDecl)
		if !ok {
			continue
		}
		fn, _ := info.Defs[fd.Name].(*types.Func)
		for _, s := range switched {
			if fn != nil && (fn == s.Func || fn.Pkg() == s.Pkg && fn.Name() == localName(s.Name)) {
				return true
			}
		}
		return false
	}
	return false
}

// calledFunc returns the function a call calls, or nil.
func calledFunc(info *types.Info, call *ast.CallExpr) *types.Func {
	var id *ast.Ident
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	case *ast.IndexExpr:
		if i, ok := f.X.(*ast.Ident); ok {
			id = i
		}
	}
	if id == nil {
		return nil
	}
	fn, _ := info.Uses[id].(*types.Func)
	return fn
}

// unwrapConversions plans removing every Mesh<Iface>(v) call outside the
// files meshsplit generated: v takes its place again.
func (p *planner) unwrapConversions() error {
	for _, pkg := range p.prog.Packages {
		for _, f := range pkg.Syntax {
			path := p.prog.Fset.Position(f.Pos()).Filename
			if p.skipFile(path) {
				continue
			}
			var calls []*ast.CallExpr
			ast.Inspect(f, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok && len(call.Args) == 1 {
					if fn := calledFunc(pkg.TypesInfo, call); fn != nil && fn.Name() == wrapName(p.ifaceName()) && fn.Pkg() != nil && fn.Pkg().Path() == p.pkgPath() {
						calls = append(calls, call)
					}
				}
				return true
			})
			if len(calls) == 0 {
				continue
			}
			df, err := p.file(path)
			if err != nil || df == nil {
				return err
			}
			for _, call := range calls {
				start, end := p.offsets(call)
				target, ok := df.exprAt(start, end).(*dst.CallExpr)
				if !ok {
					return fmt.Errorf("%s: cannot find the %s call in the file", p.pos(call.Pos()), wrapName(p.ifaceName()))
				}
				dstutil.Apply(df.file, func(cur *dstutil.Cursor) bool {
					if cur.Node() != target {
						return true
					}
					arg := target.Args[0]
					*arg.Decorations() = target.Decs.NodeDecs
					cur.Replace(arg)
					return false
				}, nil)
				p.action("unwrap", p.pos(call.Pos()), "%s takes the place of %s again", types.ExprString(call.Args[0]), types.ExprString(call))
			}
			if pkg.Types.Path() != p.pkgPath() {
				if q := df.importName(p.pkgPath(), p.seam.Obj.Pkg().Name()); q != "" {
					df.removeImport(p.pkgPath(), q)
				}
			}
		}
	}
	return nil
}
