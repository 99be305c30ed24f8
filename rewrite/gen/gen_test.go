package gen

import (
	"bytes"
	"errors"
	"flag"
	"go/types"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with the current output")

// fixtureDir is the module of edge-case fixtures: one package per case, the
// expected output of every interface beside it, as <iface>_mesh.go.golden,
// or <iface>.refused for an interface Generate must refuse.
const fixtureDir = "testdata/src"

// A genCase is one interface to generate for.
type genCase struct {
	pkg    *packages.Package
	iface  *types.TypeName
	dir    string         // where its expectation is
	errors []types.Object // to register
	// instrument is Input.Instrument.
	instrument bool
}

// name identifies the case in test output: "basic.Store".
func (c genCase) name() string { return c.pkg.Name + "." + c.iface.Name() }

// expectation returns the golden file of the case, and whether it is a
// refusal's.
func (c genCase) expectation() (string, bool) {
	refused := filepath.Join(c.dir, snake(c.iface.Name())+".refused")
	if _, err := os.Stat(refused); err == nil {
		return refused, true
	}
	return filepath.Join(c.dir, FileName(c.iface.Name())+".golden"), false
}

// loadCases loads the module in dir and returns every interface declared
// at the top level of its packages, sorted by package path and name, with
// their expectations beside the package's files.
func loadCases(t *testing.T, dir string) []genCase { return loadCasesIn(t, dir, "") }

// loadCasesIn is loadCases with the expectations under goldenRoot, in the
// packages' directories relative to the module, when goldenRoot is set.
func loadCasesIn(t *testing.T, dir, goldenRoot string) []genCase {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes |
			packages.NeedTypesInfo | packages.NeedImports | packages.NeedModule, // dependencies from export data
		Dir: abs,
		Env: append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off"),
	}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].PkgPath < pkgs[j].PkgPath })
	var cases []genCase
	for _, p := range pkgs {
		for _, e := range p.Errors {
			t.Fatalf("fixture %s: %v", p.PkgPath, e)
		}
		scope := p.Types.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok || !types.IsInterface(tn.Type()) || tn.IsAlias() {
				continue
			}
			c := genCase{pkg: p, iface: tn, dir: filepath.Dir(p.GoFiles[0]), errors: errorsToRegister(p)}
			if goldenRoot != "" {
				rel, err := filepath.Rel(abs, c.dir)
				if err != nil {
					t.Fatal(err)
				}
				c.dir = filepath.Join(goldenRoot, rel)
			}
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		t.Fatalf("no interfaces in %s", dir)
	}
	return cases
}

// errorsToRegister lists what meshsplit extract registers: the errors of
// the package (unexported included), the exported ones of the module's
// packages it imports, directly or not, and the sentinels of the other
// modules' packages these import.
func errorsToRegister(p *packages.Package) []types.Object {
	out := FindErrors(p.Types, true)
	seen := map[*types.Package]bool{p.Types: true}
	visited := []*types.Package{p.Types}
	var visit func(*types.Package)
	visit = func(pkg *types.Package) {
		for _, imp := range pkg.Imports() {
			if seen[imp] || p.Module == nil || !strings.HasPrefix(imp.Path()+"/", p.Module.Path+"/") {
				continue
			}
			seen[imp] = true
			visited = append(visited, imp)
			out = append(out, FindErrors(imp, false)...)
			visit(imp)
		}
	}
	visit(p.Types)
	if p.Module != nil {
		var imports []*types.Package
		for _, pkg := range visited {
			imports = append(imports, pkg.Imports()...)
		}
		out = append(out, ThirdPartySentinels(imports, p.Module.Path)...)
	}
	return out
}

// generate runs Generate on c.
func generate(c genCase) (*File, error) {
	return Generate(Input{Fset: c.pkg.Fset, Pkg: c.pkg.Types, Iface: c.iface, Errors: c.errors, Instrument: c.instrument})
}

