package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// This file holds a hand-written streaming service shaped like the code
// `meshsplit extract` generates for iter.Seq, iter.Seq2, <-chan and
// io.Reader signatures; stream_test.go calls it over real TCP on 127.0.0.1.

type feeder interface {
	// Count yields 0..n-1 (forever when n < 0); n == -2 fails the call.
	Count(ctx context.Context, n int) (iter.Seq[int64], error)
	// Tail yields 0..n-1 (forever when n < 0), with errNotFound beside item
	// failAt when failAt >= 0, and pads each item to pad bytes; it panics
	// when pad is -2, and its sequence at item 2 when pad is -1.
	Tail(ctx context.Context, n, failAt, pad int) iter.Seq2[Blob, error]
	// Feed sends n strings on a channel it closes; n < 0 fails the call.
	Feed(ctx context.Context, n int) (<-chan string, error)
	// Export returns size bytes of pattern, failing with errNotFound after
	// failAt bytes when failAt >= 0.
	Export(ctx context.Context, size, failAt int) (io.ReadCloser, error)
	// Import reads r to its end and returns its length and SHA-256.
	Import(ctx context.Context, label string, r io.Reader) (int64, string, error)
	// Upper returns r's bytes in upper case, read from r as they are read.
	Upper(ctx context.Context, r io.Reader) (io.Reader, error)
}

// Blob is one item of Tail.
type Blob struct {
	N   int64
	Pad []byte
}

func encBlob(e *Encoder, b *Blob)  { e.Int(b.N); e.ByteSlice(b.Pad) }
func decBlob(d *Decoder, b *Blob)  { b.N = d.Int(); b.Pad = d.ByteSlice() }
func encInt(e *Encoder, v *int64)  { e.Int(*v) }
func decInt(d *Decoder, v *int64)  { *v = d.Int() }
func encStr(e *Encoder, v *string) { e.String(*v) }
func decStr(d *Decoder, v *string) { *v = d.String() }

// feederImpl records what its producers saw, for the tests to wait on.
type feederImpl struct {
	produced atomic.Int64 // items handed to yield or sent
	mu       sync.Mutex
	stopped  []string // why each producer ended: "yield false", "ctx", "end"
	closed   atomic.Int64
	ctxDone  chan struct{} // closed by a producer that saw its context end
	once     sync.Once
	tenant   atomic.Value // the context value Feed's context held (registerTenant)
}

func newFeederImpl() *feederImpl { return &feederImpl{ctxDone: make(chan struct{})} }

func (f *feederImpl) stop(why string, ctx context.Context) {
	f.mu.Lock()
	f.stopped = append(f.stopped, why)
	f.mu.Unlock()
	if ctx.Err() != nil {
		f.once.Do(func() { close(f.ctxDone) })
	}
}

func (f *feederImpl) stops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.stopped...)
}

func (f *feederImpl) Count(ctx context.Context, n int) (iter.Seq[int64], error) {
	if n == -2 {
		return nil, errNotFound
	}
	return func(yield func(int64) bool) {
		for i := int64(0); n < 0 || i < int64(n); i++ {
			f.produced.Add(1)
			if !yield(i) {
				f.stop("yield false", ctx)
				return
			}
		}
		f.stop("end", ctx)
	}, nil
}

func (f *feederImpl) Tail(ctx context.Context, n, failAt, pad int) iter.Seq2[Blob, error] {
	if pad == -2 {
		panic("tail: bad pad")
	}
	return func(yield func(Blob, error) bool) {
		for i := 0; n < 0 || i < n; i++ {
			if pad == -1 && i == 2 {
				var m map[string]int
				m["boom"]++ // a producer that panics mid-stream
			}
			var err error
			if i == failAt {
				err = fmt.Errorf("item %d: %w", i, errNotFound)
			}
			f.produced.Add(1)
			if !yield(Blob{N: int64(i), Pad: make([]byte, max(pad, 0))}, err) {
				f.stop("yield false", ctx)
				return
			}
		}
		f.stop("end", ctx)
	}
}

func (f *feederImpl) Feed(ctx context.Context, n int) (<-chan string, error) {
	if v, ok := ctx.Value(tenantKey{}).(string); ok {
		f.tenant.Store(v)
	}
	if n < 0 {
		return nil, &declinedError{Code: 7, Reason: "no feed"}
	}
	ch := make(chan string, 4)
	go func() {
		defer close(ch)
		for i := 0; i < n; i++ {
			select {
			case ch <- fmt.Sprint("event ", i):
				f.produced.Add(1)
			case <-ctx.Done():
				f.stop("ctx", ctx)
				return
			}
		}
		f.stop("end", ctx)
	}()
	return ch, nil
}

// patternReader yields size bytes of a fixed pattern, then io.EOF or, at
// failAt, errNotFound.
type patternReader struct {
	off, size, failAt int
	f                 *feederImpl
}

