package greeter

import (
	"context"
	"fmt"
	"io"
	"iter"
)

// Streamer is the streaming service of the BenchmarkStream benchmarks: many
// small events through an iterator, and a large download through a reader.
// streamer_mesh.go is meshsplit's generated mesh code for it.
type Streamer interface {
	// Events yields n small events, numbered from 0.
	Events(ctx context.Context, n int) iter.Seq2[Line, error]
	// Download returns a reader of size bytes.
	Download(ctx context.Context, size int64) (io.ReadCloser, error)
}

// NewStreamer returns the implementation that every stream stack serves.
func NewStreamer() Streamer { return streamer{} }

type streamer struct{}

// Event returns event i of Events: a ~25-byte line.
func Event(i int) Line {
	return Line{SKU: "sku-0042", Qty: int32(i), Price: 9.5, Note: "ok"}
}

func (streamer) Events(ctx context.Context, n int) iter.Seq2[Line, error] {
	return func(yield func(Line, error) bool) {
		if n < 0 {
			yield(Line{}, fmt.Errorf("events: negative count %d", n))
			return
		}
		for i := range n {
			if !yield(Event(i), nil) {
				return
			}
		}
	}
}

func (streamer) Download(ctx context.Context, size int64) (io.ReadCloser, error) {
	if size < 0 {
		return nil, fmt.Errorf("download: negative size %d", size)
	}
	return &Blob{left: size}, nil
}

// blobChunk is the pattern Blob repeats.
var blobChunk = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(i*31 + i>>8)
	}
	return b
}()

// Blob is the reader Download returns: its bytes repeat a fixed 64 KiB
// pattern, so that producing them costs a copy and nothing more.
type Blob struct {
	off  int64
	left int64
}

// NewBlob returns a reader of size bytes of the pattern.
func NewBlob(size int64) *Blob { return &Blob{left: size} }

// Read implements io.Reader.
func (b *Blob) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), b.left)]
	n := 0
	for n < len(p) {
		at := int((b.off + int64(n)) % int64(len(blobChunk)))
		n += copy(p[n:], blobChunk[at:])
	}
	b.off += int64(n)
	b.left -= int64(n)
	return n, nil
}

// Close implements io.Closer.
func (b *Blob) Close() error { return nil }

// BlobByte returns byte i of every Blob, for checking what arrived.
func BlobByte(i int64) byte { return blobChunk[i%int64(len(blobChunk))] }
