package runtime

// This file holds the fast-path codec: an Encoder that appends values to a
// byte slice and a Decoder that reads them back. Generated code writes one
// marshal and one unmarshal function per type out of these primitives, so
// nothing here uses reflection.
//
// Wire format, value by value (no field names, no type tags: both sides run
// the same generated code, and the method fingerprint guards against skew):
//
//	Bool        one byte, 0 or 1
//	Int         zig-zag varint (encoding/binary's PutVarint)
//	Uint        varint (PutUvarint)
//	Float64     8 bytes, little endian IEEE 754 bits
//	Complex128  real part then imaginary part, each as Float64
//	String      Uint length, then the bytes
//	ByteSlice   Len (nil is -1), then the bytes
//	Len         Uint of n+1, so that 0 means nil (n == -1)
//	Present     one byte, 0 (nil pointer) or 1
//	Time        Int Unix seconds, Uint nanoseconds, one zone-kind byte
//	            (0 UTC, 1 Local, 2 named or fixed), then for Local the Int
//	            offset in seconds east of UTC, and for named zones the
//	            String location name and the Int offset.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// MaxDepth bounds the nesting of recursive types (a list linked through
// pointers, a tree of maps...) that Encoder and Decoder accept: generated
// code calls Enter and Leave around every value of a recursive type. It
// stops a cyclic value from recursing forever on the sending side and a
// hostile message from exhausting the stack on the receiving side. It is
// encoding/json's nesting limit.
const MaxDepth = 10000

// Encoder appends values to a byte slice. Its zero value is ready to use.
type Encoder struct {
	buf   []byte
	depth int
	err   error
}

// Bytes returns the encoded bytes. The slice aliases the encoder's buffer
// until the next Reset.
func (e *Encoder) Bytes() []byte { return e.buf }

// Reset empties the encoder, clears its error and keeps its buffer for
// reuse.
func (e *Encoder) Reset() { *e = Encoder{buf: e.buf[:0]} }

// Err reports a value that could not be encoded: one nested deeper than
// MaxDepth, most likely a cycle of pointers, slices or maps. The bytes are
// then unusable; whoever called MarshalMesh must check Err.
func (e *Encoder) Err() error { return e.err }

// Enter starts a value of a recursive type. It returns false, and the
// encoder records an error, when the value would be nested deeper than
// MaxDepth or when an error is already recorded; the caller then writes
// nothing for the value. Every Enter that returns true needs a Leave.
func (e *Encoder) Enter() bool {
	if e.err != nil {
		return false
	}
	if e.depth >= MaxDepth {
		e.err = fmt.Errorf("meshrt: encoding: values nested deeper than %d levels (a cycle of pointers, slices or maps?)", MaxDepth)
		return false
	}
	e.depth++
	return true
}

// Leave ends a value of a recursive type started by a successful Enter.
func (e *Encoder) Leave() { e.depth-- }

// Bool appends one byte, 0 or 1.
func (e *Encoder) Bool(v bool) {
	if v {
		e.buf = append(e.buf, 1)
		return
	}
	e.buf = append(e.buf, 0)
}

// Int appends v as a zig-zag varint. Every signed integer type goes through it.
func (e *Encoder) Int(v int64) { e.buf = binary.AppendVarint(e.buf, v) }

// Uint appends v as a varint. Every unsigned integer type goes through it,
// at full 64-bit precision.
func (e *Encoder) Uint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

// Float64 appends the IEEE 754 bits of v. A float32 converts to float64 and
// back exactly.
func (e *Encoder) Float64(v float64) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(v))
}

// Complex128 appends the real and the imaginary part of v.
func (e *Encoder) Complex128(v complex128) {
	e.Float64(real(v))
	e.Float64(imag(v))
}

// String appends the length of v and its bytes.
func (e *Encoder) String(v string) {
	e.Uint(uint64(len(v)))
	e.buf = append(e.buf, v...)
}

// ByteSlice appends v so that a nil slice and an empty one stay distinct.
func (e *Encoder) ByteSlice(v []byte) {
	if v == nil {
		e.Len(-1)
		return
	}
	e.Len(len(v))
	e.buf = append(e.buf, v...)
}

// Len appends the length of a slice or map; n == -1 stands for nil.
func (e *Encoder) Len(n int) { e.Uint(uint64(n + 1)) }

// Present appends whether a pointer is set: false means nil.
func (e *Encoder) Present(ok bool) { e.Bool(ok) }

// Zone kinds of an encoded time.Time.
const (
	zoneUTC   = 0
	zoneLocal = 1
	zoneNamed = 2
)

