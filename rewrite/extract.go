package rewrite

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/packages"

	"github.com/meshsplit/meshsplit/analyze"
	"github.com/meshsplit/meshsplit/rewrite/gen"
)

// Options say what Extract plans.
type Options struct {
	// Dir is the module's directory (or one inside it); empty means ".".
	Dir string
	// Iface names the interface: "pkg.Iface", where pkg is an import path,
	// a package name or a path suffix.
	Iface string
	// Revert plans the undoing of an extraction instead.
	Revert bool
	// Force skips the check for uncommitted changes in the files the plan
	// touches.
	Force bool
	// Env is the environment of the go command; nil means os.Environ().
	Env []string
}

// Extract plans the extraction of one interface (or, with opts.Revert, its
// undoing) without writing anything. It returns an error when the module
// cannot be loaded or the interface cannot be found; a plan that must not be
// applied comes back with its Refusals.
func Extract(ctx context.Context, opts Options) (*Plan, error) {
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("directory %s does not exist: pass -C with the directory of a Go module", dir)
	}
	root, err := moduleRoot(dir)
	if err != nil {
		return nil, err
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, fmt.Errorf("reading go.mod: %w", err)
	}
	// Load through a copy of go.mod, so that a module extract has already
	// touched loads before 'go mod tidy' and the load never writes go.mod.
	env, cleanup, err := modEnv(root, gomod, opts.Env)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	prog, err := analyze.Load(ctx, analyze.Config{Dir: dir, Tests: true, Env: env})
	if err != nil {
		return nil, err
	}
	rep := analyze.Run(prog)
	seam, err := rep.Lookup(opts.Iface)
	if err != nil {
		return nil, err
	}
	p := &planner{
		ctx:     ctx,
		opts:    opts,
		prog:    prog,
		seam:    seam,
		plan:    &Plan{Seam: seam.Name, Root: prog.Root, Revert: opts.Revert, env: opts.Env},
		files:   map[string]*dstFile{},
		writes:  map[string][]byte{},
		removes: map[string]bool{},
	}
	if p.refuse(); p.plan.Refused() {
		return p.plan, nil
	}
	if opts.Revert {
		err = p.revert()
	} else {
		err = p.extract()
	}
	if err != nil {
		return nil, err
	}
	if p.plan.Refused() {
		return p.plan, nil
	}
	if err := p.collect(); err != nil {
		return nil, err
	}
	return p.plan, nil
}

// A planner builds one plan.
type planner struct {
	ctx  context.Context
	opts Options
	prog *analyze.Program
	seam *analyze.Seam
	plan *Plan

	files   map[string]*dstFile // files edited in place, by absolute path
	writes  map[string][]byte   // files written whole (generated or created)
	removes map[string]bool     // files removed
}

// ifaceName is the interface's name; pkgPath its package's import path.
func (p *planner) ifaceName() string { return p.seam.Obj.Name() }
func (p *planner) pkgPath() string   { return p.seam.Obj.Pkg().Path() }

// pkgDir returns the directory of the interface's package.
func (p *planner) pkgDir() string {
	return filepath.Dir(p.prog.Fset.Position(p.seam.Spec.Pos()).Filename)
}

// pos returns "file:line" for pos, relative to the module root.
func (p *planner) pos(pos token.Pos) string {
	at := p.prog.Fset.Position(pos)
	return fmt.Sprintf("%s:%d", p.prog.RelFile(at.Filename), at.Line)
}

func (p *planner) action(kind, pos, format string, args ...any) {
	p.plan.Actions = append(p.plan.Actions, Step{Kind: kind, Pos: pos, Message: fmt.Sprintf(format, args...)})
}

func (p *planner) manual(pos, format string, args ...any) {
	p.plan.Manual = append(p.plan.Manual, Step{Kind: "manual", Pos: pos, Message: fmt.Sprintf(format, args...)})
}

