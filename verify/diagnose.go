package verify

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"

	"github.com/meshsplit/meshsplit/analyze"
	"golang.org/x/tools/go/packages"
)

// A diagnoser names the cause of a test whose runs differ, from the test's
// own code (what it compares, with what), analyze's findings on the seam
// and the failure output.
type diagnoser struct {
	prog  *analyze.Program
	seam  *analyze.Seam
	split *split
	// tests holds the test functions by package path (without _test) and
	// name.
	tests map[key]testFunc
	// testOnlyPkgs are the module's packages that only _test.go files
	// import.
	testOnlyPkgs map[string]bool
	methods      map[string]*analyze.Method
	// anyFields are the interface-typed fields of the module's error
	// types (which cross the wire as JSON), with where they are declared.
	anyFields map[*types.Var]string
}

// A testFunc is a Test function's declaration and the package holding it.
type testFunc struct {
	decl *ast.FuncDecl
	pkg  *packages.Package
}

func newDiagnoser(prog *analyze.Program, seam *analyze.Seam) *diagnoser {
	d := &diagnoser{prog: prog, seam: seam, split: splitOf(prog, seam), tests: map[key]testFunc{}, testOnlyPkgs: map[string]bool{}, methods: map[string]*analyze.Method{}, anyFields: map[*types.Var]string{}}
	for _, m := range seam.Methods {
		d.methods[m.Name] = m
	}
	testImports, prodImports := map[string]bool{}, map[string]bool{}
	for _, pkg := range prog.Packages {
		path := strings.TrimSuffix(pkg.PkgPath, "_test")
		for _, f := range pkg.Syntax {
			test := isTestFile(prog.Fset, f.Pos())
			for _, imp := range f.Imports {
				p := strings.Trim(imp.Path.Value, `"`)
				if test {
					testImports[p] = true
				} else {
					prodImports[p] = true
				}
			}
			if !test {
				continue
			}
			for _, decl := range f.Decls {
				if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Test") {
					d.tests[key{path, fd.Name.Name}] = testFunc{fd, pkg}
				}
			}
		}
	}
	d.findAnyFields()
	for p := range testImports {
		if !prodImports[p] && (p == prog.Module || strings.HasPrefix(p, prog.Module+"/")) {
			d.testOnlyPkgs[p] = true
		}
	}
	return d
}

// implementsError reports whether t implements error (not only whether it
// is the predeclared error type, as internal/wiretype.IsError).
func implementsError(t types.Type) bool {
	return types.Implements(t, types.Universe.Lookup("error").Type().Underlying().(*types.Interface))
}

// short returns pos as "file:line", the file relative to the module root.
func (d *diagnoser) short(pos token.Pos) string {
	p := d.prog.Fset.Position(pos)
	return fmt.Sprintf("%s:%d", d.prog.RelFile(p.Filename), p.Line)
}

// qual spells types of the seam's package unqualified, others by package
// name.
func (d *diagnoser) qual(p *types.Package) string {
	if p == nil || p == d.seam.Obj.Pkg() {
		return ""
	}
	return p.Name()
}

