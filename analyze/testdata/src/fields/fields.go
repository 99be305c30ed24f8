// Package fields holds seams whose types have unexported and json:"-" fields.
package fields

import (
	"context"
	"sync"
	"time"

	"fixtures/fields/other"
)

// Order has an unexported field of this package: the generated codec,
// which lives here, carries it.
type Order struct {
	ID      string
	Total   other.Money
	Fee     other.Money `json:"-"` // a named type met before: still a field to judge
	Token   string      `json:"-"`
	Created time.Time
	note    string
}

// Counter embeds a mutex from the standard library.
type Counter struct {
	mu sync.Mutex
	N  int
}

// Shop uses the types above.
type Shop interface {
	Place(ctx context.Context, o Order) error    // want "unexported-field: o.Total is a fixtures/fields/other.Money, whose unexported fields \\(currency\\)" "json-dash: o.Token is tagged" "json-dash: o.Fee is tagged"
	Count(ctx context.Context) (*Counter, error) // want "unexported-field: result#1.mu is a sync.Mutex, whose unexported fields"
	Plain(ctx context.Context, p other.Public) error
	When(ctx context.Context) (time.Time, error)
}
