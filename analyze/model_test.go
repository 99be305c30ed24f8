package analyze

import (
	"context"
	"go/types"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// seamFacts summarizes what the model says about one seam, spelled with
// positions relative to the fixture module root.
type seamFacts struct {
	methods     []string // name, "<-Embedded" when embedded, calls/inLoops
	impls       []string // type, "*" prefix when pointer, "also:" list
	ctors       []string // func, "iface"/"concrete", result index, call sites
	importers   []string // package refs/calls
	conversions []string // pos kind type
}

// factsOf builds the facts of s.
func factsOf(rep *Report, s *Seam) seamFacts {
	var f seamFacts
	pos := rep.Program.Position
	q := func(t types.Type) string {
		return types.TypeString(t, func(p *types.Package) string { return p.Name() })
	}
	for _, m := range s.Methods {
		e := m.Name
		if m.Embedded != nil {
			e += "<-" + q(m.Embedded)
		}
		f.methods = append(f.methods, e+" "+itoa(m.Calls)+"/"+itoa(m.CallsInLoops))
	}
	for _, i := range s.Impls {
		e := q(i.Named)
		if i.Pointer {
			e = "*" + e
		}
		var also []string
		for _, t := range i.AlsoUsedAs {
			also = append(also, q(t))
		}
		f.impls = append(f.impls, e+" also:"+strings.Join(also, ","))
	}
	for _, c := range s.Ctors {
		kind := "concrete"
		if c.ReturnsInterface {
			kind = "iface"
		}
		var calls []string
		for _, site := range c.Calls {
			calls = append(calls, pos(site.Pos))
		}
		f.ctors = append(f.ctors, c.Func.Name()+" "+kind+" "+itoa(c.Result)+" "+strings.Join(calls, ","))
	}
	for _, i := range s.Importers {
		f.importers = append(f.importers, i.Pkg.PkgPath+" "+itoa(i.Refs)+"/"+itoa(i.Calls))
	}
	for _, c := range s.Conversions {
		f.conversions = append(f.conversions, pos(c.Pos)+" "+string(c.Kind)+" "+q(c.Concrete))
	}
	return f
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestModel(t *testing.T) {
	rep := loadFixtures(t)
	tests := []struct {
		name string
		want seamFacts
	}{
		{"fixtures/model/store.Reader", seamFacts{
			methods:     []string{"Get 1/0"},
			impls:       []string{"*store.mem also:store.Store,io.Closer"},
			ctors:       []string{"NewMem concrete 0 model/app/app.go:28:12"},
			importers:   []string{"fixtures/model/app 1/1"},
			conversions: []string{"model/app/app.go:32:23 assignment *store.mem"},
		}},
		{"fixtures/model/store.Store", seamFacts{
			methods:     []string{"Get<-store.Reader 1/1", "Put 1/1"},
			impls:       []string{"*store.mem also:store.Reader,io.Closer"},
			ctors:       []string{"New iface 0 model/app/app.go:18:7", "NewMem concrete 0 model/app/app.go:28:12"},
			importers:   []string{"fixtures/model/app 1/2"},
			conversions: []string{"model/store/store.go:29:27 return *store.mem"},
		}},
		{"fixtures/model/store.Sink", seamFacts{
			methods:   []string{"Write 0/0"},
			impls:     []string{"*store.Buffer also:", "store.Discard also:"},
			ctors:     []string{"sink iface 0 "},
			importers: []string{"fixtures/model/app 6/0"},
			conversions: []string{
				"model/app/app.go:19:23 field store.Discard",
				"model/app/app.go:34:6 argument *store.Buffer",
				"model/app/app.go:35:24 element *store.Buffer",
				"model/app/app.go:37:8 send store.Discard",
				"model/app/app.go:38:17 conversion store.Discard",
				"model/app/app.go:45:33 return *store.Buffer",
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := rep.Lookup(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			got := factsOf(rep, s)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	rep := loadFixtures(t)
	tests := []struct {
		name, want, err string
	}{
		{"fixtures/model/store.Sink", "fixtures/model/store.Sink", ""},
		{"store.Sink", "fixtures/model/store.Sink", ""},
		{"model/store.Store", "fixtures/model/store.Store", ""},
		{"other/store.Store", "fixtures/model/other/store.Store", ""},
		{"clean.Inventory", "fixtures/clean.Inventory", ""},
		{"store.Store", "", "store.Store is ambiguous: it matches fixtures/model/other/store.Store, fixtures/model/store.Store; write the import path"},
		{"store.Snk", "", "no interface store.Snk in the module; did you mean fixtures/model/store.Sink?"},
		{"odel/store.Sink", "", "no interface odel/store.Sink in the module; did you mean fixtures/model/store.Sink?"},
		{"Sink", "", `"Sink" is not of the form pkg.Iface (pkg: an import path, a package name or a path suffix)`},
		{"store.", "", `"store." is not of the form pkg.Iface (pkg: an import path, a package name or a path suffix)`},
		{"zzzzzz.Qqqqqqqqq", "", "no interface zzzzzz.Qqqqqqqqq in the module (it has no interfaces)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := rep.Lookup(tt.name)
			switch {
			case tt.err != "":
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Lookup(%q) error = %v, want %q", tt.name, err, tt.err)
				}
			case err != nil:
				t.Fatalf("Lookup(%q): %v", tt.name, err)
			case s.Name != tt.want:
				t.Fatalf("Lookup(%q) = %s, want %s", tt.name, s.Name, tt.want)
			}
		})
	}
}

// TestModelWithTests loads the model fixture with its tests: the package
// store then appears as its test variant ("store [store.test]") while app
// imports the plain one, so seams, implementations and constructors must be
// matched across the two identities of each type.
func TestModelWithTests(t *testing.T) {
	prog, err := Load(context.Background(), Config{Dir: filepath.Join("testdata", "src"), Patterns: []string{"./model/..."}, Tests: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(prog.Errors) > 0 {
		t.Fatalf("errors: %v", prog.Errors)
	}
	rep := Run(prog)
	tests := []struct {
		name string
		want seamFacts
	}{
		{"fixtures/model/store.Reader", seamFacts{
			methods:     []string{"Get 2/1"},
			impls:       []string{"store.fake also:", "*store.mem also:store.Store,io.Closer"},
			ctors:       []string{"NewMem concrete 0 model/app/app.go:28:12"},
			importers:   []string{"fixtures/model/app 1/1"},
			conversions: []string{"model/app/app.go:32:23 assignment *store.mem", "model/store/store_test.go:14:17 assignment store.fake"},
		}},
		{"fixtures/model/store.Sink", seamFacts{
			methods:   []string{"Write 0/0"},
			impls:     []string{"*store.Buffer also:", "store.Discard also:"},
			ctors:     []string{"sink iface 0 "},
			importers: []string{"fixtures/model/app 6/0", "fixtures/model/app_test 1/0"},
			conversions: []string{
				"model/app/app.go:19:23 field store.Discard",
				"model/app/app.go:34:6 argument *store.Buffer",
				"model/app/app.go:35:24 element *store.Buffer",
				"model/app/app.go:37:8 send store.Discard",
				"model/app/app.go:38:17 conversion store.Discard",
				"model/app/app.go:45:33 return *store.Buffer",
				"model/app/app_test.go:15:24 assignment store.Discard",
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := rep.Lookup(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			got := factsOf(rep, s)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
