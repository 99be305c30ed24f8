package gen

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"testing"
)

// TestFingerprintTags checks which struct tags change a method's
// fingerprint: meshsplit:"-" does (the field leaves the wire), json and
// other tags do not.
func TestFingerprintTags(t *testing.T) {
	fp := func(field string) string {
		t.Helper()
		src := "package p\n\nimport \"context\"\n\ntype T struct {\n\tN int\n\t" + field + "\n}\n\ntype I interface {\n\tM(ctx context.Context, t T) (any, error)\n}\n"
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "p.go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		conf := types.Config{Importer: importer.Default()}
		pkg, err := conf.Check("example.com/p", fset, []*ast.File{f}, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, _, _ := types.LookupFieldOrMethod(pkg.Scope().Lookup("I").Type(), false, pkg, "M")
		return fingerprint(signatureText("M", m.Type().(*types.Signature)))
	}
	plain := fp("X string")
	tests := []struct {
		name  string
		field string
		same  bool
	}{
		{"json tag", "X string `json:\"x\"`", true},
		{"json dash", "X string `json:\"-\"`", true},
		{"other meshsplit value", "X string `meshsplit:\"x\"`", true},
		{"meshsplit dash", "X string `meshsplit:\"-\"`", false},
		{"meshsplit dash, other type", "X func() `meshsplit:\"-\"`", false},
		{"another type", "X int", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fp(tt.field); (got == plain) != tt.same {
				t.Fatalf("fingerprint %s, without the tag %s: want same=%v", got, plain, tt.same)
			}
		})
	}
	if fp("X string `meshsplit:\"-\"`") != fp("X func() `meshsplit:\"-\"`") {
		t.Error("the type of a field off the wire changes the fingerprint")
	}
}
