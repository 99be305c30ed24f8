package runtime

import (
	"bytes"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCodecRoundTrip encodes one value of each primitive and decodes it back.
func TestCodecRoundTrip(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatalf("zone database: %v", err)
	}
	instant := time.Date(2026, 3, 29, 1, 30, 0, 123456789, time.UTC)
	tests := []struct {
		name string
		enc  func(e *Encoder)
		dec  func(d *Decoder) any
		want any
	}{
		{"bool true", func(e *Encoder) { e.Bool(true) }, func(d *Decoder) any { return d.Bool() }, true},
		{"bool false", func(e *Encoder) { e.Bool(false) }, func(d *Decoder) any { return d.Bool() }, false},
		{"int zero", func(e *Encoder) { e.Int(0) }, func(d *Decoder) any { return d.Int() }, int64(0)},
		{"int negative", func(e *Encoder) { e.Int(-1) }, func(d *Decoder) any { return d.Int() }, int64(-1)},
		{"int min", func(e *Encoder) { e.Int(math.MinInt64) }, func(d *Decoder) any { return d.Int() }, int64(math.MinInt64)},
		{"int max", func(e *Encoder) { e.Int(math.MaxInt64) }, func(d *Decoder) any { return d.Int() }, int64(math.MaxInt64)},
		{"uint max", func(e *Encoder) { e.Uint(math.MaxUint64) }, func(d *Decoder) any { return d.Uint() }, uint64(math.MaxUint64)},
		{"uint 2^53+1", func(e *Encoder) { e.Uint(1<<53 + 1) }, func(d *Decoder) any { return d.Uint() }, uint64(1<<53 + 1)},
		{"float", func(e *Encoder) { e.Float64(-2.5e-300) }, func(d *Decoder) any { return d.Float64() }, -2.5e-300},
		{"float inf", func(e *Encoder) { e.Float64(math.Inf(-1)) }, func(d *Decoder) any { return d.Float64() }, math.Inf(-1)},
		{"float32 exact", func(e *Encoder) { e.Float64(float64(float32(0.1))) }, func(d *Decoder) any { return float32(d.Float64()) }, float32(0.1)},
		{"complex", func(e *Encoder) { e.Complex128(complex(1.5, -2)) }, func(d *Decoder) any { return d.Complex128() }, complex(1.5, -2)},
		{"string empty", func(e *Encoder) { e.String("") }, func(d *Decoder) any { return d.String() }, ""},
		{"string utf8", func(e *Encoder) { e.String("héllo, 世界") }, func(d *Decoder) any { return d.String() }, "héllo, 世界"},
		{"bytes nil", func(e *Encoder) { e.ByteSlice(nil) }, func(d *Decoder) any { return d.ByteSlice() }, []byte(nil)},
		{"bytes empty", func(e *Encoder) { e.ByteSlice([]byte{}) }, func(d *Decoder) any { return d.ByteSlice() }, []byte{}},
		{"bytes", func(e *Encoder) { e.ByteSlice([]byte{0, 1, 255}) }, func(d *Decoder) any { return d.ByteSlice() }, []byte{0, 1, 255}},
		{"len nil", func(e *Encoder) { e.Len(-1) }, func(d *Decoder) any { return d.Len() }, -1},
		{"len zero", func(e *Encoder) { e.Len(0) }, func(d *Decoder) any { return d.Len() }, 0},
		{"present", func(e *Encoder) { e.Present(true) }, func(d *Decoder) any { return d.Present() }, true},
		{"absent", func(e *Encoder) { e.Present(false) }, func(d *Decoder) any { return d.Present() }, false},
		{"time zero", func(e *Encoder) { e.Time(time.Time{}) }, func(d *Decoder) any { return d.Time() }, time.Time{}},
		{"time utc", func(e *Encoder) { e.Time(instant) }, func(d *Decoder) any { return d.Time() }, instant},
		{"time local", func(e *Encoder) { e.Time(instant.Local()) }, func(d *Decoder) any { return d.Time() }, instant.Local()},
		{"time named", func(e *Encoder) { e.Time(instant.In(paris)) }, func(d *Decoder) any { return d.Time() }, instant.In(paris)},
		{"time fixed unnamed", func(e *Encoder) { e.Time(instant.In(time.FixedZone("", -5*3600))) }, func(d *Decoder) any { return d.Time() }, instant.In(time.FixedZone("", -5*3600))},
		{"time unknown zone", func(e *Encoder) { e.Time(instant.In(time.FixedZone("Mars/Olympus", 5400))) }, func(d *Decoder) any { return d.Time() }, instant.In(time.FixedZone("Mars/Olympus", 5400))},
		{"time before 1970", func(e *Encoder) { e.Time(time.Date(1, 2, 3, 4, 5, 6, 7, time.UTC)) }, func(d *Decoder) any { return d.Time() }, time.Date(1, 2, 3, 4, 5, 6, 7, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Encoder
			tt.enc(&e)
			e.Bool(true) // a trailing value proves the first one consumed exactly its bytes
			d := NewDecoder(e.Bytes())
			got := tt.dec(d)
			if !d.Bool() {
				t.Errorf("trailing marker lost")
			}
			if err := d.Err(); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if want, ok := tt.want.(time.Time); ok {
				gt := got.(time.Time)
				if !gt.Equal(want) || gt.Location().String() != want.Location().String() || zoneOffset(gt) != zoneOffset(want) {
					t.Fatalf("got %v (%s), want %v (%s)", gt, gt.Location(), want, want.Location())
				}
				if !reflect.DeepEqual(gt, want) {
					t.Fatalf("got %#v, want %#v (not deeply equal)", gt, want)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestTimeMonotonicDropped checks that time.Now's monotonic reading does not
// cross the wire while the instant does.
func TestTimeMonotonicDropped(t *testing.T) {
	now := time.Now()
	var e Encoder
	e.Time(now)
	got := NewDecoder(e.Bytes()).Time()
	if !reflect.DeepEqual(got, now.Round(0)) {
		t.Fatalf("got %v, want %v", got, now.Round(0))
	}
}

// TestDecoderLocalOffsetMismatch covers a sender whose Local zone differs
// from ours: the wall clock and offset survive under the name "Local".
func TestDecoderLocalOffsetMismatch(t *testing.T) {
	instant := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	_, ours := instant.Local().Zone()
	theirs := ours + 3600
	var e Encoder
	e.Int(instant.Unix())
	e.Uint(0)
	e.buf = append(e.buf, zoneLocal)
	e.Int(int64(theirs))
	d := NewDecoder(e.Bytes())
	got := d.Time()
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(instant) || zoneOffset(got) != theirs || got.Location().String() != "Local" {
		t.Fatalf("got %v in %s", got, got.Location())
	}
}

// TestDecoderErrors feeds malformed input and checks the error is reported,
// sticky, and that no read allocates by a hostile length.
func TestDecoderErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   []byte
		read    func(d *Decoder)
		wantErr string
	}{
		{"empty bool", nil, func(d *Decoder) { d.Bool() }, "unexpected end"},
		{"bad bool", []byte{2}, func(d *Decoder) { d.Bool() }, "not 0 or 1"},
		{"truncated varint", []byte{0x80}, func(d *Decoder) { d.Uint() }, "unexpected end"},
		{"overflowing varint", bytes.Repeat([]byte{0xff}, 11), func(d *Decoder) { d.Uint() }, "overflows"},
		{"short float", []byte{1, 2, 3}, func(d *Decoder) { d.Float64() }, "unexpected end"},
		{"huge string", []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 'a'}, func(d *Decoder) { _ = d.String() }, "exceeds"},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, func(d *Decoder) { d.Len() }, "exceeds"},
		{"max length", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, func(d *Decoder) { d.Len() }, "exceeds"},
		{"huge bytes", []byte{0x80, 0x80, 0x04}, func(d *Decoder) { d.ByteSlice() }, "exceeds"},
		{"elements too big for what is left", []byte{4, 0, 0, 0, 0, 0}, func(d *Decoder) { d.Elems(2) }, "exceed"},
		{"bad nanoseconds", append(binaryOf(func(e *Encoder) { e.Int(0); e.Uint(1e9) }), 0), func(d *Decoder) { d.Time() }, "nanoseconds"},
		{"bad zone kind", append(binaryOf(func(e *Encoder) { e.Int(0); e.Uint(0) }), 7), func(d *Decoder) { d.Time() }, "zone kind"},
		{"bad offset", binaryOf(func(e *Encoder) { e.Int(0); e.Uint(0); e.buf = append(e.buf, zoneLocal); e.Int(90000) }), func(d *Decoder) { d.Time() }, "offset"},
		{"missing zone", binaryOf(func(e *Encoder) { e.Int(0); e.Uint(0) }), func(d *Decoder) { d.Time() }, "unexpected end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(tt.input)
			tt.read(d)
			err := d.Err()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			// Sticky: later reads return zero values and keep the first error.
			if d.Bool() || d.Int() != 0 || d.String() != "" || d.ByteSlice() != nil || d.Len() != -1 || !d.Time().IsZero() {
				t.Fatalf("read after failure returned a non-zero value")
			}
			if d.Err() != err {
				t.Fatalf("error changed from %v to %v", err, d.Err())
			}
		})
	}
}

// TestDecoderReset reuses a decoder after a failure.
func TestDecoderReset(t *testing.T) {
	d := NewDecoder(nil)
	d.Int()
	if d.Err() == nil {
		t.Fatal("no error on empty input")
	}
	var e Encoder
	e.Int(-42)
	d.Reset(e.Bytes())
	if got := d.Int(); got != -42 || d.Err() != nil {
		t.Fatalf("after Reset: %d, %v", got, d.Err())
	}
}

// TestEncoderZeroAndReset checks the zero Encoder works and Reset keeps the buffer.
func TestEncoderZeroAndReset(t *testing.T) {
	var e Encoder
	if len(e.Bytes()) != 0 {
		t.Fatal("zero encoder not empty")
	}
	e.String("hello")
	c := cap(e.Bytes())
	e.Reset()
	if len(e.Bytes()) != 0 || cap(e.Bytes()) != c {
		t.Fatalf("Reset: len %d cap %d, want 0 and %d", len(e.Bytes()), cap(e.Bytes()), c)
	}
}

// TestDecoderCopies checks decoded strings and byte slices do not alias the
// input, which the transport may reuse.
func TestDecoderCopies(t *testing.T) {
	var e Encoder
	e.ByteSlice([]byte("abc"))
	e.String("xyz")
	in := e.Bytes()
	d := NewDecoder(in)
	b, s := d.ByteSlice(), d.String()
	for i := range in {
		in[i] = 0
	}
	if string(b) != "abc" || s != "xyz" {
		t.Fatalf("decoded values changed with the input: %q %q", b, s)
	}
}

// TestPrimitivesDoNotAllocate pins the "no allocation per primitive" goal.
func TestPrimitivesDoNotAllocate(t *testing.T) {
	var e Encoder
	encodeSample(&e) // grow the buffer once
	msg := append([]byte(nil), e.Bytes()...)
	var d Decoder
	allocs := testing.AllocsPerRun(100, func() {
		e.Reset()
		e.Bool(true)
		e.Int(-12345)
		e.Uint(math.MaxUint64)
		e.Float64(3.25)
		e.Len(3)
		e.Present(true)
		e.String("name")
		e.Time(time.Unix(1700000000, 5).UTC())
		d.Reset(msg)
		d.Bool()
		d.Int()
		d.Uint()
		d.Float64()
		d.Len()
		d.Present()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

func binaryOf(f func(e *Encoder)) []byte {
	var e Encoder
	f(&e)
	return e.Bytes()
}

// encodeSample writes a small message with one value of each kind.
func encodeSample(e *Encoder) {
	e.Bool(true)
	e.Int(-12345)
	e.Uint(math.MaxUint64)
	e.Float64(3.25)
	e.Len(3)
	e.Present(true)
	e.String("a short name")
	e.ByteSlice([]byte("some bytes"))
	e.Time(time.Unix(1700000000, 5).UTC())
}

func BenchmarkEncoder(b *testing.B) {
	b.ReportAllocs()
	var e Encoder
	for b.Loop() {
		e.Reset()
		encodeSample(&e)
	}
	b.SetBytes(int64(len(e.Bytes())))
}

func BenchmarkDecoder(b *testing.B) {
	var e Encoder
	encodeSample(&e)
	msg := e.Bytes()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	var d Decoder
	for b.Loop() {
		d.Reset(msg)
		d.Bool()
		d.Int()
		d.Uint()
		d.Float64()
		d.Len()
		d.Present()
		_ = d.String()
		d.ByteSlice()
		d.Time()
		if d.Err() != nil {
			b.Fatal(d.Err())
		}
	}
}

// TestUnknownZonesBounded checks that made-up zone names stop being looked
// up once maxUnknownZones of them are remembered, and still decode to a
// fixed zone with the sender's name and offset.
func TestUnknownZonesBounded(t *testing.T) {
	instant := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	before := unknownZones.Load()
	var names []string
	t.Cleanup(func() { // leave the cache as other tests expect it
		for _, n := range names {
			locations.Delete(n)
		}
		unknownZones.Store(before)
	})
	for i := range maxUnknownZones + 10 {
		name := "Nowhere/Zone" + strconv.Itoa(i)
		names = append(names, name)
		var e Encoder
		e.Time(instant.In(time.FixedZone(name, 3600)))
		d := NewDecoder(e.Bytes())
		got := d.Time()
		if d.Err() != nil || !got.Equal(instant) || got.Location().String() != name || zoneOffset(got) != 3600 {
			t.Fatalf("zone %d: got %v in %s, err %v", i, got, got.Location(), d.Err())
		}
	}
	if n := unknownZones.Load(); n != maxUnknownZones || before >= maxUnknownZones {
		t.Fatalf("%d unknown zones remembered, want %d", n, maxUnknownZones)
	}
}

// TestDepthLimit covers Enter and Leave: balanced nesting up to MaxDepth is
// fine, one level more is an error on both sides, and the error is sticky
// so that no further level is entered.
func TestDepthLimit(t *testing.T) {
	tests := []struct {
		name   string
		levels int
		ok     bool
	}{
		{"shallow", 3, true},
		{"at the limit", MaxDepth, true},
		{"one too deep", MaxDepth + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Encoder
			d := NewDecoder(append(bytes.Repeat([]byte{1}, tt.levels), 0))
			var entered, decoded int
			var enc func(n int)
			enc = func(n int) { // a list of n nodes linked by pointers, as generated code writes it
				e.Present(n > 0)
				if n == 0 || !e.Enter() {
					return
				}
				entered++
				enc(n - 1)
				e.Leave()
			}
			var dec func()
			dec = func() {
				if !d.Present() || !d.Enter() {
					return
				}
				decoded++
				dec()
				d.Leave()
			}
			enc(tt.levels)
			dec()
			if (e.Err() == nil) != tt.ok || (d.Err() == nil) != tt.ok {
				t.Fatalf("encoder error %v, decoder error %v, want ok=%v", e.Err(), d.Err(), tt.ok)
			}
			if want := min(tt.levels, MaxDepth); entered != want || decoded != want {
				t.Fatalf("entered %d, decoded %d levels, want %d", entered, decoded, want)
			}
			if !tt.ok && (e.Enter() || d.Enter()) {
				t.Fatal("Enter succeeded after the depth error")
			}
			e.Reset()
			if e.Err() != nil || !e.Enter() {
				t.Fatal("Reset did not clear the depth error")
			}
		})
	}
}

// TestElems checks the bound of Elems against the bytes left.
func TestElems(t *testing.T) {
	tests := []struct {
		name    string
		n       int // encoded length, -1 for nil
		left    int // bytes after the length
		minSize int
		ok      bool
	}{
		{"nil", -1, 0, 8, true},
		{"empty", 0, 0, 8, true},
		{"fits exactly", 3, 24, 8, true},
		{"one byte short", 3, 23, 8, false},
		{"min size below one counts as one", 5, 5, 0, true},
		{"more than the bytes left", 6, 5, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Encoder
			e.Len(tt.n)
			e.buf = append(e.buf, make([]byte, tt.left)...)
			d := NewDecoder(e.Bytes())
			got := d.Elems(tt.minSize)
			if (d.Err() == nil) != tt.ok {
				t.Fatalf("Elems(%d) error %v, want ok=%v", tt.minSize, d.Err(), tt.ok)
			}
			if tt.ok && got != tt.n {
				t.Fatalf("Elems(%d) = %d, want %d", tt.minSize, got, tt.n)
			}
		})
	}
}
