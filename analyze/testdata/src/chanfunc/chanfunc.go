// Package chanfunc holds seams with channels and callbacks.
package chanfunc

import "context"

// Event is a plain message.
type Event struct{ Name string }

// Watcher streams events.
type Watcher interface {
	Watch(ctx context.Context, topic string) (<-chan Event, error) // want "chan: result#1 is a channel"
	Subscribe(ctx context.Context, fn func(Event)) error           // want "func: fn is a function \\(func\\(Event\\)\\)"
	Nested(ctx context.Context, s Subscription) error              // want "func: s.OnEvent is a function" "chan: s.Done is a channel"
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