func (p *planner) refusal(pos, format string, args ...any) {
	p.plan.Refusals = append(p.plan.Refusals, Step{Kind: "refused", Pos: pos, Message: fmt.Sprintf(format, args...)})
}

// refuse records every reason the interface cannot be extracted as it
// stands. A revert is refused only for a module that does not type-check.
func (p *planner) refuse() {
	for _, e := range p.prog.Errors {
		pos, msg := e.Pos, e.Msg
		if p.inGeneratedFile(pos) {
			continue // stale generated code: this plan regenerates it, and -w type-checks the result
		}
		if strings.Contains(msg, "go.sum") || strings.Contains(msg, "go mod tidy") {
			msg += " (run 'go mod tidy' after an extraction)"
		}
		p.refusal(pos, "the module does not type-check: %s", msg)
	}
	if p.opts.Revert {
		return
	}
	s := p.seam
	spec := p.prog.Fset.Position(s.Spec.Pos())
	if strings.HasSuffix(spec.Filename, "_test.go") {
		p.refusal(p.pos(s.Spec.Pos()), "%s is declared in a test file: only the package's own code can be extracted", s.Name)
	}
	if s.Generic {
		p.refusal(p.pos(s.Spec.Pos()), "%s is generic: a mesh service needs one concrete method set; extract an instantiated, non-generic interface instead", s.Name)
	}
	if s.Verdict == analyze.NotRemotable {
		for _, f := range s.Findings {
			if f.Rule.Severity == analyze.Error {
				p.refusal(p.pos(f.Pos), "not remotable: [%s] %s", f.Rule.Name, f.Message)
			}
		}
	}
}

// inGeneratedFile reports whether a "file:line:col" position lies in a file
// meshsplit generated.
func (p *planner) inGeneratedFile(pos string) bool {
	file := pos
	for range 2 {
		if i := strings.LastIndexByte(file, ':'); i > 0 {
			file = file[:i]
		}
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(p.prog.Root, filepath.FromSlash(file))
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	_, ours := generatedBy(src)
	return ours
}

// extract plans the extraction.
func (p *planner) extract() error {
	if err := p.generateMesh(); err != nil {
		return err
	}
	rewritten, err := p.switchConstructors()
	if err != nil {
		return err
	}
	wrapped, err := p.wrapConversions()
	if err != nil {
		return err
	}
	if err := p.writeSwitchFile(wrapped > 0); err != nil {
		return err
	}
	if err := p.writeService(rewritten); err != nil {
		return err
	}
	if rewritten == nil && wrapped == 0 {
		p.manual(p.pos(p.seam.Spec.Pos()), "no constructor returns %s and no value becomes one outside tests: nothing switches to the mesh client yet; pass the value through %s.%s where your code builds one",
			p.ifaceName(), p.seam.Obj.Pkg().Name(), wrapName(p.ifaceName()))
	}
	return p.requireRuntime()
}

// generateMesh plans the generated file beside the interface.
func (p *planner) generateMesh() error {
	f, err := gen.Generate(gen.Input{Fset: p.prog.Fset, Pkg: p.seam.Obj.Pkg(), Iface: p.seam.Obj, Errors: p.errorsToRegister()})
	if err != nil {
		var refusals []*gen.Refusal
		collectRefusals(err, &refusals)
		if len(refusals) == 0 {
			return fmt.Errorf("generating the mesh code of %s: %w", p.seam.Name, err)
		}
		for _, r := range refusals {
			p.refusal(fmt.Sprintf("%s:%d", p.prog.RelFile(r.Pos.Filename), r.Pos.Line), "cannot generate the mesh code: %s", r.Reason)
		}
		return nil
	}
	return p.writeGenerated(f.Path, f.Source, fmt.Sprintf("generated: %s's ServiceDesc, client, handler and %s", p.ifaceName(), gen.SwitchName(p.ifaceName())))
}

// collectRefusals gathers the *gen.Refusal values err holds (joined or not).
func collectRefusals(err error, out *[]*gen.Refusal) {
	if r, ok := err.(*gen.Refusal); ok {
		*out = append(*out, r)
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			collectRefusals(e, out)
		}
	}
}

