package runtime

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/yamux"
)

// ErrStreamConsumed is the error of a streamed result ranged or read a
// second time: a remote sequence carries its items once.
var ErrStreamConsumed = errors.New("meshrpc: the streamed result was already consumed (a remote iter.Seq, channel or reader can be ranged or read once)")

// Stream is the caller's side of one streaming call, carried on a yamux
// stream of its own. Generated code gets one from Client.CallStream and
// turns it into the method's result with ConsumeSeq, ConsumeSeq2,
// ConsumeChan or ConsumeReader; the Stream then belongs to that result.
type Stream struct {
	c   *Client
	p   *peer
	md  *MethodDesc
	st  *yamux.Stream
	fr  *frameReader
	raw io.Reader // st, read past fr's buffer by a streamed reader (nil: use fr)
	max int

	wmu     sync.Mutex  // serializes the caller's frames (upload, cancel)
	claimed atomic.Bool // a consumer took the items
	ended   atomic.Bool // the end frame (or a failure) was read

	mu     sync.Mutex
	abortE error // why the caller gave up (ctx.Err(), or ErrStreamConsumed...)
	closed bool
	stop   func() bool // stops the context watcher
}

// CallStream starts a call of a streaming method (one whose MethodDesc has
// a Stream): it sends the request, starts sending in's bytes when the
// method takes an io.Reader, and waits for the response, which it decodes
// into resp. It returns the Stream of the streamed result when the method
// has one and returned no error, and nil otherwise. Errors are those of
// Call. The call's context covers the whole stream: when it ends, the
// server's context is cancelled and the stream fails with ctx.Err().
//
// A call without an upload whose node fails before the request was sent
// is retried on another node, as Call does.
func (c *Client) CallStream(ctx context.Context, method int, req, resp Message, in io.Reader) (*Stream, error) {
	if c.tlog != nil {
		return c.tlog.callStream(ctx, c, method, req, resp, in)
	}
	return c.callStream(ctx, method, req, resp, in)
}

// callStream performs c.callStream and records it in the traffic log
// (MESHRPC_TRAFFIC) like a unary call: its outcome is the start's (the
// method's error, or a failure of the mesh), its time the time to the
// response, its sizes the request's and the response message's.
func (t *trafficLog) callStream(ctx context.Context, c *Client, method int, req, resp Message, in io.Reader) (*Stream, error) {
	start := time.Now()
	s, err := c.callStream(ctx, method, req, resp, in)
	t.record(ctx, c, method, req, resp, start, err)
	return s, err
}

// callStream is CallStream without the traffic record: through the node's
// client interceptors when it has any. They see the call's start, up to the
// server's response: not the items or bytes that follow.
func (c *Client) callStream(ctx context.Context, method int, req, resp Message, in io.Reader) (*Stream, error) {
	if c.n != nil && c.n.clientIcpt != nil && c.err == nil && method >= 0 && method < len(c.desc.Methods) {
		info := &CallInfo{Service: c.desc.Name, Method: c.desc.Methods[method].Name, Metadata: &Metadata{}, RequestBytes: -1, ResponseBytes: -1}
		var s *Stream
		err := c.n.clientIcpt(ctx, info, func(ctx context.Context) error {
			var err error
			s, err = c.startStream(ctx, method, req, resp, in, info)
			return err
		})
		if err != nil && s != nil { // an interceptor failed the call after it started
			s.Close()
			s = nil
		}
		return s, err
	}
	return c.startStream(ctx, method, req, resp, in, nil)
}

