package recursive

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// TestMeshCyclesAndDepth checks the generated codec of recursive types: a
// cyclic value is an encoder error (not a stack overflow), a long chain
// below meshrt.MaxDepth round-trips, and a message nested deeper is a
// decoder error. The compile test of package gen copies this file into the
// fixture.
func TestMeshCyclesAndDepth(t *testing.T) {
	tree := &Tree{Name: "root"}
	tree.Parent = tree
	tree.Kids = []*Tree{tree, tree}
	chain := Chain{nil}
	chain[0] = chain
	graph := Graph{}
	graph["self"] = graph
	cycles := []struct {
		name string
		msg  meshrt.Message
	}{
		{"tree through pointers", &forestPlantRequest{T: tree}},
		{"slice of itself", &forestLinksRequest{C: chain}},
		{"map of itself", &forestLinksRequest{G: graph}},
	}
	for _, c := range cycles {
		var e meshrt.Encoder
		c.msg.MarshalMesh(&e)
		if err := e.Err(); err == nil || !strings.Contains(err.Error(), "nested deeper") {
			t.Errorf("%s: encoder error %v, want the depth error", c.name, err)
		}
	}

	long := &Tree{Name: "leaf"}
	for range meshrt.MaxDepth / 2 {
		long = &Tree{Name: "n", Parent: long}
	}
	var e meshrt.Encoder
	(&forestPlantRequest{T: long}).MarshalMesh(&e)
	if e.Err() != nil {
		t.Fatalf("chain of %d: %v", meshrt.MaxDepth/2, e.Err())
	}
	var got forestPlantRequest
	d := meshrt.NewDecoder(e.Bytes())
	got.UnmarshalMesh(d)
	if d.Err() != nil {
		t.Fatalf("chain of %d: decode: %v", meshrt.MaxDepth/2, d.Err())
	}

	// A hostile message: Parent after Parent, deeper than MaxDepth.
	var deep meshrt.Encoder
	for range meshrt.MaxDepth + 5 {
		deep.Present(true) // the pointer
		deep.String("n")   // Name
		deep.Len(-1)       // Kids
		deep.Len(-1)       // ByName
	}
	deep.Present(false)
	d = meshrt.NewDecoder(deep.Bytes())
	(&forestPlantRequest{}).UnmarshalMesh(d)
	if err := d.Err(); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("decoder error %v, want the depth error", err)
	}
}

// forest is an implementation whose Links answers with a cyclic graph.
type forest struct{}

func (forest) Plant(ctx context.Context, t *Tree) error { return nil }

func (forest) Links(ctx context.Context, c Chain, g Graph) (Chain, Graph, error) {
	cyclic := Graph{}
	cyclic["self"] = cyclic
	return c, cyclic, nil
}

// TestMeshCyclesOverTheWire calls through the generated client on the
// runtime's loopback node: a cyclic argument and a cyclic result are call
// errors (meshrt.ErrMalformed), and the node keeps serving.
func TestMeshCyclesOverTheWire(t *testing.T) {
	t.Setenv("MESHRPC_REMOTE", "recursive.Forest")
	t.Setenv("MESHRPC_LOOPBACK", "1")
	f, ok := meshForest(func() Forest { return forest{} })
	if !ok {
		t.Fatal("meshForest did not select the remote client")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tree := &Tree{Name: "root"}
	tree.Parent = tree
	if err := f.Plant(ctx, tree); !errors.Is(err, meshrt.ErrMalformed) {
		t.Errorf("Plant(cyclic) = %v, want an error wrapping meshrt.ErrMalformed", err)
	}
	if _, _, err := f.Links(ctx, Chain{}, nil); !errors.Is(err, meshrt.ErrMalformed) {
		t.Errorf("Links with a cyclic result = %v, want an error wrapping meshrt.ErrMalformed", err)
	}
	if err := f.Plant(ctx, &Tree{Name: "fine"}); err != nil {
		t.Errorf("Plant after the failures: %v", err)
	}
}