// errorsToRegister lists the errors whose identity the generated code keeps
// across the wire: those the interface's package declares (unexported ones
// included: the generated file lives there) and the exported ones of the
// module's packages it imports, directly or not (the implementation may
// return them wrapped). Packages that import the interface's package are
// left out: registering their errors would be an import cycle.
func (p *planner) errorsToRegister() []types.Object {
	own := p.seam.Obj.Pkg()
	out := gen.FindErrors(own, true)
	seen := map[*types.Package]bool{own: true}
	var visit func(*types.Package)
	visit = func(pkg *types.Package) {
		for _, imp := range pkg.Imports() {
			if seen[imp] || !strings.HasPrefix(imp.Path()+"/", p.prog.Module+"/") {
				continue
			}
			seen[imp] = true
			out = append(out, gen.FindErrors(imp, false)...)
			visit(imp)
		}
	}
	visit(own)
	// The package may be its test variant: leave out what test files
	// declare, which the generated file cannot see.
	kept := out[:0]
	for _, obj := range out {
		if !strings.HasSuffix(p.prog.Fset.Position(obj.Pos()).Filename, "_test.go") {
			kept = append(kept, obj)
		}
	}
	return kept
}

// writeGenerated plans writing a file meshsplit owns: refused when the file
// exists and was written by someone else.
func (p *planner) writeGenerated(path string, src []byte, what string) error {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("reading %s: %w", p.plan.Rel(path), err)
	default:
		if _, ours := generatedBy(old); !ours {
			p.refusal(p.plan.Rel(path), "the file exists and meshsplit did not generate it: rename or remove it")
			return nil
		}
	}
	p.writes[path] = src
	p.action("generate", p.plan.Rel(path), "%s", what)
	return nil
}

// revert plans the undoing of an extraction.
func (p *planner) revert() error {
	if err := p.checkDependents(); err != nil || p.plan.Refused() {
		return err
	}
	served, err := p.switchedNow()
	if err != nil {
		return err
	}
	if err := p.unswitchConstructors(); err != nil {
		return err
	}
	if err := p.unwrapConversions(); err != nil {
		return err
	}
	for _, name := range []string{gen.FileName(p.ifaceName()), switchFileName(p.ifaceName())} {
		path := filepath.Join(p.pkgDir(), name)
		if err := p.removeGenerated(path); err != nil {
			return err
		}
	}
	if err := p.removeService(served); err != nil {
		return err
	}
	return p.dropRuntime()
}

// removeGenerated plans removing a file meshsplit generated, if it exists.
func (p *planner) removeGenerated(path string) error {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("reading %s: %w", p.plan.Rel(path), err)
	}
	if _, ours := generatedBy(src); !ours {
		p.manual(p.plan.Rel(path), "not removed: meshsplit did not generate it")
		return nil
	}
	p.removes[path] = true
	p.action("remove", p.plan.Rel(path), "generated by meshsplit")
	return nil
}

// file returns the dst form of a module file, parsing it on first use. It
// records a refusal and returns nil for a file another tool generated.
func (p *planner) file(path string) (*dstFile, error) {
	if df, ok := p.files[path]; ok {
		return df, nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p.plan.Rel(path), err)
	}
	if generated, ours := generatedBy(src); generated && !ours {
		p.refusal(p.plan.Rel(path), "generated by another tool (it says DO NOT EDIT): change its generator instead, then run extract again")
		p.files[path] = nil
		return nil, nil
	}
	df, err := parseDST(path, src)
	if err != nil {
		p.refusal(p.plan.Rel(path), "%v", err)
		p.files[path] = nil
		return nil, nil
	}
	p.files[path] = df
	return df, nil
}

