package analyze

import (
	"fmt"
	"sort"
	"strings"
)

// A LookupError says why Report.Lookup found no single seam.
type LookupError struct {
	// Name is the name looked up.
	Name string
	// Candidates are the seams an ambiguous name matches, by name.
	Candidates []*Seam
	// Nearest is the seam whose name is closest to an unknown name, or nil.
	Nearest *Seam
	// Malformed reports that Name is not of the form pkg.Iface.
	Malformed bool
}

// Error returns one line: what is wrong and what to write instead.
func (e *LookupError) Error() string {
	switch {
	case e.Malformed:
		return fmt.Sprintf("%q is not of the form pkg.Iface (pkg: an import path, a package name or a path suffix)", e.Name)
	case len(e.Candidates) > 0:
		var names []string
		for _, s := range e.Candidates {
			names = append(names, s.Name)
		}
		return fmt.Sprintf("%s is ambiguous: it matches %s; write the import path", e.Name, strings.Join(names, ", "))
	case e.Nearest != nil:
		return fmt.Sprintf("no interface %s in the module; did you mean %s?", e.Name, e.Nearest.Name)
	}
	return fmt.Sprintf("no interface %s in the module (it has no interfaces)", e.Name)
}

// Lookup resolves "pkg.Iface" to a seam, where pkg is the import path of
// the interface's package, its package name, or a suffix of its path made
// of whole elements ("shop/inventory"). An exact import path wins; an
// ambiguous or unknown name returns a *LookupError listing the candidates
// or the nearest seam.
func (r *Report) Lookup(name string) (*Seam, error) {
	dot := strings.LastIndexByte(name, '.')
	if dot <= 0 || dot == len(name)-1 || strings.HasSuffix(name[:dot], "/") {
		return nil, &LookupError{Name: name, Malformed: true}
	}
	if s := r.byName[name]; s != nil {
		return s, nil
	}
	pkg, iface := name[:dot], name[dot+1:]
	var cands []*Seam
	for _, s := range r.Seams {
		if s.Obj.Name() != iface {
			continue
		}
		path := s.Obj.Pkg().Path()
		if s.Obj.Pkg().Name() == pkg || strings.HasSuffix(path, "/"+pkg) || path == pkg {
			cands = append(cands, s)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].Name < cands[j].Name })
	switch len(cands) {
	case 1:
		return cands[0], nil
	case 0:
		return nil, &LookupError{Name: name, Nearest: r.nearest(name)}
	}
	return nil, &LookupError{Name: name, Candidates: cands}
}

// nearest returns the seam whose short ("pkgname.Iface") or full name is
// closest to name by edit distance, or nil when nothing is reasonably close.
func (r *Report) nearest(name string) *Seam {
	var best *Seam
	bestD := -1
	for _, s := range r.Seams {
		short := s.Obj.Pkg().Name() + "." + s.Obj.Name()
		d := min(editDistance(strings.ToLower(name), strings.ToLower(short)), editDistance(strings.ToLower(name), strings.ToLower(s.Name)))
		if bestD < 0 || d < bestD || (d == bestD && s.Name < best.Name) {
			best, bestD = s, d
		}
	}
	if best == nil || bestD > max(3, len(name)/2) {
		return nil
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
