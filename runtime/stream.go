package runtime

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

// This file holds what both ends of a streaming call share: the frame kinds
// of 'S' streams (docs/protocol.md, "Streams"), the description generated
// code gives of a streaming method, and the batching writer of frames.

// streamCall is the kind byte of a stream that carries one streaming call.
const streamCall byte = 'S'

// Frame kinds that only 'S' streams carry, beside request, response and
// cancel.
const (
	frameData    byte = 4 // one item, or a chunk of bytes
	frameEnd     byte = 5 // the end of the items or bytes in this direction
	frameErrItem byte = 6 // an item of an iter.Seq2 with a non-nil error
)

// End statuses: the first byte of an end frame's payload.
const (
	endOK    byte = 0 // the producer ended (or the reader reached io.EOF)
	endError byte = 1 // an error envelope follows: the reader's error
	endProto byte = 2 // a code and a text follow, as in a statusProto response
)

// streamChunk is the largest chunk of bytes one data frame carries for an
// io.Reader.
const streamChunk = 128 << 10

// streamQueue bounds the bytes of frames a stream writer holds before its
// producer waits: the rest of the backpressure is yamux's window.
const streamQueue = 64 << 10

// StreamDesc describes how a method streams. A method with a StreamDesc is
// called on a stream of its own (Client.CallStream), never with Call, and
// its MethodDesc.Invoke is unused.
type StreamDesc struct {
	// In says that the method takes an io.Reader parameter: its bytes
	// follow the request on the stream, and Invoke receives a reader of
	// them.
	In bool
	// Out says that the method has a streamed result (iter.Seq, iter.Seq2,
	// <-chan, io.Reader, io.ReadCloser): its items or bytes follow the
	// response, which carries the other results.
	Out bool
	// Invoke calls the method of impl with the decoded request and, when In
	// is set, the reader of the uploaded bytes. It returns the response
	// (the results that are not streamed), the producer of the streamed
	// result (nil when Out is not set or the method failed) and the
	// method's error.
	Invoke func(ctx context.Context, impl any, req Message, in io.Reader) (Message, Producer, error)
}

// A Producer sends a streamed result on the server. Generated code makes
// one with ProduceSeq, ProduceSeq2, ProduceChan or ProduceReader.
type Producer interface {
	// produce sends the items or bytes through w until the result ends,
	// the caller stops, or the stream fails. It returns the error to end
	// the stream with (nil: a normal end).
	produce(ctx context.Context, w *streamWriter) error
}

// streamWriter writes the frames of one direction of an 'S' stream. The
// producer queues frames; a goroutine of the writer hands them to yamux,
// taking everything queued meanwhile in one write, so that small items
// travel in batches. The producer waits while streamQueue bytes are
// queued, and yamux's window holds the writer while the reader is behind:
// a slow reader makes the producer wait, nothing grows.
type streamWriter struct {
	st   *yamux.Stream
	errs *errorRegistry // for the envelopes of error items
	max  int            // the largest item, in bytes
	enc  Encoder        // the producer's, for items
	mu   sync.Mutex
	cond sync.Cond
	buf  []byte
	err  error // set once writing failed or the stream was aborted
	done bool  // no more frames; the goroutine exits once buf is written
	busy bool  // the goroutine is writing
	quit chan struct{}
}

func newStreamWriter(st *yamux.Stream) *streamWriter {
	w := &streamWriter{st: st, quit: make(chan struct{})}
	w.cond.L = &w.mu
	go w.loop()
	return w
}

// loop writes what is queued until the writer is finished or fails.
func (w *streamWriter) loop() {
	defer close(w.quit)
	var out []byte
	for {
		w.mu.Lock()
		for len(w.buf) == 0 && !w.done && w.err == nil {
			w.cond.Wait()
		}
		if w.err != nil || len(w.buf) == 0 {
			w.mu.Unlock()
			return
		}
		out, w.buf = w.buf, out[:0]
		w.busy = true
		w.cond.Broadcast()
		w.mu.Unlock()
		_, err := w.st.Write(out)
		w.mu.Lock()
		w.busy = false
		w.cond.Broadcast()
		w.mu.Unlock()
		if err != nil {
			w.fail(err)
			return
		}
	}
}

// direct writes b, one or more whole frames, to the stream itself, once
// every queued frame was written: bulk bytes skip the queue's copy. The
// caller queues nothing meanwhile.
func (w *streamWriter) direct(b []byte) error {
	w.mu.Lock()
	for (len(w.buf) > 0 || w.busy) && w.err == nil {
		w.cond.Wait()
	}
	err := w.err
	w.mu.Unlock()
	if err != nil {
		return err
	}
	if _, err := w.st.Write(b); err != nil {
		w.fail(err)
		return err
	}
	return nil
}

// fail stops the writer with err (the first error wins) and wakes every
// waiter; a write in progress is interrupted by a past write deadline.
func (w *streamWriter) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.cond.Broadcast()
	w.mu.Unlock()
	w.st.SetWriteDeadline(time.Unix(1, 0))
}

// frame queues one frame of the given kind whose payload is built by
// appending to b. It waits while the queue is full and returns the
// writer's error once it failed.
func (w *streamWriter) frame(kind byte, payload ...[]byte) error {
	n := 0
	for _, p := range payload {
		n += len(p)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.buf) >= streamQueue && w.err == nil {
		w.cond.Wait()
	}
	if w.err != nil {
		return w.err
	}
	w.buf = appendFrameHeader(w.buf, kind, 0, n)
	for _, p := range payload {
		w.buf = append(w.buf, p...)
	}
	w.cond.Broadcast()
	return nil
}

