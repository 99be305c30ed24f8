// Package meshfill checks generated messages in the compile test of package
// gen: it fills every request and response of a service with random values
// (reflection is fine here, in a test) and round-trips them through the
// generated codec. The compile test copies it into the fixture module.
package meshfill

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
	"unsafe"

	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// RoundTrip checks, for every message of every method of descs and many
// random values, that MarshalMesh then UnmarshalMesh gives a deeply equal
// value (nil and empty slices and maps, nil pointers, zones, extreme
// integers, fields tagged json:"-" and unexported fields of the package
// included), that every truncation of the encoding is reported, and that
// corrupted encodings do not panic.
func RoundTrip(t *testing.T, descs ...*meshrt.ServiceDesc) {
	t.Helper()
	for _, desc := range descs {
		for _, m := range desc.Methods {
			for kind, newMsg := range map[string]func() meshrt.Message{"request": m.NewRequest, "response": m.NewResponse} {
				for seed := range 100 {
					roundTrip(t, desc.Name+"."+m.Name+" "+kind, newMsg, seed)
				}
			}
		}
	}
}

func roundTrip(t *testing.T, what string, newMsg func() meshrt.Message, seed int) {
	t.Helper()
	f := &filler{rng: rand.New(rand.NewPCG(uint64(seed), 7)), zones: zones(t)}
	in := newMsg()
	f.fill(reflect.ValueOf(in).Elem(), 0)
	var e meshrt.Encoder
	in.MarshalMesh(&e)
	out := newMsg()
	d := meshrt.NewDecoder(e.Bytes())
	out.UnmarshalMesh(d)
	if err := d.Err(); err != nil {
		t.Fatalf("%s, seed %d: decode: %v", what, seed, err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("%s, seed %d: round trip changed the value:\n in: %#v\nout: %#v", what, seed, in, out)
	}
	var again meshrt.Encoder
	out.MarshalMesh(&again)
	if len(again.Bytes()) != len(e.Bytes()) {
		t.Fatalf("%s, seed %d: re-encoding is %d bytes, first encoding %d", what, seed, len(again.Bytes()), len(e.Bytes()))
	}
	// Corrupted encodings decode to something or to an error, never a
	// panic nor a runaway allocation (Len and Elems bound lengths).
	for i := range min(len(e.Bytes()), 32) {
		bad := append([]byte(nil), e.Bytes()...)
		bad[f.rng.IntN(len(bad))] ^= byte(1 + i)
		newMsg().UnmarshalMesh(meshrt.NewDecoder(bad))
	}
	if seed < 10 {
		for n := range len(e.Bytes()) {
			d := meshrt.NewDecoder(e.Bytes()[:n])
			newMsg().UnmarshalMesh(d)
			if d.Err() == nil {
				t.Fatalf("%s, seed %d: decoding %d of %d bytes reported no error", what, seed, n, len(e.Bytes()))
			}
		}
	}
}

// zones are the locations times are drawn in.
func zones(t *testing.T) []*time.Location {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatalf("zone database: %v", err)
	}
	return []*time.Location{time.UTC, time.Local, paris, time.FixedZone("", -3*3600), time.FixedZone("Mars/Olympus", 5400)}
}

// filler sets values at random, with a bias to the edge cases.
type filler struct {
	rng   *rand.Rand
	zones []*time.Location
	inKey int // > 0 while filling a map key: interface values stay comparable
}

var timeType = reflect.TypeFor[time.Time]()

// maxDepth bounds recursive types: below it, slices, maps and pointers
// are nil or empty.
const maxDepth = 4

