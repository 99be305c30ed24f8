// Package streams declares an interface with every shape that streams.
package streams

import (
	"context"
	"io"
	"iter"
	"time"
)

// Event is one entry of the log.
type Event struct {
	Seq  int64
	At   time.Time
	Tags []string
}

// Log streams in every shape the mesh carries.
type Log interface {
	// Tail yields the events from seq on, each with its error.
	Tail(ctx context.Context, from int64) iter.Seq2[Event, error]
	// Names yields the names under prefix.
	Names(ctx context.Context, prefix string) (iter.Seq[string], error)
	// Feed sends new events until ctx ends.
	Feed(ctx context.Context) (<-chan *Event, error)
	// Export returns the bytes of a named export, and its size.
	Export(ctx context.Context, name string) (size int64, rc io.ReadCloser, err error)
	// Raw returns the raw log, with no error result of its own.
	Raw(ctx context.Context) io.Reader
	// Import reads r into the named log; last is the last event before.
	Import(ctx context.Context, name string, r io.Reader, last *Event) (int64, error)
}