// writeItem encodes one item with enc and queues it as a data frame (an
// error-item frame carrying err's envelope first when err is not nil).
func writeItem[T any](w *streamWriter, err error, enc func(*Encoder, *T), v *T) error {
	e := &w.enc
	e.Reset()
	kind := frameData
	if err != nil {
		kind = frameErrItem
		e.buf = appendBytes(e.buf, w.errs.encodeError(nil, err))
	}
	enc(e, v)
	if e.err != nil {
		return &streamProtoErr{codeInternal, "encoding an item: " + e.err.Error()}
	}
	if len(e.buf) > w.max {
		return &streamProtoErr{codeTooLarge, fmt.Sprintf("an item of %d bytes over the node's limit of %d bytes (MESHRPC_MAX_BODY)", len(e.buf), w.max)}
	}
	return w.frame(kind, e.buf)
}

// finish queues nothing more and waits until what is queued was written
// or the writer failed; it returns the writer's error.
func (w *streamWriter) finish() error {
	w.mu.Lock()
	w.done = true
	w.cond.Broadcast()
	w.mu.Unlock()
	<-w.quit
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// streamProtoErr ends a stream with a protocol error (an end frame of
// status endProto) instead of the application's.
type streamProtoErr struct {
	code byte
	text string
}

func (e *streamProtoErr) Error() string { return e.text }

// appendEnd appends the payload of an end frame for err: endOK for nil, a
// protocol code for a *streamProtoErr, an error envelope otherwise.
func appendEnd(b []byte, errs *errorRegistry, err error) []byte {
	if err == nil {
		return append(b, endOK)
	}
	if pe, ok := err.(*streamProtoErr); ok {
		return appendString(append(b, endProto, pe.code), pe.text)
	}
	return appendBytes(append(b, endError), errs.encodeError(nil, err))
}

// parseEnd decodes the payload of an end frame: nil for a normal end, the
// error it carries otherwise (a *CallError-ready sentinel error for a
// protocol error).
func parseEnd(errs *errorRegistry, p []byte) error {
	rd := wireReader{b: p}
	switch st := rd.byte(); st {
	case endOK:
		if rd.err == nil && len(rd.b) == 0 {
			return nil
		}
	case endError:
		env := rd.bytes()
		if rd.err == nil && len(rd.b) == 0 {
			err, derr := errs.decodeError(env)
			if derr != nil {
				return derr
			}
			return err
		}
	case endProto:
		code := rd.byte()
		text := rd.string()
		if rd.err == nil && len(rd.b) == 0 {
			sentinel := codeErrors[code]
			if sentinel == nil {
				sentinel = ErrMalformed
			}
			return fmt.Errorf("%w: %s", sentinel, text)
		}
	default:
		if rd.err == nil {
			return fmt.Errorf("%w: unknown end status %d", ErrMalformed, st)
		}
	}
	if rd.err == nil {
		return fmt.Errorf("%w: %d trailing bytes after an end frame", ErrMalformed, len(rd.b))
	}
	return fmt.Errorf("%w: end frame: %v", ErrMalformed, rd.err)
}

// parseErrItem splits the payload of an error-item frame into the error
// and the item's message bytes.
func parseErrItem(errs *errorRegistry, p []byte) (error, []byte, error) {
	rd := wireReader{b: p}
	env := rd.bytes()
	if rd.err != nil {
		return nil, nil, fmt.Errorf("%w: error item: %v", ErrMalformed, rd.err)
	}
	err, derr := errs.decodeError(env)
	if derr != nil {
		return nil, nil, derr
	}
	return err, rd.b, nil
}

// uploadReader is the io.Reader a streaming method's server receives for
// its io.Reader parameter: it reads the data frames the caller sends,
// one at a time and only when asked, so an upload moves at the pace of
// the method reading it (yamux's window holds the caller's writes).
type uploadReader struct {
	fr     *frameReader
	max    int
	errs   *errorRegistry
	cancel context.CancelFunc // the call's context
	ended  chan struct{}      // closed when the reader met its end

	mu   sync.Mutex
	cur  *[]byte
	rest []byte
	err  error // sticky: io.EOF at the end, or why it failed
}

// Read implements io.Reader.
func (u *uploadReader) Read(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for len(u.rest) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		putBuf(u.cur)
		u.cur = nil
		f, err := u.fr.read(u.max)
		if err != nil {
			u.end(fmt.Errorf("%w: reading the caller's bytes: %v", ErrConnLost, err), false)
			return 0, u.err
		}
		switch f.kind {
		case frameData:
			u.cur, u.rest = f.buf, f.payload
			continue
		case frameEnd:
			err = parseEnd(u.errs, f.payload)
			putBuf(f.buf)
			if err == nil {
				err = io.EOF
			}
			u.end(err, true)
		case frameCancel:
			putBuf(f.buf)
			u.end(context.Canceled, false)
		default:
			putBuf(f.buf)
			u.end(fmt.Errorf("%w: frame kind %d in the caller's bytes", ErrMalformed, f.kind), false)
		}
	}
	n := copy(p, u.rest)
	u.rest = u.rest[n:]
	return n, nil
}

// end makes err the reader's last word; a reader that did not end cleanly
// cancels the call. u.mu is held.
func (u *uploadReader) end(err error, clean bool) {
	u.err = err
	if !clean {
		u.cancel()
	}
	select {
	case <-u.ended:
	default:
		close(u.ended)
	}
}

// release frees the frame held by the reader once the method is done.
func (u *uploadReader) release() {
	u.mu.Lock()
	putBuf(u.cur)
	u.cur, u.rest = nil, nil
	if u.err == nil {
		u.err = fmt.Errorf("%w: the method returned; its reader is closed", io.ErrClosedPipe)
	}
	u.mu.Unlock()
}