// diagnose fills r's Causes, or Explained when the difference comes only
// from an error value of test code compared by identity.
func (d *diagnoser) diagnose(r *Result) {
	first := firstFailure(r.Output)
	if r.Local != "pass" || r.Remote != "fail" {
		switch {
		case r.Remote == "" && r.Test != "":
			r.Causes = []string{"did not run remotely: the remote test binary stopped before it (see the tests that fail remote above it)"}
		case r.Local == "fail" && r.Remote == "pass":
			r.Causes = []string{"fails in process and passes remote: a flaky test, or one that depends on timing"}
		}
		return
	}
	out := strings.Join(r.Output, "\n")
	fails := failureLines(r.Output)
	var causes []string
	tf, ok := d.tests[key{r.Package, topName(r.Test)}]
	if ok {
		ids := d.identityComparisons(tf)
		if expl := explainIdentity(ids, fails); expl != "" {
			r.Explained = expl
			return
		}
		for _, c := range ids {
			if c.covers(fails) || mentions(out, c.name) {
				causes = append(causes, "error identity: "+c.String())
			}
		}
		causes = append(causes, d.timeComparisons(tf)...)
		causes = append(causes, d.keptPointers(tf, fails)...)
		causes = append(causes, d.anyFieldUses(tf)...)
	}
	called := map[string]bool{}
	if ok {
		called = d.methodsCalled(tf)
	}
	timeKeySeen := map[string]bool{}
	for _, f := range d.seam.Findings {
		relevant := f.Method == "" || mentions(out, f.Method) || called[f.Method]
		switch f.Rule.Name {
		case "param-write":
			if relevant {
				causes = append(causes, fmt.Sprintf("a write through a parameter the caller never sees (%s): %s", d.prog.Position(f.Pos), f.Message))
			}
		case "unexported-field":
			if relevant {
				causes = append(causes, fmt.Sprintf("a field the codec cannot carry (%s): %s", d.prog.Position(f.Pos), f.Message))
			}
		case "map-key":
			if strings.Contains(f.Message, "time.Time") && relevant && !timeKeySeen[f.Method] {
				timeKeySeen[f.Method] = true
				causes = append(causes, fmt.Sprintf("a time.Time map key (%s): %s", d.prog.Position(f.Pos), f.Message))
			}
		}
	}
	if i := strings.Index(out, "meshrpc"); i >= 0 {
		causes = append(causes, "the mesh call itself failed: "+firstLineFrom(out[i:]))
	}
	if len(causes) == 0 {
		causes = append(causes, "cause not identified: nothing in the test's code or analyze's findings explains it; run verify -v for the test's remote output")
	}
	if first != "" {
		causes = append(causes, "first failure: "+first)
	}
	r.Causes = causes
}

// findAnyFields records the fields of interface type (other than error)
// of the module's error types: extract registers those types, and they
// cross the wire as JSON, so such a field comes back with another dynamic
// type (a number as float64, a struct as map[string]any).
func (d *diagnoser) findAnyFields() {
	for _, pkg := range d.prog.Packages {
		scope := pkg.Types.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok || isTestFile(d.prog.Fset, tn.Pos()) {
				continue
			}
			st, ok := tn.Type().Underlying().(*types.Struct)
			if !ok || !(implementsError(tn.Type()) || implementsError(types.NewPointer(tn.Type()))) {
				continue
			}
			for i := range st.NumFields() {
				f := st.Field(i)
				if types.IsInterface(f.Type()) && !implementsError(f.Type()) {
					d.anyFields[f] = fmt.Sprintf("%s.%s (%s)", tn.Name(), f.Name(), d.short(f.Pos()))
				}
			}
		}
	}
}

// anyFieldUses names the uses, in the test, of an interface-typed field of
// an error type.
func (d *diagnoser) anyFieldUses(tf testFunc) []string {
	var out []string
	seen := map[string]bool{}
	ast.Inspect(tf.decl, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		s := tf.pkg.TypesInfo.Selections[sel]
		if s == nil || s.Kind() != types.FieldVal {
			return true
		}
		f, _ := s.Obj().(*types.Var)
		if decl, ok := d.anyFields[f]; ok && !seen[decl] {
			seen[decl] = true
			out = append(out, fmt.Sprintf("an any value whose dynamic type changed: %s is an interface field of an error type, which crosses the wire as JSON, so its value comes back as float64, string, bool, []any or map[string]any whatever it was; the test reads it at %s; give the field a concrete type", decl, d.short(sel.Pos())))
		}
		return true
	})
	return out
}

// topName returns the top-level test of a subtest name.
func topName(test string) string {
	if i := strings.IndexByte(test, '/'); i >= 0 {
		return test[:i]
	}
	return test
}

// A failLoc is a "file_test.go:12: ..." line of a test's output.
type failLoc struct {
	file string // base name
	line int
}

// failureLines returns the file:line of every failure line of output.
func failureLines(output []string) []failLoc {
	var out []failLoc
	for _, l := range output {
		t := strings.TrimSpace(l)
		i := strings.Index(t, ".go:")
		if i < 0 || strings.ContainsAny(t[:i], " \t") {
			continue
		}
		rest := t[i+4:]
		j := strings.IndexByte(rest, ':')
		if j <= 0 {
			continue
		}
		n := 0
		okNum := true
		for _, c := range rest[:j] {
			if c < '0' || c > '9' {
				okNum = false
				break
			}
			n = n*10 + int(c-'0')
		}
		if okNum {
			out = append(out, failLoc{filepath.Base(t[:i+3]), n})
		}
	}
	return out
}

