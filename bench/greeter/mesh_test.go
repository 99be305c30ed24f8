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

// TestMeshCodeIsGenerated checks that the code of service_mesh.go and
// streamer_mesh.go is what meshsplit's generator (rewrite/gen, the code
// behind meshsplit extract) writes for Service and Streamer today, so that
// the meshsplit benchmarks measure the code path of generated clients. Run
// with -update after changing an interface or the generator.
func TestMeshCodeIsGenerated(t *testing.T) {
	files := map[string]string{"Service": "service_mesh.go", "Streamer": "streamer_mesh.go"}
	overlay := map[string][]byte{}
	for _, name := range files {
		generated, err := filepath.Abs(name)
		if err != nil {
			t.Fatal(err)
		}
		// The package as extract first sees it, without its generated
		// files, so that a stale one cannot get in the way.
		overlay[generated] = []byte("package greeter\n")
	}
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes |
			packages.NeedTypesInfo | packages.NeedImports | packages.NeedDeps,
		Dir:     ".",
		Overlay: overlay,
	}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil {
		t.Fatalf("loading the greeter package: %v", err)
	}
	if len(pkgs) != 1 || len(pkgs[0].Errors) > 0 {
		t.Fatalf("loading the greeter package: %v", pkgs[0].Errors)
	}
	pkg := pkgs[0]
	for ifaceName, file := range files {
		iface, ok := pkg.Types.Scope().Lookup(ifaceName).(*types.TypeName)
		if !ok {
			t.Fatalf("greeter has no type %s", ifaceName)
		}
		f, err := gen.Generate(gen.Input{
			Fset:   pkg.Fset,
			Pkg:    pkg.Types,
			Iface:  iface,
			Errors: gen.FindErrors(pkg.Types, true),
		})
		if err != nil {
			t.Fatalf("generating the mesh code of greeter.%s: %v", ifaceName, err)
		}
		if filepath.Base(f.Path) != file {
			t.Fatalf("the generator writes %s, want %s", f.Path, file)
		}
		if *update {
			if err := os.WriteFile(file, f.Source, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		have, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test -run TestMeshCodeIsGenerated -update ./greeter)", err)
		}
		// The code must be the generator's, line for line; comments may
		// lag behind its wording without changing what the benchmark
		// measures.
		switch {
		case !bytes.Equal(codeLines(have), codeLines(f.Source)):
			t.Errorf("%s differs from the generator's output; run go test ./greeter -run TestMeshCodeIsGenerated -update", file)
		case !bytes.Equal(have, f.Source):
			t.Logf("the comments of %s differ from the generator's; go test ./greeter -run TestMeshCodeIsGenerated -update refreshes them", file)
		}
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
