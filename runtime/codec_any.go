package runtime

// This file holds the codec of interface values (any, interface{}): a type
// tag byte, then the value. See docs/protocol.md, "any values".
//
//	0 nil           no value follows
//	1 bool          Bool
//	2-6             int, int8, int16, int32, int64: Int
//	7-11            uint, uint8, uint16, uint32, uint64: Uint
//	12, 13          float32, float64: Float64
//	14, 15          complex64, complex128: Complex128
//	16 string       String
//	17 []byte       ByteSlice (nil stays nil)
//	18 time.Time    Time
//	19 []any        Len (nil is -1), then each element as an any
//	20 map[string]any  Len (nil is -1), then String key and any value per entry
//	21 named type   String full type name ("example.com/fleet.Weight"),
//	                then the value as the generated code encodes that type
//
// Only these dynamic types are carried; every other one (a pointer, a
// []string, a type the service's signatures do not mention...) fails the
// encoding with ErrAnyType, naming the value's path and type: a value is
// never dropped nor converted.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Type tags of the values an any carries.
const (
	anyNil byte = iota
	anyBool
	anyInt
	anyInt8
	anyInt16
	anyInt32
	anyInt64
	anyUint
	anyUint8
	anyUint16
	anyUint32
	anyUint64
	anyFloat32
	anyFloat64
	anyComplex64
	anyComplex128
	anyString
	anyBytes
	anyTime
	anySlice
	anyMap
	anyNamed
)

// ErrAnyType means an interface value (any) held a dynamic type that the
// codec does not carry. The encoder's error wraps it, naming the value's
// path and type.
var ErrAnyType = errors.New("dynamic type not carried in an any")

// AnyTypes is the table of named types that an interface value may hold
// beyond the built-in ones: the named types of one service's signatures.
// Generated code implements it with methods on an empty struct type (so
// that passing it allocates nothing) and passes it to Encoder.Any and
// Decoder.Any; a nil AnyTypes carries the built-in types only. Its types
// are numbered from 0; the wire carries their names.
type AnyTypes interface {
	// AnyName returns the full name of type i ("example.com/fleet.Weight",
	// "example.com/fleet.Page[example.com/fleet.Item]"), or "" when there
	// is no type i.
	AnyName(i int) string
	// AnyIndex returns the number of v's dynamic type, or -1.
	AnyIndex(v any) int
	// AnyEncode writes v, whose dynamic type is type i.
	AnyEncode(e *Encoder, i int, v any)
	// AnyDecode reads a value of type i.
	AnyDecode(d *Decoder, i int) any
}

// anyNames returns the names of t's types.
func anyNames(t AnyTypes) []string {
	var names []string
	if t == nil {
		return nil
	}
	for i := 0; ; i++ {
		n := t.AnyName(i)
		if n == "" {
			return names
		}
		names = append(names, n)
	}
}

// anyFailure is a dynamic type the encoder met and does not carry: the
// value and its path below the any, innermost segment first.
type anyFailure struct {
	v    any
	path []string
}

// Any appends v, the interface value at path (the field path generated
// code names in errors: "Shipment.Extras"), with a type tag. Its dynamic
// type must be one of the built-in types (see the file comment) or one of
// t's; otherwise the encoder records an error wrapping ErrAnyType that
// names the path, extended into nested []any and map[string]any values,
// and the type.
func (e *Encoder) Any(path string, v any, t AnyTypes) {
	if e.err != nil {
		return
	}
	if f := e.anyValue(v, t); f != nil {
		e.anyFail(path, f, t)
	}
}

// AnyKey appends v like Any, for the value at key of a map with string
// keys at path: an error names path[key].
func (e *Encoder) AnyKey(path, key string, v any, t AnyTypes) {
	if e.err != nil {
		return
	}
	if f := e.anyValue(v, t); f != nil {
		e.anyFail(path+"["+strconv.Quote(key)+"]", f, t)
	}
}

// anyFail records the encoder's error for f, met below path.
func (e *Encoder) anyFail(path string, f *anyFailure, t AnyTypes) {
	var b strings.Builder
	b.WriteString(path)
	for i := len(f.path) - 1; i >= 0; i-- {
		b.WriteString(f.path[i])
	}
	carried := "nil, bool, the int, uint, float and complex kinds (not uintptr), string, []byte, time.Time, []any and map[string]any"
	if names := anyNames(t); len(names) > 0 {
		carried += ", and the named types of the service's signatures: " + strings.Join(names, ", ")
	}
	e.err = fmt.Errorf("meshrt: encoding %s: %w: %T; an any carries %s (a struct field tagged `meshsplit:\"-\"` stays off the wire)", b.String(), ErrAnyType, f.v, carried)
}

