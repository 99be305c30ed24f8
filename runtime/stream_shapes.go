package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
)

// This file turns the streamed results of Go signatures into frames on the
// server (Produce*) and back on the caller (Consume*). Generated code calls
// them with the codec functions of the item type.

// ProduceSeq returns the producer of an iter.Seq result: each value is one
// item. When the caller stops ranging, cancels or the stream fails, yield
// returns false and the call's context is cancelled.
func ProduceSeq[T any](seq iter.Seq[T], enc func(*Encoder, *T)) Producer {
	return seqProducer[T]{seq: seq, enc: enc}
}

type seqProducer[T any] struct {
	seq iter.Seq[T]
	enc func(*Encoder, *T)
}

func (p seqProducer[T]) produce(ctx context.Context, w *streamWriter) error {
	if p.seq == nil {
		return &streamProtoErr{codeInternal, "the method returned a nil iter.Seq and no error"}
	}
	var werr error
	slot := new(T) // one item's encoding home for the whole stream
	p.seq(func(v T) bool {
		*slot = v
		if werr = writeItem(w, nil, p.enc, slot); werr != nil {
			return false
		}
		return ctx.Err() == nil
	})
	return producerErr(werr)
}

// ProduceSeq2 returns the producer of an iter.Seq2[T, error] result: each
// pair is one item, its error (when not nil) carried beside the value.
func ProduceSeq2[T any](seq iter.Seq2[T, error], enc func(*Encoder, *T)) Producer {
	return seq2Producer[T]{seq: seq, enc: enc}
}

type seq2Producer[T any] struct {
	seq iter.Seq2[T, error]
	enc func(*Encoder, *T)
}

func (p seq2Producer[T]) produce(ctx context.Context, w *streamWriter) error {
	if p.seq == nil {
		return &streamProtoErr{codeInternal, "the method returned a nil iter.Seq2 and no error"}
	}
	var werr error
	slot := new(T)
	p.seq(func(v T, err error) bool {
		*slot = v
		if werr = writeItem(w, err, p.enc, slot); werr != nil {
			return false
		}
		return ctx.Err() == nil
	})
	return producerErr(werr)
}

// ProduceChan returns the producer of a <-chan T result: it receives until
// the channel is closed or the call ends (the caller stopped, cancelled,
// or its deadline passed). Values the implementation sends after that are
// not received: an implementation should select on its context, which is
// cancelled then.
func ProduceChan[T any](ch <-chan T, enc func(*Encoder, *T)) Producer {
	return chanProducer[T]{ch: ch, enc: enc}
}

type chanProducer[T any] struct {
	ch  <-chan T
	enc func(*Encoder, *T)
}

