// Package payments takes customers' money and gives it back: a sandbox card
// gateway for development and an invoice gateway that bills on account.
package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"example.com/shop/money"
)

// Errors returned wrapped with %w: test them with errors.Is. An unknown
// charge ID is reported with the standard library's sql.ErrNoRows, wrapped,
// as a database-backed gateway would.
var (
	// ErrInvalidAmount means a charge or refund of zero or less.
	ErrInvalidAmount = errors.New("amount must be positive")
	// ErrRefundTooLarge means a refund beyond what is left of the charge.
	ErrRefundTooLarge = errors.New("refund exceeds the amount charged")
)

// DeclinedError is returned when the payment provider refuses a charge.
// Callers check for it with errors.As to tell the customer why.
type DeclinedError struct {
	Code   string `json:"code"`   // machine-readable, such as "card_declined"
	Reason string `json:"reason"` // for people
}

// Error implements error.
func (e *DeclinedError) Error() string {
	return fmt.Sprintf("payment declined (%s): %s", e.Code, e.Reason)
}

// Request asks for a charge.
type Request struct {
	OrderID    string      `json:"order_id"`
	CustomerID string      `json:"customer_id"`
	Token      string      `json:"token"` // the customer's payment token
	Amount     money.Cents `json:"amount_cents"`
	Currency   string      `json:"currency"`
	// IdempotencyKey makes retries safe: a second request with the same key
	// returns the first charge instead of charging again. It is a full 64-bit
	// value; keys that differ only above 2^53 are different keys.
	IdempotencyKey uint64 `json:"idempotency_key,string"`
}

// Charge is money taken from a customer.
type Charge struct {
	ID             string      `json:"id"`
	OrderID        string      `json:"order_id"`
	CustomerID     string      `json:"customer_id"`
	Amount         money.Cents `json:"amount_cents"`
	Refunded       money.Cents `json:"refunded_cents"`
	Currency       string      `json:"currency"`
	IdempotencyKey uint64      `json:"idempotency_key,string"`
	Gateway        string      `json:"gateway"` // "sandbox" or "invoice"
	At             time.Time   `json:"at"`
}

// Refunder gives money back. It is split out of Gateway so that code which
// only refunds can say so.
type Refunder interface {
	// Refund returns amount of a charge to the customer. More than what is
	// left of the charge is an error wrapping ErrRefundTooLarge.
	Refund(ctx context.Context, chargeID string, amount money.Cents) error
}

// Gateway is the seam between orders and a payment provider. It embeds
// Refunder; it has two implementations (NewSandbox, NewInvoice).
type Gateway interface {
	Refunder

	// Charge takes req.Amount from the customer, or returns a
	// *DeclinedError (wrapped) when the provider refuses.
	Charge(ctx context.Context, req Request) (Charge, error)

	// Lookup returns a charge by ID; an unknown ID is an error wrapping
	// sql.ErrNoRows.
	Lookup(ctx context.Context, chargeID string) (Charge, error)

	// Receipt renders the receipt of a charge as a printable document.
	Receipt(ctx context.Context, chargeID string) ([]byte, error)
}

// Entry is one line of a bookkeeping journal.
type Entry struct {
	Account string      `json:"account"` // such as "receivable:c-42"
	Amount  money.Cents `json:"amount_cents"`
	Memo    string      `json:"memo"`
	At      time.Time   `json:"at"`
}

// Journal is where the invoice gateway books what customers owe. The shop's
// audit.Ledger implements it (and orders.Recorder at the same time).
type Journal interface {
	// Post appends an entry.
	Post(ctx context.Context, e Entry) error
	// Balance returns the sum of an account's entries (zero for an account
	// with none).
	Balance(ctx context.Context, account string) (money.Cents, error)
}
