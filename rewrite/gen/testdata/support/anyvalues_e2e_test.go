package anyvalues

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// TestMeshAnyEndToEnd calls the in-memory Catalog through the generated
// client over the runtime's loopback node (real TCP on 127.0.0.1 and
// yamux): every dynamic type an any carries comes back deeply equal, with
// its type; any other fails the call naming the path and the type; fields
// tagged meshsplit:"-" arrive zero. The compile test of package gen copies
// this file into the fixture.
func TestMeshAnyEndToEnd(t *testing.T) {
	t.Setenv("MESHRPC_REMOTE", "anyvalues.Catalog")
	t.Setenv("MESHRPC_LOOPBACK", "1")
	c, ok := meshCatalog(NewCatalog)
	if !ok {
		t.Fatal("meshCatalog did not select the remote client")
	}
	if _, isClient := c.(*CatalogMeshClient); !isClient {
		t.Fatalf("meshCatalog returned a %T", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 18, 0, 0, 5, paris)

	values := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"bool", true},
		{"int", math.MinInt},
		{"int8", int8(math.MinInt8)},
		{"int16", int16(math.MaxInt16)},
		{"int32", int32(-5)},
		{"int64", int64(math.MaxInt64)},
		{"uint", uint(math.MaxUint)},
		{"uint8", uint8(200)},
		{"uint16", uint16(math.MaxUint16)},
		{"uint32", uint32(7)},
		{"uint64", uint64(math.MaxUint64)},
		{"float32", float32(0.1)},
		{"float64", math.Inf(-1)},
		{"complex64", complex64(complex(1, -2))},
		{"complex128", complex(0.5, math.MaxFloat64)},
		{"string", "héllo"},
		{"bytes", []byte{0, 255}},
		{"bytes nil", []byte(nil)},
		{"time", at},
		{"slice", []any{1, "two", nil, []any{3.5}}},
		{"slice nil", []any(nil)},
		{"map", map[string]any{"a": int8(1), "b": map[string]any{"c": []byte("d")}}},
		{"map nil", map[string]any(nil)},
		{"named basic", Weight(42)},
		{"named string", Label("l")},
		{"defined as time", Stamp(at)},
		{"named struct", Record{Name: "r", Extras: map[string]any{"w": Weight(1)}, Attrs: []any{Label("x")}, Pair: [2]Value{Stamp(at), nil},
			Links: map[Ref]bool{{Kind: "order", ID: int64(7)}: true, {Kind: "sku", ID: Label("A-1")}: false, {Kind: "none"}: true}}},
		{"named in a map", map[string]any{"r": Record{Name: "deep", Inner: &Record{Name: "inner"}}}},
	}
	for _, tt := range values {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Echo(ctx, tt.v)
			if err != nil {
				t.Fatalf("Echo(%#v): %v", tt.v, err)
			}
			if !reflect.DeepEqual(got, tt.v) {
				t.Fatalf("Echo(%#v) = %#v (%T), want %T", tt.v, got, got, tt.v)
			}
		})
	}

	n := 3
	unsupported := []struct {
		name     string
		call     func() error
		wantPath string
		wantType string
	}{
		{"pointer parameter", func() error { _, err := c.Echo(ctx, &n); return err }, "encoding v:", "*int"},
		{"string slice", func() error { _, err := c.Echo(ctx, []string{"a"}); return err }, "encoding v:", "[]string"},
		{"pointer to a named type", func() error { _, err := c.Echo(ctx, &Record{}); return err }, "encoding v:", "*anyvalues.Record"},
		{"callback in a field", func() error {
			_, err := c.Put(ctx, Record{Name: "r", Extras: map[string]any{"hook": func() {}}})
			return err
		}, `encoding anyvalues.Record.Extras["hook"]:`, "func()"},
		{"nested", func() error {
			return c.Tag(ctx, "k", []any{map[string]any{"ch": make(chan int)}})
		}, `encoding v[0]["ch"]:`, "chan int"},
	}
	for _, tt := range unsupported {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ce *meshrt.CallError
			if !errors.As(err, &ce) || !errors.Is(err, meshrt.ErrAnyType) {
				t.Fatalf("err = %v, want a CallError wrapping ErrAnyType", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.wantPath) || !strings.Contains(msg, ": "+tt.wantType+";") {
				t.Fatalf("err = %v, want it to name %s and %s", err, tt.wantPath, tt.wantType)
			}
		})
	}

	// Fields tagged meshsplit:"-" stay on the caller's side: the server
	// stored the record without them, and returns it so.
	if _, err := c.Put(ctx, Record{Name: "kept", Log: os.Stderr, Cache: 9, Extras: map[string]any{"n": 1}}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	old, err := c.Put(ctx, Record{Name: "kept"})
	if err != nil || old == nil {
		t.Fatalf("Put again = %v, %v", old, err)
	}
	if old.Log != nil || old.Cache != 0 || !reflect.DeepEqual(old.Extras, map[string]any{"n": 1}) {
		t.Errorf("stored record = %+v, want Log and Cache zero and Extras kept", old)
	}
	if w, err := c.Weigh(ctx, []string{"kept"}, Stamp(at)); err != nil || w["kept"] != 0 {
		t.Errorf("Weigh = %v, %v", w, err)
	}
}

