// Package embedded holds seams that embed interfaces of a dependency and of
// the module: findings on a dependency's methods point at the embedding.
package embedded

import (
	"context"
	"io"

	"fixtures/embedded/base"
)

// ReadCloser embeds io.ReadCloser (which itself embeds io.Reader).
type ReadCloser interface {
	io.ReadCloser // want "no-context: Read has no" "no-context: Close has no" "param-write: p \\(\\[\\]byte\\): \\(\\*file\\).Read writes into it at embedded/embedded.go:32:2"
	base.Closer   // Close is also io.Closer's: the method set holds one Close
	Name(ctx context.Context) (string, error)
}

type file struct{ data []byte }

// Open returns a ReadCloser.
func Open() ReadCloser { return &file{} }

func (f *file) Read(p []byte) (int, error) {
	n := 0
	for i := range p {
		if i >= len(f.data) {
			break
		}
		n++
	}
	p[0] = 'x'
	return n, nil
}

func (f *file) Close() error { return nil }

func (f *file) Name(ctx context.Context) (string, error) { return "f", nil }