func (f *filler) fill(v reflect.Value, depth int) {
	if !v.CanSet() { // an unexported field of the fixture's package
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	if v.Type() == timeType || v.Type().ConvertibleTo(timeType) && v.Kind() == reflect.Struct {
		v.Set(reflect.ValueOf(f.time()).Convert(v.Type()))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(f.rng.IntN(2) == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		switch f.rng.IntN(4) {
		case 0:
			v.SetInt(-1 << (bits - 1))
		case 1:
			v.SetInt(1<<(bits-1) - 1)
		case 2:
			v.SetInt(0)
		default:
			v.SetInt(f.rng.Int64() >> (64 - bits))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := v.Type().Bits()
		switch f.rng.IntN(3) {
		case 0:
			v.SetUint(math.MaxUint64 >> (64 - bits))
		case 1:
			v.SetUint(0)
		default:
			v.SetUint(f.rng.Uint64() >> (64 - bits))
		}
	case reflect.Float32, reflect.Float64:
		v.SetFloat(f.float(v.Kind()))
	case reflect.Complex64, reflect.Complex128:
		v.SetComplex(complex(f.float(reflect.Float32), f.float(reflect.Float32)))
	case reflect.String:
		v.SetString([]string{"", "héllo, 世界", "x", string(rune(f.rng.IntN(0x10000)))}[f.rng.IntN(4)])
	case reflect.Pointer:
		if depth >= maxDepth || f.rng.IntN(3) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		switch n := f.length(depth); n {
		case -1:
		default:
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				f.fill(s.Index(i), depth+1)
			}
			v.Set(s)
		}
	case reflect.Map:
		switch n := f.length(depth); n {
		case -1:
		default:
			m := reflect.MakeMapWithSize(v.Type(), n)
			for range n {
				k := reflect.New(v.Type().Key()).Elem()
				f.inKey++
				f.fill(k, depth+1)
				f.inKey--
				e := reflect.New(v.Type().Elem()).Elem()
				f.fill(e, depth+1)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i), depth+1)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			// Blank fields carry nothing; those tagged meshsplit:"-" stay
			// off the wire, so they come back zero: leave them zero.
			if sf := v.Type().Field(i); sf.Name != "_" && sf.Tag.Get("meshsplit") != "-" {
				f.fill(v.Field(i), depth+1)
			}
		}
	case reflect.Interface:
		if v.NumMethod() > 0 {
			panic("meshfill: cannot fill a " + v.Type().String())
		}
		if x := f.dynamic(depth); x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		panic("meshfill: cannot fill a " + v.Type().String())
	}
}

// dynamic returns a value of one of the dynamic types the runtime carries
// in an any (the named types of the service's signatures aside): nil, the
// basic kinds, []byte, time.Time, []any and map[string]any.
func (f *filler) dynamic(depth int) any {
	kinds := []reflect.Type{
		reflect.TypeFor[bool](), reflect.TypeFor[int](), reflect.TypeFor[int8](), reflect.TypeFor[int16](),
		reflect.TypeFor[int32](), reflect.TypeFor[int64](), reflect.TypeFor[uint](), reflect.TypeFor[uint8](),
		reflect.TypeFor[uint16](), reflect.TypeFor[uint32](), reflect.TypeFor[uint64](), reflect.TypeFor[float32](),
		reflect.TypeFor[float64](), reflect.TypeFor[complex64](), reflect.TypeFor[complex128](), reflect.TypeFor[string](),
		reflect.TypeFor[[]byte](), timeType, reflect.TypeFor[[]any](), reflect.TypeFor[map[string]any](),
	}
	if f.inKey > 0 {
		kinds = kinds[:16] // the comparable ones: no []byte, time.Time (its Location pointer), []any, map
	}
	i := f.rng.IntN(len(kinds) + 1)
	if i == len(kinds) {
		return nil
	}
	x := reflect.New(kinds[i]).Elem()
	f.fill(x, depth+1)
	return x.Interface()
}

// length returns -1 (nil), 0 (empty) or a small length.
func (f *filler) length(depth int) int {
	if depth >= maxDepth {
		return []int{-1, 0}[f.rng.IntN(2)]
	}
	return f.rng.IntN(5) - 1
}

func (f *filler) float(k reflect.Kind) float64 {
	x := []float64{0, math.Inf(1), -1.5, math.SmallestNonzeroFloat64, math.MaxFloat64, f.rng.NormFloat64()}[f.rng.IntN(6)]
	if k == reflect.Float32 {
		return float64(float32(x))
	}
	return x
}

func (f *filler) time() time.Time {
	if f.rng.IntN(5) == 0 {
		return time.Time{}
	}
	sec := f.rng.Int64N(4e9) - 1e9
	return time.Unix(sec, f.rng.Int64N(1e9)).In(f.zones[f.rng.IntN(len(f.zones))])
}
