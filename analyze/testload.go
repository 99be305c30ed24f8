package analyze

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/scanner"
	"go/token"
	"go/types"
	"os"
	"runtime"
	"sort"
	"sync"

	"golang.org/x/tools/go/gcexportdata"
	"golang.org/x/tools/go/packages"
)

// This file loads a module with its tests from one 'go list' without
// -test. With -test the go command also prepares every test binary's main
// package and its link over all the binary's packages (on a module of 200
// layered packages, 0.6 s of listing against 0.36 s); go/packages then
// type-checks each package twice (plain, and as its test variant "p
// [p.test]") plus every generated main, and reads export data for all the
// generated mains import. Here instead:
//
//   - the module's test files are scanned for their imports first, so that
//     the one 'go list -deps -export' also lists, with export data, what
//     only the tests import (testlist.go);
//   - the packages of the module are type-checked from source, in
//     dependency order and in parallel; a package with tests only for its
//     API (function bodies are its test variant's to check), since the
//     analysis reads the test variant, which holds the same files and more;
//   - test variants and external test packages ("p_test [p.test]") are
//     checked against them; a package of the module that an external test
//     imports and that imports the package under test is checked again
//     against the test variant ("q [p.test]"), as the go command recompiles
//     it;
//   - everything else comes from export data, as go/packages reads it.
//
// The result has the shape packages.Load gives with Tests (the same IDs,
// roots, files, errors), without the test binaries' mains. Where this
// cannot build what 'go test' builds (a listing error other than a
// compile error in the module, SWIG in the module, a test import cycle,
// an import the scan missed), Load leaves the tests to
// go/packages. TestTestsLoadedInProcess holds the two to the same
// packages, analysis and errors.

// errTestsFallback says that loadWithTests cannot serve this module.
var errTestsFallback = errors.New("tests need go/packages' own test loading")

// testLoader holds one load.
type testLoader struct {
	ctx   context.Context
	fset  *token.FileSet
	parse func(*token.FileSet, string, []byte) (*ast.File, error)
	sizes types.Sizes

	listed map[string]*listedPackage    // by import path
	pkgs   map[string]*packages.Package // by import path: the plain packages
	source map[string]bool              // the module's packages, checked from source

	mu       sync.Mutex                // guards universe and export data reads
	universe map[string]*types.Package // packages read from export data, by path

	failed sync.Once
	fail   error // the first panic of a worker goroutine, as an error
}

// recover, deferred by a worker goroutine, turns its panic into the load's
// error (a bug in go/types or here) instead of a crash.
func (l *testLoader) recover(what string) {
	if r := recover(); r != nil {
		l.failed.Do(func() { l.fail = fmt.Errorf("internal error: type-checking %s: %v", what, r) })
	}
}

// loadWithTests returns the packages that packages.Load with Tests returns
// for the module at root loaded from dir with patterns ./... (the test
// binaries' mains left out), or an error wrapping errTestsFallback.
func loadWithTests(ctx context.Context, root, module, dir string, env, buildFlags []string, tags []string,
	fset *token.FileSet, parse func(*token.FileSet, string, []byte) (*ast.File, error)) ([]*packages.Package, error) {
	extra := scanTestImports(root, module, env, tags)
	type sizesResult struct {
		sizes types.Sizes
		err   error
	}
	sizesCh := make(chan sizesResult, 1)
	go func() {
		s, err := goSizes(ctx, dir, env, buildFlags)
		sizesCh <- sizesResult{s, err}
	}()
	args := append([]string{"list", "-e", "-json=" + listFields, "-compiled=true", "-test=false", "-export=true", "-deps=true",
		"-find=false", "-buildvcs=false", "-pgo=off"}, buildFlags...)
	args = append(append(args, "--", "./..."), extra...)
	listed, order, err := goList(ctx, dir, env, args)
	sr := <-sizesCh
	if err != nil {
		return nil, err
	}
	if sr.err != nil {
		return nil, fmt.Errorf("%w: %v", errTestsFallback, sr.err)
	}
	l := &testLoader{ctx: ctx, fset: fset, parse: parse, sizes: sr.sizes, listed: listed,
		pkgs: map[string]*packages.Package{}, source: map[string]bool{}, universe: map[string]*types.Package{}}
	roots, err := l.graph(order, extra)
	if err != nil {
		return nil, err
	}
	if err := l.checkPlain(); err != nil {
		return nil, err
	}
	tests, err := l.checkTests(order)
	if err != nil {
		return nil, err
	}
	l.fillDepTypes()
	all := append(roots, tests...)
	markIllTyped(all, tests)
	return all, nil
}

