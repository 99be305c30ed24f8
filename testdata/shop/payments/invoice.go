package payments

import (
	"context"
	"fmt"
	"time"

	"example.com/shop/money"
)

// InvoiceConfig configures the invoice gateway.
type InvoiceConfig struct {
	// CreditLimit is the most a customer may owe at once.
	CreditLimit money.Cents
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// invoice bills customers on account: every charge and refund is booked in a
// Journal, and a charge that would take a customer over the credit limit is
// declined.
type invoice struct {
	book
	journal Journal
	limit   money.Cents
}

// NewInvoice returns the gateway for business customers who pay on invoice.
// It books into j, which must not be nil.
func NewInvoice(j Journal, cfg InvoiceConfig) (Gateway, error) {
	if j == nil {
		return nil, fmt.Errorf("payments: invoice gateway needs a journal")
	}
	if cfg.CreditLimit <= 0 {
		return nil, fmt.Errorf("payments: invoice gateway: credit limit %s: %w", cfg.CreditLimit, ErrInvalidAmount)
	}
	return &invoice{book: newBook("invoice", cfg.Now), journal: j, limit: cfg.CreditLimit}, nil
}

// account is the journal account of what a customer owes.
func account(customerID string) string { return "receivable:" + customerID }

// Charge implements Gateway.
func (g *invoice) Charge(ctx context.Context, req Request) (Charge, error) {
	if req.Amount <= 0 {
		return Charge{}, fmt.Errorf("payments: invoice order %s of %s: %w", req.OrderID, req.Amount, ErrInvalidAmount)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.repeat(req); ok {
		return c, nil
	}
	owed, err := g.journal.Balance(ctx, account(req.CustomerID))
	if err != nil {
		return Charge{}, fmt.Errorf("payments: invoice order %s: balance: %w", req.OrderID, err)
	}
	if owed+req.Amount > g.limit {
		return Charge{}, fmt.Errorf("payments: invoice order %s: %w", req.OrderID, &DeclinedError{
			Code:   "credit_limit",
			Reason: fmt.Sprintf("customer owes %s, limit is %s", owed, g.limit),
		})
	}
	c := g.add(req)
	if err := g.journal.Post(ctx, Entry{Account: account(c.CustomerID), Amount: c.Amount, Memo: "invoice " + c.ID, At: c.At}); err != nil {
		delete(g.charges, c.ID) // not booked, so not charged
		delete(g.byKey, c.IdempotencyKey)
		return Charge{}, fmt.Errorf("payments: invoice order %s: book: %w", req.OrderID, err)
	}
	return c, nil
}

// Refund implements Refunder: it books a credit note.
func (g *invoice) Refund(ctx context.Context, chargeID string, amount money.Cents) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	before, err := g.lookup(chargeID)
	if err != nil {
		return err
	}
	c, err := g.refund(chargeID, amount)
	if err != nil {
		return err
	}
	if err := g.journal.Post(ctx, Entry{Account: account(c.CustomerID), Amount: -amount, Memo: "credit note " + c.ID, At: g.now()}); err != nil {
		g.charges[chargeID] = before
		return fmt.Errorf("payments: refund %s: book: %w", chargeID, err)
	}
	return nil
}

// Lookup implements Gateway.
func (g *invoice) Lookup(ctx context.Context, chargeID string) (Charge, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lookup(chargeID)
}

// Receipt implements Gateway.
func (g *invoice) Receipt(ctx context.Context, chargeID string) ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.receipt(chargeID, "INVOICE")
}
