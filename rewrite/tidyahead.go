package rewrite

import (
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/meshsplit/meshsplit/analyze"
	"github.com/meshsplit/meshsplit/rewrite/gen"
)

// This file runs the plan's 'go mod tidy' preview (tidyPreview) while the
// module loads instead of after the plan is made: the go command takes
// 50-100 ms for it, which the plan would otherwise wait for at its end.
//
// What 'go mod tidy' makes of go.mod depends on go.mod, go.sum, the
// environment and the set of packages the module's files import (under
// every build constraint but "ignore"), not on which file imports what or
// on anything else in the files. An extraction adds to go.mod the
// requirements requireRuntime and requireOTel add, and to the files
// imports of the runtime (and runtime/otelmesh), of the standard library
// and of packages the module already imports. So the preview is run ahead
// on that go.mod, with one probe file in a new directory that imports the
// runtime (and otelmesh), and its result is used only when the plan turns
// out as predicted (tidyAhead.result): the same go.mod, no import outside
// the module and the standard library that the module does not import
// already besides the probe's, each of the probe's imported, and no such
// import dropped. Otherwise the preview runs as before, after the plan.

// tidyAhead is a 'go mod tidy' preview started during the load.
type tidyAhead struct {
	gomod   []byte          // the go.mod predicted and tidied
	imports map[string]bool // what the probe imports
	cancel  context.CancelFunc
	done    chan struct{}

	before, after *modfile.File
	err           error
}

// startTidyAhead starts the preview on the go.mod an extraction of the
// module at root is predicted to plan, from its go.mod as it is (gomod);
// nil when that go.mod gains no requirement (the plan then needs no
// preview) or cannot be made.
func startTidyAhead(ctx context.Context, root string, gomod []byte, env []string) *tidyAhead {
	path := filepath.Join(root, "go.mod")
	predicted, changed, err := requireRuntime(path, gomod)
	if err != nil {
		return nil
	}
	imports := map[string]bool{RuntimeModule: true}
	if usesOTel(gomod) {
		out, added, _, _, err := requireOTel(path, predicted)
		if err != nil {
			return nil
		}
		predicted, changed = out, changed || added
		imports[gen.OTelPath] = true
	}
	if !changed {
		return nil
	}
	var probe strings.Builder
	probe.WriteString("package meshsplittidyprobe\n\nimport (\n")
	for _, imp := range slices.Sorted(maps.Keys(imports)) {
		fmt.Fprintf(&probe, "\t_ %s\n", strconv.Quote(imp))
	}
	probe.WriteString(")\n")
	// A directory no module has: the overlay adds it, nothing is written.
	dir := filepath.Join(root, fmt.Sprintf("meshsplit-tidy-probe-%d", os.Getpid()))
	overlay := map[string][]byte{filepath.Join(dir, "probe.go"): []byte(probe.String())}
	ctx, cancel := context.WithCancel(ctx)
	t := &tidyAhead{gomod: predicted, imports: imports, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		t.before, t.after, t.err = tidyRun(ctx, root, predicted, overlay, env, true)
	}()
	return t
}

// stop ends the preview if it still runs and waits for it: its go command
// is gone and its temporary files removed when stop returns.
func (t *tidyAhead) stop() {
	if t == nil {
		return
	}
	t.cancel()
	<-t.done
}

// result returns the preview's go.mod before and after 'go mod tidy' when
// it holds for the plan's changes (see the file comment), waiting for it;
// ok is false when the preview must run after the plan instead (a failed
// preview included: that run reports the go command's own error).
func (t *tidyAhead) result(prog *analyze.Program, changes []FileChange) (before, after *modfile.File, ok bool) {
	if t == nil {
		return nil, nil, false
	}
	gomod, _, err := planned(prog.Root, changes)
	if err != nil || string(gomod) != string(t.gomod) || !t.coversImports(prog, changes) {
		t.stop() // the preview runs again, after the plan
		return nil, nil, false
	}
	<-t.done
	if t.err != nil {
		return nil, nil, false
	}
	return t.before, t.after, true
}

// coversImports reports whether the imports of the plan's Go files add to
// the module's exactly the probe's, outside the module and the standard
// library, and drop none.
func (t *tidyAhead) coversImports(prog *analyze.Program, changes []FileChange) bool {
	f, err := modfile.ParseLax("go.mod", t.gomod, nil)
	if err != nil {
		return false
	}
	// The module's imports, as the load found them.
	has := map[string]bool{}
	for _, p := range prog.Packages {
		for path := range p.Imports {
			has[path] = true
		}
	}
	// external reports whether a path is another module's: neither the
	// module's nor the standard library's (whose paths have no dot in
	// their first element).
	external := func(path string) bool {
		for _, r := range f.Require {
			if path == r.Mod.Path || strings.HasPrefix(path, r.Mod.Path+"/") {
				return true // even inside the module's tree
			}
		}
		for _, r := range f.Replace {
			if path == r.Old.Path || strings.HasPrefix(path, r.Old.Path+"/") {
				return true
			}
		}
		if path == prog.Module || strings.HasPrefix(path, prog.Module+"/") {
			return false
		}
		first, _, _ := strings.Cut(path, "/")
		return strings.Contains(first, ".")
	}
	added := map[string]bool{}
	fset := token.NewFileSet()
	for _, c := range changes {
		if !strings.HasSuffix(c.Path, ".go") {
			continue
		}
		newImports, ok := importsOf(fset, c.Path, c.New)
		if !ok {
			return false
		}
		oldImports, ok := importsOf(fset, c.Path, c.Old)
		if !ok {
			return false
		}
		for path := range newImports {
			if t.imports[path] || (external(path) && !has[path]) {
				added[path] = true
			}
		}
		for path := range oldImports {
			if external(path) && !newImports[path] {
				return false // another file may not keep importing it
			}
		}
	}
	return maps.Equal(added, t.imports)
}

// importsOf returns the paths a Go file's source imports; an empty set for
// nil source, and ok false when the imports do not parse.
func importsOf(fset *token.FileSet, name string, src []byte) (map[string]bool, bool) {
	out := map[string]bool{}
	if src == nil {
		return out, true
	}
	f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
	if err != nil {
		return nil, false
	}
	for _, spec := range f.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			return nil, false
		}
		out[path] = true
	}
	return out, true
}