func pattern(i int) byte { return byte(i*7 + i>>10) }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.failAt >= 0 && r.off >= r.failAt {
		return 0, fmt.Errorf("export at byte %d: %w", r.off, errNotFound)
	}
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := min(len(p), r.size-r.off)
	if r.failAt >= 0 {
		n = min(n, r.failAt-r.off)
	}
	for i := range n {
		p[i] = pattern(r.off + i)
	}
	r.off += n
	return n, nil
}

func (r *patternReader) Close() error { r.f.closed.Add(1); return nil }

func (f *feederImpl) Export(ctx context.Context, size, failAt int) (io.ReadCloser, error) {
	return &patternReader{size: size, failAt: failAt, f: f}, nil
}

func (f *feederImpl) Import(ctx context.Context, label string, r io.Reader) (int64, string, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return n, "", fmt.Errorf("%s: %w", label, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// upperReader upper-cases the bytes of r as they are read.
type upperReader struct{ r io.Reader }

func (u upperReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	for i := range p[:n] {
		if 'a' <= p[i] && p[i] <= 'z' {
			p[i] -= 'a' - 'A'
		}
	}
	return n, err
}

func (f *feederImpl) Upper(ctx context.Context, r io.Reader) (io.Reader, error) {
	return upperReader{r}, nil
}

// Messages.

type feederIntRequest struct{ N int }

func (m *feederIntRequest) MarshalMesh(e *Encoder)   { e.Int(int64(m.N)) }
func (m *feederIntRequest) UnmarshalMesh(d *Decoder) { m.N = int(d.Int()) }

type feederTailRequest struct{ N, FailAt, Pad int }

func (m *feederTailRequest) MarshalMesh(e *Encoder) {
	e.Int(int64(m.N))
	e.Int(int64(m.FailAt))
	e.Int(int64(m.Pad))
}
func (m *feederTailRequest) UnmarshalMesh(d *Decoder) {
	m.N, m.FailAt, m.Pad = int(d.Int()), int(d.Int()), int(d.Int())
}

type feederExportRequest struct{ Size, FailAt int }

func (m *feederExportRequest) MarshalMesh(e *Encoder) { e.Int(int64(m.Size)); e.Int(int64(m.FailAt)) }
func (m *feederExportRequest) UnmarshalMesh(d *Decoder) {
	m.Size, m.FailAt = int(d.Int()), int(d.Int())
}

type feederImportRequest struct{ Label string }

func (m *feederImportRequest) MarshalMesh(e *Encoder)   { e.String(m.Label) }
func (m *feederImportRequest) UnmarshalMesh(d *Decoder) { m.Label = d.String() }

type feederImportResponse struct {
	R0 int64
	R1 string
}

func (m *feederImportResponse) MarshalMesh(e *Encoder)   { e.Int(m.R0); e.String(m.R1) }
func (m *feederImportResponse) UnmarshalMesh(d *Decoder) { m.R0 = d.Int(); m.R1 = d.String() }

const feederName = "example.com/test/feed.Feeder"

// Method indexes, in name order.
const (
	feederCount = iota
	feederExport
	feederFeed
	feederImport
	feederTail
	feederUpper
)

func feederOf(impl any) feeder { return impl.(feeder) }

var feederDesc = ServiceDesc{
	Name:        feederName,
	Fingerprint: "feeder-1",
	Methods: []MethodDesc{
		{
			Name: "Count", Fingerprint: "count-1", Params: []string{"n"},
			NewRequest:  func() Message { return new(feederIntRequest) },
			NewResponse: func() Message { return new(greeterEmpty) },
			Stream: &StreamDesc{Out: true, Invoke: func(ctx context.Context, impl any, req Message, _ io.Reader) (Message, Producer, error) {
				seq, err := feederOf(impl).Count(ctx, req.(*feederIntRequest).N)
				if err != nil {
					return &greeterEmpty{}, nil, err
				}
				return &greeterEmpty{}, ProduceSeq(seq, encInt), nil
			}},
		},
		{
			Name: "Export", Fingerprint: "export-1", Params: []string{"size", "failAt"},
			NewRequest:  func() Message { return new(feederExportRequest) },
			NewResponse: func() Message { return new(greeterEmpty) },
			Stream: &StreamDesc{Out: true, Invoke: func(ctx context.Context, impl any, req Message, _ io.Reader) (Message, Producer, error) {
				in := req.(*feederExportRequest)
				r, err := feederOf(impl).Export(ctx, in.Size, in.FailAt)
				if err != nil {
					return &greeterEmpty{}, nil, err
				}
				return &greeterEmpty{}, ProduceReader(r), nil
			}},
		},
		{
			Name: "Feed", Fingerprint: "feed-1", Params: []string{"n"},
			NewRequest:  func() Message { return new(feederIntRequest) },
			NewResponse: func() Message { return new(greeterEmpty) },
			Stream: &StreamDesc{Out: true, Invoke: func(ctx context.Context, impl any, req Message, _ io.Reader) (Message, Producer, error) {
				ch, err := feederOf(impl).Feed(ctx, req.(*feederIntRequest).N)
				if err != nil {
					return &greeterEmpty{}, nil, err
				}
				return &greeterEmpty{}, ProduceChan(ch, encStr), nil
			}},
		},
		{
			Name: "Import", Fingerprint: "import-1", Params: []string{"label", "r"},
			NewRequest:  func() Message { return new(feederImportRequest) },
			NewResponse: func() Message { return new(feederImportResponse) },
			Stream: &StreamDesc{In: true, Invoke: func(ctx context.Context, impl any, req Message, r io.Reader) (Message, Producer, error) {
				out := new(feederImportResponse)
				var err error
				out.R0, out.R1, err = feederOf(impl).Import(ctx, req.(*feederImportRequest).Label, r)
				return out, nil, err
			}},
		},
		{
			Name: "Tail", Fingerprint: "tail-1", Params: []string{"n", "failAt", "pad"},
			NewRequest:  func() Message { return new(feederTailRequest) },
			NewResponse: func() Message { return new(greeterEmpty) },
			Stream: &StreamDesc{Out: true, Invoke: func(ctx context.Context, impl any, req Message, _ io.Reader) (Message, Producer, error) {
				in := req.(*feederTailRequest)
				return &greeterEmpty{}, ProduceSeq2(feederOf(impl).Tail(ctx, in.N, in.FailAt, in.Pad), encBlob), nil
			}},
		},
		{
			Name: "Upper", Fingerprint: "upper-1", Params: []string{},
			NewRequest:  func() Message { return new(greeterEmpty) },
			NewResponse: func() Message { return new(greeterEmpty) },
			Stream: &StreamDesc{In: true, Out: true, Invoke: func(ctx context.Context, impl any, req Message, r io.Reader) (Message, Producer, error) {
				out, err := feederOf(impl).Upper(ctx, r)
				return &greeterEmpty{}, ProduceReader(out), err
			}},
		},
	},
	Errors: []ErrorDesc{
		Sentinel("example.com/test/greet.ErrNotFound", errNotFound),
		ErrorType[*declinedError]("example.com/test/greet.*DeclinedError"),
	},
}

// feederClient implements feeder through the mesh, as generated code does.
type feederClient struct{ c *Client }

var _ feeder = (*feederClient)(nil)

func (c *feederClient) Count(ctx context.Context, n int) (iter.Seq[int64], error) {
	s, err := c.c.CallStream(ctx, feederCount, &feederIntRequest{N: n}, &greeterEmpty{}, nil)
	return ConsumeSeq(s, err, decInt), err
}

func (c *feederClient) Tail(ctx context.Context, n, failAt, pad int) iter.Seq2[Blob, error] {
	s, err := c.c.CallStream(ctx, feederTail, &feederTailRequest{N: n, FailAt: failAt, Pad: pad}, &greeterEmpty{}, nil)
	return ConsumeSeq2(s, err, decBlob)
}

func (c *feederClient) Feed(ctx context.Context, n int) (<-chan string, error) {
	s, err := c.c.CallStream(ctx, feederFeed, &feederIntRequest{N: n}, &greeterEmpty{}, nil)
	return ConsumeChan(ctx, s, err, decStr), err
}

func (c *feederClient) Export(ctx context.Context, size, failAt int) (io.ReadCloser, error) {
	s, err := c.c.CallStream(ctx, feederExport, &feederExportRequest{Size: size, FailAt: failAt}, &greeterEmpty{}, nil)
	return ConsumeReader(s, err), err
}

func (c *feederClient) Import(ctx context.Context, label string, r io.Reader) (int64, string, error) {
	var resp feederImportResponse
	_, err := c.c.CallStream(ctx, feederImport, &feederImportRequest{Label: label}, &resp, r)
	return resp.R0, resp.R1, err
}

func (c *feederClient) Upper(ctx context.Context, r io.Reader) (io.Reader, error) {
	s, err := c.c.CallStream(ctx, feederUpper, &greeterEmpty{}, &greeterEmpty{}, r)
	return ConsumeReader(s, err), err
}

// serveFeeder starts a node publishing a feederImpl and a caller joined to
// it.
func serveFeeder(t testing.TB, cfg Config) (*feederImpl, *feederClient, *Node) {
	t.Helper()
	srv := startNode(t, cfg)
	impl := newFeederImpl()
	if err := srv.Publish(&feederDesc, impl); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	cfg.Listen = ""
	n := startNode(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Join(ctx, srv.Addr()); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if err := n.Wait(ctx, feederName); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return impl, &feederClient{n.Client(&feederDesc)}, n
}

// errIs reports whether err is target, for table checks.
func errIs(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}
