package analyze

// This file is the listing half of the load with tests (testload.go): the
// scan of the test files' imports, the one 'go list' and the packages and
// import graph made from what it says, as go/packages makes them.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/packages"
)

// listedPackage is what 'go list -json' says of one package.
type listedPackage struct {
	ImportPath      string
	Name            string
	Dir             string
	Export          string
	DepOnly         bool
	GoFiles         []string
	CgoFiles        []string
	CompiledGoFiles []string
	IgnoredGoFiles  []string
	SwigFiles       []string
	SwigCXXFiles    []string
	TestGoFiles     []string
	XTestGoFiles    []string
	Imports         []string
	ImportMap       map[string]string
	TestImports     []string
	XTestImports    []string
	Module          *packages.Module
	Error           *struct{ Pos, Err string }
}

// listFields are the fields loadWithTests asks 'go list -json' for.
const listFields = "ImportPath,Name,Dir,Export,DepOnly,GoFiles,CgoFiles,CompiledGoFiles,IgnoredGoFiles,SwigFiles,SwigCXXFiles," +
	"TestGoFiles,XTestGoFiles,Imports,ImportMap,TestImports,XTestImports,Module,Error"

// scanTestImports returns, sorted, the import paths of the module's test
// files (those the build constraints select) that lie outside the module
// and in the standard library or a module that go.mod requires: what only
// tests may import, for the listing to include. A path missed here makes
// loadWithTests fall back; one too many is only listed.
func scanTestImports(root, module string, env, tags []string) []string {
	ctxt := build.Default
	ctxt.BuildTags = tags
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "GOOS":
			ctxt.GOOS = v
		case "GOARCH":
			ctxt.GOARCH = v
		case "CGO_ENABLED":
			ctxt.CgoEnabled = v == "1"
		}
	}
	var required []string
	if data, err := os.ReadFile(filepath.Join(root, "go.mod")); err == nil {
		if f, err := modfile.ParseLax("go.mod", data, nil); err == nil {
			for _, r := range f.Require {
				required = append(required, r.Mod.Path)
			}
		}
	}
	listable := func(path string) bool {
		if path == "C" || path == "unsafe" || path == module || strings.HasPrefix(path, module+"/") {
			return false
		}
		if first, _, _ := strings.Cut(path, "/"); !strings.Contains(first, ".") {
			return true // the standard library
		}
		for _, m := range required {
			if path == m || strings.HasPrefix(path, m+"/") {
				return true
			}
		}
		return false
	}
	seen := map[string]bool{}
	fset := token.NewFileSet()
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if SkipsDir(root, path) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") {
			return nil
		}
		if ok, err := ctxt.MatchFile(filepath.Dir(path), name); err != nil || !ok {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.SkipObjectResolution)
		if f == nil || err != nil && len(f.Imports) == 0 {
			return nil
		}
		for _, spec := range f.Imports {
			if p := strings.Trim(spec.Path.Value, "\"`"); listable(p) {
				seen[p] = true
			}
		}
		return nil
	})
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// goSizes asks the go command for the target's sizes, as go/packages does.
func goSizes(ctx context.Context, dir string, env, buildFlags []string) (types.Sizes, error) {
	args := append(append([]string{"list"}, buildFlags...), "-f", "{{context.GOARCH}} {{context.Compiler}}", "--", "unsafe")
	out, err := goCommand(ctx, dir, env, args)
	if err != nil {
		return nil, err
	}
	fields := strings.Fields(string(out))
	if len(fields) < 2 {
		return nil, fmt.Errorf("go list: cannot read GOARCH and compiler from %q", out)
	}
	sizes := types.SizesFor(fields[1], fields[0])
	if sizes == nil {
		return nil, fmt.Errorf("go list: no sizes for compiler %s on %s", fields[1], fields[0])
	}
	return sizes, nil
}

// goCommand runs the go command in dir and returns its standard output.
func goCommand(ctx context.Context, dir string, env, args []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(env[:len(env):len(env)], "PWD="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("go %s: %w: %s", args[0], err, oneLine(stderr.String()))
	}
	return out, nil
}

// goList runs 'go list' and returns its packages by import path, and the
// paths in the order listed.
func goList(ctx context.Context, dir string, env, args []string) (map[string]*listedPackage, []string, error) {
	out, err := goCommand(ctx, dir, env, args)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errTestsFallback, err)
	}
	listed := map[string]*listedPackage{}
	var order []string
	for d := json.NewDecoder(bytes.NewReader(out)); d.More(); {
		lp := new(listedPackage)
		if err := d.Decode(lp); err != nil {
			return nil, nil, fmt.Errorf("%w: reading go list's output: %v", errTestsFallback, err)
		}
		if listed[lp.ImportPath] != nil {
			return nil, nil, fmt.Errorf("%w: go list listed %s twice", errTestsFallback, lp.ImportPath)
		}
		listed[lp.ImportPath] = lp
		order = append(order, lp.ImportPath)
	}
	return listed, order, nil
}

