package verify

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/meshsplit/meshsplit/analyze"
	"github.com/meshsplit/meshsplit/rewrite/gen"
)

// genFile returns the path of the generated file of seam: beside the
// interface, named by gen.FileName.
func genFile(seam *analyze.Seam) string {
	if len(seam.Pkg.GoFiles) == 0 {
		return ""
	}
	return filepath.Join(filepath.Dir(seam.Pkg.GoFiles[0]), gen.FileName(seam.Obj.Name()))
}

// notExtracted returns "" when the module holds the generated file of
// seam, and otherwise one line saying so and the extract command to run
// (with iface as the user spelled it).
func notExtracted(prog *analyze.Program, seam *analyze.Seam, dir, iface string) string {
	path := genFile(seam)
	if path != "" && isGenerated(path, seam.Obj.Name()+"MeshDesc") {
		return ""
	}
	cflag := ""
	if dir != "." && dir != "" {
		cflag = " -C " + dir
	}
	return fmt.Sprintf("not extracted: %s has no generated %s, so there is nothing to verify; run 'meshsplit extract%s -iface %s -w' first",
		prog.Module, prog.RelFile(path), cflag, iface)
}

// isGenerated reports whether path starts with meshsplit's generated-file
// header and declares desc.
func isGenerated(path, desc string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() || sc.Text() != gen.Header {
		return false
	}
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "var "+desc+" ") {
			return true
		}
	}
	return false
}

// split describes what extract wrote for a seam: the generated file and
// the switched constructors (those whose body calls the generated
// switch), by module-relative file.
type split struct {
	files    map[string]bool
	switched map[*types.Func]bool
}

// splitOf finds what extract wrote for seam.
func splitOf(prog *analyze.Program, seam *analyze.Seam) *split {
	s := &split{files: map[string]bool{}, switched: map[*types.Func]bool{}}
	if path := genFile(seam); path != "" {
		s.files[prog.RelFile(path)] = true
	}
	sw := gen.SwitchName(seam.Obj.Name())
	for _, c := range seam.Ctors {
		if c.Decl == nil || c.Decl.Body == nil {
			continue
		}
		ast.Inspect(c.Decl.Body, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if id, ok := call.Fun.(*ast.Ident); ok && id.Name == sw {
					s.switched[c.Func] = true
					s.files[prog.RelFile(prog.Fset.Position(c.Decl.Pos()).Filename)] = true
				}
			}
			return true
		})
	}
	return s
}

// isTestFile reports whether pos lies in a _test.go file.
func isTestFile(fset *token.FileSet, pos token.Pos) bool {
	return strings.HasSuffix(fset.Position(pos).Filename, "_test.go")
}

// bypasses lists the places in test code that give the tests an
// implementation of the seam without a switched constructor: a concrete
// value (a test double, a struct literal) used as the interface, a
// composite literal of an implementation, a call of a constructor that is
// not switched. At most maxBypasses, then a count.
func (d *diagnoser) bypasses() []string {
	const maxBypasses = 12
	seen := map[string]bool{}
	var out []string
	add := func(pos token.Pos, format string, args ...any) {
		p := d.short(pos)
		line := p + ": " + fmt.Sprintf(format, args...)
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	fset := d.prog.Fset
	for _, c := range d.seam.Conversions {
		if !isTestFile(fset, c.Pos) {
			continue
		}
		what := "a value of " + types.TypeString(c.Concrete, d.qual)
		if c.Impl != nil && isTestFile(fset, c.Impl.Named.Obj().Pos()) {
			what = "a test double " + types.TypeString(c.Concrete, d.qual)
		}
		add(c.Pos, "%s used as %s (%s), not the switched constructor's value", what, d.seam.Obj.Name(), c.Kind)
	}
	impls := map[*types.TypeName]bool{}
	for _, im := range d.seam.Impls {
		impls[im.Named.Obj()] = true
	}
	for _, c := range d.seam.Ctors {
		if d.split.switched[c.Func] {
			continue
		}
		for _, site := range c.Calls {
			if isTestFile(fset, site.Pos) {
				add(site.Pos, "calls %s, which extract did not switch", c.Func.Name())
			}
		}
	}
	for _, pkg := range d.prog.Packages {
		for _, f := range pkg.Syntax {
			if !isTestFile(fset, f.Pos()) {
				continue
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				// A test double declared in test code shows through its
				// conversion to the interface.
				if named, ok := types.Unalias(pkg.TypesInfo.TypeOf(lit)).(*types.Named); ok && impls[named.Obj()] && !isTestFile(fset, named.Obj().Pos()) {
					add(lit.Pos(), "%s{...} builds the implementation directly", types.TypeString(named, d.qual))
				}
				return true
			})
		}
	}
	sort.Strings(out)
	if len(out) > maxBypasses {
		out = append(out[:maxBypasses], fmt.Sprintf("... and %d more", len(out)-maxBypasses))
	}
	return out
}
