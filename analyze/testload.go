package analyze

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/scanner"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"golang.org/x/tools/go/gcexportdata"
	"golang.org/x/tools/go/packages"
)

// This file loads a module's tests without 'go list -test'. For each test
// binary that flag makes the go command prepare the binary's main package
// and its link over all the binary's packages (quadratic on a module of
// layered packages), and go/packages then type-checks each package twice
// (plain, and as its test variant) plus each generated main. Instead, the
// module is loaded as analyze loads it (go/packages, no tests) while the go
// command lists each package's test files and imports, and then the export
// data of what only the tests import; the test variants ("p [p.test]") and
// external test packages ("p_test [p.test]") are then type-checked here
// against the plain packages' types. A package of the module that an
// external test imports and that itself imports the package under test is
// checked again against the test variant, as the go command recompiles it
// ("q [p.test]"). Where this cannot build what 'go test' builds (a test in
// a package importing a package that imports it: an import cycle; cgo;
// vendor mode; a package that does not load cleanly without its tests;
// export data the go command could not give), Load leaves the tests to
// go/packages. TestTestsLoadedInProcess holds the two to the same analysis.

// errTestsFallback says that loadTests cannot serve this module.
var errTestsFallback = errors.New("tests need go/packages' own test loading")

// testListing is what 'go list' says of a package's tests.
type testListing struct {
	ImportPath   string
	Dir          string
	TestGoFiles  []string
	XTestGoFiles []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

// testLister lists the tests of the packages matching the patterns, and
// then the export data of what they import from outside the module, while
// go/packages loads the module.
type testLister struct {
	done    chan struct{}
	listing []testListing
	exports map[string]string // import path -> export data file
	err     error
}

// startTestLister starts listing; wait for it with (*testLister).wait.
func startTestLister(ctx context.Context, dir, module string, env, buildFlags, patterns []string) *testLister {
	l := &testLister{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		var out []testListing
		args := append([]string{"list", "-e", "-buildvcs=false", "-json=ImportPath,Dir,TestGoFiles,XTestGoFiles,TestImports,XTestImports,Error"}, buildFlags...)
		if err := goJSON(ctx, dir, env, append(append(args, "--"), patterns...), func(d *json.Decoder) error {
			var t testListing
			if err := d.Decode(&t); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		}); err != nil {
			l.err = err
			return
		}
		l.listing = out
		var external []string
		seen := map[string]bool{}
		for _, t := range out {
			for _, path := range append(append([]string(nil), t.TestImports...), t.XTestImports...) {
				if !seen[path] && path != "unsafe" && path != "C" && path != module && !strings.HasPrefix(path, module+"/") {
					seen[path] = true
					external = append(external, path)
				}
			}
		}
		sort.Strings(external)
		l.exports = map[string]string{}
		if len(external) == 0 {
			return
		}
		args = append([]string{"list", "-e", "-export", "-buildvcs=false", "-json=ImportPath,Export,Error"}, buildFlags...)
		l.err = goJSON(ctx, dir, env, append(append(args, "--"), external...), func(d *json.Decoder) error {
			var p struct {
				ImportPath string
				Export     string
			}
			if err := d.Decode(&p); err != nil {
				return err
			}
			if p.Export != "" {
				l.exports[p.ImportPath] = p.Export
			}
			return nil
		})
	}()
	return l
}

// wait returns the listing once it is done.
func (l *testLister) wait() ([]testListing, map[string]string, error) {
	<-l.done
	return l.listing, l.exports, l.err
}

// goJSON runs the go command and hands its JSON stream to each.
func goJSON(ctx context.Context, dir string, env, args []string, each func(*json.Decoder) error) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go %s: %w: %s", strings.Join(args[:2], " "), err, strings.TrimSpace(stderr.String()))
	}
	d := json.NewDecoder(bytes.NewReader(out))
	for d.More() {
		if err := each(d); err != nil {
			return err
		}
	}
	return nil
}