// refusalText returns err's text with the fixture's directory removed from
// positions, as refusal golden files hold it.
func refusalText(err error, root string) string {
	return strings.ReplaceAll(err.Error(), root+string(filepath.Separator), "") + "\n"
}

// TestGolden pins the generated file of every fixture interface, or the
// reason it is refused.
func TestGolden(t *testing.T) { checkGolden(t, fixtureDir, loadCases(t, fixtureDir)) }

// TestShopGolden pins the generated file of every interface of the example
// monolith, testdata/shop, under testdata/shop here.
func TestShopGolden(t *testing.T) {
	checkGolden(t, shopDir, loadCasesIn(t, shopDir, "testdata/shop"))
}

// TestInstrumentedGolden pins the file generated with Input.Instrument set
// (a module that requires go.opentelemetry.io/otel), for the basic fixture,
// under testdata/instrumented: the runtime/otelmesh import and the init
// that installs it, and nothing else different.
func TestInstrumentedGolden(t *testing.T) {
	var cases []genCase
	for _, c := range loadCases(t, fixtureDir) {
		if c.pkg.Name == "basic" {
			c.dir, c.instrument = "testdata/instrumented", true
			cases = append(cases, c)
		}
	}
	checkGolden(t, fixtureDir, cases)
	for _, c := range cases {
		plain, err := generate(genCase{pkg: c.pkg, iface: c.iface, errors: c.errors})
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(plain.Source, []byte("otelmesh")) || bytes.Contains(plain.Source, []byte("func init()")) {
			t.Errorf("%s without Instrument imports or installs otelmesh", c.name())
		}
	}
}

// shopDir is the example monolith.
const shopDir = "../../testdata/shop"

// checkGolden compares the output for every case with its expectation, or
// writes it under -update. Positions in refusals are relative to dir.
func checkGolden(t *testing.T, dir string, cases []genCase) {
	root, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name(), func(t *testing.T) {
			golden, wantRefusal := c.expectation()
			f, err := generate(c)
			var got []byte
			switch {
			case err != nil:
				var r *Refusal
				if !errors.As(err, &r) {
					t.Fatalf("not a refusal: %v", err)
				}
				got = []byte(refusalText(err, root))
				if !wantRefusal && !*update {
					t.Fatalf("refused: %v", err)
				}
				golden = filepath.Join(c.dir, snake(c.iface.Name())+".refused")
			case wantRefusal:
				t.Fatalf("generated, but %s expects a refusal", golden)
			default:
				got = f.Source
				if want := filepath.Join(filepath.Dir(c.pkg.GoFiles[0]), FileName(c.iface.Name())); f.Path != want {
					t.Errorf("Path = %s, want %s", f.Path, want)
				}
				if !bytes.HasPrefix(got, []byte(Header+"\n")) {
					t.Errorf("output does not start with %q", Header)
				}
			}
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// TestDeterministic generates every fixture twice, from two loads, and
// expects the same bytes.
func TestDeterministic(t *testing.T) {
	first, second := loadCases(t, fixtureDir), loadCases(t, fixtureDir)
	if len(first) != len(second) {
		t.Fatalf("%d cases, then %d", len(first), len(second))
	}
	for i := range first {
		a, errA := generate(first[i])
		b, errB := generate(second[i])
		if (errA == nil) != (errB == nil) {
			t.Fatalf("%s: errors differ: %v / %v", first[i].name(), errA, errB)
		}
		if errA != nil {
			if errA.Error() != errB.Error() {
				t.Errorf("%s: refusals differ:\n%v\n%v", first[i].name(), errA, errB)
			}
			continue
		}
		if !bytes.Equal(a.Source, b.Source) {
			t.Errorf("%s: two runs differ:\n%s", first[i].name(), lineDiff(string(a.Source), string(b.Source)))
		}
	}
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
			if shown++; shown == 5 {
				break
			}
		}
	}
	return b.String()
}
