package runtime

import (
	"bytes"
	"slices"
	"testing"
	"time"
)

// FuzzDecoder reads arbitrary bytes as a sequence of (op code, value) pairs:
// the op code picks which primitive comes next. Whatever the input, decoding
// must not panic nor allocate beyond the input's size, and what it decoded
// must re-encode to a canonical form that decodes and re-encodes to itself.
// The seed corpus is in testdata/fuzz/FuzzDecoder.
func FuzzDecoder(f *testing.F) {
	f.Add(reencode(decodeOps(NewDecoder(sampleOps()))))
	f.Add([]byte{})
	f.Add([]byte{5, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, in []byte) {
		ops := decodeOps(NewDecoder(in))
		first := reencode(ops)
		d := NewDecoder(first)
		again := decodeOps(d)
		if err := d.Err(); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if len(again) != len(ops) {
			t.Fatalf("decoded %d values, then %d", len(ops), len(again))
		}
		if second := reencode(again); !bytes.Equal(first, second) {
			t.Fatalf("not canonical:\n%x\n%x", first, second)
		}
	})
}

// fuzzOp is one decoded value and the op code that read it.
type fuzzOp struct {
	code uint64
	val  any
}

// Op codes of the fuzz message format.
const (
	opBool = iota
	opInt
	opUint
	opFloat
	opComplex
	opString
	opBytes
	opTime
	opLen
	opPresent
	opAny
	opCount
)

// decodeOps reads op codes and values until the input ends or fails.
func decodeOps(d *Decoder) []fuzzOp {
	var ops []fuzzOp
	for d.Err() == nil && d.off < len(d.buf) {
		code := d.Uint() % opCount
		var v any
		switch code {
		case opBool:
			v = d.Bool()
		case opInt:
			v = d.Int()
		case opUint:
			v = d.Uint()
		case opFloat:
			v = d.Float64()
		case opComplex:
			v = d.Complex128()
		case opString:
			v = d.String()
		case opBytes:
			v = d.ByteSlice()
		case opTime:
			v = d.Time()
		case opLen: // a []uint64, as generated code reads a slice
			n := d.Len()
			if n > len(d.buf)-d.off {
				panic("Len returned more than the bytes left")
			}
			var s []uint64
			if n >= 0 {
				s = make([]uint64, n)
			}
			for i := range s {
				s[i] = d.Uint()
			}
			v = s
		case opPresent:
			v = d.Present()
		case opAny:
			v = anyOp{d.Any(testAnyTypes{})}
		}
		if d.Err() == nil {
			ops = append(ops, fuzzOp{code, v})
		}
	}
	return ops
}

// reencode writes ops back in the fuzz message format.
func reencode(ops []fuzzOp) []byte {
	var e Encoder
	for _, op := range ops {
		e.Uint(op.code)
		switch v := op.val.(type) {
		case bool:
			e.Bool(v)
		case int64:
			e.Int(v)
		case uint64:
			e.Uint(v)
		case float64:
			e.Float64(v)
		case complex128:
			e.Complex128(v)
		case string:
			e.String(v)
		case []byte:
			e.ByteSlice(v)
		case time.Time:
			e.Time(v)
		case anyOp:
			encodeAnySorted(&e, v.v)
		case []uint64:
			if v == nil {
				e.Len(-1)
			} else {
				e.Len(len(v))
			}
			for _, u := range v {
				e.Uint(u)
			}
		}
	}
	return e.Bytes()
}

// sampleOps is a message with one value of each op.
func sampleOps() []byte {
	var e Encoder
	e.Uint(opBool)
	e.Bool(true)
	e.Uint(opInt)
	e.Int(-7)
	e.Uint(opUint)
	e.Uint(1<<64 - 1)
	e.Uint(opFloat)
	e.Float64(0.5)
	e.Uint(opComplex)
	e.Complex128(1 + 2i)
	e.Uint(opString)
	e.String("s")
	e.Uint(opBytes)
	e.ByteSlice(nil)
	e.Uint(opTime)
	e.Time(time.Date(2026, 7, 1, 12, 0, 0, 0, time.FixedZone("Europe/Paris", 7200)))
	e.Uint(opTime)
	e.Time(time.Date(2026, 7, 1, 12, 0, 0, 0, time.FixedZone("Europe/Paris", 3600)))
	e.Uint(opLen)
	e.Len(-1)
	e.Uint(opPresent)
	e.Present(false)
	e.Uint(opAny)
	e.Any("v", nil, testAnyTypes{})
	e.Uint(opAny)
	e.Any("v", []any{int8(-1), uint(7), float32(0.5), complex64(1i), "s", []byte(nil), time.Unix(1, 2).UTC()}, testAnyTypes{})
	e.Uint(opAny)
	e.Any("v", map[string]any{"p": testPair{Name: "n", Extra: []any{testWeight(3)}}}, testAnyTypes{})
	return e.Bytes()
}

// anyOp is the value of an opAny: an any, even when nil.
type anyOp struct{ v any }

// encodeAnySorted encodes v like Encoder.Any with testAnyTypes, with map
// keys sorted so that the output is canonical.
func encodeAnySorted(e *Encoder, v any) {
	switch x := v.(type) {
	case []any:
		e.buf = append(e.buf, anySlice)
		if x == nil {
			e.Len(-1)
			return
		}
		e.Len(len(x))
		for _, el := range x {
			encodeAnySorted(e, el)
		}
	case map[string]any:
		e.buf = append(e.buf, anyMap)
		if x == nil {
			e.Len(-1)
			return
		}
		e.Len(len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			e.String(k)
			encodeAnySorted(e, x[k])
		}
	case testPair:
		e.buf = append(e.buf, anyNamed)
		e.String(testAnyTypes{}.AnyName(0))
		e.String(x.Name)
		encodeAnySorted(e, x.Extra)
	default:
		e.Any("v", v, testAnyTypes{})
	}
}
