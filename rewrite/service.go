package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/meshsplit/meshsplit/internal/wiretype"
	"github.com/meshsplit/meshsplit/rewrite/gen"
)

// This file plans the runnable service of an extracted interface:
// cmd/<name>-svc/main.go, generated, and cmd/<name>-svc/deps.go, created
// once for the user to fill in and never overwritten; and the small
// generated file that lets other packages switch a value to the mesh.

// serviceName returns the command name of an interface's service:
// "inventory-svc" for inventory.Service or catalog.Catalog,
// "payments-gateway-svc" for payments.Gateway,
// "translation-web-api-svc" for translation.WebAPI.
func serviceName(pkgName, iface string) string {
	if iface == "Service" || strings.EqualFold(iface, pkgName) {
		return pkgName + "-svc"
	}
	return pkgName + "-" + kebab(iface) + "-svc"
}

// kebab turns a Go identifier into lower-case words joined by '-', keeping
// initialisms whole: "WebAPI" gives "web-api", "HTTPServer" "http-server",
// "OrderV2Store" "order-v2-store", "URLsByHost" "urls-by-host".
func kebab(name string) string {
	rs := []rune(name)
	var b strings.Builder
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1]) && !pluralS(rs, i+1)
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('-')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// pluralS reports whether rs[i] is the 's' of a plural initialism ("IDs",
// "URLsByHost"): an 's' that ends the name or comes before an upper-case rune.
func pluralS(rs []rune, i int) bool {
	return rs[i] == 's' && (i+1 == len(rs) || unicode.IsUpper(rs[i+1]))
}

// serviceDir returns the directory of the interface's service command.
func (p *planner) serviceDir() string {
	return filepath.Join(p.prog.Root, "cmd", serviceName(p.seam.Obj.Pkg().Name(), p.ifaceName()))
}

// switchFileName returns the name of the file that holds Mesh<Iface>.
func switchFileName(iface string) string {
	return strings.TrimSuffix(gen.FileName(iface), ".go") + "_switch.go"
}

// wrapName returns the name of the function conversion sites call.
func wrapName(iface string) string {
	if token.IsExported(iface) {
		return "Mesh" + iface
	}
	return "meshWrap" + strings.ToUpper(iface[:1]) + iface[1:]
}

// switchExportName returns the name of the exported form of mesh<Iface>,
// which constructors outside the interface's package call.
func switchExportName(iface string) string { return "Switch" + iface }

// writeSwitchFile plans the file with Mesh<Iface>, which wrapped conversion
// sites call, and (exported set) Switch<Iface>, which constructors outside
// the interface's package call; or its removal when nothing needs it.
func (p *planner) writeSwitchFile(wrap, exported bool) error {
	path := filepath.Join(p.pkgDir(), switchFileName(p.ifaceName()))
	if !wrap && !exported {
		return p.removeGenerated(path)
	}
	name, fn, sw := p.ifaceName(), wrapName(p.ifaceName()), gen.SwitchName(p.ifaceName())
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\npackage %s\n", gen.Header, p.seam.Obj.Pkg().Name())
	var what []string
	if wrap {
		fmt.Fprintf(&b, "\n// %s returns impl itself while %s runs in process, and the mesh\n", fn, name)
		fmt.Fprintf(&b, "// client of %s when MESHRPC_REMOTE selects it (under MESHRPC_LOOPBACK=1, a\n", name)
		fmt.Fprintf(&b, "// client of impl served on an in-process node). meshsplit extract wraps\n")
		fmt.Fprintf(&b, "// in it the values that become a %s where no constructor builds one.\n", name)
		fmt.Fprintf(&b, "func %s(impl %s) %s {\n", fn, name, name)
		fmt.Fprintf(&b, "\tif remote, ok := %s(func() %s { return impl }); ok {\n\t\treturn remote\n\t}\n\treturn impl\n}\n", sw, name)
		what = append(what, fn+", which the wrapped values call")
	}
	if exported {
		ex := switchExportName(name)
		fmt.Fprintf(&b, "\n// %s is %s for the constructors of %s outside this package:\n", ex, sw, name)
		fmt.Fprintf(&b, "// it returns the mesh client and true when MESHRPC_REMOTE selects %s, and\n// nil and false otherwise.\n", name)
		fmt.Fprintf(&b, "func %s(local func() %s) (%s, bool) { return %s(local) }\n", ex, name, name, sw)
		what = append(what, ex+", which the constructors outside the package call")
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return fmt.Errorf("formatting %s: %w", switchFileName(name), err)
	}
	return p.writeGenerated(path, src, "generated: "+strings.Join(what, "; "))
}

