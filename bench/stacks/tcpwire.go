package stacks

// The tcp stack's wire. Every message is one frame:
//
//	uint32  length of what follows (big endian), at most maxFrame
//	byte    the method (a request) or the status (a response)
//	body    the arguments, the results, or the handler's error message
//
// Bodies are encoded with meshsplit's codec primitives (meshrt.Encoder and
// meshrt.Decoder) value by value as the generated code of greeter.Service
// encodes them, so that a call carries the same bytes and does the same
// encoding and decoding work as on the meshsplit stack (tcpwire_test.go
// checks both against the generated messages). What the tcp stack leaves
// out is everything around the body: the runtime's frame and call headers,
// yamux, routing, deadlines and cancellation on the wire.

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"

	"github.com/meshsplit/meshsplit/bench/greeter"
	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// Request kinds (the method called) and response kinds (the status).
const (
	methodEcho  byte = 0
	methodGreet byte = 1

	statusOK    byte = 0
	statusError byte = 1 // the body is the handler's error message
)

const (
	// frameHeader is the length of a frame's length and kind.
	frameHeader = 5
	// maxFrame bounds a frame's length, so that a corrupt length cannot
	// make a reader allocate without limit.
	maxFrame = 16 << 20
	// readBuffer is the size of each connection's read buffer: a 4k
	// payload's frame (3 793 bytes) arrives in one read.
	readBuffer = 8 << 10
)

// frameConn is one end of one connection: its buffers and codec state are
// reused by every call it carries, one call at a time.
type frameConn struct {
	c   net.Conn
	r   *bufio.Reader
	hdr [frameHeader]byte
	in  []byte // the body of the last frame read
	out []byte // the frame being written
	enc meshrt.Encoder
	dec meshrt.Decoder
	// deadline is set while the connection has a deadline from a call's
	// context, which the next call must clear or replace.
	deadline bool
}

func newFrameConn(c net.Conn) *frameConn {
	return &frameConn{c: c, r: bufio.NewReaderSize(c, readBuffer)}
}

// writeFrame sends what f.enc holds as one frame of the given kind, in one
// write.
func (f *frameConn) writeFrame(kind byte) error {
	if err := f.enc.Err(); err != nil {
		return fmt.Errorf("encoding a frame: %w", err)
	}
	body := f.enc.Bytes()
	n := 1 + len(body)
	if n > maxFrame {
		return fmt.Errorf("frame of %d bytes over the limit of %d", n, maxFrame)
	}
	f.out = binary.BigEndian.AppendUint32(f.out[:0], uint32(n))
	f.out = append(f.out, kind)
	f.out = append(f.out, body...)
	if _, err := f.c.Write(f.out); err != nil {
		return fmt.Errorf("writing a frame: %w", err)
	}
	return nil
}

// readFrame reads one frame and sets f.dec to decode its body. It returns
// io.EOF unwrapped when the connection ended cleanly between frames.
func (f *frameConn) readFrame() (kind byte, err error) {
	if _, err := io.ReadFull(f.r, f.hdr[:]); err != nil {
		if err == io.EOF {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("reading a frame header: %w", err)
	}
	n := binary.BigEndian.Uint32(f.hdr[:4])
	if n < 1 || n > maxFrame {
		return 0, fmt.Errorf("frame length %d out of range 1..%d", n, maxFrame)
	}
	size := int(n) - 1
	if cap(f.in) < size {
		f.in = make([]byte, size)
	}
	f.in = f.in[:size]
	if _, err := io.ReadFull(f.r, f.in); err != nil {
		return 0, fmt.Errorf("reading a frame body of %d bytes: %w", size, err)
	}
	f.dec.Reset(f.in)
	return f.hdr[4], nil
}

// encodeDoc encodes a Doc as the generated serviceEncodeDoc does.
func encodeDoc(e *meshrt.Encoder, v *greeter.Doc) {
	e.Int(v.ID)
	e.String(v.Title)
	e.String(v.Owner)
	e.Time(v.Created)
	e.Bool(v.Active)
	e.Float64(v.Ratio)
	if v.Tags == nil {
		e.Len(-1)
	} else {
		e.Len(len(v.Tags))
		for _, t := range v.Tags {
			e.String(t)
		}
	}
	if v.Attrs == nil {
		e.Len(-1)
	} else {
		e.Len(len(v.Attrs))
		for k, a := range v.Attrs {
			e.String(k)
			e.String(a)
		}
	}
	if v.Lines == nil {
		e.Len(-1)
	} else {
		e.Len(len(v.Lines))
		for i := range v.Lines {
			l := &v.Lines[i]
			e.String(l.SKU)
			e.Int(int64(l.Qty))
			e.Float64(l.Price)
			e.String(l.Note)
		}
	}
	e.ByteSlice(v.Blob)
}

// decodeDoc decodes a Doc as the generated serviceDecodeDoc does.
func decodeDoc(d *meshrt.Decoder, v *greeter.Doc) {
	v.ID = d.Int()
	v.Title = d.String()
	v.Owner = d.String()
	v.Created = d.Time()
	v.Active = d.Bool()
	v.Ratio = d.Float64()
	if n := d.Len(); n >= 0 {
		v.Tags = make([]string, n)
		for i := range v.Tags {
			v.Tags[i] = d.String()
		}
	}
	if n := d.Elems(2); n >= 0 {
		v.Attrs = make(map[string]string, n)
		for range n {
			k := d.String()
			v.Attrs[k] = d.String()
		}
	}
	if n := d.Elems(11); n >= 0 {
		v.Lines = make([]greeter.Line, n)
		for i := range v.Lines {
			l := &v.Lines[i]
			l.SKU = d.String()
			l.Qty = int32(d.Int())
			l.Price = d.Float64()
			l.Note = d.String()
		}
	}
	v.Blob = d.ByteSlice()
}
