package analyze

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/packages"
)

// Config says what to load.
type Config struct {
	// Dir is the directory to load from, like the go command's -C flag; the
	// module is the one whose go.mod is in Dir or its nearest parent.
	// Empty means the current directory.
	Dir string
	// Patterns are package patterns relative to Dir; empty means "./...".
	Patterns []string
	// Tags are build tags, as for 'go build -tags'.
	Tags []string
	// Tests includes the packages' _test.go files (and test-only packages).
	Tests bool
	// Generated includes the interfaces declared in files another tool
	// generated (with the standard "// Code generated ... DO NOT EDIT."
	// line: gRPC stubs, mocks) as seams. meshsplit's own generated files
	// never count, whatever this says.
	Generated bool
	// Env is the environment of the go command; nil means os.Environ().
	Env []string

	// goPackagesTests makes Load leave the tests to go/packages, as it
	// does where its own test loading cannot serve (testload.go); for
	// tests that compare the two.
	goPackagesTests bool
}

// LoadMode is the go/packages mode Load uses: full syntax and types for the
// packages that match the patterns, export data for their dependencies, as
// 'go build' would see them.
const LoadMode = packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles |
	packages.NeedImports | packages.NeedTypes | packages.NeedTypesSizes |
	packages.NeedSyntax | packages.NeedTypesInfo | packages.NeedModule | packages.NeedForTest

// A Program is a loaded module: the packages that matched the patterns and
// belong to the module, with full syntax and types.
type Program struct {
	// Config is the configuration the program was loaded with.
	Config Config
	// Root is the absolute directory of the module (where go.mod is).
	Root string
	// Module is the module path from go.mod.
	Module string
	// Fset resolves every token.Pos of the program.
	Fset *token.FileSet
	// Packages are the loaded packages of the module, sorted by ID. With
	// Config.Tests, a package with tests appears once, as its test variant
	// ("p [p.test]"), next to its external test package if any.
	Packages []*packages.Package
	// Errors are the load, parse and type errors of the packages (and of the
	// dependencies they import), in a stable order. A program with errors is
	// still analyzed as far as its types allow.
	Errors []LoadError
	// Workspace says how a go.work found above the module was treated
	// (used because it lists the module, or ignored with GOWORK=off); ""
	// when none applies or the environment's GOWORK decided.
	Workspace string

	dir   string                   // the absolute directory loaded from
	decls map[*types.Func]funcDecl // see funcDecls
	// testsBy says who loaded the tests: "meshsplit" (testload.go),
	// "go/packages", or "" without tests.
	testsBy string
}

// A LoadError is one error reported while loading or type-checking.
type LoadError struct {
	// Pos is "file:line:col" relative to the module root when the file is
	// inside it, or "" when the error has no position.
	Pos string
	// Msg is the error message.
	Msg string
}

// String returns "pos: msg", or msg alone.
func (e LoadError) String() string {
	if e.Pos == "" {
		return e.Msg
	}
	return e.Pos + ": " + e.Msg
}

