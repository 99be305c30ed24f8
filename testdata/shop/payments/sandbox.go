package payments

import (
	"context"
	"fmt"
	"time"

	"example.com/shop/money"
)

// Test card tokens the sandbox understands. Any other token is declined
// with code "invalid_token".
const (
	TokenVisa         = "tok_visa"         // always succeeds
	TokenDeclined     = "tok_declined"     // declined: "card_declined"
	TokenInsufficient = "tok_insufficient" // declined: "insufficient_funds"
)

// SandboxConfig configures the sandbox gateway.
type SandboxConfig struct {
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// sandbox is a fake card gateway: it charges test tokens and keeps the
// charges in memory.
type sandbox struct{ book }

// NewSandbox returns the card gateway used in development and tests.
func NewSandbox(cfg SandboxConfig) Gateway {
	return &sandbox{book: newBook("sandbox", cfg.Now)}
}

// Charge implements Gateway.
func (s *sandbox) Charge(ctx context.Context, req Request) (Charge, error) {
	if req.Amount <= 0 {
		return Charge{}, fmt.Errorf("payments: charge order %s of %s: %w", req.OrderID, req.Amount, ErrInvalidAmount)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.repeat(req); ok {
		return c, nil
	}
	switch req.Token {
	case TokenVisa:
		return s.add(req), nil
	case TokenDeclined:
		return Charge{}, fmt.Errorf("payments: charge order %s: %w", req.OrderID, &DeclinedError{Code: "card_declined", Reason: "the card was declined"})
	case TokenInsufficient:
		return Charge{}, fmt.Errorf("payments: charge order %s: %w", req.OrderID, &DeclinedError{Code: "insufficient_funds", Reason: "the card has insufficient funds"})
	default:
		return Charge{}, fmt.Errorf("payments: charge order %s: %w", req.OrderID, &DeclinedError{Code: "invalid_token", Reason: fmt.Sprintf("unknown payment token %q", req.Token)})
	}
}

// Refund implements Refunder.
func (s *sandbox) Refund(ctx context.Context, chargeID string, amount money.Cents) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.refund(chargeID, amount)
	return err
}

// Lookup implements Gateway.
func (s *sandbox) Lookup(ctx context.Context, chargeID string) (Charge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookup(chargeID)
}

// Receipt implements Gateway.
func (s *sandbox) Receipt(ctx context.Context, chargeID string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.receipt(chargeID, "RECEIPT")
}