// A svcParam is one parameter of the constructor the service calls.
type svcParam struct {
	Field string // field of svcDeps, or "" for a mesh client
	Type  string // as main.go spells it
	Expr  string // the argument main.go passes
	Name  string // the parameter's name in the constructor
}

// firstCtor returns the constructor the service builds its implementation
// with: the first switched one, by position.
func firstCtor(ctors []switchedCtor) *switchedCtor {
	if len(ctors) == 0 {
		return nil
	}
	return &ctors[0]
}

// writeService plans cmd/<name>-svc/main.go and, when it does not exist
// yet, cmd/<name>-svc/deps.go.
func (p *planner) writeService(ctors []switchedCtor) error {
	if !token.IsExported(p.ifaceName()) {
		p.manual(p.pos(p.seam.Spec.Pos()), "%s is unexported: no service command is generated, since package main cannot name it", p.ifaceName())
		return nil
	}
	dir := p.serviceDir()
	ctor := firstCtor(ctors)
	main, deps, err := p.serviceSource(ctor)
	if err != nil {
		return err
	}
	cmdName := filepath.Base(dir)
	what := fmt.Sprintf("generated: command %s serves %s on the mesh", cmdName, p.ifaceName())
	if ctor != nil {
		what += ", built with " + ctor.Name
	}
	mainPath := filepath.Join(dir, "main.go")
	if old, err := os.ReadFile(mainPath); err == nil && svcDepsDecl(old) != svcDepsDecl(main) {
		if _, err := os.Stat(filepath.Join(dir, "deps.go")); err == nil {
			p.manual(p.plan.Rel(filepath.Join(dir, "deps.go")), "the fields of svcDeps change (see the diff of main.go): update deps to match")
		}
	}
	if err := p.writeGenerated(mainPath, main, what); err != nil {
		return err
	}
	if len(ctors) > 1 {
		var others []string
		for _, c := range ctors[1:] {
			others = append(others, c.Name)
		}
		p.manual(p.plan.Rel(filepath.Join(dir, "main.go")), "%s serves the implementation %s builds; the other constructors (%s) switch to the mesh too but no command serves theirs",
			cmdName, ctor.Name, strings.Join(others, ", "))
	}
	depsPath := filepath.Join(dir, "deps.go")
	switch _, err := os.Stat(depsPath); {
	case errors.Is(err, fs.ErrNotExist):
		p.writes[depsPath] = deps
		p.action("generate", p.plan.Rel(depsPath), "yours: deps builds what %s needs besides mesh services (created once, never overwritten)", cmdName)
		if !bytes.Contains(deps, []byte("return svcDeps{}, nil")) {
			p.manual(p.plan.Rel(depsPath), "fill in deps: %s refuses to start until it does", cmdName)
		}
	case err != nil:
		return fmt.Errorf("%s: %w", p.plan.Rel(depsPath), err)
	}
	return nil
}

// removeService plans removing the service command: main.go, and deps.go
// when it is still as extract created it for the constructors that are
// switched before the revert.
func (p *planner) removeService(ctors []switchedCtor) error {
	dir := p.serviceDir()
	if err := p.removeGenerated(filepath.Join(dir, "main.go")); err != nil {
		return err
	}
	depsPath := filepath.Join(dir, "deps.go")
	old, err := os.ReadFile(depsPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("reading %s: %w", p.plan.Rel(depsPath), err)
	}
	_, deps, err := p.serviceSource(firstCtor(ctors))
	if err != nil {
		return err
	}
	p.removes[depsPath] = true
	if !bytes.Equal(old, deps) {
		// Kept, it would no longer compile: svcDeps lives in main.go. The
		// diff shows the edits that go with it, before -w removes anything.
		p.action("remove", p.plan.Rel(depsPath), "yours, with your edits, but only the generated main.go used it (the diff shows what goes)")
		return nil
	}
	p.asCreated[depsPath] = true
	p.action("remove", p.plan.Rel(depsPath), "still as extract created it")
	return nil
}