// Time appends the instant of t (Unix seconds and nanoseconds), its offset
// from UTC and the name of its location. The monotonic clock reading, which
// means nothing in another process, is dropped.
func (e *Encoder) Time(t time.Time) {
	e.Int(t.Unix())
	e.Uint(uint64(t.Nanosecond()))
	switch loc := t.Location(); loc {
	case time.UTC:
		e.buf = append(e.buf, zoneUTC)
	case time.Local:
		_, offset := t.Zone()
		e.buf = append(e.buf, zoneLocal)
		e.Int(int64(offset))
	default:
		_, offset := t.Zone()
		e.buf = append(e.buf, zoneNamed)
		e.String(loc.String())
		e.Int(int64(offset))
	}
}

// Decoder reads what an Encoder wrote. Errors are sticky: after the first
// failure every read returns a zero value and Err reports the failure, so
// generated code decodes everything and checks Err once.
type Decoder struct {
	buf   []byte
	off   int
	depth int
	err   error
}

// NewDecoder returns a decoder reading b. The decoder never retains b beyond
// its own life: strings and byte slices it returns are copies.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Reset makes d read b from the start and clears its error, so that one
// decoder can serve many messages.
func (d *Decoder) Reset(b []byte) { *d = Decoder{buf: b} }

// Err returns the first decoding failure, or nil.
func (d *Decoder) Err() error { return d.err }

// Enter starts a value of a recursive type. It returns false when the value
// would be nested deeper than MaxDepth, which is then the decoder's error,
// or when decoding already failed; the caller then reads nothing for the
// value. Every Enter that returns true needs a Leave.
func (d *Decoder) Enter() bool {
	if d.err != nil {
		return false
	}
	if d.depth >= MaxDepth {
		d.fail("nested value", fmt.Errorf("%w: nested deeper than %d levels", errMalformed, MaxDepth))
		return false
	}
	d.depth++
	return true
}

// Leave ends a value of a recursive type started by a successful Enter.
func (d *Decoder) Leave() { d.depth-- }

// errTruncated and errMalformed are wrapped by every decoding error.
var (
	errTruncated = errors.New("unexpected end of message")
	errMalformed = errors.New("malformed message")
)

// fail records the first error; later calls keep it.
func (d *Decoder) fail(what string, cause error) {
	if d.err == nil {
		d.err = fmt.Errorf("meshrt: decoding %s at byte %d of %d: %w", what, d.off, len(d.buf), cause)
	}
}

// Bool reads one byte that must be 0 or 1.
func (d *Decoder) Bool() bool {
	if d.err != nil {
		return false
	}
	if d.off >= len(d.buf) {
		d.fail("bool", errTruncated)
		return false
	}
	b := d.buf[d.off]
	if b > 1 {
		d.fail("bool", fmt.Errorf("%w: byte %d is not 0 or 1", errMalformed, b))
		return false
	}
	d.off++
	return b == 1
}

// Int reads a zig-zag varint.
func (d *Decoder) Int() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf[d.off:])
	if n <= 0 {
		d.varintFail("int", n)
		return 0
	}
	d.off += n
	return v
}

// Uint reads a varint.
func (d *Decoder) Uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		d.varintFail("uint", n)
		return 0
	}
	d.off += n
	return v
}

// varintFail reports a failed varint read; n is what encoding/binary returned.
func (d *Decoder) varintFail(what string, n int) {
	if n == 0 {
		d.fail(what, errTruncated)
		return
	}
	d.fail(what, fmt.Errorf("%w: varint overflows 64 bits", errMalformed))
}

// Float64 reads 8 bytes of IEEE 754 bits.
func (d *Decoder) Float64() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.buf)-d.off < 8 {
		d.fail("float", errTruncated)
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.buf[d.off:]))
	d.off += 8
	return v
}

// Complex128 reads a real and an imaginary part.
func (d *Decoder) Complex128() complex128 {
	re := d.Float64()
	im := d.Float64()
	return complex(re, im)
}

// String reads a length and that many bytes.
func (d *Decoder) String() string {
	n := d.Uint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.buf)-d.off) {
		d.fail("string", fmt.Errorf("%w: length %d exceeds the %d bytes left", errMalformed, n, len(d.buf)-d.off))
		return ""
	}
	s := string(d.buf[d.off : d.off+int(n)])
	d.off += int(n)
	return s
}

// ByteSlice reads a slice written by Encoder.ByteSlice; nil stays nil and
// empty stays empty.
func (d *Decoder) ByteSlice() []byte {
	n := d.Len()
	if n < 0 || d.err != nil {
		return nil
	}
	b := make([]byte, n)
	copy(b, d.buf[d.off:])
	d.off += n
	return b
}

