package rewrite

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"

	"github.com/dave/dst"
	"github.com/dave/dst/decorator"

	"github.com/meshsplit/meshsplit/rewrite/gen"
)

// A dstFile is one Go source file decorated with github.com/dave/dst, so
// that it can be edited as a syntax tree and printed back with every comment
// and blank line of the untouched parts where they were.
type dstFile struct {
	path string // absolute
	src  []byte
	fset *token.FileSet
	dec  *decorator.Decorator
	ast  *ast.File
	file *dst.File
}

// parseDST decorates src. It fails when printing the file back unchanged
// would not reproduce src byte for byte (a file gofmt has not formatted):
// rewriting it would then change lines the plan does not mean to touch.
func parseDST(path string, src []byte) (*dstFile, error) {
	fset := token.NewFileSet()
	dec := decorator.NewDecorator(fset)
	f, err := dec.ParseFile(path, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	df := &dstFile{path: path, src: src, fset: fset, dec: dec, ast: dec.Ast.Nodes[f].(*ast.File), file: f}
	out, err := df.print()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(out, src) {
		return nil, fmt.Errorf("%s is not gofmt-formatted: run 'gofmt -w %s' first, so that the rewrite changes only the lines it means to", path, path)
	}
	return df, nil
}

// print returns the file's current source.
func (df *dstFile) print() ([]byte, error) {
	var buf bytes.Buffer
	if err := decorator.NewRestorer().Fprint(&buf, df.file); err != nil {
		return nil, fmt.Errorf("printing %s: %w", df.path, err)
	}
	return buf.Bytes(), nil
}

// funcDecl returns the package-level function called name, or nil.
func (df *dstFile) funcDecl(name string) *dst.FuncDecl {
	for _, d := range df.file.Decls {
		if fd, ok := d.(*dst.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == name {
			return fd
		}
	}
	return nil
}

// switchOf returns the wrapper that addSwitch made around the function
// called local, or nil when local is not such an original.
func (df *dstFile) switchOf(local string) *dst.FuncDecl {
	for _, d := range df.file.Decls {
		if fd, ok := d.(*dst.FuncDecl); ok && fd.Recv == nil && localName(fd.Name.Name) == local && isSwitch(fd, local) {
			return fd
		}
	}
	return nil
}

// exprAt returns the outermost expression spanning exactly the byte offsets
// [start, end) of the source, with the syntax node that holds it, or nils.
func (df *dstFile) exprAt(start, end int) dst.Expr {
	var found ast.Expr
	ast.Inspect(df.ast, func(n ast.Node) bool {
		if found != nil || n == nil {
			return false
		}
		s, e := df.fset.Position(n.Pos()).Offset, df.fset.Position(n.End()).Offset
		if s > start || e < end {
			return false // does not contain the range
		}
		if x, ok := n.(ast.Expr); ok && s == start && e == end {
			found = x
			return false
		}
		return true
	})
	if found == nil {
		return nil
	}
	x, _ := df.dec.Dst.Nodes[found].(dst.Expr)
	return x
}

// importName returns the name under which the file imports path ("" when
// it does not), given the package's declared name.
func (df *dstFile) importName(path, declared string) string {
	for _, imp := range df.file.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil || p != path {
			continue
		}
		if imp.Name != nil {
			return imp.Name.Name
		}
		return declared
	}
	return ""
}

// addImport adds an import of path to the file, after the last import of
// the group holding imports with a dot in their first path element (the
// module's own and third-party ones), or in a new group after the standard
// library's.
func (df *dstFile) addImport(path string) {
	spec := &dst.ImportSpec{Path: &dst.BasicLit{Kind: token.STRING, Value: strconv.Quote(path)}}
	var decl *dst.GenDecl
	for _, d := range df.file.Decls {
		if gd, ok := d.(*dst.GenDecl); ok && gd.Tok == token.IMPORT {
			decl = gd
			break
		}
	}
	if decl == nil {
		decl = &dst.GenDecl{Tok: token.IMPORT, Specs: []dst.Spec{spec}}
		decl.Decs.Before = dst.EmptyLine
		decl.Decs.After = dst.EmptyLine
		df.file.Decls = append([]dst.Decl{decl}, df.file.Decls...)
		df.file.Imports = append(df.file.Imports, spec)
		return
	}
	decl.Lparen, decl.Rparen = true, true
	// Find the insertion point: sorted within the last non-standard group.
	at := len(decl.Specs)
	groupStart, lastNonStd := 0, -1
	for i, s := range decl.Specs {
		is := s.(*dst.ImportSpec)
		if i > 0 && is.Decs.Before == dst.EmptyLine {
			groupStart = i
		}
		p, _ := strconv.Unquote(is.Path.Value)
		if !gen.IsStd(p) {
			lastNonStd = groupStart
		}
	}
	if lastNonStd >= 0 {
		at = lastNonStd
		for at < len(decl.Specs) {
			is := decl.Specs[at].(*dst.ImportSpec)
			p, _ := strconv.Unquote(is.Path.Value)
			if at > lastNonStd && is.Decs.Before == dst.EmptyLine || p > path {
				break
			}
			at++
		}
		spec.Decs.Before = dst.NewLine
		if at == lastNonStd {
			// New first spec of the group: it takes over the group's spacing.
			first := decl.Specs[at].(*dst.ImportSpec)
			spec.Decs.Before, first.Decs.Before = first.Decs.Before, dst.NewLine
		}
	} else {
		spec.Decs.Before = dst.EmptyLine
		if len(decl.Specs) == 0 {
			spec.Decs.Before = dst.NewLine
		}
	}
	spec.Decs.After = dst.NewLine
	decl.Specs = append(decl.Specs[:at], append([]dst.Spec{spec}, decl.Specs[at:]...)...)
	df.file.Imports = append(df.file.Imports, spec)
}

// removeImport removes the import of path when the file no longer refers
// to the package by name.
func (df *dstFile) removeImport(path, name string) {
	used := false
	dst.Inspect(df.file, func(n dst.Node) bool {
		if sel, ok := n.(*dst.SelectorExpr); ok {
			if id, ok := sel.X.(*dst.Ident); ok && id.Name == name {
				used = true
			}
		}
		return !used
	})
	if used {
		return
	}
	for di, d := range df.file.Decls {
		gd, ok := d.(*dst.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		for i, s := range gd.Specs {
			is := s.(*dst.ImportSpec)
			if p, _ := strconv.Unquote(is.Path.Value); p != path {
				continue
			}
			if i+1 < len(gd.Specs) {
				next := gd.Specs[i+1].(*dst.ImportSpec)
				if is.Decs.Before == dst.EmptyLine || i == 0 {
					next.Decs.Before = is.Decs.Before
				}
			}
			gd.Specs = append(gd.Specs[:i], gd.Specs[i+1:]...)
			if len(gd.Specs) == 0 {
				df.file.Decls = append(df.file.Decls[:di], df.file.Decls[di+1:]...)
			}
			break
		}
	}
	for i, is := range df.file.Imports {
		if p, _ := strconv.Unquote(is.Path.Value); p == path {
			df.file.Imports = append(df.file.Imports[:i], df.file.Imports[i+1:]...)
			break
		}
	}
}
