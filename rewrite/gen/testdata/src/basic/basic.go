// Package basic is a fixture with a little of everything: context and no
// context, nil results, out-parameters, variadics, every kind of field. Its
// implementation serves the end-to-end test.
package basic

import (
	"context"
	"errors"
	"time"
)

// Store keeps orders.
type Store interface {
	// Get returns the order, or (nil, nil) when there is none.
	Get(ctx context.Context, id uint64) (*Order, error)
	// Create stores o and fills in its ID.
	Create(ctx context.Context, o *Order) error
	// Find returns the orders carrying every tag.
	Find(ctx context.Context, tags ...string) ([]Order, error)
	// Count has neither a context nor an error result.
	Count() int
	// Stats has unnamed parameters and named results.
	Stats(context.Context, string) (total int, by map[string]int, err error)
	// Touch has no result at all.
	Touch(when time.Time, every time.Duration)
	// Total only reads the order its pointer parameter points to.
	Total(ctx context.Context, o *Order) (float64, error)
	// Locate returns complex numbers, which JSON cannot carry.
	Locate(ctx context.Context, p Point) (Point, error)
}

// Point is a pair of complex numbers.
type Point struct {
	Z  complex128
	Z8 complex64
}

// Order is a model with every kind of field.
type Order struct {
	ID     uint64
	Tags   []string
	Items  []Item
	Meta   map[string]string
	Note   *string
	Secret string `json:"-"`
	Raw    []byte
	At     time.Time
	Grid   [2][2]int8
	F32    float32
	Kind   Kind
	status status
}

// Item is one line of an order.
type Item struct {
	SKU   string `json:"sku"`
	Qty   int
	Price float64
}

// Kind is a named basic type.
type Kind int

type status string

// ErrNotFound is a sentinel.
var ErrNotFound = errors.New("basic: not found")

// ConflictError is an error type.
type ConflictError struct{ ID uint64 }

func (e *ConflictError) Error() string { return "basic: conflict" }
