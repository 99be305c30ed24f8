// Package ifaces holds seams with interface values.
package ifaces

import (
	"context"
	"fmt"
)

// Item is carried in a box.
type Item struct {
	Payload any
	Name    string
}

// Store mixes fine and unfit interface values.
type Store interface {
	Put(ctx context.Context, key string, v any) error   // want "interface: v is an interface value \\(any\\)"
	Get(ctx context.Context, key string) (Item, error)  // want "interface: result#1.Payload is an interface value"
	Describe(ctx context.Context, s fmt.Stringer) error // want "interface: s is an interface value \\(fmt.Stringer\\)"
	Fail(ctx context.Context, cause error) error        // want "interface: cause is an interface value \\(error\\)"
	Check(ctx context.Context) error
	Nested(ctx context.Context, r Request) error // want "interface: r.Ctx is an interface value \\(context.Context\\)" "interface: r.Err is an interface value \\(error\\)"
}

// Request carries a context and an error as fields: only a parameter may be
// a context, only a result an error.
type Request struct {
	Ctx context.Context
	Err error
}