// markIllTyped sets IllTyped on the packages reachable from all as
// go/packages does: a package with errors, or one that imports such a
// package. A plain package checked for its API only counts as its own the
// errors its test variant (among tests) found in its files.
func markIllTyped(all, tests []*packages.Package) {
	own := map[*packages.Package]bool{}
	packages.Visit(all, nil, func(p *packages.Package) { own[p] = len(p.Errors) > 0 })
	plain := map[string]*packages.Package{}
	for _, p := range all {
		if p.ForTest == "" {
			plain[p.PkgPath] = p
		}
	}
	for _, v := range tests {
		p := plain[v.PkgPath]
		if p == nil || v.PkgPath != v.ForTest || own[p] {
			continue
		}
		files := map[string]bool{}
		for _, f := range p.CompiledGoFiles {
			files[f] = true
		}
		for _, e := range v.Errors {
			if file, _ := cutLineCol(e.Pos); files[file] {
				own[p] = true
				break
			}
		}
	}
	memo := map[*packages.Package]bool{}
	var ill func(p *packages.Package) bool
	ill = func(p *packages.Package) bool {
		if v, ok := memo[p]; ok {
			return v
		}
		memo[p] = false // a cycle (an error of its own) ends here
		v := own[p]
		for _, imp := range p.Imports {
			v = ill(imp) || v
		}
		memo[p] = v
		p.IllTyped = v
		return v
	}
	for _, p := range all {
		ill(p)
	}
}

// checkPlain type-checks the module's packages from source, each after the
// module's packages it imports, in parallel. A package with in-package
// tests is checked for its API only.
func (l *testLoader) checkPlain() error {
	pending := map[*packages.Package]int{}
	preds := map[*packages.Package][]*packages.Package{}
	var leaves []*packages.Package
	for path := range l.source {
		p := l.pkgs[path]
		n := 0
		for _, imp := range p.Imports {
			if l.source[imp.PkgPath] {
				n++
				preds[imp] = append(preds[imp], p)
			}
		}
		pending[p] = n
		if n == 0 {
			leaves = append(leaves, p)
		}
	}
	sort.Slice(leaves, func(i, j int) bool { return leaves[i].ID < leaves[j].ID })
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		done  int
		cpu   = make(chan struct{}, runtime.GOMAXPROCS(0))
		start func(p *packages.Package)
	)
	start = func(p *packages.Package) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cpu <- struct{}{}
			func() {
				defer l.recover(p.PkgPath)
				defer func() { <-cpu }()
				kept := !hasTestVariant(l.listed[p.PkgPath])
				l.parseInto(p, p.CompiledGoFiles)
				l.typeCheck(p, kept, kept, l.importer(p))
			}()
			mu.Lock()
			done++
			var ready []*packages.Package
			for _, q := range preds[p] {
				if pending[q]--; pending[q] == 0 {
					ready = append(ready, q)
				}
			}
			mu.Unlock()
			for _, q := range ready {
				start(q)
			}
		}()
	}
	for _, p := range leaves {
		start(p)
	}
	wg.Wait()
	if l.fail != nil {
		return l.fail
	}
	if done != len(l.source) {
		return fmt.Errorf("%w: an import cycle among the module's packages", errTestsFallback)
	}
	return l.ctx.Err()
}

