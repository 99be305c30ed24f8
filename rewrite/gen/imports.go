package gen

import (
	"go/types"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Imports chooses the local name of every package a generated file
// imports, and writes the import declaration. A name never takes one of
// the names taken (the package scope's, the generated bodies' locals): a
// package whose name is taken, or already used by another import, gets the
// smallest numeric suffix from 2 that is free. rewrite names the imports
// of the service commands it generates with it too.
type Imports struct {
	self   *types.Package    // the file's own package: its names need no qualifier
	avoid  func(string) bool // names an import takes with a "pkg" suffix instead
	taken  nameSet           // taken names and the import names in use
	byPath map[string]string // import path -> local name
	order  []string          // import paths in the order they were first used
}

// NewImports returns the Imports of a file of package self (nil for a new
// package, such as a command's main) in which the names taken are declared.
func NewImports(self *types.Package, taken ...string) *Imports {
	s := &Imports{self: self, taken: nameSet{}, byPath: map[string]string{}}
	for _, n := range taken {
		s.taken[n] = true
	}
	return s
}

// Use returns the local name of the package at path, whose package clause
// says name, choosing one on first use.
func (s *Imports) Use(path, name string) string {
	if got, ok := s.byPath[path]; ok {
		return got
	}
	base := name
	if s.avoid != nil && s.avoid(base) {
		base += "pkg"
	}
	got := s.taken.unique(base)
	s.byPath[path] = got
	s.order = append(s.order, path)
	return got
}

// Qualifier is a types.Qualifier that names other packages by their import
// name in the file, importing them.
func (s *Imports) Qualifier(p *types.Package) string {
	if p == s.self {
		return ""
	}
	return s.Use(p.Path(), p.Name())
}

// Names returns the local names of the imports in use.
func (s *Imports) Names() []string {
	var out []string
	for _, p := range s.order {
		out = append(out, s.byPath[p])
	}
	return out
}

// Block returns the import declaration: the standard library first, then
// the other packages, each sorted by path. A package is named explicitly
// when its import name differs from the last element of its path.
func (s *Imports) Block() string {
	var std, other []string
	for _, p := range s.order {
		if IsStd(p) {
			std = append(std, p)
		} else {
			other = append(other, p)
		}
	}
	sort.Strings(std)
	sort.Strings(other)
	var b strings.Builder
	b.WriteString("import (\n")
	for i, group := range [][]string{std, other} {
		if i > 0 && len(std) > 0 && len(other) > 0 {
			b.WriteString("\n")
		}
		for _, p := range group {
			if name := s.byPath[p]; name != path.Base(p) {
				b.WriteString(name + " ")
			}
			b.WriteString(strconv.Quote(p) + "\n")
		}
	}
	b.WriteString(")\n")
	return b.String()
}

// IsStd reports whether path is a standard library package: its first
// element has no dot.
func IsStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