// switchedNow returns the constructors of the interface's package that
// carry the switch, as the files are on disk.
func (p *planner) switchedNow() ([]switchedCtor, error) {
	var out []switchedCtor
	for _, c := range p.seam.Ctors {
		path := p.prog.Fset.Position(c.Decl.Pos()).Filename
		if p.skipFile(path) {
			continue
		}
		df, err := p.file(path)
		if err != nil {
			return nil, err
		}
		if df != nil && isSwitch(df.funcDecl(c.Func.Name()), localName(c.Func.Name())) {
			res := c.Func.Signature().Results()
			out = append(out, switchedCtor{Name: c.Func.Name(), Pkg: c.Pkg.Types, Func: c.Func, Params: c.Func.Signature().Params(),
				WithError: res.Len() == 2 && wiretype.IsError(res.At(1).Type())})
		}
	}
	return out, nil
}

// checkDependents refuses a revert while the generated main of another
// service calls this interface through the mesh: it would stop compiling.
func (p *planner) checkDependents() error {
	cmdDir := filepath.Join(p.prog.Root, "cmd")
	entries, err := os.ReadDir(cmdDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("reading %s: %w", p.plan.Rel(cmdDir), err)
	}
	own := p.serviceDir()
	call := ".New" + gen.ClientName(p.ifaceName()) + "("
	for _, e := range entries {
		dir := filepath.Join(cmdDir, e.Name())
		if !e.IsDir() || dir == own {
			continue
		}
		main := filepath.Join(dir, "main.go")
		src, err := os.ReadFile(main)
		if err != nil {
			continue
		}
		if _, ours := generatedBy(src); !ours || !bytes.Contains(src, []byte(strconv.Quote(p.pkgPath()))) || !bytes.Contains(src, []byte(call)) {
			continue
		}
		p.refusal(p.plan.Rel(main), "calls %s through the mesh as a dependency: revert the interface that command serves first", p.seam.Name)
	}
	return nil
}

// mainLocals are the identifiers the generated service main declares,
// which no import may take.
var mainLocals = []string{"main", "run", "deps", "svcDeps", "impl", "node", "ctx", "err", "d", "stop", "shutdown", "cancel"}

