// Package audit keeps the shop's books: one append-only ledger that records
// orders and the invoice gateway's journal entries.
package audit

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"example.com/shop/money"
	"example.com/shop/orders"
	"example.com/shop/payments"
)

// Ledger is an append-only, in-memory book. Its zero value is ready to use
// (the shop creates it with a composite literal: there is no constructor).
// A *Ledger is both an orders.Recorder and a payments.Journal.
type Ledger struct {
	// Name heads every line of the ledger, such as "shop".
	Name string

	mu       sync.Mutex
	lines    []string
	balances map[string]money.Cents
}

// The two interfaces a *Ledger satisfies at once.
var (
	_ orders.Recorder  = (*Ledger)(nil)
	_ payments.Journal = (*Ledger)(nil)
)

// RecordOrder implements orders.Recorder. It books the order's margin, the
// json:"-" field only the books may see.
func (l *Ledger) RecordOrder(ctx context.Context, o orders.Order) error {
	if o.ID == "" {
		return fmt.Errorf("audit: %s: record order without ID", l.Name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%s order %s %s customer=%s total=%s margin=%s", l.Name, o.ID, o.Status, o.Customer.ID, o.Total, o.Margin))
	return nil
}

// Post implements payments.Journal.
func (l *Ledger) Post(ctx context.Context, e payments.Entry) error {
	if e.Account == "" {
		return fmt.Errorf("audit: %s: post %q: entry without account", l.Name, e.Memo)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.balances == nil {
		l.balances = make(map[string]money.Cents)
	}
	l.balances[e.Account] += e.Amount
	l.lines = append(l.lines, fmt.Sprintf("%s post %s %s %q", l.Name, e.Account, e.Amount, e.Memo))
	return nil
}

// Balance implements payments.Journal.
func (l *Ledger) Balance(ctx context.Context, account string) (money.Cents, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.balances[account], nil
}

// Lines returns a copy of the ledger, oldest line first.
func (l *Ledger) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}