// startStream starts a streaming call; info, when not nil, is the
// interceptors' record of it: its metadata is sent, and the request's size
// and the peer are filled in.
func (c *Client) startStream(ctx context.Context, method int, req, resp Message, in io.Reader, info *CallInfo) (*Stream, error) {
	if c.err != nil {
		return nil, c.err
	}
	if method < 0 || method >= len(c.desc.Methods) {
		return nil, &CallError{Service: c.desc.Name, Op: "call", Err: fmt.Errorf("%w: method index %d out of range (%d methods)", ErrMalformed, method, len(c.desc.Methods))}
	}
	md := &c.desc.Methods[method]
	if md.Stream == nil {
		return nil, &CallError{Service: c.desc.Name, Method: md.Name, Op: "call", Err: fmt.Errorf("%w: %s does not stream: use Call", ErrMalformed, md.Name)}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e := encoderPool.Get().(*Encoder)
	defer func() {
		e.Reset()
		encoderPool.Put(e)
	}()
	e.Reset()
	if req != nil {
		req.MarshalMesh(e)
	}
	if err := e.Err(); err != nil {
		return nil, &CallError{Service: c.desc.Name, Method: md.Name, Op: "send", Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
	}
	if len(e.buf) > c.n.cfg.MaxBody {
		return nil, &CallError{Service: c.desc.Name, Method: md.Name, Op: "send", Err: fmt.Errorf("%w: request body of %d bytes over the limit of %d bytes (MESHRPC_MAX_BODY)", ErrTooLarge, len(e.buf), c.n.cfg.MaxBody)}
	}
	// The registered context values cross as on a unary call; the node's
	// interceptors do not see streaming calls (runtime.md).
	var meta *Metadata
	if info != nil {
		meta = info.Metadata
		info.RequestBytes = len(e.buf)
	}
	if cvs := contextValues.Load(); cvs != nil {
		meta = encodeContextValues(ctx, *cvs, meta)
	}
	if err := meta.check(); err != nil {
		return nil, &CallError{Service: c.desc.Name, Method: md.Name, Op: "send", Err: fmt.Errorf("%w: %v", ErrMalformed, err)}
	}
	if !c.n.clientCalls.add() {
		return nil, &CallError{Service: c.desc.Name, Method: md.Name, Op: "route", Err: ErrNodeClosed}
	}
	defer c.n.clientCalls.done()
	var tried []*peer
	var lastErr error
	for {
		p, err := c.pick(ctx, tried, lastErr)
		if err != nil {
			return nil, err
		}
		if info != nil {
			info.Peer = p.name()
		}
		s, err := c.streamPeer(ctx, p, method, md, e.buf, meta, resp, in)
		if ns, ok := err.(*errNotSent); ok {
			c.n.log.Debug("streaming call not sent; trying another node", "service", c.desc.Name, "method", md.Name, "peer", p.name(), "err", ns.err)
			tried = append(tried, p)
			lastErr = ns.err
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			continue
		}
		return s, err
	}
}

// streamPeer runs the start of a streaming call on p.
func (c *Client) streamPeer(ctx context.Context, p *peer, method int, md *MethodDesc, body []byte, meta *Metadata, resp Message, in io.Reader) (*Stream, error) {
	if !p.pending.add() {
		return nil, &errNotSent{fmt.Errorf("%w: connection to %s retired", ErrUnavailable, p.name())}
	}
	var timeout time.Duration
	if dl, ok := ctx.Deadline(); ok {
		if timeout = time.Until(dl); timeout <= 0 {
			p.pending.done()
			return nil, context.DeadlineExceeded
		}
	}
	st, err := p.openStream(streamCall)
	if err != nil {
		p.pending.done()
		return nil, &errNotSent{fmt.Errorf("%w: opening a stream to %s: %v", ErrUnavailable, p.name(), err)}
	}
	s := &Stream{c: c, p: p, md: md, st: st, fr: newFrameReader(st), raw: st, max: c.n.cfg.MaxBody + 64<<10}
	reqHdr := appendRequest(make([]byte, 0, 128), c.target, method, md.Fingerprint, int64(timeout), meta)
	msg := appendFrameHeader(make([]byte, 0, frameHeaderLen+len(reqHdr)+len(body)), frameRequest, 0, len(reqHdr)+len(body))
	msg = append(append(msg, reqHdr...), body...)
	s.stop = context.AfterFunc(ctx, func() { s.abort(ctx.Err()) })
	if _, err := st.Write(msg); err != nil {
		s.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &errNotSent{fmt.Errorf("%w: writing to %s: %v", ErrUnavailable, p.name(), err)}
	}
	if md.Stream.In {
		go s.upload(in)
	}
	f, err := s.next()
	if err != nil {
		s.Close()
		return nil, err
	}
	if f.kind != frameResponse {
		putBuf(f.buf)
		s.Close()
		return nil, s.fail(fmt.Errorf("%w: the first frame of the server has kind %d, not a response (2)", ErrMalformed, f.kind))
	}
	err = c.readResponse(f.payload, p, md, resp, nil)
	putBuf(f.buf)
	if err != nil || !md.Stream.Out {
		s.ended.Store(true) // nothing follows a response that ends the call
		s.Close()
		if ns, ok := err.(*errNotSent); ok && md.Stream.In {
			// The upload may have read from in: the call cannot move.
			return nil, s.fail(ns.err)
		}
		return nil, err
	}
	return s, nil
}

// fail wraps err as a failure of the stream's call.
func (s *Stream) fail(err error) error {
	return &CallError{Service: s.c.desc.Name, Method: s.md.Name, Node: s.p.name(), Op: "stream", Err: err}
}

// next reads the server's next frame. After the caller gave up it returns
// why (ctx.Err() itself for an ended context).
func (s *Stream) next() (frame, error) {
	f, err := s.fr.read(s.max)
	if err == nil {
		return f, nil
	}
	return frame{}, s.readErr(err)
}

// readErr is the error of a failed read of the server's frames: why the
// caller gave up, when it did, else the failure.
func (s *Stream) readErr(err error) error {
	s.mu.Lock()
	aerr := s.abortE
	s.mu.Unlock()
	if aerr != nil {
		return aerr
	}
	var big *errFrameTooLarge
	if errors.As(err, &big) {
		return s.fail(fmt.Errorf("%w: a frame of %d bytes over the %d-byte limit", ErrTooLarge, big.size, s.c.n.cfg.MaxBody))
	}
	if errors.Is(err, ErrMalformed) {
		return s.fail(err)
	}
	return s.fail(fmt.Errorf("%w: %v", ErrConnLost, err))
}

// header reads the header of the server's next frame, and nothing of its
// payload: a data frame of bytes is then read straight into the caller's
// buffer.
func (s *Stream) header() (kind byte, size int, err error) {
	hdr := s.fr.hdr[:]
	if _, err := io.ReadFull((*rawReader)(s), hdr); err != nil {
		return 0, 0, s.readErr(err)
	}
	n := int64(binary.BigEndian.Uint32(hdr[:4]))
	if n < 9 {
		return 0, 0, s.readErr(fmt.Errorf("%w: frame length %d shorter than its header (at least 9: kind and call id)", ErrMalformed, n))
	}
	if n-9 > int64(s.max) {
		return 0, 0, s.readErr(&errFrameTooLarge{kind: hdr[4], size: n - 9})
	}
	return hdr[4], int(n - 9), nil
}

// upload sends in's bytes as data frames, then an end frame (carrying
// in's error, if Read failed). Writes wait for yamux's window, so the
// upload moves at the pace of the method reading it.
func (s *Stream) upload(in io.Reader) {
	chunk := min(streamChunk, s.c.n.cfg.MaxBody)
	buf := make([]byte, frameHeaderLen+chunk)
	for {
		var n int
		var rerr error
		if in == nil {
			rerr = io.EOF
		} else {
			n, rerr = in.Read(buf[frameHeaderLen:])
		}
		if n > 0 {
			appendFrameHeader(buf[:0], frameData, 0, n)
			if !s.write(buf[:frameHeaderLen+n]) {
				return
			}
		}
		if rerr != nil {
			var end error
			if rerr != io.EOF {
				end = rerr
			}
			p := appendEnd(nil, s.c.errs, end)
			s.write(append(appendFrameHeader(nil, frameEnd, 0, len(p)), p...))
			return
		}
	}
}

// write writes one whole frame of the caller's; it reports false once the
// caller gave up or the stream failed.
func (s *Stream) write(b []byte) bool {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	gone := s.abortE != nil || s.closed
	s.mu.Unlock()
	if gone {
		return false
	}
	_, err := s.st.Write(b)
	return err == nil
}

// abort gives up the call: a cancel frame tells the server (when no upload
// holds the stream mid-frame), reads and writes in progress return, and
// the caller's side of the stream closes, which the server also takes for
// a cancel.
func (s *Stream) abort(err error) {
	s.mu.Lock()
	if s.abortE != nil || s.closed {
		s.mu.Unlock()
		return
	}
	s.abortE = err
	s.mu.Unlock()
	s.st.SetWriteDeadline(time.Unix(1, 0)) // an upload waiting for window returns
	if s.wmu.TryLock() {
		var f [frameHeaderLen]byte
		s.st.Write(appendFrameHeader(f[:0], frameCancel, 0, 0))
		s.wmu.Unlock()
	}
	s.st.SetReadDeadline(time.Unix(1, 0))
	s.st.Close()
}

// Close ends the caller's part in the stream: a stream whose end was not
// read is cancelled on the server. Consumers call it when they are done;
// it may be called more than once.
func (s *Stream) Close() error {
	if !s.ended.Load() {
		s.abort(context.Canceled)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if s.stop != nil {
		s.stop()
	}
	s.st.Close()
	s.p.pending.done()
	return nil
}

// rawRead reads what fr has buffered, then the stream itself, without
// filling fr's buffer: the bytes of a streamed reader are copied once, from
// yamux into the caller's buffer.
func (s *Stream) rawRead(p []byte) (int, error) {
	if n := s.fr.r.Buffered(); n > 0 || s.raw == nil {
		if n > 0 {
			p = p[:min(len(p), n)]
		}
		return s.fr.r.Read(p)
	}
	return s.raw.Read(p)
}

// rawReader is a Stream read through rawRead, as an io.Reader (a
// conversion, where a method value would allocate on every frame).
type rawReader Stream

func (r *rawReader) Read(p []byte) (int, error) { return (*Stream)(r).rawRead(p) }

// claim reports whether the caller is the first to consume the stream.
func (s *Stream) claim() bool { return s.claimed.CompareAndSwap(false, true) }

// nextItem reads the next item of the stream with dec, through slot. It returns
// the item and its error (an error item of an iter.Seq2), or done with the
// error the stream ended with (nil: the producer ended).
func nextItem[T any](s *Stream, dec func(*Decoder, *T), slot *T) (v T, itemErr error, done bool, err error) {
	f, err := s.next()
	if err != nil {
		s.ended.Store(true)
		return v, nil, true, err
	}
	defer putBuf(f.buf)
	body := f.payload
	switch f.kind {
	case frameData:
	case frameErrItem:
		var perr error
		itemErr, body, perr = parseErrItem(s.c.errs, body)
		if perr != nil {
			s.ended.Store(true)
			return v, nil, true, s.fail(perr)
		}
	case frameEnd:
		s.ended.Store(true)
		return v, nil, true, s.endErr(f.payload)
	default:
		s.ended.Store(true)
		return v, nil, true, s.fail(fmt.Errorf("%w: frame kind %d in a streamed result", ErrMalformed, f.kind))
	}
	// slot is the caller's, reused for every item: decoding into a local
	// would allocate one per item.
	var zero T
	*slot = zero
	if derr := decodeItem(body, dec, slot); derr != nil {
		s.ended.Store(true)
		return v, nil, true, s.fail(fmt.Errorf("%w: an item: %v", ErrMalformed, derr))
	}
	return *slot, itemErr, false, nil
}

// endErr decodes an end frame: the application's error as it returned it
// (rebuilt like Call's), a protocol error as a *CallError.
func (s *Stream) endErr(p []byte) error {
	err := parseEnd(s.c.errs, p)
	if err == nil {
		return nil
	}
	if len(p) > 0 && p[0] == endError {
		return err
	}
	return s.fail(err)
}

// decodeItem decodes one item's bytes into v with a pooled decoder; bytes
// left over are an error, as in a message. A panic in generated decoding
// code is a decoding error, not a crash.
func decodeItem[T any](b []byte, dec func(*Decoder, *T), v *T) (err error) {
	d := decoderPool.Get().(*Decoder)
	d.Reset(b)
	if !decodeSafely(d, dec, v) {
		err = fmt.Errorf("decoder panicked")
	} else if err = d.Err(); err == nil {
		if left := len(d.buf) - d.off; left > 0 {
			err = fmt.Errorf("%d trailing bytes after the item", left)
		}
	}
	d.Reset(nil)
	decoderPool.Put(d)
	return err
}

// decodeSafely runs dec, reporting false when it panicked.
func decodeSafely[T any](d *Decoder, dec func(*Decoder, *T), v *T) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
		}
	}()
	dec(d, v)
	return true
}