// An identityCmp is a comparison by identity (==, !=, errors.Is and
// testify's ErrorIs) of an error value that exists only in test code.
type identityCmp struct {
	name     string // the value as the test spells it
	decl     string // where it is declared, file:line
	where    string // the comparison, file:line
	file     string // the comparison's file base name
	line     int
	testPkg  bool // declared in a package only test code imports
	pkgLabel string
}

// String says what the comparison is and why it fails remotely.
func (c identityCmp) String() string {
	where := "in test code"
	if c.testPkg {
		where = "in " + c.pkgLabel + ", a package only test code imports,"
	}
	return fmt.Sprintf("%s (%s) is declared %s and compared by identity at %s; the error that comes back over the wire is a copy, neither == nor errors.Is to it; in production that value would not exist on the far side", c.name, c.decl, where, c.where)
}

// covers reports whether some failure line is the comparison's or one of
// the three after it (the t.Fatal of an if).
func (c identityCmp) covers(fails []failLoc) bool {
	for _, f := range fails {
		if c.matches(f) {
			return true
		}
	}
	return false
}

func (c identityCmp) matches(f failLoc) bool {
	return f.file == c.file && f.line >= c.line && f.line <= c.line+3
}

// explainIdentity returns the explanation of a failure that comes only
// from identity comparisons: there is at least one failure line and every
// one of them is at such a comparison. Otherwise "".
func explainIdentity(ids []identityCmp, fails []failLoc) string {
	if len(ids) == 0 || len(fails) == 0 {
		return ""
	}
	var used []string
	seen := map[string]bool{}
	for _, f := range fails {
		var hit *identityCmp
		for i := range ids {
			if ids[i].matches(f) {
				hit = &ids[i]
				break
			}
		}
		if hit == nil {
			return ""
		}
		if s := hit.String(); !seen[s] {
			seen[s] = true
			used = append(used, s)
		}
	}
	return strings.Join(used, "; ")
}

// identityComparisons finds the identity comparisons of test-only error
// values in the test function (closures and subtests included).
func (d *diagnoser) identityComparisons(tf testFunc) []identityCmp {
	info := tf.pkg.TypesInfo
	var out []identityCmp
	check := func(at token.Pos, operands ...ast.Expr) {
		for _, x := range operands {
			obj := refVar(info, x)
			if obj == nil || !implementsError(obj.Type()) || obj.Parent() != obj.Pkg().Scope() {
				continue
			}
			inTest := isTestFile(d.prog.Fset, obj.Pos())
			testPkg := d.testOnlyPkgs[obj.Pkg().Path()]
			if !inTest && !testPkg {
				continue
			}
			p := d.prog.Fset.Position(at)
			out = append(out, identityCmp{
				name: exprString(x), decl: d.short(obj.Pos()), where: d.short(at),
				file: filepath.Base(p.Filename), line: p.Line, testPkg: testPkg && !inTest, pkgLabel: obj.Pkg().Path(),
			})
		}
	}
	ast.Inspect(tf.decl, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if n.Op == token.EQL || n.Op == token.NEQ {
				check(n.Pos(), n.X, n.Y)
			}
		case *ast.CallExpr:
			switch calleeName(n) {
			case "Is", "ErrorIs", "NotErrorIs":
				check(n.Pos(), n.Args...)
			}
		case *ast.SwitchStmt:
			if n.Tag != nil {
				for _, s := range n.Body.List {
					if cc, ok := s.(*ast.CaseClause); ok {
						check(cc.Pos(), cc.List...)
					}
				}
			}
		}
		return true
	})
	return out
}

