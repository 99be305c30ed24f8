// Package refused declares interfaces that cannot cross the network.
package refused

import (
	"context"
	"io"
	"time"
)

// Watcher returns a send-only channel: a receive-only one streams.
type Watcher interface {
	Watch(ctx context.Context) (chan<- string, error)
}

// Hooks takes a callback.
type Hooks interface {
	On(ctx context.Context, f func(string)) error
}

// Dynamic takes an io.Writer: a non-empty interface, whose dynamic types
// and their methods' code the codec cannot know.
type Dynamic interface {
	Put(ctx context.Context, w io.Writer) error
}

// Generic has a type parameter.
type Generic[T any] interface {
	Get(ctx context.Context) (T, error)
}

// Address carries a uintptr deep inside.
type Address interface {
	Where(ctx context.Context) ([]struct{ P uintptr }, error)
}

// Zone takes a *time.Location, whose fields are unexported.
type Zone interface {
	In(ctx context.Context, loc *time.Location) error
}

// Empty is a type whose values encode to no bytes.
type Empty struct{ _ int }

// Sets carries a slice of empty values.
type Sets interface {
	Marks(ctx context.Context) ([]Empty, error)
}

// Handler is an interface type used as a value.
type Handler interface{ Handle() }

// Named takes a named interface.
type Named interface {
	Use(ctx context.Context, h Handler) error
}

// Taken is an interface whose generated client name is already taken.
type Taken interface {
	Get(ctx context.Context) (int, error)
}

// TakenMeshClient is declared by hand.
type TakenMeshClient struct{}