// loadTests type-checks the tests of the plain packages pkgs (loaded with
// fset and parse) as listed by l, and returns the test variants and
// external test packages, or errTestsFallback.
func loadTests(root string, fset *token.FileSet, parse func(*token.FileSet, string, []byte) (*ast.File, error), pkgs []*packages.Package, l *testLister) ([]*packages.Package, error) {
	listing, exports, err := l.wait()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errTestsFallback, err)
	}
	if _, err := os.Stat(filepath.Join(root, "vendor")); err == nil {
		return nil, fmt.Errorf("%w: vendor mode", errTestsFallback)
	}
	// The module's plain packages, and every package object the load made
	// (complete, or partial: seen only through export data), so that the
	// tests' export data reuses them and a type keeps one identity.
	plain := map[string]*packages.Package{}
	universe := map[string]*types.Package{}
	var addUniverse func(*types.Package)
	addUniverse = func(t *types.Package) {
		if t == nil || universe[t.Path()] != nil {
			return
		}
		universe[t.Path()] = t
		for _, imp := range t.Imports() {
			addUniverse(imp)
		}
	}
	packages.Visit(pkgs, nil, func(p *packages.Package) { addUniverse(p.Types) })
	for _, p := range pkgs {
		if p.Module != nil && p.Module.Main {
			plain[p.PkgPath] = p
		}
	}

	type unit struct {
		p            *packages.Package
		dir          string
		tests, xtest []string
	}
	var units []*unit
	for _, t := range listing {
		if len(t.TestGoFiles) == 0 && len(t.XTestGoFiles) == 0 {
			continue
		}
		p := plain[t.ImportPath]
		if t.Error != nil || p == nil || len(p.Errors) > 0 || p.IllTyped || p.Types == nil || len(p.GoFiles) == 0 ||
			len(p.CompiledGoFiles) != len(p.GoFiles) || len(p.Syntax) != len(p.CompiledGoFiles) {
			return nil, fmt.Errorf("%w: %s has tests and does not load cleanly without them (a test-only package, cgo or errors)", errTestsFallback, t.ImportPath)
		}
		// A test in the package that imports a package of the module which
		// imports the package is an import cycle, for go/packages to report.
		// (External tests may: see recompiled.)
		for _, path := range t.TestImports {
			if q := plain[path]; q != nil && path != t.ImportPath && importsPath(q, t.ImportPath, map[*packages.Package]bool{}) {
				return nil, fmt.Errorf("%w: a test in %s imports %s, which imports it", errTestsFallback, t.ImportPath, path)
			}
		}
		units = append(units, &unit{p: p, dir: t.Dir, tests: t.TestGoFiles, xtest: t.XTestGoFiles})
	}

	// What only the tests import: export data, read into the universe.
	need := map[string]bool{}
	for _, t := range listing {
		for _, path := range append(append([]string(nil), t.TestImports...), t.XTestImports...) {
			if path == "unsafe" || plain[path] != nil {
				continue
			}
			if up := universe[path]; up == nil || !up.Complete() {
				need[path] = true
			}
		}
	}
	for _, path := range sortedKeys(need) {
		file := exports[path]
		if file == "" {
			return nil, fmt.Errorf("%w: no export data for %s, which a test imports", errTestsFallback, path)
		}
		if err := readExportFile(file, path, fset, universe); err != nil {
			return nil, fmt.Errorf("%w: %v", errTestsFallback, err)
		}
	}

	// The packages the tests may import, as the plain load has them, or made
	// here for what only the tests import.
	byPath := map[string]*packages.Package{}
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		if p.Types != nil && byPath[p.PkgPath] == nil {
			byPath[p.PkgPath] = p
		}
	})
	for path := range plain {
		byPath[path] = plain[path]
	}
	for path := range need {
		t := universe[path]
		byPath[path] = &packages.Package{ID: path, PkgPath: path, Name: t.Name(), Types: t}
	}
	for path, p := range byPath {
		if p.Types == nil || !p.Types.Complete() {
			delete(byPath, path)
		}
	}

	// Parse the test files, then check each package's test variant and then
	// its external test package, packages in parallel: from here on byPath
	// and the packages it holds are only read.
	out := make([][]*packages.Package, len(units))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, u := range units {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = checkTests(fset, parse, u.p, u.dir, u.tests, u.xtest, byPath)
		}()
	}
	wg.Wait()
	var all []*packages.Package
	for _, ps := range out {
		all = append(all, ps...)
	}
	return all, nil
}

// checkTests returns p's test variant (when it has test files in its own
// package) and its external test package (when it has one).
func checkTests(fset *token.FileSet, parse func(*token.FileSet, string, []byte) (*ast.File, error), p *packages.Package, dir string, tests, xtest []string, byPath map[string]*packages.Package) []*packages.Package {
	var out []*packages.Package
	under := p
	if len(tests) > 0 {
		v := newTestPackage(p, p.ID+" ["+p.PkgPath+".test]", p.PkgPath, p.Name)
		v.GoFiles = append([]string(nil), p.GoFiles...)
		v.CompiledGoFiles = append([]string(nil), p.CompiledGoFiles...)
		v.Syntax = append([]*ast.File(nil), p.Syntax...)
		addFiles(v, fset, parse, dir, tests)
		typeCheck(v, fset, true, func(path string) *packages.Package { return byPath[path] })
		out = append(out, v)
		under = v
	}
	if len(xtest) > 0 {
		x := newTestPackage(p, p.PkgPath+"_test ["+p.PkgPath+".test]", p.PkgPath+"_test", p.Name+"_test")
		addFiles(x, fset, parse, dir, xtest)
		if len(x.Syntax) > 0 {
			x.Name = x.Syntax[0].Name.Name
		}
		rc := recompiled{p: p, under: under, fset: fset, byPath: byPath, variants: map[string]*packages.Package{p.PkgPath: under}}
		typeCheck(x, fset, true, func(path string) *packages.Package {
			if q := byPath[path]; q != nil && q.Module != nil && q.Module.Main {
				return rc.variant(q)
			}
			return byPath[path]
		})
		out = append(out, x)
	}
	return out
}