// importer resolves the imports of p by p.Imports: the module's packages
// as checked here (plain, a test variant or recompiled), the others from
// export data.
func (l *testLoader) importer(p *packages.Package) func(string) (*types.Package, error) {
	return func(path string) (*types.Package, error) {
		imp := p.Imports[path]
		if imp == nil {
			return nil, fmt.Errorf("no metadata for %s", path)
		}
		if l.source[imp.PkgPath] {
			return imp.Types, nil
		}
		return l.fromExport(imp.PkgPath)
	}
}

// fromExport returns the package at path, read from its export data into
// the universe once.
func (l *testLoader) fromExport(path string) (*types.Package, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := l.universe[path]; t != nil && t.Complete() {
		return t, nil
	}
	p := l.pkgs[path]
	if p == nil || p.ExportFile == "" {
		return nil, fmt.Errorf("could not import %s (no export data)", path)
	}
	f, err := os.Open(p.ExportFile)
	if err != nil {
		return nil, fmt.Errorf("could not import %s: %w", path, err)
	}
	defer f.Close()
	r, err := gcexportdata.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("could not import %s: reading export data: %w", path, err)
	}
	t, err := gcexportdata.Read(r, l.fset, l.universe, path)
	if err != nil {
		return nil, fmt.Errorf("could not import %s: reading export data: %w", path, err)
	}
	return t, nil
}

// checkTests type-checks, for each package of the module with tests, its
// test variant and its external test package, packages in parallel, and
// returns them in listing order.
func (l *testLoader) checkTests(order []string) ([]*packages.Package, error) {
	var units []*listedPackage
	for _, path := range order {
		lp := l.listed[path]
		if !l.source[path] || len(lp.TestGoFiles) == 0 && len(lp.XTestGoFiles) == 0 {
			continue
		}
		for _, imp := range lp.TestImports {
			if imp == "C" || imp == "unsafe" {
				continue
			}
			if l.pkgs[imp] == nil {
				return nil, fmt.Errorf("%w: a test of %s imports %s, which was not listed", errTestsFallback, path, imp)
			}
			// A test in the package that imports a package of the module
			// which imports the package is an import cycle, for go/packages
			// to report. (External tests may: see recompiled.)
			if imp != path && l.source[imp] && importsPath(l.pkgs[imp], path, map[*packages.Package]bool{}) {
				return nil, fmt.Errorf("%w: a test in %s imports %s, which imports it", errTestsFallback, path, imp)
			}
		}
		for _, imp := range lp.XTestImports {
			if imp != "C" && imp != "unsafe" && l.pkgs[imp] == nil {
				return nil, fmt.Errorf("%w: a test of %s imports %s, which was not listed", errTestsFallback, path, imp)
			}
		}
		units = append(units, lp)
	}
	out := make([][]*packages.Package, len(units))
	var wg sync.WaitGroup
	cpu := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, lp := range units {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cpu <- struct{}{}
			defer func() { <-cpu }()
			defer l.recover("the tests of " + lp.ImportPath)
			out[i] = l.checkUnit(lp)
		}()
	}
	wg.Wait()
	if l.fail != nil {
		return nil, l.fail
	}
	var all []*packages.Package
	for _, ps := range out {
		all = append(all, ps...)
	}
	return all, l.ctx.Err()
}

