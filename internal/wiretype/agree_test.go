package wiretype_test

import (
	"context"
	"errors"
	"go/types"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/meshsplit/meshsplit/analyze"
	"github.com/meshsplit/meshsplit/internal/wiretype"
	"github.com/meshsplit/meshsplit/rewrite/gen"
)

// shapesDir is the corpus: one interface per type shape, one method each.
const shapesDir = "testdata/shapes"

// TestAgreement runs analyze's judgement and the generator on every shape
// of the corpus and requires the same answer from both, and the one the
// table gives: remotable, or refused for the blocking kind the table names
// (which analyze must report under the rule of that name, and which must
// be the first blocking problem wiretype.Check finds). A caveat named in
// the table must be reported by analyze and found by Check. The files the
// generator writes for the remotable shapes must type-check with the corpus
// and the runtime.
func TestAgreement(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a package and type-checks generated code with the go command")
	}
	tests := []struct {
		iface  string
		block  string // the blocking kind ("generic" for a generic interface), "" when remotable
		caveat string // a caveat kind the method must carry, if any
	}{
		{iface: "Basics"},
		{iface: "Pointers"},
		{iface: "Arrays"},
		{iface: "Maps"},
		{iface: "OddKeys", caveat: "map-key"},
		{iface: "Times"},
		{iface: "DefinedTime", caveat: "defined-time"},
		{iface: "BlankFields"},
		{iface: "Recursive", caveat: "recursive"},
		{iface: "OwnUnexported"},
		{iface: "Embedded"},
		{iface: "Instances"},
		{iface: "UnusedTypeArg"},
		{iface: "Named"},
		{iface: "Variadic"},
		{iface: "NoError"},
		{iface: "Anonymous"},
		{iface: "JSONDash", caveat: "json-dash"},
		{iface: "LocalNames", caveat: "any"},
		{iface: "JSONRaw"},
		{iface: "Store"}, // no context, no error: a note and a warning
		{iface: "ChanParam", block: "chan"},
		{iface: "ChanResult", caveat: "stream"},
		{iface: "SeqResult", caveat: "stream"},
		{iface: "Seq2Result", caveat: "recursive"},
		{iface: "ReaderResult", caveat: "stream"},
		{iface: "ReadCloserResult", caveat: "stream"},
		{iface: "ReaderParam", caveat: "stream"},
		{iface: "ReaderInSeqOut", caveat: "stream"},
		{iface: "SendChanResult", block: "chan"},
		{iface: "BidiChanResult", block: "chan"},
		{iface: "RecvChanParam", block: "chan"},
		{iface: "Seq2NotError", block: "func"},
		{iface: "TwoStreams", block: "interface"},
		{iface: "ReaderField", block: "interface"},
		{iface: "SeqOfFuncs", block: "func"},
		{iface: "ReadWriterParam", block: "interface"},
		{iface: "ChanField", block: "chan"},
		{iface: "FuncParam", block: "func"},
		{iface: "FuncField", block: "func"},
		{iface: "AnyParam", caveat: "any"},
		{iface: "AnyShapes", caveat: "any"},
		{iface: "Omitted", caveat: "omitted"},
		{iface: "WriterParam", block: "interface"},
		{iface: "Options", block: "interface"},
		{iface: "Option"}, // itself a seam: an unexported method of this package
		{iface: "IfaceResult", block: "interface"},
		{iface: "ErrorParam", block: "interface"},
		{iface: "ErrorFirst", block: "interface"},
		{iface: "ErrorField", block: "interface"},
		{iface: "ContextField", block: "interface"},
		{iface: "Uintptr", block: "unsafe"},
		{iface: "NamedUintptr", block: "unsafe"},
		{iface: "UnsafePointer", block: "unsafe"},
		{iface: "ForeignUnexportedField", block: "unexported-field"},
		{iface: "Location", block: "unexported-field"},
		{iface: "ForeignUnexportedType", block: "unexported-type"},
		{iface: "ForeignUnexportedTypeArg", block: "unexported-type"},
		{iface: "ZeroSizeSlice", block: "zero-size"},
		{iface: "ZeroSizeNamed", block: "zero-size"},
		{iface: "ZeroSizeMap", block: "zero-size", caveat: "map-key"},
		{iface: "PointerKey", block: "pointer-key"},
		{iface: "PointerInKey", block: "pointer-key"},
		{iface: "Generic", block: "generic"},
	}

	prog, err := analyze.Load(context.Background(), analyze.Config{Dir: shapesDir, Patterns: []string{"."}})
	if err != nil {
		t.Fatal(err)
	}
	if len(prog.Errors) > 0 {
		t.Fatalf("the corpus does not type-check: %v", prog.Errors)
	}
	rep := analyze.Run(prog)
	pkg := prog.Packages[0]
	seams := map[string]*analyze.Seam{}
	for _, s := range rep.Seams {
		if s.Obj.Pkg() == pkg.Types {
			seams[s.Obj.Name()] = s
		}
	}
	listed := map[string]bool{}
	overlay := map[string][]byte{}
	for _, tt := range tests {
		listed[tt.iface] = true
		t.Run(tt.iface, func(t *testing.T) {
			s := seams[tt.iface]
			if s == nil {
				t.Fatalf("no seam %s in %s", tt.iface, shapesDir)
			}
			rules := map[string]bool{}
			var findings []string
			for _, f := range s.Findings {
				rules[f.Rule.Name] = true
				findings = append(findings, f.Rule.Name+": "+f.Message)
			}
			analyzeOK := s.Verdict != analyze.NotRemotable
			file, genErr := gen.Generate(gen.Input{Fset: prog.Fset, Pkg: pkg.Types, Iface: s.Obj})
			var refusal *gen.Refusal
			if genErr != nil && !errors.As(genErr, &refusal) {
				t.Fatalf("Generate failed without a refusal: %v", genErr)
			}
			genOK := genErr == nil

			if analyzeOK != genOK {
				t.Errorf("analyze and the generator disagree: analyze says remotable=%v %q, the generator %v", analyzeOK, findings, genErr)
			}
			if want := tt.block == ""; analyzeOK != want || genOK != want {
				t.Errorf("want remotable=%v; analyze: %v %q; generator: %v", want, analyzeOK, findings, genErr)
			}
			if tt.block != "" && !rules[tt.block] {
				t.Errorf("analyze reports no %s finding: %q", tt.block, findings)
			}
			if tt.caveat != "" && !rules[tt.caveat] {
				t.Errorf("analyze reports no %s finding: %q", tt.caveat, findings)
			}

			named := s.Obj.Type().(*types.Named)
			if tt.block == "generic" {
				if !wiretype.Generic(named) {
					t.Errorf("wiretype.Generic(%s) = false", tt.iface)
				}
			} else {
				probs := wiretype.Check(s.Methods[0].Sig, pkg.Types)
				got := ""
				if pr, ok := wiretype.Blocking(probs); ok {
					got = pr.Kind.String()
				}
				if got != tt.block {
					t.Errorf("wiretype.Check: first blocking kind %q, want %q", got, tt.block)
				}
				if tt.caveat != "" && !hasKind(probs, tt.caveat) {
					t.Errorf("wiretype.Check finds no %s problem", tt.caveat)
				}
			}
			if genOK {
				overlay[file.Path] = file.Source
			}
		})
	}
	var unlisted []string
	for name := range seams {
		if !listed[name] {
			unlisted = append(unlisted, name)
		}
	}
	sort.Strings(unlisted)
	if len(unlisted) > 0 {
		t.Errorf("shapes without a row in the table: %s", strings.Join(unlisted, ", "))
	}
	typeCheck(t, overlay)
}

// hasKind reports whether ps holds a problem of the kind named name.
func hasKind(ps []wiretype.Problem, name string) bool {
	for _, p := range ps {
		if p.Kind.String() == name {
			return true
		}
	}
	return false
}

// typeCheck loads the corpus with the generated files laid over it and
// fails on every error, which names the generated file and line.
func typeCheck(t *testing.T, overlay map[string][]byte) {
	t.Helper()
	if len(overlay) == 0 {
		t.Fatal("the generator accepted no shape")
	}
	abs, err := filepath.Abs(shapesDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo,
		Dir:  abs,
		// The corpus is a directory of the tool's module, which reaches the
		// runtime module through the repository's go.work.
		Env:     os.Environ(),
		Overlay: overlay,
	}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range pkgs[0].CompiledGoFiles {
		if _, ok := overlay[f]; ok {
			seen++
		}
	}
	if seen != len(overlay) {
		t.Errorf("the type-check saw %d of the %d generated files", seen, len(overlay))
	}
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			t.Errorf("generated code does not type-check: %v", e)
		}
	})
}