func (p chanProducer[T]) produce(ctx context.Context, w *streamWriter) error {
	slot := new(T)
	for {
		select {
		case v, ok := <-p.ch:
			if !ok {
				return nil
			}
			*slot = v
			if err := writeItem(w, nil, p.enc, slot); err != nil {
				return producerErr(err)
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// ProduceReader returns the producer of an io.Reader or io.ReadCloser
// result: its bytes travel in chunks until Read returns io.EOF (a normal
// end) or another error (the caller's Read returns it). The reader is
// closed at the end when it is an io.Closer, as the caller's Close would.
func ProduceReader(r io.Reader) Producer { return readerProducer{r: r} }

type readerProducer struct{ r io.Reader }

func (p readerProducer) produce(ctx context.Context, w *streamWriter) error {
	if p.r == nil {
		return &streamProtoErr{codeInternal, "the method returned a nil io.Reader and no error"}
	}
	defer p.discard()
	// Each chunk is read behind room for its frame header and written
	// as is: the bytes are copied once, by Read.
	buf := make([]byte, frameHeaderLen+min(streamChunk, w.max))
	for {
		n, err := p.r.Read(buf[frameHeaderLen:])
		if n > 0 {
			appendFrameHeader(buf[:0], frameData, 0, n)
			if werr := w.direct(buf[:frameHeaderLen+n]); werr != nil {
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

func (p readerProducer) discard() {
	if c, ok := p.r.(io.Closer); ok {
		c.Close()
	}
}

// producerErr keeps the protocol errors of the writer (an item that does
// not encode, or is too large) and drops the others: a failed stream or a
// cancelled call has no one to tell.
func producerErr(err error) error {
	var pe *streamProtoErr
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// ConsumeSeq returns the caller's iter.Seq of a streamed result: s and
// err are what CallStream returned. The sequence can be ranged once;
// breaking out of the range cancels the server's producer. It has no
// error to give: a failure of the call or of the stream, or an error the
// server's sequence ends with, ends the range (and is logged at Debug).
func ConsumeSeq[T any](s *Stream, err error, dec func(*Decoder, *T)) iter.Seq[T] {
	return func(yield func(T) bool) {
		if err != nil || s == nil || !s.claim() {
			return
		}
		defer s.Close()
		slot := new(T)
		for {
			v, _, done, err := nextItem(s, dec, slot)
			if done {
				if err != nil {
					s.c.n.log.Debug("streamed result ended by an error", "service", s.c.desc.Name, "method", s.md.Name, "err", err)
				}
				return
			}
			if !yield(v) {
				return
			}
		}
	}
}

// ConsumeSeq2 returns the caller's iter.Seq2 of a streamed result: s and
// err are what CallStream returned. The sequence can be ranged once (a
// second range yields ErrStreamConsumed); breaking out of the range
// cancels the server's producer. The server's items come with their
// errors; a failure of the call or of the stream (ctx.Err() when the
// context ended) is the error of a last pair with the zero value.
func ConsumeSeq2[T any](s *Stream, err error, dec func(*Decoder, *T)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if err != nil {
			yield(zero, err)
			return
		}
		if s == nil {
			yield(zero, fmt.Errorf("%w: no stream", ErrMalformed))
			return
		}
		if !s.claim() {
			yield(zero, ErrStreamConsumed)
			return
		}
		defer s.Close()
		slot := new(T)
		for {
			v, itemErr, done, err := nextItem(s, dec, slot)
			if done {
				if err != nil {
					yield(zero, err)
				}
				return
			}
			if !yield(v, itemErr) {
				return
			}
		}
	}
}

// ConsumeChan returns the caller's channel of a streamed result: s and
// err are what CallStream returned. It is unbuffered, whatever the
// server's capacity, and closed when the server's channel is closed, the
// call or the stream fails, or the call's context ends. A caller that
// stops receiving before then must cancel the context: until it does, the
// stream waits for it, and so does the server.
func ConsumeChan[T any](ctx context.Context, s *Stream, err error, dec func(*Decoder, *T)) <-chan T {
	ch := make(chan T)
	if err != nil || s == nil || !s.claim() {
		close(ch)
		return ch
	}
	go func() {
		defer close(ch)
		defer s.Close()
		slot := new(T)
		for {
			v, _, done, err := nextItem(s, dec, slot)
			if done {
				if err != nil {
					s.c.n.log.Debug("streamed channel closed by an error", "service", s.c.desc.Name, "method", s.md.Name, "err", err)
				}
				return
			}
			select {
			case ch <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// ConsumeReader returns the caller's reader of a streamed io.Reader or
// io.ReadCloser result: s and err are what CallStream returned. Read
// returns the server's bytes, then io.EOF, or the error the server's
// reader failed with, or the failure of the call or the stream. Close
// before the end cancels the server's copy; a caller of a plain io.Reader
// result that stops reading early should cancel the call's context.
func ConsumeReader(s *Stream, err error) io.ReadCloser {
	if err == nil && s == nil {
		err = fmt.Errorf("%w: no stream", ErrMalformed)
	}
	if err == nil && !s.claim() {
		err = ErrStreamConsumed
	}
	return &streamReader{s: s, err: err}
}

// streamReader is the io.ReadCloser of ConsumeReader. The bytes of a data
// frame go from the stream straight into the caller's buffer.
type streamReader struct {
	mu   sync.Mutex
	s    *Stream
	err  error
	left int // bytes of the current data frame not read yet
}

// Read implements io.Reader.
func (r *streamReader) Read(p []byte) (int, error) {
	n, err := r.read(p)
	if err != nil && r.s != nil {
		r.s.Close()
	}
	return n, err
}

// read is Read without closing the stream at its end.
func (r *streamReader) read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(p) == 0 && r.err == nil {
		return 0, nil
	}
	for r.left == 0 {
		if r.err != nil {
			return 0, r.err
		}
		kind, size, err := r.s.header()
		if err != nil {
			r.s.ended.Store(true)
			r.err = err
			continue
		}
		if kind == frameData {
			r.left = size
			continue
		}
		body := make([]byte, size)
		if _, err := io.ReadFull((*rawReader)(r.s), body); err != nil {
			r.s.ended.Store(true)
			r.err = r.s.readErr(err)
			continue
		}
		r.s.ended.Store(true)
		if kind != frameEnd {
			r.err = r.s.fail(fmt.Errorf("%w: frame kind %d in a streamed reader", ErrMalformed, kind))
		} else if r.err = r.s.endErr(body); r.err == nil {
			r.err = io.EOF
		}
	}
	n, err := r.s.rawRead(p[:min(len(p), r.left)])
	r.left -= n
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		r.s.ended.Store(true)
		r.err = r.s.readErr(err)
		r.left = 0
		if n == 0 {
			return 0, r.err
		}
	}
	return n, nil
}

// Close implements io.Closer: before the end, it cancels the server's
// copy. Read then returns an error.
func (r *streamReader) Close() error {
	if r.s != nil {
		r.s.Close() // first: it ends a Read waiting for the server
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.left = 0
	if r.err == nil {
		r.err = fmt.Errorf("meshrpc: read from a closed stream: %w", io.ErrClosedPipe)
	}
	return nil
}
