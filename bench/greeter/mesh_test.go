package greeter

import (
	"bytes"
	"flag"
	"go/types"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/meshsplit/meshsplit/rewrite/gen"
	meshrt "github.com/meshsplit/meshsplit/runtime"
)

var update = flag.Bool("update", false, "rewrite service_mesh.go with meshsplit's generator")

// TestMeshCodeIsGenerated checks that the code of service_mesh.go is what
// meshsplit's generator (rewrite/gen, the code behind meshsplit extract)
// writes for Service today, so that the meshsplit benchmarks measure the
// code path of generated clients. Run with -update after changing Service
// or the generator.
func TestMeshCodeIsGenerated(t *testing.T) {
	generated, err := filepath.Abs("service_mesh.go")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes |
			packages.NeedTypesInfo | packages.NeedImports | packages.NeedDeps,
		Dir: ".",
		// The package as extract first sees it, without its generated
		// file, so that a stale one cannot get in the way.
		Overlay: map[string][]byte{generated: []byte("package greeter\n")},
	}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil {
		t.Fatalf("loading the greeter package: %v", err)
	}
	if len(pkgs) != 1 || len(pkgs[0].Errors) > 0 {
		t.Fatalf("loading the greeter package: %v", pkgs[0].Errors)
	}
	pkg := pkgs[0]
	iface, ok := pkg.Types.Scope().Lookup("Service").(*types.TypeName)
	if !ok {
		t.Fatal("greeter has no type Service")
	}
	f, err := gen.Generate(gen.Input{
		Fset:   pkg.Fset,
		Pkg:    pkg.Types,
		Iface:  iface,
		Errors: gen.FindErrors(pkg.Types, true),
	})
	if err != nil {
		t.Fatalf("generating the mesh code of greeter.Service: %v", err)
	}
	if filepath.Base(f.Path) != "service_mesh.go" {
		t.Fatalf("the generator writes %s, want service_mesh.go", f.Path)
	}
	if *update {
		if err := os.WriteFile("service_mesh.go", f.Source, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile("service_mesh.go")
	if err != nil {
		t.Fatalf("%v (run go test -run TestMeshCodeIsGenerated -update ./greeter)", err)
	}
	// The code must be the generator's, line for line; comments may lag
	// behind its wording without changing what the benchmark measures.
	switch {
	case !bytes.Equal(codeLines(have), codeLines(f.Source)):
		t.Errorf("service_mesh.go differs from the generator's output; run go test ./greeter -run TestMeshCodeIsGenerated -update")
	case !bytes.Equal(have, f.Source):
		t.Logf("the comments of service_mesh.go differ from the generator's; go test ./greeter -run TestMeshCodeIsGenerated -update refreshes them")
	}
}

// codeLines returns src without its comment lines and blank lines.
func codeLines(src []byte) []byte {
	var out []byte
	for line := range bytes.Lines(src) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || bytes.HasPrefix(t, []byte("//")) {
			continue
		}
		out = append(out, t...)
		out = append(out, '\n')
	}
	return out
}

// TestSampleDocSizeMesh pins the 4k payload's size on meshsplit's fast
// path near 4 KB, like its protobuf size (stacks.TestSampleDocSizeGRPC).
func TestSampleDocSizeMesh(t *testing.T) {
	var e meshrt.Encoder
	req := serviceEchoRequest{Doc: SampleDoc()}
	req.MarshalMesh(&e)
	n := len(e.Bytes())
	if n < 3500 || n > 4600 {
		t.Errorf("mesh size of the sample document = %d bytes, want about 4 KB (3500..4600)", n)
	}
	t.Logf("mesh size of the sample document: %d bytes", n)
}