// checkUnit returns the test variant of the package lp lists (when it has
// test files in its own package) and its external test package (when it
// has one).
func (l *testLoader) checkUnit(lp *listedPackage) []*packages.Package {
	p := l.pkgs[lp.ImportPath]
	test := lp.ImportPath + ".test"
	var out []*packages.Package
	under := p
	if hasTestVariant(lp) {
		v := l.variant(p, p.ID+" ["+test+"]", p.PkgPath, p.Name)
		v.GoFiles = append(append([]string(nil), p.GoFiles...), absJoin(lp.Dir, lp.TestGoFiles)...)
		v.CompiledGoFiles = append([]string(nil), p.CompiledGoFiles...)
		v.Syntax = append([]*ast.File(nil), p.Syntax...)
		v.Errors = append([]packages.Error(nil), parseErrors(p.Errors)...)
		for src, id := range importsOf(lp.Imports, lp.ImportMap) {
			v.Imports[src] = l.pkgs[id]
		}
		for _, id := range lp.TestImports {
			if id != "C" && id != "unsafe" {
				v.Imports[id] = l.pkgs[id]
			}
		}
		tests := absJoin(lp.Dir, lp.TestGoFiles)
		v.CompiledGoFiles = append(v.CompiledGoFiles, tests...)
		l.parseInto(v, tests)
		l.typeCheck(v, true, true, l.importer(v))
		out = append(out, v)
		under = v
	}
	if len(lp.XTestGoFiles) > 0 {
		x := l.variant(p, p.PkgPath+"_test ["+test+"]", p.PkgPath+"_test", p.Name+"_test")
		files := absJoin(lp.Dir, lp.XTestGoFiles)
		x.GoFiles, x.CompiledGoFiles = files, append([]string(nil), files...)
		l.parseInto(x, files)
		if len(x.Syntax) > 0 {
			x.Name = x.Syntax[0].Name.Name
		}
		rc := &recompiled{l: l, p: p, under: under, test: test, variants: map[string]*packages.Package{p.PkgPath: under}}
		for _, id := range lp.XTestImports {
			if id != "C" && id != "unsafe" {
				x.Imports[id] = rc.variant(l.pkgs[id])
			}
		}
		l.typeCheck(x, true, true, l.importer(x))
		out = append(out, x)
	}
	return out
}

// hasTestVariant reports whether the go command builds a variant of the
// package lp lists for its test binary ("p [p.test]"): it has tests in its
// own package, or is a main package with tests.
func hasTestVariant(lp *listedPackage) bool {
	return len(lp.TestGoFiles) > 0 || lp.Name == "main" && len(lp.XTestGoFiles) > 0
}

// recompiled gives an external test the packages it imports as the go
// command builds them for the test: a package of the module that imports
// the package under test, directly or not, is compiled again against the
// test variant ("q [p.test]"); the others are the plain packages.
type recompiled struct {
	l        *testLoader
	p, under *packages.Package
	test     string
	variants map[string]*packages.Package // by path: recompiled, or plain
}

// variant returns q as the test's build has it. A recompiled package is
// checked as go/packages checks a package that is not a root: for its API.
func (rc *recompiled) variant(q *packages.Package) *packages.Package {
	if v := rc.variants[q.PkgPath]; v != nil {
		return v
	}
	if !rc.l.source[q.PkgPath] || !importsPath(q, rc.p.PkgPath, map[*packages.Package]bool{}) {
		rc.variants[q.PkgPath] = q
		return q
	}
	v := rc.l.variant(q, q.ID+" ["+rc.test+"]", q.PkgPath, q.Name)
	v.ForTest = rc.p.PkgPath
	v.GoFiles, v.CompiledGoFiles, v.Syntax = q.GoFiles, q.CompiledGoFiles, q.Syntax
	v.Errors = append([]packages.Error(nil), parseErrors(q.Errors)...)
	rc.variants[q.PkgPath] = v
	for src, imp := range q.Imports {
		v.Imports[src] = rc.variant(imp)
	}
	rc.l.typeCheck(v, false, true, rc.l.importer(v))
	return v
}

// variant starts a test build's variant of the plain package p.
func (l *testLoader) variant(p *packages.Package, id, path, name string) *packages.Package {
	return &packages.Package{
		ID: id, Name: name, PkgPath: path, ForTest: p.PkgPath, Module: p.Module,
		Fset: l.fset, TypesSizes: l.sizes, Imports: map[string]*packages.Package{},
	}
}

