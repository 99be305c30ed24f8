package runtime

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// This file holds the framing of the RPC fast path (docs/protocol.md,
// "Fast path"): frames of [u32 length][u8 kind][u64 call id][payload] on a
// long-lived stream, and the little readers and writers around them.

// Stream kinds: the first byte of every yamux stream says what it carries.
const (
	streamHTTP   byte = 'H' // HTTP/1.1, served by the node's net/http server
	streamRPC    byte = 'R' // fast-path frames
	streamGossip byte = 'G' // one membership message
)

// Frame kinds of the fast path.
const (
	frameRequest  byte = 1
	frameResponse byte = 2
	frameCancel   byte = 3
)

// Response statuses.
const (
	statusOK       byte = 0 // the method returned no error: message follows
	statusAppError byte = 1 // the method returned an error: envelope, then message
	statusProto    byte = 2 // the mesh refused or failed the call: code, then text

	// statusMetadata flags a status byte followed by response metadata.
	statusMetadata byte = 0x80
)

// Protocol error codes of a statusProto response.
const (
	codeUnknownService byte = 1
	codeVersionSkew    byte = 2
	codeTooLarge       byte = 3
	codeMalformed      byte = 4
	codePanic          byte = 5
	codeRefused        byte = 6 // not run (node shutting down): safe to retry elsewhere
	codeInternal       byte = 7
)

// codeErrors maps protocol error codes to the runtime's sentinels.
var codeErrors = map[byte]error{
	codeUnknownService: ErrUnknownService,
	codeVersionSkew:    ErrVersionSkew,
	codeTooLarge:       ErrTooLarge,
	codeMalformed:      ErrMalformed,
	codePanic:          ErrHandlerPanic,
	codeRefused:        ErrUnavailable,
	codeInternal:       ErrMalformed,
}

// frameHeaderLen is the length of [u32 length][u8 kind][u64 call id].
const frameHeaderLen = 4 + 1 + 8

// appendFrameHeader appends a frame header for a payload of n bytes.
func appendFrameHeader(b []byte, kind byte, id uint64, n int) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(1+8+n))
	b = append(b, kind)
	return binary.BigEndian.AppendUint64(b, id)
}

// frame is one decoded frame. payload aliases a pooled buffer; release it
// with putBuf when done.
type frame struct {
	kind    byte
	id      uint64
	payload []byte
	buf     *[]byte
}

// errFrameTooLarge is returned by readFrame for a frame over the limit; the
// frame's payload has been skipped, so the stream stays usable.
type errFrameTooLarge struct {
	kind byte
	id   uint64
	size int64
}

func (e *errFrameTooLarge) Error() string {
	return fmt.Sprintf("frame of %d bytes over the body limit", e.size)
}

// frameReader reads frames from one stream.
type frameReader struct {
	r   *bufio.Reader
	hdr [frameHeaderLen]byte
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 32<<10)}
}

