package gen

import (
	"fmt"
	"go/types"
	"sort"
	"strings"
)

// This file turns the errors to register into runtime.Sentinel and
// runtime.ErrorType entries of the ServiceDesc, and finds a package's.

// errorType is the predeclared error interface.
var errorType = types.Universe.Lookup("error").Type().Underlying().(*types.Interface)

// FindErrors lists the package-level error variables (sentinels) and the
// types implementing error that pkg declares, sorted by name. Unexported
// ones are included when unexported is set: they can keep their identity
// only for callers in pkg itself, which is where the generated file goes.
// Aliases, generic types and interfaces are left out.
func FindErrors(pkg *types.Package, unexported bool) []types.Object {
	var out []types.Object
	scope := pkg.Scope()
	for _, name := range scope.Names() { // sorted
		obj := scope.Lookup(name)
		if !obj.Exported() && !unexported {
			continue
		}
		switch obj := obj.(type) {
		case *types.Var:
			if types.Implements(obj.Type(), errorType) {
				out = append(out, obj)
			}
		case *types.TypeName:
			if obj.IsAlias() {
				continue
			}
			n, ok := obj.Type().(*types.Named)
			if !ok || n.TypeParams().Len() > 0 || types.IsInterface(n) {
				continue
			}
			if types.Implements(n, errorType) || types.Implements(types.NewPointer(n), errorType) {
				out = append(out, obj)
			}
		}
	}
	return out
}

// ThirdPartySentinels lists the exported package-level error variables of
// the packages in imports that belong to other modules (neither module, the
// standard library nor the runtime that generated code imports), by package
// path and name. imports are what the interface's package and the module's
// packages it reaches import: an implementation may return such a sentinel
// as it is (a client library's ErrNil), so it is registered to keep ==
// across the wire. Their error types are not: those would cross as JSON,
// which nothing checks for another module's types. The standard library's
// common sentinels the runtime knows by itself.
func ThirdPartySentinels(imports []*types.Package, module string) []types.Object {
	seen := map[*types.Package]bool{}
	var deps []*types.Package
	for _, imp := range imports {
		path := imp.Path()
		if seen[imp] || IsStd(path) || path == module || strings.HasPrefix(path, module+"/") || path == runtimePath {
			continue
		}
		seen[imp] = true
		deps = append(deps, imp)
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Path() < deps[j].Path() })
	var out []types.Object
	for _, dep := range deps {
		for _, obj := range FindErrors(dep, false) {
			if _, ok := obj.(*types.Var); ok {
				out = append(out, obj)
			}
		}
	}
	return out
}

// registrations returns the entries of ServiceDesc.Errors, sorted by the
// names they register.
func (g *generator) registrations() ([]string, error) {
	type reg struct{ name, code string }
	var regs []reg
	seen := map[string]bool{}
	add := func(name, code string) {
		if !seen[name] {
			seen[name] = true
			regs = append(regs, reg{name, code})
		}
	}
	for _, obj := range g.in.Errors {
		pkg := obj.Pkg()
		if pkg == nil {
			return nil, fmt.Errorf("gen: cannot register %s: it belongs to no package", obj.Name())
		}
		if pkg != g.in.Pkg && !obj.Exported() {
			return nil, fmt.Errorf("gen: cannot register %s.%s: it is unexported", pkg.Path(), obj.Name())
		}
		qualified := obj.Name()
		if pkg != g.in.Pkg {
			qualified = g.imports.Qualifier(pkg) + "." + obj.Name()
		}
		switch obj := obj.(type) {
		case *types.Var:
			if obj.Parent() != pkg.Scope() || !types.Implements(obj.Type(), errorType) {
				return nil, fmt.Errorf("gen: cannot register %s.%s: not a package-level error variable", pkg.Path(), obj.Name())
			}
			add(pkg.Path()+"."+obj.Name(), fmt.Sprintf("%s.Sentinel(%q, %s)", g.rt, pkg.Path()+"."+obj.Name(), qualified))
		case *types.TypeName:
			n, ok := obj.Type().(*types.Named)
			if !ok || n.TypeParams().Len() > 0 {
				return nil, fmt.Errorf("gen: cannot register %s.%s: not a non-generic defined type", pkg.Path(), obj.Name())
			}
			value := types.Implements(n, errorType)
			if !value && !types.Implements(types.NewPointer(n), errorType) {
				return nil, fmt.Errorf("gen: cannot register %s.%s: it does not implement error", pkg.Path(), obj.Name())
			}
			if value && !types.IsInterface(n) {
				add(pkg.Path()+"."+obj.Name(), fmt.Sprintf("%s.ErrorType[%s](%q)", g.rt, qualified, pkg.Path()+"."+obj.Name()))
			}
			if !types.IsInterface(n) {
				add(pkg.Path()+".*"+obj.Name(), fmt.Sprintf("%s.ErrorType[*%s](%q)", g.rt, qualified, pkg.Path()+".*"+obj.Name()))
			}
		default:
			return nil, fmt.Errorf("gen: cannot register %s.%s: neither a variable nor a type", pkg.Path(), obj.Name())
		}
	}
	sort.Slice(regs, func(i, j int) bool { return regs[i].name < regs[j].name })
	codes := make([]string, len(regs))
	for i, r := range regs {
		codes[i] = r.code
	}
	return codes, nil
}
