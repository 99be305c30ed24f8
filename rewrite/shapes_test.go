package rewrite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
