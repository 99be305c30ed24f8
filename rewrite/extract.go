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
	"strconv"
	"strings"

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
	// Progress, when set, is told of each phase as it starts ("loading the
	// module") and returns the function to call when the phase ends; the
	// command prints the long ones.
	Progress func(phase string) (done func())
	// Write says that the plan will be applied (-w): while the module
	// loads, Extract then also asks the go command for what Apply's type
	// check will need (the runtime's export data), so that the check need
	// not wait for it afterwards. A dry run leaves it unset: the fetch
	// would take CPU from the load for nothing.
	Write bool
}

// phase reports a phase to opts.Progress, if any.
func (opts Options) phase(name string) (done func()) {
	if opts.Progress == nil {
		return func() {}
	}
	return opts.Progress(name)
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
	env, _, cleanup, err := modEnv(root, gomod, opts.Env, true)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	var ahead *exportAhead
	if opts.Write && !opts.Revert {
		ahead = fetchExportAhead(ctx, root, gomod, opts.Env)
	}
	var tidy *tidyAhead
	if !opts.Revert {
		tidy = startTidyAhead(ctx, root, gomod, opts.Env)
		defer tidy.stop()
	}
	done := opts.phase("loading the module with its tests")
	prog, err := analyze.Load(ctx, analyze.Config{Dir: root, Tests: true, Generated: true, Env: env}) // the whole module, whatever -C names inside it
	done()
	if err != nil {
		return nil, err
	}
	done = opts.phase("analyzing its seams")
	rep := analyze.Run(prog)
	done()
	seam, err := rep.Lookup(opts.Iface)
	if err != nil {
		return nil, err
	}
	p := &planner{
		ctx:       ctx,
		opts:      opts,
		prog:      prog,
		seam:      seam,
		plan:      &Plan{Seam: seam.Name, Root: prog.Root, Revert: opts.Revert, env: opts.Env, progress: opts.Progress, prog: prog, ahead: ahead},
		tidyAhead: tidy,
		files:     map[string]*dstFile{},
		writes:    map[string][]byte{},
		removes:   map[string]bool{},
		asCreated: map[string]bool{},
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

	// exportedSwitch is set when a constructor outside the interface's
	// package switches: the switch file then exports Switch<Iface>.
	exportedSwitch bool
	// asCreated holds the files the plan removes that are still as extract
	// created them (deps.go): removing them loses nothing of the user's.
	asCreated map[string]bool
	// tidyAhead is the 'go mod tidy' preview started during the load, or
	// nil.
	tidyAhead *tidyAhead
	// needWrap is set when a manual step tells code outside the interface's
	// package to call Mesh<Iface>, so the switch file must declare it.
	needWrap bool

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
	p.refuseLoadErrors()
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

// maxTypeErrors is how many type errors a refusal lists before it counts
// the rest.
const maxTypeErrors = 10

// refuseLoadErrors refuses a module that does not load or type-check,
// root causes first: what the go command reported (a module it could not
// download, an inconsistent vendor/), then each import that failed, once,
// then the type errors that follow, the first maxTypeErrors of them and a
// count of the rest.
func (p *planner) refuseLoadErrors() {
	var causes, imports, rest []analyze.LoadError
	seenImport := map[string]bool{}
	for _, e := range p.prog.Errors {
		if p.inGeneratedFile(e.Pos) {
			continue // stale generated code: this plan regenerates it, and -w type-checks the result
		}
		if strings.Contains(e.Msg, "go.sum") || strings.Contains(e.Msg, "go mod tidy") {
			e.Msg += " (run 'go mod tidy' after an extraction)"
		}
		switch _, after, found := strings.Cut(e.Msg, "could not import "); {
		case e.Pos == "":
			causes = append(causes, e)
		case found:
			path, _, _ := strings.Cut(after, " ")
			if !seenImport[path] {
				seenImport[path] = true
				imports = append(imports, e)
			}
		default:
			rest = append(rest, e)
		}
	}
	for _, e := range append(causes, imports...) {
		p.refusal(e.Pos, "the module does not load: %s", e.Msg)
	}
	for i, e := range rest {
		if i == maxTypeErrors {
			what := "that follow"
			if len(causes)+len(imports) == 0 {
				what = "more"
			}
			p.refusal("", "and %d type errors %s (run 'go vet ./...' for all of them)", len(rest)-maxTypeErrors, what)
			break
		}
		p.refusal(e.Pos, "the module does not type-check: %s", e.Msg)
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
	wrapped, err := p.wrapConversions(rewritten)
	if err != nil {
		return err
	}
	// Mesh<Iface> serves the wrapped sites, and is what the user calls when
	// no constructor or site switches yet.
	if err := p.writeSwitchFile(wrapped > 0 || len(rewritten) == 0 || p.needWrap, p.exportedSwitch); err != nil {
		return err
	}
	if err := p.writeService(rewritten); err != nil {
		return err
	}
	if !p.plan.Revert {
		p.sharedState(rewritten)
	}
	if rewritten == nil && wrapped == 0 {
		p.manual(p.pos(p.seam.Spec.Pos()), "no constructor returns %s and no value becomes one outside tests: nothing switches to the mesh client yet; pass the value through %s.%s where your code builds one",
			p.ifaceName(), p.seam.Obj.Pkg().Name(), wrapName(p.ifaceName()))
	}
	if err := p.requireRuntime(); err != nil {
		return err
	}
	return p.requireOTel()
}

// generateMesh plans the generated file beside the interface.
func (p *planner) generateMesh() error {
	f, err := gen.Generate(gen.Input{Fset: p.prog.Fset, Pkg: p.seam.Obj.Pkg(), Iface: p.seam.Obj, Errors: p.errorsToRegister(), Instrument: p.usesOTel()})
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
// included: the generated file lives there), then the exported errors of
// the packages that the interface's package imports in its non-test files
// and whose functions, variables or types the production code of the
// interface's package or of an implementation's package uses: what the
// implementation can return. Other modules' packages give their sentinel
// values only (gen.ThirdPartySentinels). So the generated file imports
// nothing the package does not import already, and registers no error of a
// package the implementation never calls.
func (p *planner) errorsToRegister() []types.Object {
	own := p.seam.Obj.Pkg()
	out := gen.FindErrors(own, true)
	imported := p.productionImports(p.seam.Pkg)
	used := p.usedByProduction()
	var module, other []*types.Package
	for _, imp := range own.Imports() {
		if !imported[imp.Path()] || !used[imp.Path()] {
			continue
		}
		if imp.Path() == p.prog.Module || strings.HasPrefix(imp.Path(), p.prog.Module+"/") {
			module = append(module, imp)
		} else {
			other = append(other, imp)
		}
	}
	sort.Slice(module, func(i, j int) bool { return module[i].Path() < module[j].Path() })
	for _, imp := range module {
		out = append(out, gen.FindErrors(imp, false)...)
	}
	out = append(out, gen.ThirdPartySentinels(other, p.prog.Module)...)
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

// productionImports returns the paths that the non-test files of pkg
// import.
func (p *planner) productionImports(pkg *packages.Package) map[string]bool {
	out := map[string]bool{}
	for _, f := range pkg.Syntax {
		if strings.HasSuffix(p.prog.Fset.Position(f.Pos()).Filename, "_test.go") {
			continue
		}
		for _, spec := range f.Imports {
			if path, err := strconv.Unquote(spec.Path.Value); err == nil {
				out[path] = true
			}
		}
	}
	return out
}

// usedByProduction returns the paths of the packages whose functions,
// variables or types the non-test code of the interface's package and of
// the implementations' packages refers to.
func (p *planner) usedByProduction() map[string]bool {
	roots := map[string]bool{p.pkgPath(): true}
	for _, impl := range p.seam.Impls {
		if obj := impl.Named.Obj(); obj.Pkg() != nil {
			roots[obj.Pkg().Path()] = true
		}
	}
	used := map[string]bool{}
	for _, pkg := range p.prog.Packages {
		if !roots[pkg.PkgPath] || pkg.TypesInfo == nil {
			continue
		}
		for id, obj := range pkg.TypesInfo.Uses {
			if obj.Pkg() == nil || obj.Pkg().Path() == pkg.PkgPath || used[obj.Pkg().Path()] {
				continue
			}
			if !strings.HasSuffix(p.prog.Fset.Position(id.Pos()).Filename, "_test.go") {
				used[obj.Pkg().Path()] = true
			}
		}
	}
	return used
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

// generatedByOther reports whether another tool generated the file at path.
func (p *planner) generatedByOther(path string) bool {
	src, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	generated, ours := generatedBy(src)
	return generated && !ours
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
	if p.plan.TidyNeeded && !p.plan.Revert && !p.plan.Refused() {
		done := p.opts.phase("running 'go mod tidy' on a copy, to show what it will change")
		p.tidyPreview(p.ctx, changes)
		done()
	}

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
	byPath := map[string]FileChange{}
	for _, c := range changes {
		byPath[c.Path] = c
	}
	for _, d := range dirty {
		head, inHead := headVersion(p.ctx, p.prog.Root, d)
		if harmlessDirt(byPath[d], head, inHead) || (!inHead && p.asCreated[d]) {
			continue // meshsplit's own uncommitted edits: nothing of the user's is lost
		}
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
