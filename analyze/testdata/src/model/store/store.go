// Package store declares the seams of the model fixture.
package store

import (
	"context"
	"io"
)

// Reader reads records.
type Reader interface {
	Get(ctx context.Context, id string) (string, error)
}

// Store embeds Reader and adds writes.
type Store interface {
	Reader
	Put(ctx context.Context, id, v string) error
}

// Sink has two implementations and no constructor returning it.
type Sink interface {
	Write(ctx context.Context, p []byte) (int, error)
}

// mem implements Store with pointer receivers.
type mem struct{ m map[string]string }

// New returns the in-memory store as the interface.
func New() Store { return &mem{m: map[string]string{}} }

// NewMem returns the concrete type.
func NewMem() (*mem, error) { return &mem{m: map[string]string{}}, nil }

func (s *mem) Get(ctx context.Context, id string) (string, error) { return s.m[id], nil }
func (s *mem) Put(ctx context.Context, id, v string) error        { s.m[id] = v; return nil }
func (s *mem) Close() error                                       { return nil }

// Discard implements Sink with a value receiver.
type Discard struct{}

func (Discard) Write(ctx context.Context, p []byte) (int, error) { return len(p), nil }

// Buffer implements Sink with a pointer receiver.
type Buffer struct{ b []byte }

func (b *Buffer) Write(ctx context.Context, p []byte) (int, error) {
	b.b = append(b.b, p...)
	return len(p), nil
}

var _ io.Closer = (*mem)(nil)
