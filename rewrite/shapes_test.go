package rewrite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/meshsplit/meshsplit/analyze"
)

// This file extracts interfaces of testdata/fleet, a module with the shapes
// real monoliths have and the shop lacks: a module-root package named
// unlike its path, a constructor that returns its implementation behind a
// decorator, and a file another tool generated.

// TestDecoratorArgumentStaysLocal checks that the switch goes around the
// whole of a decorating constructor: the decorator's argument inside it is
// not wrapped (a local call would otherwise hop through the mesh under
// MESHRPC_LOOPBACK), and the constructor's original body survives byte for
// byte as newTrackerLocal.
func TestDecoratorArgumentStaysLocal(t *testing.T) {
	p, err := Extract(context.Background(), Options{Dir: "../testdata/fleet", Iface: "cargo.Tracker", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Refused() {
		t.Fatalf("refused: %v", p.Refusals)
	}
	for _, s := range p.Actions {
		if s.Kind == "wrap" {
			t.Errorf("a site inside the switched constructor is wrapped: %s", s)
		}
	}
	var tracker []byte
	for _, c := range p.Changes {
		switch p.Rel(c.Path) {
		case "tracker.go":
			tracker = c.New
		case "tracker_mesh_switch.go":
			t.Errorf("the plan creates %s although nothing calls MeshTracker", p.Rel(c.Path))
		}
	}
	if tracker == nil {
		t.Fatal("the plan does not change tracker.go")
	}
	orig, err := os.ReadFile(filepath.Join("..", "testdata", "fleet", "tracker.go"))
	if err != nil {
		t.Fatal(err)
	}
	const body = "\t// The decorator wraps the real tracker: callers get both or neither.\n\treturn newLoggingTracker(&tracker{repo: repo, now: time.Now}, logger)\n}\n"
	if !bytes.Contains(orig, []byte(body)) {
		t.Fatal("testdata/fleet/tracker.go changed: update this test's body")
	}
	want := "// newTrackerLocal is the original NewTracker, unchanged.\nfunc newTrackerLocal(repo Repository, logger *slog.Logger) Tracker {\n" + body
	if !bytes.Contains(tracker, []byte(want)) {
		t.Errorf("tracker.go after the plan lacks the original body as newTrackerLocal:\n%s", tracker)
	}
	if strings.Contains(string(tracker), "MeshTracker(") {
		t.Errorf("tracker.go after the plan calls MeshTracker:\n%s", tracker)
	}
}

// TestReportUnchangedByExtraction analyzes a module, extracts an interface
// with -w, and analyzes it again: meshsplit's own generated files (client,
// handler, switch, service main), the constructor's switch and its kept
// original add no implementation, constructor, importer or finding, so the
// report reads the same but for line numbers in the edited files.
func TestReportUnchangedByExtraction(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks modules with the runtime")
	}
	for _, tt := range []struct{ module, iface string }{
		{"fleet", "cargo.Tracker"},
		{"shop", "orders.Service"}, // an out-param and a constructor with an error
	} {
		t.Run(tt.module, func(t *testing.T) {
			dir := copyFixture(t, tt.module)
			ctx := context.Background()
			before := reportText(t, dir)
			p, err := Extract(ctx, Options{Dir: dir, Iface: tt.iface, Force: true})
			if err != nil {
				t.Fatal(err)
			}
			if p.Refused() {
				t.Fatalf("refused: %v", p.Refusals)
			}
			if err := p.Apply(ctx, Writer{}); err != nil {
				t.Fatal(err)
			}
			tidy := exec.Command("go", "mod", "tidy")
			tidy.Dir = dir
			if out, err := tidy.CombinedOutput(); err != nil {
				t.Fatalf("go mod tidy: %v\n%s", err, out)
			}
			if after := reportText(t, dir); after != before {
				t.Errorf("analyze's report changed with the extraction of %s:\n%s", tt.iface, UnifiedDiff("report", []byte(before), []byte(after), false))
			}
		})
	}
}

// lineCol matches the line and column of a position.
var lineCol = regexp.MustCompile(`\.go:\d+(:\d+)?`)

// reportText returns analyze's verbose report on the module in dir, tests
// included, as extract loads it, positions cut to their file names.
func reportText(t *testing.T, dir string) string {
	t.Helper()
	prog, err := analyze.Load(context.Background(), analyze.Config{Dir: dir, Tests: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(prog.Errors) > 0 {
		t.Fatalf("%s does not type-check: %v", dir, prog.Errors)
	}
	var b bytes.Buffer
	if err := analyze.Run(prog).WriteText(&b, true); err != nil {
		t.Fatal(err)
	}
	return lineCol.ReplaceAllString(b.String(), ".go")
}

// TestRootPackageName extracts from the module-root package cargo (path
// example.com/fleet): the generated descriptor carries the package's name,
// so that MESHRPC_REMOTE=cargo.Tracker, the name analyze prints, selects it
// (the runtime's TestRemoteSelectsByPackageName checks the selection).
func TestRootPackageName(t *testing.T) {
	p, err := Extract(context.Background(), Options{Dir: "../testdata/fleet", Iface: "cargo.Tracker", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Refused() {
		t.Fatalf("refused: %v", p.Refusals)
	}
	for _, c := range p.Changes {
		switch p.Rel(c.Path) {
		case "tracker_mesh.go":
			for _, want := range []string{"Name:        \"example.com/fleet.Tracker\",\n\tPackage:     \"cargo\",", "meshrt.RemoteService(&TrackerMeshDesc)"} {
				if !strings.Contains(string(c.New), want) {
					t.Errorf("tracker_mesh.go lacks %q", want)
				}
			}
		case "cmd/cargo-tracker-svc/main.go":
			if !strings.Contains(string(c.New), "meshrt.RemoteService(&cargo.TrackerMeshDesc)") {
				t.Errorf("the service main does not ask RemoteService:\n%s", c.New)
			}
		}
	}
}

// TestEveryConstructorAccountedFor checks that each constructor analyze
// lists for an interface (tests loaded, as extract loads them) is either
// switched or named in the plan at its file:line with the reason it is not:
// none is skipped silently.
func TestEveryConstructorAccountedFor(t *testing.T) {
	modules := []struct {
		dir    string
		ifaces []string
	}{
		{"../testdata/fleet", []string{"cargo.Tracker", "cargo.Repository"}},
		{"../testdata/shop", shopSeams},
	}
	for _, m := range modules {
		prog, err := analyze.Load(context.Background(), analyze.Config{Dir: m.dir, Tests: true, Generated: true})
		if err != nil {
			t.Fatal(err)
		}
		rep := analyze.Run(prog)
		for _, iface := range m.ifaces {
			seam, err := rep.Lookup(iface)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Extract(context.Background(), Options{Dir: m.dir, Iface: iface, Force: true})
			if err != nil {
				t.Fatal(err)
			}
			var steps []string
			for _, s := range append(append(p.Actions, p.Manual...), p.Refusals...) {
				steps = append(steps, s.String())
			}
			all := strings.Join(steps, "\n")
			for _, c := range seam.Ctors {
				pos := prog.Fset.Position(c.Decl.Pos())
				at := fmt.Sprintf("%s:%d: %s ", p.Rel(pos.Filename), pos.Line, c.Func.Name())
				if !strings.Contains(all, at) {
					t.Errorf("%s: constructor %s (%s:%d) is neither switched nor named in the plan:\n%s", iface, c.Func.Name(), p.Rel(pos.Filename), pos.Line, all)
				}
			}
		}
	}
}

// TestSharedStateNamed extracts payments.Gateway from the shop, whose main
// gives one ledger both to payments.NewInvoice and to the orders service's
// config: the plan must say, at the call, that the split stops sharing it.
func TestSharedStateNamed(t *testing.T) {
	p, err := Extract(context.Background(), Options{Dir: "../testdata/shop", Iface: "payments.Gateway", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	var manual []string
	for _, s := range p.Manual {
		manual = append(manual, s.String())
	}
	want := "cmd/shop/server.go:89: NewInvoice's argument s.ledger is also given to orders.Config{…} (server.go:107): in process both share it"
	if !strings.Contains(strings.Join(manual, "\n"), want) {
		t.Errorf("manual steps lack %q:\n%s", want, strings.Join(manual, "\n"))
	}
}
