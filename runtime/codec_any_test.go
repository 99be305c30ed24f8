package runtime

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testWeight and testPair stand for the named types of a service's
// signatures.
type (
	testWeight int32
	testPair   struct {
		Name  string
		Extra any
	}
)

// testAnyTypes is the table generated code would write for them.
type testAnyTypes struct{}

func (testAnyTypes) AnyName(i int) string {
	switch i {
	case 0:
		return "example.com/x.Pair"
	case 1:
		return "example.com/x.Weight"
	}
	return ""
}

func (testAnyTypes) AnyIndex(v any) int {
	switch v.(type) {
	case testPair:
		return 0
	case testWeight:
		return 1
	}
	return -1
}

func (testAnyTypes) AnyEncode(e *Encoder, i int, v any) {
	switch i {
	case 0:
		p := v.(testPair)
		e.String(p.Name)
		e.Any("Pair.Extra", p.Extra, testAnyTypes{})
	case 1:
		e.Int(int64(v.(testWeight)))
	}
}

func (testAnyTypes) AnyDecode(d *Decoder, i int) any {
	switch i {
	case 0:
		var p testPair
		p.Name = d.String()
		p.Extra = d.Any(testAnyTypes{})
		return p
	case 1:
		return testWeight(d.Int())
	}
	return nil
}

// TestAnyRoundTrip carries every dynamic type an any may hold and requires
// each to come back deeply equal, with its dynamic type.
func TestAnyRoundTrip(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatalf("zone database: %v", err)
	}
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"bool", true},
		{"int", int(math.MinInt)},
		{"int8", int8(-128)},
		{"int16", int16(math.MaxInt16)},
		{"int32", int32(math.MinInt32)},
		{"int64", int64(math.MaxInt64)},
		{"uint", uint(math.MaxUint)},
		{"uint8", uint8(255)},
		{"uint16", uint16(65535)},
		{"uint32", uint32(math.MaxUint32)},
		{"uint64", uint64(math.MaxUint64)},
		{"float32", float32(0.1)},
		{"float64", -2.5e-300},
		{"complex64", complex64(complex(1.5, -0.1))},
		{"complex128", complex(math.Inf(1), -2)},
		{"string", "héllo"},
		{"bytes", []byte{0, 1, 255}},
		{"bytes empty", []byte{}},
		{"bytes nil", []byte(nil)},
		{"time", time.Date(2026, 3, 29, 1, 30, 0, 5, paris)},
		{"slice", []any{1, "two", 3.0, nil, []any{false}}},
		{"slice empty", []any{}},
		{"slice nil", []any(nil)},
		{"map", map[string]any{"a": 1, "b": map[string]any{"c": []byte("d")}, "n": nil}},
		{"map empty", map[string]any{}},
		{"map nil", map[string]any(nil)},
		{"named basic", testWeight(-7)},
		{"named struct", testPair{Name: "p", Extra: map[string]any{"w": testWeight(3)}}},
		{"named in slice", []any{testPair{Name: "q"}, testWeight(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Encoder
			e.Any("v", tt.v, testAnyTypes{})
			e.Bool(true) // a trailing value proves the any consumed exactly its bytes
			if err := e.Err(); err != nil {
				t.Fatalf("encode: %v", err)
			}
			d := NewDecoder(e.Bytes())
			got := d.Any(testAnyTypes{})
			if !d.Bool() {
				t.Errorf("trailing marker lost")
			}
			if err := d.Err(); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.v) {
				t.Fatalf("got %#v (%T), want %#v (%T)", got, got, tt.v, tt.v)
			}
		})
	}
}