// parseErrors returns the parse errors among errs: those of the files a
// variant shares with the plain package.
func parseErrors(errs []packages.Error) []packages.Error {
	var out []packages.Error
	for _, e := range errs {
		if e.Kind == packages.ParseError {
			out = append(out, e)
		}
	}
	return out
}

// parseInto parses files and appends them to p.Syntax, and their errors to
// p.Errors, as go/packages does.
func (l *testLoader) parseInto(p *packages.Package, files []string) {
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			p.Errors = append(p.Errors, packages.Error{Pos: file + ":1", Msg: errors.Unwrap(err).Error(), Kind: packages.ParseError})
			continue
		}
		f, err := l.parse(l.fset, file, src)
		var list scanner.ErrorList
		switch {
		case errors.As(err, &list):
			for _, e := range list {
				p.Errors = append(p.Errors, packages.Error{Pos: e.Pos.String(), Msg: e.Msg, Kind: packages.ParseError})
			}
		case err != nil:
			p.Errors = append(p.Errors, packages.Error{Pos: "-", Msg: err.Error(), Kind: packages.UnknownError})
		}
		if f != nil {
			p.Syntax = append(p.Syntax, f)
		}
	}
}

// typeCheck checks p's syntax as go/packages checks a package it loads from
// source: with bodies as a root, for its API only otherwise. info says
// whether to record p.TypesInfo.
func (l *testLoader) typeCheck(p *packages.Package, bodies, info bool, importFn func(string) (*types.Package, error)) {
	if info {
		p.TypesInfo = &types.Info{
			Types:        map[ast.Expr]types.TypeAndValue{},
			Defs:         map[*ast.Ident]types.Object{},
			Uses:         map[*ast.Ident]types.Object{},
			Implicits:    map[ast.Node]types.Object{},
			Instances:    map[*ast.Ident]types.Instance{},
			Scopes:       map[ast.Node]*types.Scope{},
			Selections:   map[*ast.SelectorExpr]*types.Selection{},
			FileVersions: map[*ast.File]string{},
		}
	}
	conf := &types.Config{
		IgnoreFuncBodies: !bodies,
		Importer: importerFunc(func(path string) (*types.Package, error) {
			if path == "unsafe" {
				return types.Unsafe, nil
			}
			return importFn(path)
		}),
		Sizes: l.sizes,
		Error: func(err error) {
			if te, ok := err.(types.Error); ok {
				p.TypeErrors = append(p.TypeErrors, te)
				p.Errors = append(p.Errors, packages.Error{Pos: te.Fset.Position(te.Pos).String(), Msg: te.Msg, Kind: packages.TypeError})
				return
			}
			p.Errors = append(p.Errors, packages.Error{Pos: "-", Msg: err.Error(), Kind: packages.UnknownError})
		},
	}
	if p.Module != nil && p.Module.GoVersion != "" {
		conf.GoVersion = "go" + p.Module.GoVersion
	}
	p.Types = types.NewPackage(p.PkgPath, p.Name)
	if err := types.NewChecker(conf, l.fset, p.Types, p.TypesInfo).Files(p.Syntax); err != nil && len(p.Errors) == 0 {
		p.Errors = append(p.Errors, packages.Error{Pos: "-", Msg: err.Error(), Kind: packages.UnknownError})
	}
}

// fillDepTypes gives every package outside the module its types, as
// go/packages does: read from export data when a checked package imported
// it, else an empty package.
func (l *testLoader) fillDepTypes() {
	for path, p := range l.pkgs {
		if l.source[path] {
			continue
		}
		if t := l.universe[path]; t != nil {
			p.Types = t
		} else {
			p.Types = types.NewPackage(path, p.Name)
		}
	}
}

// importsPath reports whether q imports path, directly or not.
func importsPath(q *packages.Package, path string, seen map[*packages.Package]bool) bool {
	if seen[q] {
		return false
	}
	seen[q] = true
	for _, imp := range q.Imports {
		if imp.PkgPath == path || importsPath(imp, path, seen) {
			return true
		}
	}
	return false
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
