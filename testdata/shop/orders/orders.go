// Package orders turns a customer's basket into a paid order: it prices the
// lines from the catalog, holds the stock, charges the customer, and tells
// everyone about it.
package orders

import (
	"context"
	"errors"
	"time"

	"example.com/shop/inventory"
	"example.com/shop/money"
)

// Errors returned wrapped with %w, the reason in the message: test them
// with errors.Is.
var (
	// ErrInvalidOrder means the order cannot be placed as given (no lines,
	// no customer, a bad coupon...).
	ErrInvalidOrder = errors.New("invalid order")
	// ErrUnknownOrder means no order has the ID given to Cancel.
	ErrUnknownOrder = errors.New("unknown order")
	// ErrAlreadyCancelled means Cancel was called twice.
	ErrAlreadyCancelled = errors.New("order already cancelled")
)

// Status is where an order is in its life.
type Status string

// The statuses of an order.
const (
	StatusPaid      Status = "paid"
	StatusCancelled Status = "cancelled"
)

// Customer is who places an order.
type Customer struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	// PaymentToken is the customer's card or account token. It is never
	// echoed in JSON (json:"-"), but the payment gateway needs it.
	PaymentToken string `json:"-"`
}

// Coupon is a discount on a whole order.
type Coupon struct {
	Code       string `json:"code"`
	PercentOff int    `json:"percent_off"` // 1..100
}

// Order is a customer's purchase.
type Order struct {
	ID       string           `json:"id"`
	Customer Customer         `json:"customer"`
	Lines    []inventory.Line `json:"lines"`            // a struct from another package
	Coupon   *Coupon          `json:"coupon,omitempty"` // nil: no coupon
	// IdempotencyKey makes Place safe to retry: a second Place with the
	// key of an earlier order returns that order. A full 64-bit value.
	IdempotencyKey uint64      `json:"idempotency_key,string,omitempty"`
	Status         Status      `json:"status"`
	Total          money.Cents `json:"total_cents"`
	Currency       string      `json:"currency"`
	// Margin is Total minus what the goods cost the shop: for the books,
	// never for customers.
	Margin      money.Cents       `json:"-"`
	ChargeID    string            `json:"charge_id,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	CancelledAt *time.Time        `json:"cancelled_at,omitempty"` // nil until cancelled
	Meta        map[string]string `json:"meta,omitempty"`         // notes such as "notify_error"
}

// Service is the seam between the shop's front end and its order logic.
type Service interface {
	// Place prices, reserves, charges and records o. It fills in o.ID,
	// o.Status, o.Total, o.Margin, o.Currency, o.ChargeID and o.CreatedAt:
	// o is an out-parameter. Errors wrap the cause: catalog.ErrNotFound,
	// inventory.ErrOutOfStock, a *payments.DeclinedError or ErrInvalidOrder.
	Place(ctx context.Context, o *Order) error

	// Quote prices lines as Place would, with an optional coupon (nil for
	// none), and reserves or charges nothing. It takes a slice of a struct
	// from another package (inventory.Line) and a pointer it only reads.
	Quote(ctx context.Context, lines []inventory.Line, coupon *Coupon) (total money.Cents, err error)

	// Get returns the order with the given ID, or (nil, nil) when there is
	// none: an unknown ID is not an error.
	Get(ctx context.Context, id string) (*Order, error)

	// Cancel refunds a paid order and puts its goods back in stock.
	Cancel(ctx context.Context, id string) error

	// ListByCustomer returns a customer's orders, oldest first; nil when
	// the customer has none.
	ListByCustomer(ctx context.Context, customerID string) ([]Order, error)
}

// Recorder keeps the audit trail of orders. The shop's audit.Ledger
// implements it; no constructor returns one, it is set in Config.Recorder.
type Recorder interface {
	// RecordOrder notes an order placed or cancelled.
	RecordOrder(ctx context.Context, o Order) error
}
