package analyze

import (
	"fmt"
	"go/types"
	"sort"

	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/refactor/satisfy"
)

// findAlsoUsedAs fills Impl.AlsoUsedAs: the interfaces, other than the
// seam, that the implementation's values are converted to. It runs
// satisfy.Finder (which re-walks a package's syntax) only on the packages
// that mention a seam or an implementation by name, call a constructor or
// convert a value to a seam, and skips packages with type errors, which
// satisfy does not accept.
func (a *analysis) findAlsoUsedAs() {
	f := &satisfy.Finder{}
	for _, p := range a.prog.Packages {
		if !a.mentions[p] || p.IllTyped {
			continue
		}
		if err := findSafely(f, p); err != nil {
			a.notes = append(a.notes, fmt.Sprintf("package %s: the other interfaces its values are used as are incomplete: refactor/satisfy failed: %v", p.PkgPath, err))
		}
	}
	// The interfaces each concrete type (by key) is converted to.
	usedAs := map[string]map[string]types.Type{}
	for c := range f.Result {
		if types.IsInterface(c.RHS) {
			continue
		}
		n := namedOf(c.RHS)
		if n == nil {
			continue
		}
		key := typeKey(n.Obj())
		con := a.concretes[key]
		if con == nil || len(con.impls) == 0 {
			continue
		}
		if usedAs[key] == nil {
			usedAs[key] = map[string]types.Type{}
		}
		usedAs[key][types.TypeString(c.LHS, nil)] = c.LHS
	}
	for key, con := range a.concretes {
		for _, impl := range con.impls {
			self := types.TypeString(impl.seam.Obj.Type(), nil)
			var names []string
			for name := range usedAs[key] {
				if name != self {
					names = append(names, name)
				}
			}
			sort.Strings(names)
			for _, name := range names {
				impl.AlsoUsedAs = append(impl.AlsoUsedAs, usedAs[key][name])
			}
		}
	}
}

// findSafely runs the finder on one package, turning a panic (satisfy
// panics on input it does not expect) into an error.
func findSafely(f *satisfy.Finder, p *packages.Package) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f.Find(p.TypesInfo, p.Syntax)
	return nil
}
