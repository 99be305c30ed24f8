// Package chanfunc holds seams with channels and callbacks.
package chanfunc

import (
	"context"
	"io"
	"iter"
)

// Event is a plain message.
type Event struct{ Name string }

// Watcher streams events.
type Watcher interface {
	Watch(ctx context.Context, topic string) (<-chan Event, error) // want "stream: result#1 is a <-chan Event: its values stream"
	Subscribe(ctx context.Context, fn func(Event)) error           // want "func: fn is a function \\(func\\(Event\\)\\)"
	Nested(ctx context.Context, s Subscription) error              // want "func: s.OnEvent is a function" "chan: s.Done is a channel"
	Publish(ctx context.Context, in <-chan Event) error            // want "chan: in is a channel"
	Sink(ctx context.Context) (chan<- Event, error)                // want "chan: result#1 is a channel"
	Both(ctx context.Context) (chan Event, error)                  // want "chan: result#1 is a channel"
}

// Log streams in every shape the mesh carries.
type Log interface {
	Tail(ctx context.Context, from int) iter.Seq2[Event, error] // want "stream: result#1 is an iter.Seq2\\[Event, error\\]: its items and their errors"
	Names(ctx context.Context) (iter.Seq[string], error)        // want "stream: result#1 is an iter.Seq\\[string\\]"
	Export(ctx context.Context) (io.ReadCloser, error)          // want "stream: result#1 is an io.ReadCloser"
	Import(ctx context.Context, r io.Reader) error              // want "stream: r is an io.Reader"
	Pairs(ctx context.Context) (iter.Seq2[string, int], error)  // want "func: result#1 is a function"
	Copy(ctx context.Context, w io.Writer) error                // want "interface: w is a value of the interface io.Writer"
	Two(ctx context.Context) (io.Reader, io.Reader, error)      // want "stream: result#1 is an io.Reader" "interface: result#2 is a value"
}

// Subscription carries a callback inside a struct.
type Subscription struct {
	Topic   string
	OnEvent func(Event)
	Done    chan struct{}
}

// Handler is a named func type.
type Handler func(Event) error

// Router takes a named func type.
type Router interface {
	Route(ctx context.Context, h Handler) error // want "func: h is a function \\(Handler\\)"
}
