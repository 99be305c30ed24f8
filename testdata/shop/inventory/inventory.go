// Package inventory tracks how many units of each product the shop has, and
// holds stock for orders while they are being paid for.
package inventory

import (
	"context"
	"errors"
	"time"
)

// Errors returned wrapped with %w, with the SKU or reservation at fault in
// the message: test them with errors.Is.
var (
	// ErrOutOfStock means a reservation asked for more units than are free.
	ErrOutOfStock = errors.New("out of stock")
	// ErrUnknownReservation means the reservation does not exist, was
	// already committed or released, or has expired.
	ErrUnknownReservation = errors.New("unknown or expired reservation")
	// ErrInvalidQuantity means a line or restock asked for zero or fewer units.
	ErrInvalidQuantity = errors.New("quantity must be positive")
)

// Line is a quantity of one product.
type Line struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// Reservation holds stock for an order until it is committed, released or
// expires.
type Reservation struct {
	ID        string    `json:"id"`
	Lines     []Line    `json:"lines"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Service is the seam between orders and the stock levels. Every method takes
// a context; Restock honours its cancellation while it waits.
type Service interface {
	// Reserve holds all the given lines or none of them (a variadic method).
	// A line that cannot be served fails the whole call with an error
	// wrapping ErrOutOfStock that names the SKU.
	Reserve(ctx context.Context, lines ...Line) (Reservation, error)

	// Commit turns a reservation into a sale: its units leave the stock.
	Commit(ctx context.Context, reservationID string) error

	// Release gives a reservation's units back.
	Release(ctx context.Context, reservationID string) error

	// Restock adds qty units of sku once the warehouse confirms the delivery,
	// which takes Config.RestockDelay. When ctx ends first, it returns an
	// error wrapping ctx.Err() and adds nothing.
	Restock(ctx context.Context, sku string, qty int) error

	// Levels returns the free units of each SKU asked for, or of every SKU
	// the store knows when none is given. The map is never nil; SKUs the
	// store never had are absent.
	Levels(ctx context.Context, skus ...string) (map[string]int, error)
}
