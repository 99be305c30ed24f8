package rewrite

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fleetAnyTest is written into an extracted copy of testdata/fleet: it
// calls the Tracker through the generated client over the runtime's
// loopback node (real TCP on 127.0.0.1) and checks what crosses in the
// Shipment's Extras (map[string]any) and what does not (Notify, tagged
// meshsplit:"-").
const fleetAnyTest = `package cargo

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// TestExtrasCrossTheMesh runs under MESHRPC_REMOTE=cargo.Tracker and
// MESHRPC_LOOPBACK=1, which the runtime reads once per process.
func TestExtrasCrossTheMesh(t *testing.T) {
	tr := NewTracker(NewMemRepository(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, ok := tr.(*TrackerMeshClient); !ok {
		t.Fatalf("NewTracker returned a %T, want the mesh client", tr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	extras := map[string]any{
		"nil": nil, "bool": true, "int": -1, "int8": int8(-8), "int16": int16(16), "int32": int32(32), "int64": int64(64),
		"uint": uint(1), "uint8": uint8(8), "uint16": uint16(16), "uint32": uint32(32), "uint64": uint64(1 << 63),
		"float32": float32(0.5), "float64": 1250.5, "complex64": complex64(1i), "complex128": 2 + 3i,
		"string": "DX-991", "bytes": []byte{0xca, 0xfe}, "time": at,
		"list": []any{"invoice", 2.0, []any{}}, "map": map[string]any{"hs_code": "8471.30"},
		"status": StatusBooked, "shipment": Shipment{ID: "inner", Extras: map[string]any{}},
	}
	notified := 0
	booked, err := tr.Book(ctx, Shipment{ID: "SH-1", Origin: "Leeds", Destination: "Hull", Extras: extras, Notify: func(Status) { notified++ }})
	if err != nil {
		t.Fatal(err)
	}
	if notified != 0 || booked.Notify != nil {
		t.Errorf("Notify crossed the mesh: called %d times, came back %v", notified, booked.Notify != nil)
	}
	got, err := tr.Track(ctx, "SH-1")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range extras {
		if !reflect.DeepEqual(got.Extras[k], want) {
			t.Errorf("Extras[%q] = %#v (%T), want %#v (%T)", k, got.Extras[k], got.Extras[k], want, want)
		}
	}
	if len(got.Extras) != len(extras) {
		t.Errorf("%d extras came back, want %d", len(got.Extras), len(extras))
	}

	_, err = tr.Book(ctx, Shipment{ID: "SH-2", Origin: "York", Destination: "Hull", Extras: map[string]any{"tags": []string{"cold"}}})
	var ce *meshrt.CallError
	if !errors.As(err, &ce) || !errors.Is(err, meshrt.ErrAnyType) {
		t.Fatalf("Book with a []string extra: %v, want a CallError wrapping ErrAnyType", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "cargo.Shipment.Extras[\"tags\"]") || !strings.Contains(msg, "[]string") {
		t.Fatalf("error %q does not name the path and the type", msg)
	}
	if _, err := tr.Track(ctx, "SH-2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the refused Book reached the tracker: Track = %v", err)
	}
}
`

// TestFleetExtrasCrossTheMesh extracts cargo.Tracker from a copy of
// testdata/fleet, whose Shipment carries Extras map[string]any and a
// Notify func tagged meshsplit:"-", and runs a test there through the
// generated client and a loopback node: every dynamic type an any carries
// comes back deeply equal, an unsupported one fails the call naming the
// path and type, Notify stays home. The module's own tests pass too, local
// and remote.
func TestFleetExtrasCrossTheMesh(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a module with the go command")
	}
	dir := copyFixture(t, "fleet")
	ctx := context.Background()
	p, err := Extract(ctx, Options{Dir: dir, Iface: "cargo.Tracker", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Refused() {
		t.Fatalf("refused: %v", p.Refusals)
	}
	if err := p.Apply(ctx, Writer{}); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, map[string]string{filepath.Join(dir, "zz_any_mesh_test.go"): fleetAnyTest})
	run := func(env []string, args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v go %s: %v\n%s", env, strings.Join(args, " "), err, out)
		}
	}
	run(nil, "mod", "tidy")
	run([]string{"MESHRPC_REMOTE=", "MESHRPC_LOOPBACK="}, "test", "-count=1", "-skip", "^TestExtrasCrossTheMesh$", ".")
	run([]string{"MESHRPC_REMOTE=cargo.Tracker", "MESHRPC_LOOPBACK=1"}, "test", "-count=1", "-run", "^TestExtrasCrossTheMesh$|^TestTracker", ".")
}