// graph makes the plain packages and their import graph, marks the
// module's for type-checking from source, and returns the roots: the
// module's packages, in listing order.
func (l *testLoader) graph(order, extra []string) ([]*packages.Package, error) {
	isExtra := map[string]bool{}
	for _, p := range extra {
		isExtra[p] = true
	}
	var roots []*packages.Package
	broken := map[string]string{} // what only the scan asked for and the go command could not list
	for _, path := range order {
		lp := l.listed[path]
		inModule := lp.Module != nil && lp.Module.Main
		switch {
		case lp.Error != nil && inModule && strings.HasPrefix(lp.Error.Err, "# "+path+"\n"):
			// The compiler's errors (for export data): the check here
			// finds them too.
		case lp.Error != nil && isExtra[path] && !inModule:
			// Imported by no test the build selects, or else by a test that
			// then falls back (not listed).
			broken[path] = oneLine(lp.Error.Err)
			continue
		case lp.Error != nil:
			return nil, fmt.Errorf("%w: package %s: %s", errTestsFallback, path, oneLine(lp.Error.Err))
		case inModule && lp.DepOnly:
			return nil, fmt.Errorf("%w: %s is only a dependency of the patterns", errTestsFallback, path)
		case inModule && (len(lp.SwigFiles) > 0 || len(lp.SwigCXXFiles) > 0):
			return nil, fmt.Errorf("%w: %s uses SWIG", errTestsFallback, path)
		}
		// As go/packages makes them from the same listing.
		p := &packages.Package{
			ID: path, Name: lp.Name, PkgPath: path, Module: lp.Module,
			GoFiles:         absJoin(lp.Dir, append(lp.GoFiles[:len(lp.GoFiles):len(lp.GoFiles)], lp.CgoFiles...)),
			CompiledGoFiles: absJoin(lp.Dir, goOnly(lp.CompiledGoFiles)),
			IgnoredFiles:    absJoin(lp.Dir, lp.IgnoredGoFiles),
			ExportFile:      lp.Export,
			Fset:            l.fset,
			TypesSizes:      l.sizes,
			Imports:         map[string]*packages.Package{},
		}
		switch {
		case path == "unsafe":
			p.CompiledGoFiles = nil
		case len(p.CompiledGoFiles) == 0:
			p.CompiledGoFiles = p.GoFiles // not compiled: its dependencies failed to
		}
		if p.ExportFile != "" && !filepath.IsAbs(p.ExportFile) {
			p.ExportFile = filepath.Join(lp.Dir, p.ExportFile)
		}
		if lp.Error != nil && inModule {
			p.Errors = []packages.Error{{Pos: lp.Error.Pos, Msg: strings.TrimSpace(lp.Error.Err), Kind: packages.ListError}}
		}
		l.pkgs[path] = p
		if inModule {
			l.source[path] = true
			roots = append(roots, p)
		}
	}
	for _, path := range order {
		lp, p := l.listed[path], l.pkgs[path]
		if p == nil {
			continue // broken
		}
		for src, id := range importsOf(lp.Imports, lp.ImportMap) {
			if msg, ok := broken[id]; ok {
				return nil, fmt.Errorf("%w: %s imports %s: %s", errTestsFallback, path, id, msg)
			}
			imp := l.pkgs[id]
			if imp == nil {
				if l.source[path] {
					return nil, fmt.Errorf("%w: %s imports %s, which was not listed", errTestsFallback, path, id)
				}
				continue
			}
			if l.source[id] && !l.source[path] {
				return nil, fmt.Errorf("%w: %s, outside the module, imports the module's %s", errTestsFallback, path, id)
			}
			p.Imports[src] = imp
		}
	}
	return roots, nil
}

// importsOf maps each import path as written to the package it resolves
// to, as go/packages does.
func importsOf(imports []string, importMap map[string]string) map[string]string {
	out := map[string]string{}
	ids := map[string]bool{}
	for _, id := range imports {
		ids[id] = true
	}
	for src, id := range importMap {
		out[src] = id
		delete(ids, id)
	}
	for id := range ids {
		if id != "C" {
			out[id] = id
		}
	}
	return out
}

// absJoin joins each of names to dir, unless it is absolute.
func absJoin(dir string, names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if !filepath.IsAbs(n) {
			n = filepath.Join(dir, n)
		}
		out = append(out, n)
	}
	return out
}

// goOnly keeps the Go files of names, those ending in .go and the go
// command's cached ones, which have no extension (it once listed assembly
// among the compiled Go files: golang.org/issue/28749).
func goOnly(names []string) []string {
	out := names[:0:0]
	for _, n := range names {
		if ext := filepath.Ext(n); ext == ".go" || ext == "" {
			out = append(out, n)
		}
	}
	return out
}