// read reads one frame. A frame whose payload exceeds max is skipped and
// reported as *errFrameTooLarge; any other error means the stream is
// unusable.
func (fr *frameReader) read(max int) (frame, error) {
	r, hdr := fr.r, fr.hdr[:]
	// The length is read and checked before the rest of the header: a
	// length under 9 is refused at once, instead of waiting for header
	// bytes that a frame of that length does not have.
	if _, err := io.ReadFull(r, hdr[:4]); err != nil {
		return frame{}, err
	}
	// The length stays 64-bit until it is known to be small: on 32-bit
	// platforms an int of a length past math.MaxInt32 is negative.
	n := int64(binary.BigEndian.Uint32(hdr[:4]))
	if n < 9 {
		return frame{}, fmt.Errorf("%w: frame length %d shorter than its header (at least 9: kind and call id)", ErrMalformed, n)
	}
	if _, err := io.ReadFull(r, hdr[4:]); err != nil {
		return frame{}, err
	}
	f := frame{kind: hdr[4], id: binary.BigEndian.Uint64(hdr[5:13])}
	if n-9 > int64(max) {
		if _, err := io.CopyN(io.Discard, r, n-9); err != nil {
			return frame{}, err
		}
		return frame{}, &errFrameTooLarge{kind: f.kind, id: f.id, size: n - 9}
	}
	size := int(n - 9)
	// The buffer grows as the bytes arrive, so a header announcing a large
	// frame costs memory only once the frame is really there.
	f.buf = getBuf(min(size, 64<<10))
	b := (*f.buf)[:0]
	for len(b) < size {
		if len(b) == cap(b) {
			b = append(b, make([]byte, min(cap(b), size-len(b)))...)[:len(b)]
		}
		chunk := b[len(b):min(cap(b), size)]
		if _, err := io.ReadFull(r, chunk); err != nil {
			*f.buf = b
			putBuf(f.buf)
			return frame{}, err
		}
		b = b[:len(b)+len(chunk)]
	}
	*f.buf = b
	f.payload = b
	return f, nil
}

// bufPool recycles frame payload buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// getBuf returns a pooled buffer with capacity for n bytes.
func getBuf(n int) *[]byte {
	bp := bufPool.Get().(*[]byte)
	if cap(*bp) < n {
		*bp = make([]byte, n)
	}
	return bp
}

// putBuf returns a buffer to the pool; very large ones are dropped.
func putBuf(bp *[]byte) {
	if bp == nil || cap(*bp) > 1<<20 {
		return
	}
	*bp = (*bp)[:0]
	bufPool.Put(bp)
}

// encoderPool recycles encoders for requests and responses.
var encoderPool = sync.Pool{New: func() any { return new(Encoder) }}

// decoderPool recycles decoders.
var decoderPool = sync.Pool{New: func() any { return new(Decoder) }}

// wireReader reads the length-prefixed fields of frame payloads and
// envelopes. Errors are sticky, like the codec's Decoder.
type wireReader struct {
	b   []byte
	err error
}

var errShort = errors.New("truncated field")

func (r *wireReader) byte() byte {
	if r.err != nil || len(r.b) < 1 {
		r.err = errShort
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *wireReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes returns a length-prefixed field; it aliases the input.
func (r *wireReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *wireReader) string() string { return string(r.bytes()) }

// request is a decoded request payload. Its byte slices alias the payload.
type request struct {
	service     []byte
	method      int
	fingerprint []byte
	timeout     int64     // nanoseconds, 0 for none
	md          *Metadata // nil when the request carries none
	body        []byte
}

// appendRequest appends a request payload without its message bytes.
//
//	[service][uvarint method][fingerprint][uvarint timeout ns][metadata]
func appendRequest(b []byte, service string, method int, fingerprint string, timeout int64, md *Metadata) []byte {
	b = appendString(b, service)
	b = binary.AppendUvarint(b, uint64(method))
	b = appendString(b, fingerprint)
	b = binary.AppendUvarint(b, uint64(timeout))
	return appendMetadata(b, md)
}

// parseRequest decodes a request payload. body aliases p.
func parseRequest(p []byte) (request, error) {
	r := wireReader{b: p}
	var q request
	q.service = r.bytes()
	m := r.uvarint()
	q.fingerprint = r.bytes()
	t := r.uvarint()
	if r.err != nil {
		return request{}, fmt.Errorf("%w: request header: %v", ErrMalformed, r.err)
	}
	if m > 1<<20 || t > 1<<62 {
		return request{}, fmt.Errorf("%w: request header: method index %d or timeout %d out of range", ErrMalformed, m, t)
	}
	md, err := r.metadata()
	if err != nil {
		return request{}, fmt.Errorf("%w: request metadata: %v", ErrMalformed, err)
	}
	q.method, q.timeout, q.md, q.body = int(m), int64(t), md, r.b
	return q, nil
}
