package verify

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strconv"
	"strings"

	"github.com/meshsplit/meshsplit/analyze"
)

// A diagnoser names the likely cause of a test that passes in process and
// fails remote, from analyze's findings on the seam, the test code and the
// failure output.
type diagnoser struct {
	prog *analyze.Program
	seam *analyze.Seam
	// testErrors are the error values declared at package level in test
	// files, by the import path of the package under test.
	testErrors map[string][]testError
}

// A testError is an error value declared only in test code.
type testError struct {
	name, message, pos string
}

func newDiagnoser(prog *analyze.Program, seam *analyze.Seam) *diagnoser {
	d := &diagnoser{prog: prog, seam: seam, testErrors: map[string][]testError{}}
	for _, pkg := range prog.Packages {
		path := strings.TrimSuffix(pkg.PkgPath, "_test")
		for _, f := range pkg.Syntax {
			if !strings.HasSuffix(prog.Fset.Position(f.Pos()).Filename, "_test.go") {
				continue
			}
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.VAR {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, name := range vs.Names {
						obj := pkg.TypesInfo.Defs[name]
						if obj == nil || !implementsError(obj.Type()) || i >= len(vs.Values) {
							continue
						}
						d.testErrors[path] = append(d.testErrors[path], testError{
							name: name.Name, message: errorMessage(vs.Values[i]), pos: prog.Position(name.Pos()),
						})
					}
				}
			}
		}
	}
	return d
}

// implementsError reports whether t implements error (not only whether it
// is the predeclared error type, as internal/wiretype.IsError).
func implementsError(t types.Type) bool {
	return types.Implements(t, types.Universe.Lookup("error").Type().Underlying().(*types.Interface))
}

// errorMessage returns the message of errors.New("...") or
// fmt.Errorf("...") without verbs, or "".
func errorMessage(x ast.Expr) string {
	call, ok := x.(*ast.CallExpr)
	if !ok || len(call.Args) == 0 {
		return ""
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return ""
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil || strings.Contains(s, "%") {
		return ""
	}
	return s
}

// causes returns the likely causes of r's remote failure, most specific
// first, and the first failure line of its output.
func (d *diagnoser) causes(r Result) []string {
	out := strings.Join(r.Output, "\n")
	var causes []string
	for _, te := range d.testErrors[r.Package] {
		if mentions(out, te.name) || (te.message != "" && strings.Contains(out, te.message)) {
			causes = append(causes, fmt.Sprintf("error identity: %s (%s) is declared only in test code, so the error that comes back over the wire is a copy that is neither == nor errors.Is to it; declare it in the package (extract registers the package's errors) or compare messages", te.name, te.pos))
		}
	}
	timeKeySeen := map[string]bool{} // one time-key cause per method is enough
	for _, f := range d.seam.Findings {
		switch f.Rule.Name {
		case "out-param":
			if f.Method == "" || mentions(out, f.Method) || strings.Contains(out, "pointer") {
				causes = append(causes, fmt.Sprintf("pointer aliasing (%s): %s", d.prog.Position(f.Pos), f.Message))
			}
		case "param-write":
			if f.Method == "" || mentions(out, f.Method) {
				causes = append(causes, fmt.Sprintf("a write through a parameter the caller never sees (%s): %s", d.prog.Position(f.Pos), f.Message))
			}
		case "unexported-field":
			causes = append(causes, fmt.Sprintf("a field the codec cannot carry (%s): %s", d.prog.Position(f.Pos), f.Message))
		case "map-key":
			if strings.Contains(f.Message, "time.Time") && (f.Method == "" || mentions(out, f.Method)) && !timeKeySeen[f.Method] {
				timeKeySeen[f.Method] = true
				causes = append(causes, fmt.Sprintf("a time.Time map key (%s): %s", d.prog.Position(f.Pos), f.Message))
			}
		}
	}
	if i := strings.Index(out, "meshrpc"); i >= 0 {
		causes = append(causes, "the mesh call itself failed: "+firstLineFrom(out[i:]))
	}
	if len(causes) == 0 {
		causes = append(causes, "likely pointer aliasing: the implementation may keep a pointer, slice or map the caller passed and write into it later; remotely it holds a copy, so the caller never sees the writes")
	}
	if line := firstFailure(r.Output); line != "" {
		causes = append(causes, "first failure: "+line)
	}
	return causes
}

// mentions reports whether text contains name as a whole word.
func mentions(text, name string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], name)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || !isIdent(text[j-1])
		after := j+len(name) == len(text) || !isIdent(text[j+len(name)])
		if before && after {
			return true
		}
		i = j + 1
	}
}

func isIdent(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// firstFailure returns the first output line that reports a failure (a
// "file_test.go:12: ..." line), trimmed.
func firstFailure(lines []string) string {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") || t == "" {
			continue
		}
		if strings.Contains(t, "_test.go:") || strings.Contains(t, "panic:") {
			return t
		}
	}
	return ""
}

// firstLineFrom returns s up to its first newline.
func firstLineFrom(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return strings.TrimSpace(s)
}