// timeComparisons names the comparisons by == or != (or reflect.DeepEqual
// and testify's Equal, which compare the same way) of time.Time values in
// the test, when the test's package gives its times a location other than
// UTC or Local: the decoded time carries an equal but distinct
// *time.Location, so == is false where Equal is true.
func (d *diagnoser) timeComparisons(tf testFunc) []string {
	zone := d.zoneSite(tf)
	if zone == "" {
		return nil
	}
	info := tf.pkg.TypesInfo
	var out []string
	seen := map[string]bool{}
	add := func(at token.Pos, how string) {
		w := d.short(at)
		if !seen[w] {
			seen[w] = true
			out = append(out, fmt.Sprintf("time.Time compared with %s at %s after crossing: its location is not UTC or Local (%s), and the decoded time carries an equal but distinct *time.Location, so == is false; compare with Equal", how, w, zone))
		}
	}
	ast.Inspect(tf.decl, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if (n.Op == token.EQL || n.Op == token.NEQ) && (containsTime(info.TypeOf(n.X), 0) || containsTime(info.TypeOf(n.Y), 0)) {
				add(n.Pos(), n.Op.String())
			}
		case *ast.CallExpr:
			switch name := calleeName(n); name {
			case "DeepEqual", "Equal", "EqualValues", "NotEqual":
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && isTime(info.TypeOf(sel.X)) {
					return true // t.Equal(u): the right way
				}
				for _, a := range n.Args {
					if containsTime(info.TypeOf(a), 0) {
						add(n.Pos(), name)
						break
					}
				}
			}
		}
		return true
	})
	return out
}

// zoneSite returns where the test, its package's test files or the
// seam's package make a location other than UTC and Local
// (time.FixedZone, time.LoadLocation), as "time.FixedZone at file:line",
// or "".
func (d *diagnoser) zoneSite(tf testFunc) string {
	find := func(n ast.Node, info *types.Info) string {
		site := ""
		ast.Inspect(n, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || site != "" {
				return site == ""
			}
			if fn, ok := calleeObj(info, call).(*types.Func); ok && fn.Pkg() != nil && fn.Pkg().Path() == "time" {
				switch fn.Name() {
				case "FixedZone", "LoadLocation", "LoadLocationFromTZData":
					site = fmt.Sprintf("time.%s at %s", fn.Name(), d.short(call.Pos()))
				}
			}
			return true
		})
		return site
	}
	if s := find(tf.decl, tf.pkg.TypesInfo); s != "" {
		return s
	}
	for _, pkg := range []*packages.Package{tf.pkg, d.seam.Pkg} {
		for _, f := range pkg.Syntax {
			if s := find(f, pkg.TypesInfo); s != "" {
				return s
			}
		}
	}
	return ""
}

// keptPointers names the pointers the test passes to a method of the
// seam and reads again at a failure line: the implementation keeps a
// copy and writes through it after the call returned, which the caller
// never sees (the generated client copies a pointee back only when the
// call returns). A parameter with a param-write finding is left to that
// finding.
func (d *diagnoser) keptPointers(tf testFunc, fails []failLoc) []string {
	info := tf.pkg.TypesInfo
	written := map[string]bool{}
	for _, f := range d.seam.Findings {
		if f.Rule.Name == "param-write" {
			written[f.Method] = true
		}
	}
	var out []string
	ast.Inspect(tf.decl, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		m := d.seamMethod(info, call)
		if m == nil || written[m.Name] {
			return true
		}
		for _, a := range call.Args {
			id, spell := pointerArg(info, a)
			if id == nil {
				continue
			}
			obj := info.Uses[id]
			if obj == nil || !d.readAtFailure(tf, obj, fails) {
				continue
			}
			out = append(out, fmt.Sprintf("a write through a pointer the caller keeps: %s passes %s (%s) to %s; remotely the implementation keeps a pointer to its own copy, so what it writes through it after the call returned never reaches %s (only writes made during the call are copied back)",
				d.short(call.Pos()), spell, types.TypeString(info.TypeOf(a), d.qual), m.Name, id.Name))
		}
		return true
	})
	return out
}

// pointerArg returns the variable behind a pointer argument (p, or &v)
// and the argument as written, or nil.
func pointerArg(info *types.Info, a ast.Expr) (*ast.Ident, string) {
	a = ast.Unparen(a)
	if u, ok := a.(*ast.UnaryExpr); ok && u.Op == token.AND {
		if id, ok := ast.Unparen(u.X).(*ast.Ident); ok {
			return id, "&" + id.Name
		}
		return nil, ""
	}
	id, ok := a.(*ast.Ident)
	if !ok {
		return nil, ""
	}
	if _, isPtr := types.Unalias(info.TypeOf(id)).Underlying().(*types.Pointer); !isPtr {
		return nil, ""
	}
	return id, id.Name
}

