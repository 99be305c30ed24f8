package payments_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"example.com/shop/audit"
	"example.com/shop/money"
	"example.com/shop/payments"
)

// at is the fixed time the gateways' clocks return, in a non-UTC zone.
var at = time.Date(2026, 2, 14, 18, 45, 0, 0, time.FixedZone("CET", 3600))

func now() time.Time { return at }

// gateways builds each implementation of payments.Gateway afresh, so that
// every test runs against both. The invoice gateway books into a real
// audit.Ledger.
var gateways = []struct {
	name string
	new  func(t *testing.T) payments.Gateway
}{
	{"sandbox", func(t *testing.T) payments.Gateway {
		return payments.NewSandbox(payments.SandboxConfig{Now: now})
	}},
	{"invoice", func(t *testing.T) payments.Gateway {
		g, err := payments.NewInvoice(&audit.Ledger{Name: "test"}, payments.InvoiceConfig{CreditLimit: 1_000_000, Now: now})
		if err != nil {
			t.Fatalf("NewInvoice: %v", err)
		}
		return g
	}},
}

// sameCharge compares charges field by field, times by instant and zone: a
// charge that crossed a network has equal values, not the same pointers.
func sameCharge(a, b payments.Charge) bool {
	aZone, aOff := a.At.Zone()
	bZone, bOff := b.At.Zone()
	if !a.At.Equal(b.At) || aZone != bZone || aOff != bOff {
		return false
	}
	a.At, b.At = time.Time{}, time.Time{}
	return a == b
}

func request(order string, amount money.Cents, key uint64) payments.Request {
	return payments.Request{OrderID: order, CustomerID: "c-1", Token: payments.TokenVisa, Amount: amount, Currency: "EUR", IdempotencyKey: key}
}

func TestChargeAndLookup(t *testing.T) {
	for _, gw := range gateways {
		t.Run(gw.name, func(t *testing.T) {
			ctx := context.Background()
			g := gw.new(t)
			c, err := g.Charge(ctx, request("ord-1", 1234, 7))
			if err != nil {
				t.Fatalf("Charge: %v", err)
			}
			if c.ID == "" || c.OrderID != "ord-1" || c.Amount != 1234 || c.Gateway != gw.name || c.IdempotencyKey != 7 {
				t.Errorf("Charge = %+v", c)
			}
			if name, off := c.At.Zone(); !c.At.Equal(at) || name != "CET" || off != 3600 {
				t.Errorf("At = %v, want %v with its zone", c.At, at)
			}
			got, err := g.Lookup(ctx, c.ID)
			if err != nil || !sameCharge(got, c) {
				t.Errorf("Lookup = %+v, %v; want %+v", got, err, c)
			}
			if _, err := g.Lookup(ctx, "no-such-charge"); !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("Lookup(unknown) = %v, want an error wrapping sql.ErrNoRows", err)
			}
		})
	}
}

// TestIdempotencyKeysAbove2To53 uses keys that a float64 cannot tell apart:
// they must stay different keys.
func TestIdempotencyKeysAbove2To53(t *testing.T) {
	const k1, k2 = uint64(1)<<60 + 1, uint64(1)<<60 + 2
	if float64(k1) != float64(k2) {
		t.Fatal("the test needs keys that collide as float64")
	}
	for _, gw := range gateways {
		t.Run(gw.name, func(t *testing.T) {
			ctx := context.Background()
			g := gw.new(t)
			first, err := g.Charge(ctx, request("ord-1", 500, k1))
			if err != nil {
				t.Fatal(err)
			}
			retry, err := g.Charge(ctx, request("ord-1", 500, k1))
			if err != nil {
				t.Fatal(err)
			}
			other, err := g.Charge(ctx, request("ord-2", 700, k2))
			if err != nil {
				t.Fatal(err)
			}
			if retry.ID != first.ID {
				t.Errorf("retry with the same key charged again: %s then %s", first.ID, retry.ID)
			}
			if other.ID == first.ID || other.IdempotencyKey != k2 || first.IdempotencyKey != k1 {
				t.Errorf("keys %d and %d were confused: %+v, %+v", k1, k2, first, other)
			}
		})
	}
}

func TestSandboxDeclines(t *testing.T) {
	tests := []struct {
		token, code string
	}{
		{payments.TokenDeclined, "card_declined"},
		{payments.TokenInsufficient, "insufficient_funds"},
		{"tok_made_up", "invalid_token"},
		{"", "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.token, func(t *testing.T) {
			g := payments.NewSandbox(payments.SandboxConfig{Now: now})
			req := request("ord-1", 100, 0)
			req.Token = tt.token
			_, err := g.Charge(context.Background(), req)
			var declined *payments.DeclinedError
			if !errors.As(err, &declined) {
				t.Fatalf("Charge = %v, want a *DeclinedError", err)
			}
			if declined.Code != tt.code || declined.Reason == "" {
				t.Errorf("declined = %+v, want code %q and a reason", declined, tt.code)
			}
		})
	}
}

