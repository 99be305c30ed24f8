package basic

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestMeshEndToEnd calls the in-memory Store through the generated client,
// over the runtime's loopback node (real TCP on 127.0.0.1 and yamux). The
// compile test of package gen copies this file into the fixture.
func TestMeshEndToEnd(t *testing.T) {
	t.Setenv("MESHRPC_REMOTE", "basic.Store")
	t.Setenv("MESHRPC_LOOPBACK", "1")
	s, ok := meshStore(NewStore)
	if !ok {
		t.Fatal("meshStore did not select the remote client")
	}
	if _, isClient := s.(*StoreMeshClient); !isClient {
		t.Fatalf("meshStore returned a %T", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 18, 0, 0, 5, paris)

	o := &Order{Tags: []string{"a", "b"}, Secret: "kept", At: at, Meta: map[string]string{}, ID: 99}
	if err := s.Create(ctx, o); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if o.ID != 1 || o.status != "created" {
		t.Fatalf("Create did not write through its pointer: ID %d, status %q", o.ID, o.status)
	}

	got, err := s.Get(ctx, 1)
	if err != nil || got == nil {
		t.Fatalf("Get(1) = %v, %v", got, err)
	}
	if got.Secret != "kept" {
		t.Errorf("json:\"-\" field lost: %q", got.Secret)
	}
	if got.Meta == nil || got.Items != nil || got.Note != nil {
		t.Errorf("nil/empty not kept: Meta %#v, Items %#v, Note %v", got.Meta, got.Items, got.Note)
	}
	if !got.At.Equal(at) || got.At.Location().String() != "Europe/Paris" {
		t.Errorf("time: got %v in %s, want %v", got.At, got.At.Location(), at)
	}

	if got, err := s.Get(ctx, 42); got != nil || err != nil {
		t.Errorf("Get(42) = %v, %v, want nil, nil", got, err)
	}

	if _, err := s.Find(ctx); err != ErrNotFound {
		t.Errorf("Find() error = %v, want the very ErrNotFound", err)
	}
	found, err := s.Find(ctx, "a", "b")
	if err != nil || len(found) != 1 || found[0].ID != 1 {
		t.Errorf("Find(a, b) = %v, %v", found, err)
	}

	err = s.Create(ctx, &Order{Secret: "conflict", ID: 7})
	var conflict *ConflictError
	if !errors.As(err, &conflict) || conflict.ID != 7 {
		t.Errorf("Create(conflict) error = %v, want a *ConflictError with ID 7", err)
	}

	if n := s.Count(); n != 1 {
		t.Errorf("Count() = %d, want 1", n)
	}
	total, by, err := s.Stats(ctx, "t:")
	if err != nil || total != 1 || by["t:a"] != 1 || by["t:b"] != 1 {
		t.Errorf("Stats = %d, %v, %v", total, by, err)
	}
	s.Touch(at, time.Hour)
	if total, err := s.Total(ctx, &Order{Items: []Item{{Qty: 2, Price: 1.5}}}); err != nil || total != 3 {
		t.Errorf("Total = %v, %v", total, err)
	}
	if p, err := s.Locate(ctx, Point{Z: 1 + 2i, Z8: 3}); err != nil || p.Z != -2+1i || p.Z8 != 3i {
		t.Errorf("Locate = %v, %v", p, err)
	}

	done, stop := context.WithCancel(ctx)
	stop()
	if _, err := s.Get(done, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context: %v, want context.Canceled", err)
	}
}

// TestMeshInvokeReturnsOnlyChangedPointees calls the handlers directly: a
// pointer parameter the method only reads does not go back to the caller
// (who may share it with other goroutines), one it writes through does.
func TestMeshInvokeReturnsOnlyChangedPointees(t *testing.T) {
	method := func(name string) int {
		for i, m := range StoreMeshDesc.Methods {
			if m.Name == name {
				return i
			}
		}
		t.Fatalf("no method %s", name)
		return -1
	}
	impl := NewStore()
	ctx := context.Background()
	order := &Order{Items: []Item{{Qty: 1, Price: 2}}, Meta: map[string]string{"a": "b"}}

	out, err := StoreMeshDesc.Methods[method("Total")].Invoke(ctx, impl, &storeTotalRequest{O: order})
	if err != nil {
		t.Fatal(err)
	}
	if resp := out.(*storeTotalResponse); resp.O != nil || resp.R0 != 2 {
		t.Errorf("Total: response %+v, want no pointee back and 2", resp)
	}

	out, err = StoreMeshDesc.Methods[method("Create")].Invoke(ctx, impl, &storeCreateRequest{O: order})
	if err != nil {
		t.Fatal(err)
	}
	if resp := out.(*storeCreateResponse); resp.O == nil || resp.O.ID != 1 {
		t.Errorf("Create: response %+v, want the order back with its ID", resp)
	}
}