// serviceSource returns main.go and the initial deps.go of the service.
func (p *planner) serviceSource(ctor *switchedCtor) (main, deps []byte, err error) {
	imps := gen.NewImports(nil, mainLocals...)
	for _, std := range []string{"context", "fmt", "os", "os/signal", "syscall", "time"} {
		imps.Use(std, path.Base(std))
	}
	rt := imps.Use(RuntimeModule, "meshrt")
	pkg := imps.Qualifier(p.seam.Obj.Pkg())
	iface, desc := pkg+"."+p.ifaceName(), pkg+"."+gen.DescName(p.ifaceName())
	cmdName := filepath.Base(p.serviceDir())

	var params []svcParam
	if ctor != nil {
		fields := newFieldNames()
		tuple := ctor.Params
		for i := range tuple.Len() {
			v := tuple.At(i)
			t := v.Type()
			if ctor.Func.Signature().Variadic() && i == tuple.Len()-1 {
				params = append(params, svcParam{Field: fields.name(v, i), Type: types.TypeString(t, imps.Qualifier), Name: v.Name()})
				params[len(params)-1].Expr = "d." + params[len(params)-1].Field + "..."
				continue
			}
			if n, ok := t.(*types.Named); ok && p.extracted(n) {
				q := imps.Qualifier(n.Obj().Pkg())
				name := n.Obj().Name()
				params = append(params, svcParam{Expr: fmt.Sprintf("%s.New%s(node.Client(&%s.%s))", q, gen.ClientName(name), q, gen.DescName(name)), Name: v.Name()})
				continue
			}
			f := fields.name(v, i)
			params = append(params, svcParam{Field: f, Type: types.TypeString(t, imps.Qualifier), Expr: "d." + f, Name: v.Name()})
		}
	} else {
		params = append(params, svcParam{Field: "Impl", Type: iface, Expr: "d.Impl", Name: "impl"})
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\n", gen.Header)
	doc := fmt.Sprintf("Command %s serves %s on the mesh. ", cmdName, p.seam.Name)
	if ctor != nil {
		doc += fmt.Sprintf("It builds the implementation with %s.%s", ctor.Pkg.Name(), ctor.Name)
	} else {
		doc += "It serves the implementation that deps (in deps.go) builds"
	}
	doc += " and publishes it on the node the environment describes (MESHRPC_LISTEN, MESHRPC_CLUSTER_NODES, MESHRPC_CLUSTER_KEY...)."
	doc += " Dependencies that are mesh services themselves are called through the mesh; the others come from deps, in deps.go, which is yours to edit."
	b.WriteString(commentLines(doc))
	fmt.Fprintf(&b, "package main\n\n%%IMPORTS%%\n")
	fmt.Fprintf(&b, "func main() {\n\tif err := run(); err != nil {\n\t\tfmt.Fprintln(os.Stderr, %q, err)\n\t\tos.Exit(1)\n\t}\n}\n\n", cmdName+":")
	fmt.Fprintf(&b, "// svcDeps holds what the service needs besides mesh services; deps fills it in.\ntype svcDeps struct {\n")
	for _, pr := range params {
		if pr.Field != "" {
			fmt.Fprintf(&b, "\t%s %s\n", pr.Field, pr.Type)
		}
	}
	fmt.Fprintf(&b, "}\n\n")
	fmt.Fprintf(&b, "// run serves %s until SIGINT or SIGTERM.\nfunc run() error {\n", p.ifaceName())
	fmt.Fprintf(&b, "\tif err := %s.CheckEnv(); err != nil {\n\t\treturn err\n\t}\n", rt)
	fmt.Fprintf(&b, "\tif %s.RemoteService(&%s) {\n\t\treturn fmt.Errorf(\"MESHRPC_REMOTE selects %%s, the service this process serves: list only the services it calls\", %s.Name)\n\t}\n", rt, desc, desc)
	fmt.Fprintf(&b, "\tctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)\n\tdefer stop()\n")
	fmt.Fprintf(&b, "\tnode, err := %s.DefaultNode()\n\tif err != nil {\n\t\treturn fmt.Errorf(\"mesh node: %%w\", err)\n\t}\n", rt)
	usesDeps := false
	for _, pr := range params {
		usesDeps = usesDeps || pr.Field != ""
	}
	if usesDeps {
		fmt.Fprintf(&b, "\td, err := deps(ctx)\n\tif err != nil {\n\t\treturn fmt.Errorf(\"deps.go: %%w\", err)\n\t}\n")
	} else {
		fmt.Fprintf(&b, "\tif _, err := deps(ctx); err != nil {\n\t\treturn fmt.Errorf(\"deps.go: %%w\", err)\n\t}\n")
	}
	if ctor != nil {
		var args []string
		for _, pr := range params {
			args = append(args, pr.Expr)
		}
		cq := imps.Qualifier(ctor.Pkg)
		call := fmt.Sprintf("%s.%s(%s)", cq, ctor.Name, strings.Join(args, ", "))
		if ctor.WithError {
			fmt.Fprintf(&b, "\timpl, err := %s\n\tif err != nil {\n\t\treturn fmt.Errorf(\"%s.%s: %%w\", err)\n\t}\n", call, cq, ctor.Name)
		} else {
			fmt.Fprintf(&b, "\timpl := %s\n", call)
		}
	} else {
		fmt.Fprintf(&b, "\timpl := d.Impl\n\tif impl == nil {\n\t\treturn fmt.Errorf(\"deps.go: deps built no %s to serve\")\n\t}\n", iface)
	}
	fmt.Fprintf(&b, "\tif err := node.Publish(&%s, impl); err != nil {\n\t\treturn fmt.Errorf(\"publishing %%s: %%w\", %s.Name, err)\n\t}\n", desc, desc)
	fmt.Fprintf(&b, "\tfmt.Fprintf(os.Stderr, \"%s: serving %%s on %%s\\n\", %s.Name, node.Addr())\n", cmdName, desc)
	fmt.Fprintf(&b, "\t<-ctx.Done()\n\tshutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)\n\tdefer cancel()\n\treturn node.Close(shutdown)\n}\n")
	main, err = format.Source(bytes.Replace(b.Bytes(), []byte("%IMPORTS%"), []byte(imps.Block()), 1))
	if err != nil {
		return nil, nil, fmt.Errorf("formatting the service main of %s: %w", p.seam.Name, err)
	}

	// deps.go: the user's, so no generated header.
	b.Reset()
	fmt.Fprintf(&b, "package main\n\nimport (\n\t\"context\"\n")
	var missing []string
	for _, pr := range params {
		if pr.Field != "" {
			missing = append(missing, fmt.Sprintf("%s (%s)", pr.Field, pr.Type))
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(&b, "\t\"errors\"\n")
	}
	fmt.Fprintf(&b, ")\n\n")
	b.WriteString(commentLines(fmt.Sprintf("deps builds what %s needs besides the mesh services: the fields of svcDeps (see main.go). meshsplit extract created this file once and never overwrites it: it is yours.", cmdName)))
	fmt.Fprintf(&b, "func deps(ctx context.Context) (svcDeps, error) {\n")
	if len(missing) > 0 {
		fmt.Fprintf(&b, "\treturn svcDeps{}, errors.New(%q)\n}\n", "cmd/"+cmdName+"/deps.go does not build "+strings.Join(missing, ", ")+" yet: fill in deps")
	} else {
		fmt.Fprintf(&b, "\treturn svcDeps{}, nil\n}\n")
	}
	deps, err = format.Source(b.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("formatting the deps.go of %s: %w", p.seam.Name, err)
	}
	return main, deps, nil
}

// svcDepsDecl returns the declaration of svcDeps in a service main.
func svcDepsDecl(src []byte) string {
	i := bytes.Index(src, []byte("type svcDeps struct {"))
	if i < 0 {
		return ""
	}
	j := bytes.Index(src[i:], []byte("\n}\n"))
	if j < 0 {
		return string(src[i:])
	}
	return string(src[i : i+j])
}

// commentLines wraps text into // comment lines of at most 76 characters.
func commentLines(text string) string {
	var b strings.Builder
	line := "//"
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > 76 && line != "//" {
			b.WriteString(line + "\n")
			line = "//"
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
	return b.String()
}

// fieldNames names the fields of svcDeps, one per constructor parameter,
// each name used once.
type fieldNames map[string]bool

func newFieldNames() fieldNames { return fieldNames{} }

// name returns the exported field name for the constructor's i-th
// parameter v: its name capitalised ("cfg" gives "Cfg"), or, where the name
// says little (one letter, blank or missing), the name of its type ("n
// notify.Notifier" gives "Notifier", "dbs []*sql.DB" keeps "Dbs").
func (f fieldNames) name(v *types.Var, i int) string {
	word := v.Name()
	if utf8.RuneCountInString(word) <= 1 || word == "_" {
		if tw := typeWord(v.Type()); tw != "" {
			word = tw
		}
	}
	if word == "" || word == "_" {
		word = fmt.Sprintf("P%d", i)
	}
	word = gen.FieldName(word)
	name := word
	for n := 2; f[name]; n++ {
		name = fmt.Sprintf("%s%d", word, n)
	}
	f[name] = true
	return name
}

// typeWord returns a word naming t for a field name: a named type's name,
// through pointers, slices ("s" added), arrays and channels; "" for others.
func typeWord(t types.Type) string {
	switch t := t.(type) {
	case *types.Named:
		return t.Obj().Name()
	case *types.Alias:
		return t.Obj().Name()
	case *types.Pointer:
		return typeWord(t.Elem())
	case *types.Slice:
		if w := typeWord(t.Elem()); w != "" {
			return w + "s"
		}
	case *types.Array:
		if w := typeWord(t.Elem()); w != "" {
			return w + "s"
		}
	case *types.Map:
		if w := typeWord(t.Elem()); w != "" {
			return w + "Map"
		}
	}
	return ""
}

// extracted reports whether n is an exported interface of the module that
// has been extracted (its generated file exists beside it) or is being
// extracted by this plan.
func (p *planner) extracted(n *types.Named) bool {
	obj := n.Obj()
	if !types.IsInterface(n) || !obj.Exported() || obj.Pkg() == nil {
		return false
	}
	if obj == p.seam.Obj {
		return true
	}
	if !strings.HasPrefix(obj.Pkg().Path()+"/", p.prog.Module+"/") {
		return false
	}
	dir := filepath.Dir(p.prog.Fset.Position(obj.Pos()).Filename)
	src, err := os.ReadFile(filepath.Join(dir, gen.FileName(obj.Name())))
	if err != nil {
		return false
	}
	_, ours := generatedBy(src)
	return ours
}