func TestInvoiceCreditLimit(t *testing.T) {
	ctx := context.Background()
	ledger := &audit.Ledger{Name: "test"}
	g, err := payments.NewInvoice(ledger, payments.InvoiceConfig{CreditLimit: 1000, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.Charge(ctx, request("ord-1", 800, 0))
	if err != nil {
		t.Fatal(err)
	}
	if owed, _ := ledger.Balance(ctx, "receivable:c-1"); owed != 800 {
		t.Errorf("booked %s, want 8.00", owed)
	}
	_, err = g.Charge(ctx, request("ord-2", 300, 0))
	var declined *payments.DeclinedError
	if !errors.As(err, &declined) || declined.Code != "credit_limit" {
		t.Fatalf("charge over the limit = %v, want a credit_limit *DeclinedError", err)
	}
	// A credit note frees the limit again.
	if err := g.Refund(ctx, c.ID, 500); err != nil {
		t.Fatal(err)
	}
	if owed, _ := ledger.Balance(ctx, "receivable:c-1"); owed != 300 {
		t.Errorf("after the credit note the customer owes %s, want 3.00", owed)
	}
	if _, err := g.Charge(ctx, request("ord-2", 300, 0)); err != nil {
		t.Errorf("charge within the limit after a refund: %v", err)
	}
}

func TestRefund(t *testing.T) {
	for _, gw := range gateways {
		t.Run(gw.name, func(t *testing.T) {
			ctx := context.Background()
			g := gw.new(t)
			c, err := g.Charge(ctx, request("ord-1", 1000, 0))
			if err != nil {
				t.Fatal(err)
			}
			var r payments.Refunder = g // the embedded interface on its own
			steps := []struct {
				name   string
				charge string
				amount money.Cents
				want   error
			}{
				{"partial", c.ID, 400, nil},
				{"the rest", c.ID, 600, nil},
				{"beyond the charge", c.ID, 1, payments.ErrRefundTooLarge},
				{"zero", c.ID, 0, payments.ErrInvalidAmount},
				{"unknown charge", "no-such-charge", 1, sql.ErrNoRows},
			}
			for _, s := range steps {
				if err := r.Refund(ctx, s.charge, s.amount); !errors.Is(err, s.want) {
					t.Errorf("%s: Refund = %v, want %v", s.name, err, s.want)
				}
			}
			got, err := g.Lookup(ctx, c.ID)
			if err != nil || got.Refunded != 1000 {
				t.Errorf("after refunds Lookup = %+v, %v; want 10.00 refunded", got, err)
			}
		})
	}
}

func TestReceipt(t *testing.T) {
	for _, gw := range gateways {
		t.Run(gw.name, func(t *testing.T) {
			ctx := context.Background()
			g := gw.new(t)
			c, err := g.Charge(ctx, request("ord-9", 1234, 0))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := g.Receipt(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{c.ID, "order:    ord-9", "amount:   12.34 EUR", "2026-02-14T18:45:00+01:00"} {
				if !bytes.Contains(doc, []byte(want)) {
					t.Errorf("receipt lacks %q:\n%s", want, doc)
				}
			}
			if _, err := g.Receipt(ctx, "no-such-charge"); !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("Receipt(unknown) = %v, want sql.ErrNoRows", err)
			}
		})
	}
}

func TestInvalidAmount(t *testing.T) {
	for _, gw := range gateways {
		t.Run(gw.name, func(t *testing.T) {
			if _, err := gw.new(t).Charge(context.Background(), request("ord-1", 0, 0)); !errors.Is(err, payments.ErrInvalidAmount) {
				t.Errorf("Charge(0) = %v, want ErrInvalidAmount", err)
			}
		})
	}
}

func TestNewInvoiceRejects(t *testing.T) {
	if _, err := payments.NewInvoice(nil, payments.InvoiceConfig{CreditLimit: 1}); err == nil {
		t.Error("NewInvoice(nil journal) succeeded")
	}
	if _, err := payments.NewInvoice(&audit.Ledger{}, payments.InvoiceConfig{}); !errors.Is(err, payments.ErrInvalidAmount) {
		t.Errorf("NewInvoice(no credit limit) = %v, want ErrInvalidAmount", err)
	}
}