// Len reads a slice or map length; -1 means nil. A length larger than the
// bytes left is an error (every element takes at least one byte), so a
// malformed message never makes the caller allocate more than it holds.
func (d *Decoder) Len() int {
	v := d.Uint()
	if d.err != nil {
		return -1
	}
	left := uint64(len(d.buf) - d.off)
	if v > left+1 {
		d.fail("length", fmt.Errorf("%w: length %d exceeds the %d bytes left", errMalformed, v-1, left))
		return -1
	}
	return int(v) - 1
}

// Elems reads a length like Len, for a slice or map whose elements take at
// least minSize bytes each on the wire (generated code knows it from the
// element type): a length whose elements could not fit in the bytes left is
// an error. It keeps what a malformed message makes the receiver allocate in
// proportion to the message, whatever the size of the elements in memory.
func (d *Decoder) Elems(minSize int) int {
	v := d.Uint()
	if d.err != nil {
		return -1
	}
	if v == 0 {
		return -1
	}
	left := uint64(len(d.buf) - d.off)
	if minSize < 1 {
		minSize = 1
	}
	if v-1 > left/uint64(minSize) {
		d.fail("length", fmt.Errorf("%w: %d elements of at least %d bytes exceed the %d bytes left", errMalformed, v-1, minSize, left))
		return -1
	}
	return int(v) - 1
}

// Present reads whether a pointer is set.
func (d *Decoder) Present() bool { return d.Bool() }

// Time reads a time written by Encoder.Time. UTC and Local come back as
// time.UTC and time.Local (Local only when this process's local zone has the
// same offset at that instant, else a fixed zone named "Local" with the
// sender's offset). A named zone is loaded with time.LoadLocation; when this
// machine does not know it, or knows it with another offset at that instant,
// the time gets a fixed zone of that name and the sender's offset. The
// instant and the wall clock are kept in every case.
func (d *Decoder) Time() time.Time {
	sec := d.Int()
	nsec := d.Uint()
	if d.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 {
		d.fail("time", fmt.Errorf("%w: %d nanoseconds", errMalformed, nsec))
		return time.Time{}
	}
	if d.off >= len(d.buf) {
		d.fail("time zone", errTruncated)
		return time.Time{}
	}
	kind := d.buf[d.off]
	d.off++
	t := time.Unix(sec, int64(nsec))
	switch kind {
	case zoneUTC:
		return t.UTC()
	case zoneLocal:
		offset := d.offset()
		if d.err != nil {
			return time.Time{}
		}
		if _, local := t.Zone(); local == offset {
			return t
		}
		return t.In(time.FixedZone("Local", offset))
	case zoneNamed:
		name := d.String()
		offset := d.offset()
		if d.err != nil {
			return time.Time{}
		}
		if loc := loadLocation(name); loc != nil {
			if in := t.In(loc); zoneOffset(in) == offset {
				return in
			}
		}
		return t.In(time.FixedZone(name, offset))
	default:
		d.fail("time zone", fmt.Errorf("%w: zone kind %d", errMalformed, kind))
		return time.Time{}
	}
}

// offset reads a zone offset and checks that it is within a day.
func (d *Decoder) offset() int {
	v := d.Int()
	if v <= -86400 || v >= 86400 {
		d.fail("time zone offset", fmt.Errorf("%w: offset %d s", errMalformed, v))
		return 0
	}
	return int(v)
}

// zoneOffset returns the offset of t's zone in seconds east of UTC.
func zoneOffset(t time.Time) int {
	_, offset := t.Zone()
	return offset
}

// locations memoizes time.LoadLocation, which reads the zone database from
// disk: name -> *time.Location, or nil for a name this machine does not
// know. Known names are bounded by the zone database; unknown ones, which a
// malformed or hostile message can make up at will, are remembered up to
// maxUnknownZones, after which names not seen yet are not looked up at all
// (their times get a fixed zone: same instant, offset and name). It is a
// cache, not configuration.
var (
	locations    sync.Map // string -> *time.Location (nil: unknown)
	unknownZones atomic.Int64
)

// maxUnknownZones bounds the unknown zone names remembered and looked up.
const maxUnknownZones = 1024

// loadLocation returns the named location, or nil when this machine does not
// know it. The empty name (an unnamed fixed zone) is never looked up:
// time.LoadLocation would take it for UTC.
func loadLocation(name string) *time.Location {
	if name == "" || name == "Local" {
		return nil
	}
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location)
	}
	if unknownZones.Load() >= maxUnknownZones {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		if _, loaded := locations.LoadOrStore(name, (*time.Location)(nil)); !loaded {
			unknownZones.Add(1)
		}
		return nil
	}
	actual, _ := locations.LoadOrStore(name, loc)
	return actual.(*time.Location)
}