// leaky returns values its results cannot carry.
type leaky struct{ *Memory }

// Echo returns a pointer, which no any carries.
func (leaky) Echo(context.Context, any) (any, error) { return new(int), nil }

// TestMeshAnyResultRefused checks the server side: a result holding a
// dynamic type the codec does not carry fails the call with an error that
// names the path and the type; the value is neither dropped nor converted.
func TestMeshAnyResultRefused(t *testing.T) {
	t.Setenv("MESHRPC_REMOTE", "anyvalues.Catalog")
	t.Setenv("MESHRPC_LOOPBACK", "1")
	c, ok := meshCatalog(func() Catalog { return leaky{NewMemory()} })
	if !ok {
		t.Fatal("meshCatalog did not select the remote client")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := c.Echo(ctx, 1)
	if err == nil || got != nil {
		t.Fatalf("Echo = %#v, %v, want an error", got, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "encoding r0:") || !strings.Contains(msg, "*int") {
		t.Fatalf("err = %v, want it to name the result r0 and *int", err)
	}
}

// TestMeshAnyJSONPath calls Echo through the HTTP (JSON) path of a node on
// 127.0.0.1 and through the generated client on the same node: the JSON
// path carries an any as encoding/json does (numbers come back float64),
// the mesh codec with its dynamic type.
func TestMeshAnyJSONPath(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := func(listen string) *meshrt.Node {
		cfg := meshrt.DefaultConfig()
		cfg.Listen = listen
		n, err := meshrt.NewNode(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			n.Close(ctx)
		})
		return n
	}
	srv := start("127.0.0.1:0")
	if err := srv.Publish(&CatalogMeshDesc, NewMemory()); err != nil {
		t.Fatal(err)
	}
	caller := start("")
	if err := caller.Join(ctx, srv.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := caller.Wait(ctx, CatalogMeshDesc.Name); err != nil {
		t.Fatal(err)
	}

	hc := &http.Client{Transport: caller.Transport()}
	body := `{"v":{"n":3,"list":[1,"a",null],"ok":true}}`
	req, err := http.NewRequestWithContext(ctx, "POST", "http://mesh/"+CatalogMeshDesc.Name+"/Echo", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ R0 any }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("JSON Echo: status %d, %v", resp.StatusCode, err)
	}
	want := map[string]any{"n": 3.0, "list": []any{1.0, "a", nil}, "ok": true}
	if !reflect.DeepEqual(out.R0, want) {
		t.Fatalf("JSON Echo = %#v, want %#v", out.R0, want)
	}

	c := NewCatalogMeshClient(caller.Client(&CatalogMeshDesc))
	got, err := c.Echo(ctx, map[string]any{"n": 3, "w": Weight(2)})
	if err != nil || !reflect.DeepEqual(got, map[string]any{"n": 3, "w": Weight(2)}) {
		t.Fatalf("mesh Echo = %#v, %v: want the int and the Weight back as they were", got, err)
	}
}
