package payments

import (
	"bytes"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"example.com/shop/money"
)

// book keeps the charges of one gateway, by ID and by idempotency key. Both
// gateways embed one.
type book struct {
	name string           // gateway name, also the charge ID prefix
	now  func() time.Time // never nil

	mu      sync.Mutex
	seq     int
	charges map[string]Charge
	byKey   map[uint64]string // idempotency key -> charge ID
}

func newBook(name string, now func() time.Time) book {
	if now == nil {
		now = time.Now
	}
	return book{name: name, now: now, charges: make(map[string]Charge), byKey: make(map[uint64]string)}
}

// repeat returns the earlier charge made with req's idempotency key, if any.
// b.mu is held.
func (b *book) repeat(req Request) (Charge, bool) {
	if req.IdempotencyKey == 0 {
		return Charge{}, false
	}
	id, ok := b.byKey[req.IdempotencyKey]
	return b.charges[id], ok
}

// add records a new charge for req. b.mu is held.
func (b *book) add(req Request) Charge {
	b.seq++
	c := Charge{
		ID:             fmt.Sprintf("%s_%06d", b.name, b.seq),
		OrderID:        req.OrderID,
		CustomerID:     req.CustomerID,
		Amount:         req.Amount,
		Currency:       req.Currency,
		IdempotencyKey: req.IdempotencyKey,
		Gateway:        b.name,
		At:             b.now(),
	}
	b.charges[c.ID] = c
	if req.IdempotencyKey != 0 {
		b.byKey[req.IdempotencyKey] = c.ID
	}
	return c
}

// lookup returns a charge or an error wrapping sql.ErrNoRows. b.mu is held.
func (b *book) lookup(chargeID string) (Charge, error) {
	c, ok := b.charges[chargeID]
	if !ok {
		return Charge{}, fmt.Errorf("payments: charge %q: %w", chargeID, sql.ErrNoRows)
	}
	return c, nil
}

// refund checks and books a refund on a charge. b.mu is held.
func (b *book) refund(chargeID string, amount money.Cents) (Charge, error) {
	if amount <= 0 {
		return Charge{}, fmt.Errorf("payments: refund %s of %s: %w", chargeID, amount, ErrInvalidAmount)
	}
	c, err := b.lookup(chargeID)
	if err != nil {
		return Charge{}, err
	}
	if left := c.Amount - c.Refunded; amount > left {
		return Charge{}, fmt.Errorf("payments: refund %s of %s, %s left: %w", chargeID, amount, left, ErrRefundTooLarge)
	}
	c.Refunded += amount
	b.charges[chargeID] = c
	return c, nil
}

// receipt renders a plain-text receipt of a charge. b.mu is held.
func (b *book) receipt(chargeID, title string) ([]byte, error) {
	c, err := b.lookup(chargeID)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%s %s\n", title, c.ID)
	fmt.Fprintf(&buf, "order:    %s\n", c.OrderID)
	fmt.Fprintf(&buf, "customer: %s\n", c.CustomerID)
	fmt.Fprintf(&buf, "date:     %s\n", c.At.Format(time.RFC3339))
	fmt.Fprintf(&buf, "amount:   %s %s\n", c.Amount, c.Currency)
	if c.Refunded > 0 {
		fmt.Fprintf(&buf, "refunded: %s %s\n", c.Refunded, c.Currency)
	}
	return buf.Bytes(), nil
}