// skipFile reports whether the code of a file stays as it is: test files and
// files meshsplit generated.
func (p *planner) skipFile(path string) bool {
	if strings.HasSuffix(path, "_test.go") {
		return true
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	_, ours := generatedBy(src)
	return ours
}

// fileOf returns the syntax file of pkg that holds pos.
func fileOf(pkg *packages.Package, pos token.Pos) *ast.File {
	for _, f := range pkg.Syntax {
		if f.FileStart <= pos && pos <= f.FileEnd {
			return f
		}
	}
	return nil
}

// offsets returns the byte offsets of n in its file.
func (p *planner) offsets(n ast.Node) (start, end int) {
	return p.prog.Fset.Position(n.Pos()).Offset, p.prog.Fset.Position(n.End()).Offset
}

// wrapConversions wraps, outside tests, each value of a concrete type that
// becomes the interface in a call of the generated Mesh<Iface>, so that it is
// replaced by the mesh client when MESHRPC_REMOTE selects the interface. It
// returns how many sites are wrapped (now or by an earlier run).
func (p *planner) wrapConversions() (int, error) {
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

// collect turns the edited, written and removed files into the plan's
// changes, drops those that change nothing, and refuses files with
// uncommitted changes.
func (p *planner) collect() error {
	var changes []FileChange
	for path, df := range p.files {
		if df == nil {
			continue
		}
		out, err := df.print()
		if err != nil {
			return err
		}
		if string(out) != string(df.src) {
			changes = append(changes, FileChange{Path: path, Old: df.src, New: out})
		}
	}
	for path, src := range p.writes {
		old, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("reading %s: %w", p.plan.Rel(path), err)
		}
		if err == nil && string(old) == string(src) {
			continue
		}
		if err != nil {
			old = nil
		}
		changes = append(changes, FileChange{Path: path, Old: old, New: src})
	}
	for path := range p.removes {
		old, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", p.plan.Rel(path), err)
		}
		changes = append(changes, FileChange{Path: path, Old: old})
	}
	sortChanges(changes)
	p.plan.Changes = changes
	// The file actions of the plan, after the edits that explain them.
	for _, c := range changes {
		if _, generated := p.writes[c.Path]; generated || p.removes[c.Path] {
			continue
		}
		p.action(c.Kind(), p.plan.Rel(c.Path), "")
	}
	p.plan.Actions = p.fileActions(changes)

	if p.opts.Force || len(changes) == 0 {
		return nil
	}
	var paths []string
	for _, c := range changes {
		paths = append(paths, c.Path)
	}
	dirty, err := dirtyFiles(p.ctx, p.prog.Root, paths)
	if err != nil {
		return err
	}
	for _, d := range dirty {
		p.refusal(p.plan.Rel(d), "has uncommitted changes: commit or stash them first, or pass -force")
	}
	if p.plan.Refused() {
		p.plan.Changes = nil
	}
	return nil
}

// fileActions returns the plan's actions with the "generate" and "remove"
// actions of files whose content does not change dropped, the others named
// after what happens to their file (create or change), and a message given
// to plain file actions; file actions first, then the edits, then go.mod.
func (p *planner) fileActions(changes []FileChange) []Step {
	actions := p.plan.Actions
	changed := map[string]string{}
	for _, c := range changes {
		changed[p.plan.Rel(c.Path)] = c.Kind()
	}
	var out []Step
	for _, a := range actions {
		switch a.Kind {
		case "generate", "remove":
			kind, ok := changed[a.Pos]
			if !ok {
				continue
			}
			if a.Kind == "generate" {
				a.Kind = kind // create or change
			}
		case "create", "change":
			if a.Message == "" {
				a.Message = "edited in place (see the diff)"
			}
		}
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool { return actionOrder(out[i].Kind) < actionOrder(out[j].Kind) })
	return out
}

// actionOrder puts file actions first, then the edits, then go.mod.
func actionOrder(kind string) int {
	switch kind {
	case "create", "change", "remove":
		return 0
	case "go.mod":
		return 2
	}
	return 1
}