// Load loads the module found from cfg.Dir. It fails when the directory or
// the module is missing or when nothing matches the patterns; type errors in
// the packages are not failures but land in Program.Errors.
func Load(ctx context.Context, cfg Config) (*Program, error) {
	dir := cfg.Dir
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("directory %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("directory %s does not exist: pass -C with the directory of a Go module", dir)
	} else if err != nil {
		return nil, fmt.Errorf("directory %s: %w", dir, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory: pass -C with the directory of a Go module", dir)
	}
	root, modPath, err := findModule(abs)
	if err != nil {
		return nil, err
	}
	patterns := cfg.Patterns
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	env, workNote := workspaceEnv(root, env)
	pcfg := &packages.Config{
		Mode:      LoadMode,
		Context:   ctx,
		Dir:       abs,
		Env:       env,
		Tests:     cfg.Tests,
		Fset:      token.NewFileSet(),
		ParseFile: parseFunc(root),
	}
	if len(cfg.Tags) > 0 {
		pcfg.BuildFlags = []string{"-tags=" + strings.Join(cfg.Tags, ",")}
	}
	var pkgs []*packages.Package
	testsBy := ""
	if cfg.Tests && len(patterns) == 1 && patterns[0] == "./..." && !cfg.goPackagesTests {
		// The module's packages and their tests from one 'go list' without
		// -test (testload.go), or from go/packages where that cannot serve.
		pkgs, err = loadWithTests(ctx, root, modPath, abs, env, pcfg.BuildFlags, cfg.Tags, pcfg.Fset, pcfg.ParseFile)
		switch {
		case err == nil:
			testsBy = "meshsplit"
		case errors.Is(err, errTestsFallback):
			pkgs, pcfg.Fset = nil, token.NewFileSet()
		default:
			return nil, err
		}
	}
	if pkgs == nil {
		if cfg.Tests {
			testsBy = "go/packages"
		}
		if pkgs, err = packages.Load(pcfg, patterns...); err != nil {
			return nil, fmt.Errorf("loading %s in %s: %w", strings.Join(patterns, " "), dir, goCommandError{err})
		}
	}
	prog := &Program{Config: cfg, Root: root, Module: modPath, Workspace: workNote, dir: abs, testsBy: testsBy}
	prog.Packages = prog.modulePackages(pkgs)
	prog.Errors = prog.collectErrors(pkgs)
	if len(prog.Packages) == 0 {
		return nil, prog.nothingLoaded(ctx, patterns, env, pcfg.BuildFlags)
	}
	for _, p := range prog.Packages {
		if p.Fset != nil {
			prog.Fset = p.Fset
			break
		}
	}
	if prog.Fset == nil {
		prog.Fset = token.NewFileSet()
	}
	return prog, nil
}

// testMainHeader opens the main file that 'go test' generates for a test
// binary.
var testMainHeader = []byte("// Code generated by 'go test'. DO NOT EDIT.")

// parseFunc returns the parser of the load for the module at root: as
// go/packages' own, without the deprecated ast.Object resolution that
// nothing here reads (go/types does not), and with only its package
// clause of a test binary's generated main file (in the go command's
// cache, outside root), which the analysis never reads: a module with
// tests has one such package per tested package, each otherwise
// type-checked for nothing.
func parseFunc(root string) func(fset *token.FileSet, filename string, src []byte) (*ast.File, error) {
	prefix := root + string(filepath.Separator)
	return func(fset *token.FileSet, filename string, src []byte) (*ast.File, error) {
		if bytes.HasPrefix(src, testMainHeader) && !strings.HasPrefix(filename, prefix) {
			src = []byte("package main\n")
		}
		return parser.ParseFile(fset, filename, src, parser.AllErrors|parser.ParseComments|parser.SkipObjectResolution)
	}
}

// findModule returns the directory and path of the module enclosing dir.
func findModule(dir string) (root, path string, err error) {
	for d := dir; ; {
		gomod := filepath.Join(d, "go.mod")
		data, err := os.ReadFile(gomod)
		if err == nil {
			p := modfile.ModulePath(data)
			if p == "" {
				return "", "", fmt.Errorf("%s: no module line: add 'module <path>' or run 'go mod init'", gomod)
			}
			return d, p, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", "", fmt.Errorf("reading %s: %w", gomod, err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "", fmt.Errorf("no go.mod in %s or any parent: analyze works on a Go module; run 'go mod init' there or pass -C with a module's directory", dir)
		}
		d = parent
	}
}

// modulePackages keeps the packages that belong to the main module and
// drops the duplicates that loading tests produces: the test binary's main
// package and the plain variant of a package that also has a test variant.
func (prog *Program) modulePackages(pkgs []*packages.Package) []*packages.Package {
	hasTestVariant := map[string]bool{}
	for _, p := range pkgs {
		if p.ForTest != "" && p.PkgPath == p.ForTest {
			hasTestVariant[p.PkgPath] = true
		}
	}
	var out []*packages.Package
	for _, p := range pkgs {
		switch {
		case p.Module == nil || !p.Module.Main:
			continue // not the module's (or a pattern that matched nothing)
		case p.Types == nil || p.TypesInfo == nil || len(p.Syntax) == 0:
			continue // could not be loaded, or has no files to build; its errors are reported
		case strings.HasSuffix(p.ID, ".test") && p.Name == "main" && len(p.CompiledGoFiles) == 1 && prog.RelFile(p.CompiledGoFiles[0]) == p.CompiledGoFiles[0]:
			continue // a test binary's generated main: one file, in the go command's cache
		case p.ForTest == "" && hasTestVariant[p.PkgPath]:
			continue // the test variant holds the same package and more
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// collectErrors gathers the errors of every package reachable from pkgs,
// each once, sorted by position. The go command's compiler output ("# pkg"
// then one error a line) is split into lines, and dropped for packages
// whose parse or type errors say the same.
func (prog *Program) collectErrors(pkgs []*packages.Package) []LoadError {
	seen := map[string]bool{}
	var out []LoadError
	add := func(le LoadError) {
		if k := le.String(); !seen[k] {
			seen[k] = true
			out = append(out, le)
		}
	}
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		checked := false
		for _, e := range p.Errors {
			checked = checked || e.Kind == packages.ParseError || e.Kind == packages.TypeError
		}
		for _, e := range p.Errors {
			if strings.HasPrefix(e.Msg, "# ") {
				if checked {
					continue
				}
				for _, line := range strings.Split(e.Msg, "\n")[1:] {
					if line = strings.TrimSpace(line); line != "" {
						add(prog.splitPos(line))
					}
				}
				continue
			}
			le := LoadError{Pos: prog.relPos(e.Pos), Msg: hint(oneLine(e.Msg))}
			if le.Pos == "" && e.Kind == packages.ListError && p.PkgPath != "" && !strings.Contains(le.Msg, p.PkgPath) {
				le.Msg = "package " + p.PkgPath + ": " + le.Msg
			}
			add(le)
		}
	})
	sort.SliceStable(out, func(i, j int) bool { return posStringLess(out[i].Pos, out[j].Pos) })
	return out
}

// splitPos splits "file:line:col: msg" into a LoadError.
func (prog *Program) splitPos(line string) LoadError {
	parts := strings.SplitN(line, ": ", 2)
	if len(parts) == 2 && strings.Count(parts[0], ":") >= 1 {
		if i := strings.LastIndexByte(parts[0], ':'); i >= 0 {
			if _, ok := atoi(parts[0][i+1:]); ok {
				return LoadError{Pos: prog.relPos(parts[0]), Msg: parts[1]}
			}
		}
	}
	return LoadError{Msg: line}
}

// hint appends what to do to the go command's errors that do not say it.
func hint(msg string) string {
	if strings.Contains(msg, "outside main module") {
		return msg + ": analyze one module at a time; pass -C with that module's directory"
	}
	if strings.Contains(msg, "build constraints exclude all Go files") {
		return msg + ": pass -tags with the package's build tags (for cgo files: CGO_ENABLED=1 and a C compiler)"
	}
	return msg
}

// nothingLoaded explains why no package of the module was loaded: what the
// go command says when it refuses the module as a whole (a go.mod that
// needs 'go mod tidy', an inconsistent vendor/), else the likeliest cause.
func (prog *Program) nothingLoaded(ctx context.Context, patterns, env, buildFlags []string) error {
	if len(prog.Errors) > 0 {
		return fmt.Errorf("%s", prog.Errors[0].String())
	}
	args := append(append([]string{"list", "-e", "-f", "{{.ImportPath}}"}, buildFlags...), patterns...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = prog.dir
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		msg := strings.Join(strings.Fields(string(out)), " ")
		if strings.Contains(msg, "go mod tidy") {
			msg += " (after 'meshsplit extract -w', run 'go mod tidy' before analyzing again)"
		}
		return fmt.Errorf("the go command cannot load module %s: %s", prog.Module, msg)
	}
	if len(prog.Config.Patterns) > 0 {
		return fmt.Errorf("pattern %s matched no packages of module %s (dependencies and the standard library are not analyzed): check the patterns, relative to %s", strings.Join(patterns, " "), prog.Module, prog.dir)
	}
	file := firstGoFile(prog.dir)
	if file == "" {
		return fmt.Errorf("module %s (%s) has no Go packages: add Go files, or pass -C with another module", prog.Module, prog.dir)
	}
	data, _ := os.ReadFile(file)
	rel := prog.RelFile(file)
	if strings.Contains(string(data), "import \"C\"") {
		return fmt.Errorf("no package of module %s can be built: %s uses cgo, which is disabled; set CGO_ENABLED=1 and install a C compiler (or use -tags to select pure-Go files)", prog.Module, rel)
	}
	return fmt.Errorf("no package of module %s matches the build constraints (for example %s): pass -tags with the files' build tags", prog.Module, rel)
}

// firstGoFile returns the first .go file under dir, in lexical order,
// skipping what the go command skips (testdata, vendor, _ and . folders,
// nested modules), or "".
func firstGoFile(dir string) string {
	var found string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || found != "" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			if SkipsDir(dir, path) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".go") && !strings.HasSuffix(d.Name(), "_test.go") {
			found = path
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// SkipsDir reports whether the go command's pattern ./..., run in the
// module at root, leaves out the directory dir (root or below it):
// testdata, vendor, a name starting with . or _, a nested module.
func SkipsDir(root, dir string) bool {
	if dir == root {
		return false
	}
	name := filepath.Base(dir)
	if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return true
	}
	_, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil
}

// relPos rewrites a "file:line:col" position so that the file is relative
// to the module root (with slashes) when it lies inside it.
func (prog *Program) relPos(pos string) string {
	if pos == "" || pos == "-" {
		return ""
	}
	file, rest := cutLineCol(pos)
	return prog.RelFile(file) + rest
}

// cutLineCol splits a "file:line:col" (or "file:line") position into the
// file and the rest (":line:col"). The file name may contain colons
// (Windows drives); line and column do not.
func cutLineCol(pos string) (file, rest string) {
	file = pos
	for range 2 {
		i := strings.LastIndexByte(file, ':')
		if i < 0 {
			break
		}
		if _, ok := atoi(file[i+1:]); !ok {
			break
		}
		rest = file[i:] + rest
		file = file[:i]
	}
	return file, rest
}

// RelFile returns file relative to the module root, with slashes, when it
// lies inside the root, and file unchanged otherwise.
func (prog *Program) RelFile(file string) string {
	if !filepath.IsAbs(file) && prog.dir != "" {
		file = filepath.Join(prog.dir, file) // the go command's output is relative to where it ran
	}
	if rel, err := filepath.Rel(prog.Root, file); err == nil && !strings.HasPrefix(rel, "..") && !filepath.IsAbs(rel) {
		return filepath.ToSlash(rel)
	}
	return file
}

// InModule reports whether pos lies in a file under the module root (and
// not in a dependency or the standard library).
func (prog *Program) InModule(pos token.Pos) bool {
	if !pos.IsValid() {
		return false
	}
	file := prog.Fset.Position(pos).Filename
	if file == "" || strings.HasPrefix(file, "$GOROOT") || !filepath.IsAbs(file) {
		return false
	}
	rel, err := filepath.Rel(prog.Root, file)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Position returns pos as "file:line:col" with the file relative to the
// module root, or "-" for an unknown position.
func (prog *Program) Position(pos token.Pos) string {
	if !pos.IsValid() {
		return "-"
	}
	p := prog.Fset.Position(pos)
	return fmt.Sprintf("%s:%d:%d", prog.RelFile(p.Filename), p.Line, p.Column)
}

// atoi parses a small non-negative decimal number.
func atoi(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// oneLine joins the lines of a message, each trimmed, with spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// goCommandError is a go/packages error shown on one line, without the
// "err: exit status 1: stderr:" framing of the go command's failures.
type goCommandError struct{ err error }

// Error returns the go command's own message on one line.
func (e goCommandError) Error() string {
	msg := e.err.Error()
	if i := strings.Index(msg, "stderr: "); i >= 0 && strings.HasPrefix(msg, "err: ") {
		msg = msg[i+len("stderr: "):]
	}
	return oneLine(msg)
}

// Unwrap returns the error of go/packages.
func (e goCommandError) Unwrap() error { return e.err }
