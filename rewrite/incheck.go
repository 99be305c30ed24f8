package rewrite

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/gcexportdata"
	"golang.org/x/tools/go/packages"

	"github.com/meshsplit/meshsplit/analyze"
)

// This file type-checks the module as a plan leaves it from the dry run's
// own load, in process: the plan's files are parsed, every package of the
// module (and its tests) is checked again with go/types against the types
// the load already has for the standard library and the dependencies, and
// the packages that only the generated code imports (the runtime, yamux,
// a few of the standard library's) are read from export data. Loading the
// module again through the go command with the plan as an overlay would
// make it recompile every overlaid package and all that import them for
// their export data, seconds on a small module; and in vendor mode it
// could not load at all, since vendor/ does not hold the runtime yet. When
// the dry run's load cannot serve (cgo, a package it did not load),
// errNotInProcess sends Apply to typeCheck.

// errNotInProcess says that the in-process check cannot serve this module.
var errNotInProcess = errors.New("not checkable in process")

// unit is one directory's package of the module: its files, its test files
// in the same package and its external test files, by file name.
type unit struct {
	path               string
	files, tests, xtst map[string]*ast.File
	plain              *types.Package // the package without its tests, once checked
	existed            bool           // the load had the package
}

// checkInProcess type-checks the module as changes leave it; see the file
// comment. env is the go command's environment for the plan's go.mod,
// gomod that go.mod, and ahead (may be nil) the runtime's export data
// fetched during the load.
func checkInProcess(ctx context.Context, prog *analyze.Program, changes []FileChange, env []string, gomod []byte, ahead *exportAhead) ([]string, error) {
	fset := prog.Fset
	units := map[string]*unit{} // by directory
	universe := map[string]*types.Package{}
	loaded := map[string]*types.Package{} // the module's packages as the load checked them
	var sizes types.Sizes
	for _, p := range prog.Packages {
		if strings.HasSuffix(p.PkgPath, ".test") || len(p.CompiledGoFiles) == 0 || !strings.HasPrefix(p.CompiledGoFiles[0], prog.Root+string(filepath.Separator)) {
			collectUniverse(p.Types, prog.Module, universe)
			continue // a test binary's generated main
		}
		if len(p.CompiledGoFiles) != len(p.GoFiles) || len(p.Syntax) != len(p.CompiledGoFiles) || p.TypesSizes == nil {
			return nil, errNotInProcess // cgo, or a package whose syntax did not load
		}
		sizes = p.TypesSizes
		dir := filepath.Dir(p.CompiledGoFiles[0])
		path := strings.TrimSuffix(p.PkgPath, "_test")
		u := units[dir]
		if u == nil {
			u = &unit{path: path, files: map[string]*ast.File{}, tests: map[string]*ast.File{}, xtst: map[string]*ast.File{}, existed: true}
			units[dir] = u
		}
		for i, f := range p.Syntax {
			name := p.CompiledGoFiles[i]
			switch {
			case strings.HasSuffix(p.PkgPath, "_test") && p.ForTest != "":
				u.xtst[name] = f
			case strings.HasSuffix(name, "_test.go"):
				u.tests[name] = f
			default:
				u.files[name] = f
			}
		}
		collectUniverse(p.Types, prog.Module, universe)
		collectPlain(p, loaded)
	}

	// The plan's files: parsed anew, dropped, or in a new directory.
	var goVersion string
	affected := map[*unit]bool{}
	for _, c := range changes {
		if filepath.Base(c.Path) == "go.mod" && c.New != nil {
			if f, err := modfile.ParseLax("go.mod", c.New, nil); err == nil && f.Go != nil {
				goVersion = "go" + f.Go.Version
			}
		}
		if !strings.HasSuffix(c.Path, ".go") {
			continue
		}
		dir := filepath.Dir(c.Path)
		u := units[dir]
		if u == nil {
			rel, err := filepath.Rel(prog.Root, dir)
			if err != nil || strings.HasPrefix(rel, "..") {
				return nil, errNotInProcess
			}
			u = &unit{path: prog.Module + "/" + filepath.ToSlash(rel), files: map[string]*ast.File{}, tests: map[string]*ast.File{}, xtst: map[string]*ast.File{}}
			units[dir] = u
		}
		affected[u] = true
		delete(u.files, c.Path)
		delete(u.tests, c.Path)
		delete(u.xtst, c.Path)
		if c.New == nil {
			continue
		}
		f, err := parser.ParseFile(fset, c.Path, c.New, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return []string{relErr(prog.Root, err.Error())}, nil
		}
		switch {
		case strings.HasSuffix(c.Path, "_test.go") && strings.HasSuffix(f.Name.Name, "_test"):
			u.xtst[c.Path] = f
		case strings.HasSuffix(c.Path, "_test.go"):
			u.tests[c.Path] = f
		default:
			u.files[c.Path] = f
		}
	}
	if goVersion == "" {
		if data, err := os.ReadFile(filepath.Join(prog.Root, "go.mod")); err == nil {
			if f, err := modfile.ParseLax("go.mod", data, nil); err == nil && f.Go != nil {
				goVersion = "go" + f.Go.Version
			}
		}
	}

	byPath := map[string]*unit{}
	for _, u := range units {
		if len(u.files) > 0 {
			byPath[u.path] = u
		}
	}
	inModule := func(path string) bool { return path == prog.Module || strings.HasPrefix(path, prog.Module+"/") }
	// What the plan's files import that the load never saw: the runtime,
	// yamux, some of the standard library. Read from export data, built by
	// the go command for the plan's go.mod.
	missing := map[string]bool{}
	for _, u := range units {
		for _, set := range []map[string]*ast.File{u.files, u.tests, u.xtst} {
			for _, f := range set {
				for _, spec := range f.Imports {
					path, _ := strconv.Unquote(spec.Path.Value)
					if path == "C" {
						return nil, errNotInProcess
					}
					if path != "unsafe" && !inModule(path) && (universe[path] == nil || !universe[path].Complete()) {
						missing[path] = true // a package the load saw only through another's export data is partial
					}
				}
			}
		}
	}
	if err := readExportData(ctx, prog.Root, fset, env, gomod, ahead, missing, universe); err != nil {
		return nil, err
	}

	var errs []string
	seen := map[string]bool{}
	report := func(err error) {
		msg := relErr(prog.Root, err.Error())
		if !seen[msg] {
			seen[msg] = true
			errs = append(errs, msg)
		}
	}
	check := func(path string, files map[string]*ast.File, imp types.ImporterFrom) *types.Package {
		names := make([]string, 0, len(files))
		for name := range files {
			names = append(names, name)
		}
		sort.Strings(names)
		list := make([]*ast.File, len(names))
		for i, name := range names {
			list[i] = files[name]
		}
		conf := types.Config{Importer: imp, Sizes: sizes, GoVersion: goVersion, Error: report}
		pkg, _ := conf.Check(path, fset, list, nil)
		return pkg
	}
	// dependsOn reports whether q imports u, directly or not, through the
	// module's packages (their non-test files).
	deps := map[*unit]map[*unit]bool{}
	var dependsOn func(q, u *unit) bool
	dependsOn = func(q, u *unit) bool {
		if m, ok := deps[q]; ok {
			if v, ok := m[u]; ok {
				return v
			}
		} else {
			deps[q] = map[*unit]bool{}
		}
		deps[q][u] = false // a cycle is not a dependency
		found := false
		for _, f := range q.files {
			for _, spec := range f.Imports {
				path, _ := strconv.Unquote(spec.Path.Value)
				if r := byPath[path]; r != nil && (r == u || dependsOn(r, u)) {
					found = true
				}
			}
		}
		deps[q][u] = found
		return found
	}
	// What the plan can change: the packages it edits (stale), checked
	// anew; see markStale for the others that must be.
	stale := map[*unit]bool{}
	for u := range affected {
		if byPath[u.path] == u {
			stale[u] = true
		}
	}
	testsOnly := map[*unit]bool{} // packages checked anew with their tests only
	markStale := func() { closeStale(byPath, stale, testsOnly, dependsOn) }
	markStale()
	// The plain packages, each after the module packages it imports.
	state := map[*unit]int{} // 1 visiting, 2 done
	var visit func(u *unit) error
	plainImporter := importerFunc(func(path string) (*types.Package, error) {
		if path == "unsafe" {
			return types.Unsafe, nil
		}
		if u := byPath[path]; u != nil {
			if p := loaded[path]; p != nil && !stale[u] {
				return p, nil
			}
			if err := visit(u); err != nil {
				return nil, err
			}
			return u.plain, nil
		}
		if p := universe[path]; p != nil {
			return p, nil
		}
		return nil, fmt.Errorf("could not import %s (not loaded)", path)
	})
	visit = func(u *unit) error {
		switch state[u] {
		case 1:
			return fmt.Errorf("import cycle through %s", u.path)
		case 2:
			return nil
		}
		state[u] = 1
		u.plain = check(u.path, u.files, plainImporter)
		state[u] = 2
		return nil
	}
	paths := make([]string, 0, len(byPath))
	for path := range byPath {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	checkStale := func() {
		for _, path := range paths {
			if !stale[byPath[path]] {
				continue
			}
			if err := visit(byPath[path]); err != nil {
				report(err)
			}
		}
	}
	checkStale()
	// A package whose exported API the plan changed (not merely extended)
	// can break what imports it: those packages, and those whose tests
	// import them, are checked anew too, with all they import that can be.
	dotImported := map[string]bool{}
	for _, u := range units {
		for _, set := range []map[string]*ast.File{u.files, u.tests, u.xtst} {
			for _, f := range set {
				for _, spec := range f.Imports {
					if spec.Name != nil && spec.Name.Name == "." {
						path, _ := strconv.Unquote(spec.Path.Value)
						dotImported[path] = true
					}
				}
			}
		}
	}
	broken := map[*unit]bool{}
	for u := range stale {
		if !sameAPI(loaded[u.path], u.plain, dotImported[u.path], u.existed) {
			broken[u] = true
		}
	}
	if len(broken) > 0 {
		reaches := func(q *unit) bool { // q is, or depends on, a broken package
			for b := range broken {
				if q == b || dependsOn(q, b) {
					return true
				}
			}
			return false
		}
		for _, q := range byPath {
			switch {
			case reaches(q):
				stale[q] = true
			case importsAny(byPath, reaches, q.tests, q.xtst):
				testsOnly[q] = true
			}
		}
		markStale()
		checkStale()
	}
	// Then each package with its tests, and its external tests, where they
	// are checked anew.
	for _, path := range paths {
		u := byPath[path]
		if !stale[u] && !testsOnly[u] {
			continue
		}
		if u.plain == nil {
			if err := visit(u); err != nil {
				report(err)
			}
		}
		own := u.plain
		if len(u.tests) > 0 {
			all := map[string]*ast.File{}
			for k, v := range u.files {
				all[k] = v
			}
			for k, v := range u.tests {
				all[k] = v
			}
			own = check(u.path, all, plainImporter)
		}
		if len(u.xtst) > 0 {
			// As go test builds it: the external tests see the package with
			// its tests, and so does every module package they import that
			// depends on it, checked again against that variant.
			again := map[string]*types.Package{}
			var xImporter importerFunc
			xImporter = func(p string) (*types.Package, error) {
				if p == u.path {
					return own, nil
				}
				if q := byPath[p]; q != nil && dependsOn(q, u) {
					if pkg, ok := again[p]; ok {
						return pkg, nil
					}
					pkg := check(q.path, q.files, xImporter)
					again[p] = pkg
					return pkg, nil
				}
				return plainImporter.ImportFrom(p, "", 0)
			}
			check(u.path+"_test", u.xtst, xImporter)
		}
	}
	sort.Strings(errs)
	return errs, nil
}

// closeStale adds to stale every module package that a check of a stale
// package, or of the tests of one in tests, reaches through its imports
// and that depends on a stale package: it must be checked anew too, or the
// check would meet two versions of one package (the load's, through it,
// and the new one) and report their types as different.
func closeStale(byPath map[string]*unit, stale, tests map[*unit]bool, dependsOn func(q, u *unit) bool) {
	for grew := true; grew; {
		grew = false
		var roots []*unit
		for u := range stale {
			roots = append(roots, u)
		}
		for u := range tests {
			roots = append(roots, u)
		}
		seen := map[*unit]bool{}
		var walk func(sets ...map[string]*ast.File)
		walk = func(sets ...map[string]*ast.File) {
			for _, set := range sets {
				for _, f := range set {
					for _, spec := range f.Imports {
						path, _ := strconv.Unquote(spec.Path.Value)
						q := byPath[path]
						if q == nil || seen[q] {
							continue
						}
						seen[q] = true
						if !stale[q] {
							for _, s := range roots {
								if stale[s] && dependsOn(q, s) {
									stale[q] = true
									grew = true
									break
								}
							}
						}
						walk(q.files)
					}
				}
			}
		}
		for _, u := range roots {
			walk(u.files, u.tests, u.xtst)
		}
	}
}

// importsAny reports whether a file of sets imports a module package for
// which match is true.
func importsAny(byPath map[string]*unit, match func(*unit) bool, sets ...map[string]*ast.File) bool {
	for _, set := range sets {
		for _, f := range set {
			for _, spec := range f.Imports {
				path, _ := strconv.Unquote(spec.Path.Value)
				if q := byPath[path]; q != nil && match(q) {
					return true
				}
			}
		}
	}
	return false
}

// sameAPI reports whether new, a package checked anew, offers what old, the
// load's version of it, offered, so that code that compiled against old
// compiles against new: the same exported functions, variables and
// constants (types and values), and the same types, exported or not (their
// underlying types, and their method sets, which an importer's embedding
// can make ambiguous when they grow). New names are allowed, unless some
// package dot-imports it. A package the load did not have (existed false)
// has no importers to break.
func sameAPI(old, new *types.Package, dotImported, existed bool) bool {
	if old == nil || new == nil {
		return old == nil && !existed
	}
	qual := func(p *types.Package) string { return p.Path() }
	str := func(t types.Type) string { return types.TypeString(t, qual) }
	methods := func(t types.Type) string {
		ms := types.NewMethodSet(t)
		var b strings.Builder
		for i := range ms.Len() {
			b.WriteString(ms.At(i).Obj().Name())
			b.WriteString(str(ms.At(i).Type()))
			b.WriteByte('\n')
		}
		return b.String()
	}
	olds, news := old.Scope(), new.Scope()
	for _, name := range olds.Names() {
		o, n := olds.Lookup(name), news.Lookup(name)
		if _, isType := o.(*types.TypeName); !isType && !token.IsExported(name) {
			continue
		}
		if n == nil || reflect.TypeOf(o) != reflect.TypeOf(n) || str(o.Type()) != str(n.Type()) {
			return false
		}
		switch o := o.(type) {
		case *types.Const:
			if o.Val().ExactString() != n.(*types.Const).Val().ExactString() {
				return false
			}
		case *types.TypeName:
			if o.IsAlias() != n.(*types.TypeName).IsAlias() || str(o.Type().Underlying()) != str(n.Type().Underlying()) {
				return false
			}
			if methods(o.Type()) != methods(n.Type()) || methods(types.NewPointer(o.Type())) != methods(types.NewPointer(n.Type())) {
				return false
			}
		}
	}
	if dotImported {
		for _, name := range news.Names() {
			if token.IsExported(name) && olds.Lookup(name) == nil {
				return false
			}
		}
	}
	return true
}

// importerFunc is a types.ImporterFrom made of a function.
type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

func (f importerFunc) ImportFrom(path, _ string, _ types.ImportMode) (*types.Package, error) {
	return f(path)
}

// collectUniverse adds the packages pkg imports, directly or not, that are
// not the module's, by path.
func collectUniverse(pkg *types.Package, module string, universe map[string]*types.Package) {
	if pkg == nil {
		return
	}
	for _, imp := range pkg.Imports() {
		path := imp.Path()
		if path == module || strings.HasPrefix(path, module+"/") || universe[path] != nil {
			continue
		}
		universe[path] = imp
		collectUniverse(imp, module, universe)
	}
}

// collectPlain adds, by path, the module packages p imports, directly or
// not, in their plain variants (not a test build's "q [p.test]"), as the
// load type-checked them.
func collectPlain(p *packages.Package, loaded map[string]*types.Package) {
	for _, imp := range p.Imports {
		if strings.Contains(imp.ID, " [") || imp.Types == nil || loaded[imp.PkgPath] != nil {
			continue
		}
		if imp.Module == nil || !imp.Module.Main {
			continue
		}
		loaded[imp.PkgPath] = imp.Types
		collectPlain(imp, loaded)
	}
}

// exportFile is the export data of one package, as the go command built it.
type exportFile struct {
	path, file string
}

// readExportData reads the export data of the packages in missing into
// universe, dependencies first, and into the package objects universe
// already has (completing them), so that every package the plan's files
// meet is one object. The files come from ahead, when it fetched them for
// the same go.mod and they cover missing, else from the go command now.
func readExportData(ctx context.Context, root string, fset *token.FileSet, env []string, gomod []byte, ahead *exportAhead, missing map[string]bool, universe map[string]*types.Package) error {
	if len(missing) == 0 {
		return nil
	}
	files, ok := ahead.files(gomod, missing)
	if !ok {
		var patterns []string
		for path := range missing {
			patterns = append(patterns, path)
		}
		sort.Strings(patterns)
		var err error
		if files, _, err = exportFiles(ctx, root, env, patterns, false, false); err != nil {
			return err
		}
	}
	// Only the missing packages: export data is self-contained, so the
	// packages they import need not be read (a few hundred milliseconds
	// for the runtime's); the objects they refer to are added to universe
	// as they are met, into the package objects it already has.
	for _, ef := range files {
		if !missing[ef.path] {
			continue
		}
		if err := readExport(ef, fset, universe); err != nil {
			return err
		}
	}
	return nil
}

// readExport reads one package's export data into universe.
func readExport(ef exportFile, fset *token.FileSet, universe map[string]*types.Package) error {
	f, err := os.Open(ef.file)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := gcexportdata.NewReader(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("export data of %s: %w", ef.path, err)
	}
	if _, err := gcexportdata.Read(r, fset, universe, ef.path); err != nil {
		return fmt.Errorf("export data of %s: %w", ef.path, err)
	}
	return nil
}

// exportAhead is the runtime's export data fetched while the module loads
// (Options.Write): the go command takes a few hundred milliseconds to
// answer even from its cache, which Apply's check would otherwise wait for
// after the load instead of during it.
type exportAhead struct {
	gomod []byte // the go.mod it was fetched for: the plan's, if nothing else changes it
	done  chan struct{}
	list  []exportFile
	err   error
	// cached is set when list came from the cache of an earlier run (see
	// exportcache.go), not from the go command.
	cached bool
}

// aheadPackages are the packages fetched ahead: the runtime, and the
// standard library's packages that generated code imports (gen's client
// and handler, the service main of serviceSource), which a module that
// does not import them itself lacks. A package outside the list that a
// plan's file imports and the load lacks sends the check to the go
// command, as without Options.Write.
var aheadPackages = []string{RuntimeModule, "bytes", "context", "errors", "fmt", "net/http", "os", "os/signal", "syscall", "time"}

// fetchExportAhead starts fetching the export data of aheadPackages for
// the go.mod an extraction plans (the module's own, requiring the
// runtime), and returns at once; nil when that go.mod cannot be made.
func fetchExportAhead(ctx context.Context, root string, gomod []byte, env []string) *exportAhead {
	planned, _, err := requireRuntime(filepath.Join(root, "go.mod"), gomod)
	if err != nil {
		return nil
	}
	a := &exportAhead{gomod: planned, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		env, _, cleanup, err := modEnv(root, planned, env, false)
		if err != nil {
			a.err = err
			return
		}
		defer cleanup()
		key, err := exportKey(ctx, root, planned, env)
		if err == nil {
			if list, ok := loadExportCache(key); ok {
				a.list, a.cached = list, true
				return
			}
		}
		start := time.Now()
		var sources []sourceStat
		a.list, sources, a.err = exportFiles(ctx, root, env, aheadPackages, true, key != "")
		if a.err == nil && key != "" {
			storeExportCache(key, a.list, sources, start)
		}
	}()
	return a
}

// files returns what a fetched, once it is done, when it was fetched for
// gomod and holds every package of missing.
func (a *exportAhead) files(gomod []byte, missing map[string]bool) ([]exportFile, bool) {
	if a == nil || !bytes.Equal(a.gomod, gomod) {
		return nil, false
	}
	<-a.done
	if a.err != nil {
		return nil, false
	}
	have := map[string]bool{}
	for _, ef := range a.list {
		have[ef.path] = true
	}
	for path := range missing {
		if !have[path] {
			return nil, false
		}
	}
	return a.list, true
}

// relErr makes the file names in a type error relative to root.
func relErr(root, msg string) string {
	return strings.ReplaceAll(msg, root+string(filepath.Separator), "")
}