// TestAnyUnsupported requires a dynamic type the codec does not carry to
// fail the encoding, naming the path and the type.
func TestAnyUnsupported(t *testing.T) {
	n := 3
	tests := []struct {
		name     string
		v        any
		key      string // AnyKey's key, when set
		table    AnyTypes
		wantPath string
		wantType string
	}{
		{name: "pointer", v: &n, table: testAnyTypes{}, wantPath: "Shipment.Extras", wantType: "*int"},
		{name: "func", v: func() {}, table: testAnyTypes{}, wantPath: "Shipment.Extras", wantType: "func()"},
		{name: "string slice", v: []string{"a"}, table: testAnyTypes{}, wantPath: "Shipment.Extras", wantType: "[]string"},
		{name: "uintptr", v: uintptr(1), table: testAnyTypes{}, wantPath: "Shipment.Extras", wantType: "uintptr"},
		{name: "map key", key: "hook", v: make(chan int), table: testAnyTypes{}, wantPath: `Shipment.Extras["hook"]`, wantType: "chan int"},
		{name: "nested", v: []any{1, map[string]any{"k": []any{nil, struct{}{}}}}, table: testAnyTypes{}, wantPath: `Shipment.Extras[1]["k"][1]`, wantType: "struct {}"},
		{name: "named type without a table", v: testWeight(1), wantPath: "Shipment.Extras", wantType: "runtime.testWeight"},
		{name: "inside a named value", v: testPair{Extra: errors.New("x")}, table: testAnyTypes{}, wantPath: "Pair.Extra", wantType: "*errors.errorString"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Encoder
			if tt.key != "" {
				e.AnyKey("Shipment.Extras", tt.key, tt.v, tt.table)
			} else {
				e.Any("Shipment.Extras", tt.v, tt.table)
			}
			err := e.Err()
			if !errors.Is(err, ErrAnyType) {
				t.Fatalf("err = %v, want ErrAnyType", err)
			}
			want := "encoding " + tt.wantPath + ": " + ErrAnyType.Error() + ": " + tt.wantType + ";"
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want it to contain %q", err, want)
			}
			if tt.table != nil && !strings.Contains(err.Error(), "example.com/x.Weight") {
				t.Errorf("err = %v, want it to list the table's types", err)
			}
			e.Any("next", 1, tt.table) // sticky: the first error stays
			if e.Err() != err {
				t.Errorf("error changed to %v", e.Err())
			}
		})
	}
}

// TestAnyDecoderErrors feeds the any decoder malformed and unknown values.
func TestAnyDecoderErrors(t *testing.T) {
	named := func(name string) []byte {
		return binaryOf(func(e *Encoder) { e.buf = append(e.buf, anyNamed); e.String(name); e.Int(1) })
	}
	tests := []struct {
		name    string
		input   []byte
		table   AnyTypes
		wantErr string
	}{
		{"empty", nil, testAnyTypes{}, "unexpected end"},
		{"bad tag", []byte{anyNamed + 1}, testAnyTypes{}, "type tag 22"},
		{"int8 out of range", binaryOf(func(e *Encoder) { e.buf = append(e.buf, anyInt8); e.Int(200) }), testAnyTypes{}, "out of its type's range"},
		{"uint16 out of range", binaryOf(func(e *Encoder) { e.buf = append(e.buf, anyUint16); e.Uint(1 << 16) }), testAnyTypes{}, "out of its type's range"},
		{"bad bool", []byte{anyBool, 7}, testAnyTypes{}, "not 0 or 1"},
		{"truncated string", []byte{anyString, 5, 'a'}, testAnyTypes{}, "exceeds"},
		{"huge slice", []byte{anySlice, 0xff, 0x01}, testAnyTypes{}, "exceeds"},
		{"huge map", []byte{anyMap, 4, 0, 0, 0}, testAnyTypes{}, "exceed"},
		{"truncated slice element", []byte{anySlice, 2, anyFloat64, 0}, testAnyTypes{}, "unexpected end"},
		{"unknown named type", named("example.com/x.Other"), testAnyTypes{}, `type "example.com/x.Other"`},
		{"named type without a table", named("example.com/x.Weight"), nil, `type "example.com/x.Weight"`},
		{"huge type name", []byte{anyNamed, 0x7f}, testAnyTypes{}, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(tt.input)
			v := d.Any(tt.table)
			err := d.Err()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if v != nil {
				t.Errorf("decoded %#v from a malformed message, want nil", v)
			}
			if d.Any(tt.table) != nil || d.Err() != err {
				t.Fatalf("read after failure: error changed from %v to %v", err, d.Err())
			}
		})
	}
}

// TestAnyDepthLimit nests []any one level past MaxDepth: the encoder
// refuses it, and the decoder refuses a message that does it.
func TestAnyDepthLimit(t *testing.T) {
	tests := []struct {
		name   string
		levels int
		ok     bool
	}{
		{"at the limit", MaxDepth, true},
		{"one too deep", MaxDepth + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			for range tt.levels {
				v = []any{v}
			}
			var e Encoder
			e.Any("v", v, nil)
			if (e.Err() == nil) != tt.ok {
				t.Fatalf("encoder error %v, want ok=%v", e.Err(), tt.ok)
			}
			msg := append(bytes.Repeat([]byte{anySlice, 2}, tt.levels), anyNil)
			d := NewDecoder(msg)
			got := d.Any(nil)
			if (d.Err() == nil) != tt.ok {
				t.Fatalf("decoder error %v, want ok=%v", d.Err(), tt.ok)
			}
			if tt.ok && !reflect.DeepEqual(got, v) {
				t.Fatal("the nested value did not come back equal")
			}
		})
	}
}