// readAtFailure reports whether obj is used on a failure line of the test.
func (d *diagnoser) readAtFailure(tf testFunc, obj types.Object, fails []failLoc) bool {
	found := false
	ast.Inspect(tf.decl, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || found || tf.pkg.TypesInfo.Uses[id] != obj {
			return !found
		}
		p := d.prog.Fset.Position(id.Pos())
		for _, f := range fails {
			if f.file == filepath.Base(p.Filename) && f.line == p.Line {
				found = true
			}
		}
		return true
	})
	return found
}

// seamMethod returns the seam's method that call calls through a value of
// the interface (or of one of its implementations), or nil.
func (d *diagnoser) seamMethod(info *types.Info, call *ast.CallExpr) *analyze.Method {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	s := info.Selections[sel]
	if s == nil || s.Kind() != types.MethodVal {
		return nil
	}
	m := d.methods[sel.Sel.Name]
	if m == nil {
		return nil
	}
	recv := s.Recv()
	if types.Identical(recv, d.seam.Obj.Type()) || types.Implements(recv, d.seam.Iface) {
		return m
	}
	return nil
}

// methodsCalled returns the names of the seam's methods the test calls.
func (d *diagnoser) methodsCalled(tf testFunc) map[string]bool {
	out := map[string]bool{}
	ast.Inspect(tf.decl, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if m := d.seamMethod(tf.pkg.TypesInfo, call); m != nil {
				out[m.Name] = true
			}
		}
		return true
	})
	return out
}

// refVar returns the variable an identifier or selector expression refers
// to, or nil.
func refVar(info *types.Info, x ast.Expr) *types.Var {
	var id *ast.Ident
	switch x := ast.Unparen(x).(type) {
	case *ast.Ident:
		id = x
	case *ast.SelectorExpr:
		id = x.Sel
	default:
		return nil
	}
	v, _ := info.Uses[id].(*types.Var)
	return v
}

// calleeName returns the name of the function or method call calls.
func calleeName(call *ast.CallExpr) string {
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// calleeObj returns the object call calls, or nil.
func calleeObj(info *types.Info, call *ast.CallExpr) types.Object {
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		return info.Uses[f]
	case *ast.SelectorExpr:
		return info.Uses[f.Sel]
	}
	return nil
}

// exprString spells a short expression.
func exprString(x ast.Expr) string {
	switch x := ast.Unparen(x).(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprString(x.X) + "." + x.Sel.Name
	}
	return "?"
}

// isTime reports whether t is time.Time.
func isTime(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" && n.Obj().Name() == "Time"
}

// containsTime reports whether values of t hold a time.Time compared by
// == (directly, or in a struct field or array element).
func containsTime(t types.Type, depth int) bool {
	if t == nil || depth > 4 {
		return false
	}
	if isTime(t) {
		return true
	}
	switch u := t.Underlying().(type) {
	case *types.Struct:
		for i := range u.NumFields() {
			if containsTime(u.Field(i).Type(), depth+1) {
				return true
			}
		}
	case *types.Array:
		return containsTime(u.Elem(), depth+1)
	}
	return false
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

// firstFailure returns the first output line that says what failed: a
// "file_test.go:12: message" line or a panic. A testify report, whose
// first line ("file_test.go:12: ") is empty, is summed up from its
// "Error:" line (and the line after it when that one ends with a colon).
func firstFailure(lines []string) string {
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") || t == "" {
			continue
		}
		if strings.HasPrefix(t, "panic:") {
			return t
		}
		if !strings.Contains(t, "_test.go:") {
			continue
		}
		locEnd := strings.Index(t, "_test.go:") + len("_test.go:")
		rest := t[locEnd:]
		j := strings.IndexByte(rest, ':')
		if j < 0 || strings.TrimSpace(rest[j+1:]) != "" {
			return t
		}
		loc := t[:locEnd+j+1]
		for k := i + 1; k < len(lines) && k < i+12; k++ {
			f := strings.TrimSpace(lines[k])
			label, msg, ok := strings.Cut(f, ":")
			if !ok || strings.TrimSpace(label) != "Error" {
				continue
			}
			msg = strings.TrimSpace(msg)
			if strings.HasSuffix(msg, ":") || msg == "" {
				for m := k + 1; m < len(lines) && m <= k+2; m++ {
					if next := strings.Join(strings.Fields(lines[m]), " "); next != "" {
						msg = strings.TrimSpace(msg + " " + next)
					}
				}
			}
			if msg != "" {
				return loc + " " + msg
			}
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
