// Package anyvalues declares an interface that carries interface values
// (any, interface{}, a type defined as one) and a field left off the wire
// with `meshsplit:"-"`.
package anyvalues

import (
	"context"
	"io"
	"time"
)

// Weight is a named basic type of the signatures: an any may hold it.
type Weight int32

// Stamp is defined as time.Time: an any may hold it.
type Stamp time.Time

// Label is a named string, used as a map key.
type Label string

// Value is a type defined as an empty interface.
type Value interface{}

// Ref names a record by kind and an identifier of any comparable type.
type Ref struct {
	Kind string
	ID   any
}

// Record carries interface values in fields, and fields left off the wire.
type Record struct {
	Name   string
	Extras map[string]any
	Attrs  []any
	ByKey  map[Label]interface{}
	Pair   [2]Value
	Inner  *Record
	Links  map[Ref]bool
	// Log is a writer that the mesh codec cannot carry: tagged to stay home.
	Log   io.Writer `meshsplit:"-" json:"-"`
	Cache int       `meshsplit:"-"`
}

// Catalog stores records and echoes interface values.
type Catalog interface {
	// Put stores r under its name and returns what it replaced.
	Put(ctx context.Context, r Record) (*Record, error)
	// Echo returns v as it arrived.
	Echo(ctx context.Context, v any) (any, error)
	// Weigh returns the weights of the named records.
	Weigh(ctx context.Context, names []string, at Stamp) (map[string]Weight, error)
	// Tag stores a value under a key.
	Tag(ctx context.Context, key Label, v Value) error
}