// anyValue appends v with its tag, or returns the value it cannot carry.
// A failure of Enter (values nested too deep) is the encoder's error and
// returns nil.
func (e *Encoder) anyValue(v any, t AnyTypes) *anyFailure {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, anyNil)
	case bool:
		e.buf = append(e.buf, anyBool)
		e.Bool(x)
	case int:
		e.buf = append(e.buf, anyInt)
		e.Int(int64(x))
	case int8:
		e.buf = append(e.buf, anyInt8)
		e.Int(int64(x))
	case int16:
		e.buf = append(e.buf, anyInt16)
		e.Int(int64(x))
	case int32:
		e.buf = append(e.buf, anyInt32)
		e.Int(int64(x))
	case int64:
		e.buf = append(e.buf, anyInt64)
		e.Int(x)
	case uint:
		e.buf = append(e.buf, anyUint)
		e.Uint(uint64(x))
	case uint8:
		e.buf = append(e.buf, anyUint8)
		e.Uint(uint64(x))
	case uint16:
		e.buf = append(e.buf, anyUint16)
		e.Uint(uint64(x))
	case uint32:
		e.buf = append(e.buf, anyUint32)
		e.Uint(uint64(x))
	case uint64:
		e.buf = append(e.buf, anyUint64)
		e.Uint(x)
	case float32:
		e.buf = append(e.buf, anyFloat32)
		e.Float64(float64(x))
	case float64:
		e.buf = append(e.buf, anyFloat64)
		e.Float64(x)
	case complex64:
		e.buf = append(e.buf, anyComplex64)
		e.Complex128(complex128(x))
	case complex128:
		e.buf = append(e.buf, anyComplex128)
		e.Complex128(x)
	case string:
		e.buf = append(e.buf, anyString)
		e.String(x)
	case []byte:
		e.buf = append(e.buf, anyBytes)
		e.ByteSlice(x)
	case time.Time:
		e.buf = append(e.buf, anyTime)
		e.Time(x)
	case []any:
		return e.anySlice(x, t)
	case map[string]any:
		return e.anyMap(x, t)
	default:
		i := -1
		if t != nil {
			i = t.AnyIndex(v)
		}
		if i < 0 {
			return &anyFailure{v: v}
		}
		if !e.Enter() {
			return nil
		}
		e.buf = append(e.buf, anyNamed)
		e.String(t.AnyName(i))
		t.AnyEncode(e, i, v)
		e.Leave()
	}
	return nil
}

// anySlice appends a []any.
func (e *Encoder) anySlice(s []any, t AnyTypes) *anyFailure {
	if !e.Enter() {
		return nil
	}
	defer e.Leave()
	e.buf = append(e.buf, anySlice)
	if s == nil {
		e.Len(-1)
		return nil
	}
	e.Len(len(s))
	for i, x := range s {
		if f := e.anyValue(x, t); f != nil {
			f.path = append(f.path, "["+strconv.Itoa(i)+"]")
			return f
		}
		if e.err != nil {
			return nil
		}
	}
	return nil
}

// anyMap appends a map[string]any, in the map's iteration order.
func (e *Encoder) anyMap(m map[string]any, t AnyTypes) *anyFailure {
	if !e.Enter() {
		return nil
	}
	defer e.Leave()
	e.buf = append(e.buf, anyMap)
	if m == nil {
		e.Len(-1)
		return nil
	}
	e.Len(len(m))
	for k, x := range m {
		e.String(k)
		if f := e.anyValue(x, t); f != nil {
			f.path = append(f.path, "["+strconv.Quote(k)+"]")
			return f
		}
		if e.err != nil {
			return nil
		}
	}
	return nil
}

// Any reads an interface value written by Encoder.Any or AnyKey, with the
// same table t. Each value comes back with the dynamic type it was sent
// with (nil as nil, a nil []byte, []any or map[string]any as a nil of its
// type). A tag or a type name this side does not know, or an integer out
// of its type's range, is an error.
func (d *Decoder) Any(t AnyTypes) any {
	v := d.anyValue(t)
	if d.err != nil {
		return nil
	}
	return v
}

