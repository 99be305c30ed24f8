package rewrite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/meshsplit/meshsplit/analyze"
	"github.com/meshsplit/meshsplit/rewrite/gen"
)

// TestSwitchBenchUpToDate checks that rewrite/internal/switchbench, whose
// benchmark measures what the constructor switch costs a local call, holds
// exactly what the rewrite and the generator produce today (-update
// rewrites it).
func TestSwitchBenchUpToDate(t *testing.T) {
	src, err := os.ReadFile("testdata/switchbench/counter.go.txt")
	if err != nil {
		t.Fatal(err)
	}
	df, err := parseDST("counter.go", src)
	if err != nil {
		t.Fatal(err)
	}
	s := ctorSwitch{Name: "NewCounter", Local: localName("NewCounter"), Switch: gen.SwitchName("Counter"), Iface: "Counter"}
	if _, err := addSwitch(df.file, df.funcDecl("NewCounter"), s); err != nil {
		t.Fatal(err)
	}
	switched, err := df.print()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("internal", "switchbench", "counter.go"), switched)

	prog, err := analyze.Load(context.Background(), analyze.Config{Dir: ".", Patterns: []string{"./internal/switchbench"}})
	if err != nil {
		t.Fatal(err)
	}
	seam, err := analyze.Run(prog).Lookup("switchbench.Counter")
	if err != nil {
		t.Fatal(err)
	}
	f, err := gen.Generate(gen.Input{Fset: prog.Fset, Pkg: seam.Obj.Pkg(), Iface: seam.Obj})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, filepath.Join("internal", "switchbench", gen.FileName("Counter")), f.Source)
}
