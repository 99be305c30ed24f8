package gen

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var (
	genBench = flag.Bool("genbench", false, "also run the benchmarks of the modules TestGeneratedCodeCompilesAndRuns builds, and log them")
	genRace  = flag.Bool("genrace", false, "run the tests of the modules TestGeneratedCodeCompilesAndRuns builds with -race")
)

// TestGeneratedCodeCompilesAndRuns writes the generated files into a copy of
// the fixture module that requires this repository's runtime, then runs
// go vet (which builds) and go test there: every package gets a test that
// round-trips all of its messages through the generated codec (meshfill),
// basic also gets an end-to-end test through the generated client over the
// runtime's loopback node (testdata/support/basic_e2e_test.go), anyvalues
// one of interface values and meshsplit:"-" fields over that node
// (testdata/support/anyvalues_e2e_test.go), sentinels
// one showing that another module's sentinel keeps == across the wire
// (testdata/support/sentinels_e2e_test.go), and recursive a test of cycles
// and depth (testdata/support/recursive_depth_test.go).
// Nothing is fetched: GOPROXY=off, GOFLAGS=-mod=mod over the module cache.
func TestGeneratedCodeCompilesAndRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a module with the go command")
	}
	checkModule(t, fixtureDir, "example.com/fixtures", loadCases(t, fixtureDir), vetAndTestAll, func(mod, repo string) {
		copyFile(t, "testdata/support/basic_e2e_test.go", filepath.Join(mod, "basic", "basic_e2e_test.go"))
		copyFile(t, "testdata/support/anyvalues_e2e_test.go", filepath.Join(mod, "anyvalues", "anyvalues_e2e_test.go"))
		copyFile(t, "testdata/support/basic_bench_test.go", filepath.Join(mod, "basic", "basic_bench_test.go"))
		copyFile(t, "testdata/support/recursive_depth_test.go", filepath.Join(mod, "recursive", "recursive_depth_test.go"))
		copyFile(t, "testdata/support/sentinels_e2e_test.go", filepath.Join(mod, "sentinels", "sentinels_e2e_test.go"))
		appendFile(t, filepath.Join(mod, "go.mod"), fmt.Sprintf("\nrequire %s v0.0.0\n\nreplace %s => %s\n", runtimeModule, runtimeModule, filepath.Join(repo, "runtime")))
	})
}

// TestShopGeneratedCodeCompilesAndRuns does the same for every interface of
// the example monolith at once, but runs only the round trips: go vet and
// the shop's own tests, local and remote, run on the same generated files in
// cmd/meshsplit's TestExtractShopEndToEnd, which extracts every interface
// of the shop (running them here too cost a vet and a test run of the shop
// in every 'go test ./...').
func TestShopGeneratedCodeCompilesAndRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a module with the go command")
	}
	checkModule(t, shopDir, "example.com/shop", loadCasesIn(t, shopDir, "testdata/shop"), roundTripsOnly, func(mod, repo string) {
		gomod := filepath.Join(mod, "go.mod")
		b, err := os.ReadFile(gomod)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(b), "=> ../../runtime", "=> "+filepath.Join(repo, "runtime"), 1)
		if !strings.Contains(text, "require "+runtimeModule) {
			text += "\nrequire " + runtimeModule + " v0.0.0\n"
		}
		writeFile(t, gomod, []byte(text))
	})
}

// runtimeModule is the module of the runtime that generated code imports.
const runtimeModule = "github.com/meshsplit/meshsplit/runtime"

// What checkModule runs in the module it builds.
const (
	vetAndTestAll  = false // go vet ./... and every test
	roundTripsOnly = true  // only TestMeshRoundTrip (go test builds every package and its tests all the same)
)

// checkModule copies the module in src to a temporary directory, lets
// prepare make it require this repository's runtime, writes the generated
// file of every case that Generate accepts and a round-trip test per
// package, then runs go vet and go test there (only the round trips with
// roundTripsOnly).
func checkModule(t *testing.T, src, modPath string, cases []genCase, onlyRoundTrips bool, prepare func(mod, repo string)) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	src, err = filepath.Abs(src)
	if err != nil {
		t.Fatal(err)
	}
	mod := filepath.Join(t.TempDir(), filepath.Base(src))
	copyTree(t, src, mod)
	copyTree(t, "testdata/support/meshfill", filepath.Join(mod, "internal", "meshfill"))
	copyFile(t, filepath.Join(repo, "runtime", "go.sum"), filepath.Join(mod, "go.sum"))
	// The module builds offline: its requirements beyond this repository's
	// are the runtime's, which building this module need not bring into the
	// module cache (the workspace may select newer ones). Fetch them with
	// the network the test was given.
	download := exec.Command("go", "mod", "download")
	download.Dir = filepath.Join(repo, "runtime")
	download.Env = append(os.Environ(), "GOWORK=off")
	if out, err := download.CombinedOutput(); err != nil {
		t.Fatalf("go mod download in runtime/: %v\n%s", err, out)
	}
	prepare(mod, repo)

	descs := map[string][]string{} // package dir -> desc names
	pkgNames := map[string]string{}
	for _, c := range cases {
		f, err := generate(c)
		if err != nil {
			continue // refusals are TestGolden's business
		}
		rel, err := filepath.Rel(src, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(mod, rel), f.Source)
		dir := filepath.Dir(rel)
		descs[dir] = append(descs[dir], DescName(c.iface.Name()))
		pkgNames[dir] = c.pkg.Name
	}
	for dir, names := range descs {
		sort.Strings(names)
		var args []string
		for _, n := range names {
			args = append(args, "&"+n)
		}
		test := fmt.Sprintf(`package %s

import (
	"testing"

	"%s/internal/meshfill"
)

func TestMeshRoundTrip(t *testing.T) { meshfill.RoundTrip(t, %s) }
`, pkgNames[dir], modPath, strings.Join(args, ", "))
		writeFile(t, filepath.Join(mod, dir, "zz_mesh_roundtrip_test.go"), []byte(test))
	}

	args := []string{"test", "-count=1"}
	if onlyRoundTrips {
		args = append(args, "-run=^TestMeshRoundTrip$")
	} else {
		goCmd(t, mod, "vet", "./...")
	}
	if *genRace {
		args = append(args, "-race")
	}
	out := goCmd(t, mod, append(args, "./...")...)
	t.Logf("go test output (per package times):\n%s", out)
	if *genBench {
		t.Log(goCmd(t, mod, "test", "-run=^$", "-bench=.", "-benchmem", "./..."))
	}
	for dir := range descs {
		if !strings.Contains(out, "ok  \t"+modPath+"/"+filepath.ToSlash(dir)) {
			t.Errorf("no passing test line for %s in:\n%s", dir, out)
		}
	}
}

// goCmd runs the go command in dir without network and returns its output,
// failing the test on error.
func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off",
		"MESHRPC_REMOTE=", "MESHRPC_LOOPBACK=")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("go %s: %s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// copyTree copies the regular files under from to to.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		copyFile(t, path, filepath.Join(to, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, b)
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
