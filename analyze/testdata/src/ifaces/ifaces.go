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
	Out     fmt.Stringer `meshsplit:"-"`
}

// Store mixes fine and unfit interface values: any is carried (a warning),
// other interfaces are not (errors).
type Store interface {
	Put(ctx context.Context, key string, v any) error   // want "any: v is an interface value \\(any\\): generated clients carry nil, bool, numbers"
	Get(ctx context.Context, key string) (Item, error)  // want "any: result#1.Payload is an interface value .*tag the field meshsplit" "omitted: result#1.Out is tagged meshsplit:\"-\""
	Describe(ctx context.Context, s fmt.Stringer) error // want "interface: s is a value of the interface fmt.Stringer: .*use a concrete type$"
	Fail(ctx context.Context, cause error) error        // want "interface: cause is a value of the interface error"
	Check(ctx context.Context) error
	Nested(ctx context.Context, r Request) error // want "interface: r.Ctx is a value of the interface context.Context" "interface: r.Err is a value of the interface error"
}

// Request carries a context and an error as fields: only a parameter may be
// a context, only a result an error.
type Request struct {
	Ctx context.Context
	Err error
}