// recompiled gives an external test the packages it imports as the go
// command builds them for the test: a package of the module that imports
// the package under test, directly or not, is compiled again against the
// test variant ("q [p.test]"); the others are the plain packages.
type recompiled struct {
	p, under *packages.Package
	fset     *token.FileSet
	byPath   map[string]*packages.Package
	variants map[string]*packages.Package // by path: recompiled, or plain
}

// variant returns q as the test's build has it. A recompiled package is
// checked for its API only, as go/packages loads it (from export data).
func (rc *recompiled) variant(q *packages.Package) *packages.Package {
	if v := rc.variants[q.PkgPath]; v != nil {
		return v
	}
	if !importsPath(q, rc.p.PkgPath, map[*packages.Package]bool{}) {
		rc.variants[q.PkgPath] = q
		return q
	}
	v := newTestPackage(q, q.ID+" ["+rc.p.PkgPath+".test]", q.PkgPath, q.Name)
	v.ForTest = rc.p.PkgPath
	v.GoFiles, v.CompiledGoFiles, v.Syntax = q.GoFiles, q.CompiledGoFiles, q.Syntax
	rc.variants[q.PkgPath] = v
	typeCheck(v, rc.fset, false, func(path string) *packages.Package {
		if imp := q.Imports[path]; imp != nil && imp.Module != nil && imp.Module.Main {
			return rc.variant(imp)
		}
		return rc.byPath[path]
	})
	return v
}

// newTestPackage starts a test package of the plain package p.
func newTestPackage(p *packages.Package, id, path, name string) *packages.Package {
	return &packages.Package{
		ID: id, Name: name, PkgPath: path, ForTest: p.PkgPath, Module: p.Module,
		Fset: p.Fset, TypesSizes: p.TypesSizes, Imports: map[string]*packages.Package{},
	}
}

// addFiles parses the named files of dir into v.
func addFiles(v *packages.Package, fset *token.FileSet, parse func(*token.FileSet, string, []byte) (*ast.File, error), dir string, names []string) {
	for _, name := range names {
		file := filepath.Join(dir, name)
		src, err := os.ReadFile(file)
		if err != nil {
			v.Errors = append(v.Errors, packages.Error{Pos: file, Msg: err.Error(), Kind: packages.ParseError})
			continue
		}
		f, err := parse(fset, file, src)
		if err != nil {
			var list scanner.ErrorList
			if errors.As(err, &list) {
				for _, e := range list {
					v.Errors = append(v.Errors, packages.Error{Pos: e.Pos.String(), Msg: e.Msg, Kind: packages.ParseError})
				}
			} else {
				v.Errors = append(v.Errors, packages.Error{Pos: file, Msg: err.Error(), Kind: packages.ParseError})
			}
		}
		if f != nil {
			v.GoFiles = append(v.GoFiles, file)
			v.CompiledGoFiles = append(v.CompiledGoFiles, file)
			v.Syntax = append(v.Syntax, f)
		}
	}
}

// typeCheck checks v's files as go/packages checks a package it loads
// from source, resolving imports with resolve; without bodies, only what
// importers see (no TypesInfo).
func typeCheck(v *packages.Package, fset *token.FileSet, bodies bool, resolve func(string) *packages.Package) {
	var info *types.Info
	if bodies {
		info = &types.Info{
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
	v.TypesInfo = info
	conf := &types.Config{
		IgnoreFuncBodies: !bodies,
		Importer: importerFunc(func(path string) (*types.Package, error) {
			if path == "unsafe" {
				return types.Unsafe, nil
			}
			if p := resolve(path); p != nil {
				v.Imports[path] = p
				return p.Types, nil
			}
			return nil, fmt.Errorf("could not import %s (not loaded)", path)
		}),
		Sizes: v.TypesSizes,
		Error: func(err error) {
			if te, ok := err.(types.Error); ok {
				v.Errors = append(v.Errors, packages.Error{Pos: fset.Position(te.Pos).String(), Msg: te.Msg, Kind: packages.TypeError})
			} else {
				v.Errors = append(v.Errors, packages.Error{Msg: err.Error(), Kind: packages.TypeError})
			}
		},
	}
	if v.Module != nil && v.Module.GoVersion != "" {
		conf.GoVersion = "go" + v.Module.GoVersion
	}
	v.Types = types.NewPackage(v.PkgPath, v.Name)
	_ = types.NewChecker(conf, fset, v.Types, info).Files(v.Syntax)
	v.IllTyped = len(v.Errors) > 0
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

// readExportFile reads path's export data from file into universe.
func readExportFile(file, path string, fset *token.FileSet, universe map[string]*types.Package) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := gcexportdata.NewReader(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("export data of %s: %w", path, err)
	}
	if _, err := gcexportdata.Read(r, fset, universe, path); err != nil {
		return fmt.Errorf("export data of %s: %w", path, err)
	}
	return nil
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