// TestAnyScalarsDoNotAllocate checks that encoding the scalar kinds an any
// carries allocates nothing beyond the encoder's buffer.
func TestAnyScalarsDoNotAllocate(t *testing.T) {
	var e Encoder
	vals := []any{nil, true, 1, int64(2), uint8(3), 4.5, "six", testWeight(7)}
	for _, v := range vals {
		e.Any("v", v, testAnyTypes{}) // grow the buffer
	}
	allocs := testing.AllocsPerRun(100, func() {
		e.Reset()
		for _, v := range vals {
			e.Any("v", v, testAnyTypes{})
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

// TestDecoderMapKey checks the guard generated code puts before storing a
// decoded map key that holds an interface value.
func TestDecoderMapKey(t *testing.T) {
	type key struct {
		Kind string
		ID   any
	}
	tests := []struct {
		name string
		k    any
		ok   bool
	}{
		{"nil", nil, true},
		{"string", "a", true},
		{"NaN", math.NaN(), true},
		{"struct with a comparable any", key{"a", int8(1)}, true},
		{"slice", []any{1}, false},
		{"map", map[string]any{}, false},
		{"bytes", []byte("x"), false},
		{"struct holding a slice", key{"a", []any{}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(nil)
			if got := d.MapKey(tt.k); got != tt.ok {
				t.Fatalf("MapKey(%#v) = %v, want %v", tt.k, got, tt.ok)
			}
			if err := d.Err(); (err == nil) != tt.ok || !tt.ok && !strings.Contains(err.Error(), "not comparable") {
				t.Fatalf("decoder error %v, want one only for an uncomparable key", err)
			}
		})
	}
}

// benchExtras is what an integration attaches to a record: the shape
// encoding/json gives a JSON object, which is how such maps are filled.
var benchExtras = map[string]any{
	"carrier_ref": "DX-991",
	"pallets":     3.0,
	"fragile":     true,
	"customs":     map[string]any{"hs_code": "8471.30", "declared_eur": 1250.5},
	"docs":        []any{"invoice", "cmr"},
}

// benchTyped is the same data in a struct, as a typed field would carry it.
type benchTyped struct {
	CarrierRef  string
	Pallets     float64
	Fragile     bool
	HSCode      string
	DeclaredEUR float64
	Docs        []string
}

func (b *benchTyped) encode(e *Encoder) {
	e.String(b.CarrierRef)
	e.Float64(b.Pallets)
	e.Bool(b.Fragile)
	e.String(b.HSCode)
	e.Float64(b.DeclaredEUR)
	e.Len(len(b.Docs))
	for _, d := range b.Docs {
		e.String(d)
	}
}

func (b *benchTyped) decode(d *Decoder) {
	b.CarrierRef = d.String()
	b.Pallets = d.Float64()
	b.Fragile = d.Bool()
	b.HSCode = d.String()
	b.DeclaredEUR = d.Float64()
	if n := d.Len(); n >= 0 {
		b.Docs = make([]string, n)
		for i := range b.Docs {
			b.Docs[i] = d.String()
		}
	}
}

var benchTypedValue = benchTyped{"DX-991", 3, true, "8471.30", 1250.5, []string{"invoice", "cmr"}}

// BenchmarkAnyExtras encodes and decodes benchExtras as an any, and the
// same data as a typed struct: the ratio is the price of the type tags,
// keys and boxing of a loosely typed field.
func BenchmarkAnyExtras(b *testing.B) {
	b.Run("encode/any", func(b *testing.B) {
		var e Encoder
		b.ReportAllocs()
		for b.Loop() {
			e.Reset()
			e.Any("extras", benchExtras, nil)
		}
		b.SetBytes(int64(len(e.Bytes())))
	})
	b.Run("encode/typed", func(b *testing.B) {
		var e Encoder
		b.ReportAllocs()
		for b.Loop() {
			e.Reset()
			benchTypedValue.encode(&e)
		}
		b.SetBytes(int64(len(e.Bytes())))
	})
	var anyMsg, typedMsg Encoder
	anyMsg.Any("extras", benchExtras, nil)
	benchTypedValue.encode(&typedMsg)
	b.Run("decode/any", func(b *testing.B) {
		var d Decoder
		b.ReportAllocs()
		b.SetBytes(int64(len(anyMsg.Bytes())))
		for b.Loop() {
			d.Reset(anyMsg.Bytes())
			if d.Any(nil) == nil || d.Err() != nil {
				b.Fatal(d.Err())
			}
		}
	})
	b.Run("decode/typed", func(b *testing.B) {
		var d Decoder
		b.ReportAllocs()
		b.SetBytes(int64(len(typedMsg.Bytes())))
		for b.Loop() {
			d.Reset(typedMsg.Bytes())
			var v benchTyped
			v.decode(&d)
			if d.Err() != nil {
				b.Fatal(d.Err())
			}
		}
	})
}