// anyValue reads a type tag and a value of that type.
func (d *Decoder) anyValue(t AnyTypes) any {
	if d.err != nil {
		return nil
	}
	if d.off >= len(d.buf) {
		d.fail("any", errTruncated)
		return nil
	}
	tag := d.buf[d.off]
	d.off++
	switch tag {
	case anyNil:
		return nil
	case anyBool:
		return d.Bool()
	case anyInt:
		return int(d.intIn(math.MinInt, math.MaxInt))
	case anyInt8:
		return int8(d.intIn(math.MinInt8, math.MaxInt8))
	case anyInt16:
		return int16(d.intIn(math.MinInt16, math.MaxInt16))
	case anyInt32:
		return int32(d.intIn(math.MinInt32, math.MaxInt32))
	case anyInt64:
		return d.Int()
	case anyUint:
		return uint(d.uintIn(math.MaxUint))
	case anyUint8:
		return uint8(d.uintIn(math.MaxUint8))
	case anyUint16:
		return uint16(d.uintIn(math.MaxUint16))
	case anyUint32:
		return uint32(d.uintIn(math.MaxUint32))
	case anyUint64:
		return d.Uint()
	case anyFloat32:
		return float32(d.Float64())
	case anyFloat64:
		return d.Float64()
	case anyComplex64:
		return complex64(d.Complex128())
	case anyComplex128:
		return d.Complex128()
	case anyString:
		return d.String()
	case anyBytes:
		return d.ByteSlice()
	case anyTime:
		return d.Time()
	case anySlice:
		return d.anySlice(t)
	case anyMap:
		return d.anyMap(t)
	case anyNamed:
		return d.anyNamed(t)
	}
	d.off--
	d.fail("any", fmt.Errorf("%w: type tag %d", errMalformed, tag))
	return nil
}

// MapKey checks k, a map key just decoded whose type is or holds an
// interface value: a key whose dynamic value is not comparable (a []any, a
// map[string]any, a []byte, a struct holding one) would make storing it
// panic. It returns false for such a key, which is then the decoder's
// error (no sender can have put it in a map), or when decoding failed.
func (d *Decoder) MapKey(k any) bool {
	if d.err != nil {
		return false
	}
	if !isComparable(k) {
		d.fail("map key", fmt.Errorf("%w: a key of type %T holding an interface value that is not comparable", errMalformed, k))
		return false
	}
	return true
}

// isComparable reports whether v == v runs without panicking: whether v's
// dynamic value, interface values inside included, is comparable.
func isComparable(v any) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_ = v == v
	return true
}

// intIn reads an Int and checks that it lies in [lo, hi].
func (d *Decoder) intIn(lo, hi int64) int64 {
	v := d.Int()
	if v < lo || v > hi {
		d.fail("any", fmt.Errorf("%w: integer %d out of its type's range", errMalformed, v))
		return 0
	}
	return v
}

// uintIn reads a Uint and checks that it is at most hi.
func (d *Decoder) uintIn(hi uint64) uint64 {
	v := d.Uint()
	if v > hi {
		d.fail("any", fmt.Errorf("%w: integer %d out of its type's range", errMalformed, v))
		return 0
	}
	return v
}

// anySlice reads a []any; every element takes at least its tag byte.
func (d *Decoder) anySlice(t AnyTypes) any {
	if !d.Enter() {
		return nil
	}
	defer d.Leave()
	n := d.Len()
	if d.err != nil {
		return nil
	}
	if n < 0 {
		return []any(nil)
	}
	s := make([]any, n)
	for i := range s {
		s[i] = d.Any(t)
	}
	if d.err != nil {
		return nil
	}
	return s
}

// anyMap reads a map[string]any; every entry takes at least two bytes (the
// key's length and the value's tag).
func (d *Decoder) anyMap(t AnyTypes) any {
	if !d.Enter() {
		return nil
	}
	defer d.Leave()
	n := d.Elems(2)
	if d.err != nil {
		return nil
	}
	if n < 0 {
		return map[string]any(nil)
	}
	m := make(map[string]any, n)
	for range n {
		k := d.String()
		m[k] = d.Any(t)
	}
	if d.err != nil {
		return nil
	}
	return m
}

// anyNamed reads a type name and a value of that type from t's table.
func (d *Decoder) anyNamed(t AnyTypes) any {
	n := d.Uint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.buf)-d.off) {
		d.fail("any type name", fmt.Errorf("%w: length %d exceeds the %d bytes left", errMalformed, n, len(d.buf)-d.off))
		return nil
	}
	name := d.buf[d.off : d.off+int(n)]
	i := -1
	for j := 0; t != nil; j++ {
		known := t.AnyName(j)
		if known == "" {
			break
		}
		if known == string(name) {
			i = j
			break
		}
	}
	if i < 0 {
		d.fail("any", fmt.Errorf("%w: a value of type %q, which this side does not carry in an any (built from another version of the service?)", errMalformed, name))
		return nil
	}
	d.off += int(n)
	if !d.Enter() {
		return nil
	}
	defer d.Leave()
	v := t.AnyDecode(d, i)
	if d.err != nil {
		return nil
	}
	return v
}
