// Package clean holds a seam with nothing to report.
package clean

import (
	"context"
	"time"
)

// Reservation is a plain value with a nil-able pointer and a time.
type Reservation struct {
	SKU     string
	Qty     int
	Expires time.Time
	Note    *string
	Data    []byte
	Attrs   map[string]int
}

// Inventory is remotable as it stands.
type Inventory interface {
	Reserve(ctx context.Context, sku string, qty int) (Reservation, error)
	Lookup(ctx context.Context, skus ...string) ([]*Reservation, error)
	Stats(ctx context.Context) (total int, err error)
}
