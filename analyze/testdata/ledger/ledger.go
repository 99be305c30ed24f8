// Package ledger keeps account balances.
package ledger

import (
	"context"
	"errors"
)

// ErrOverdraft is returned when a debit would take a balance below zero.
var ErrOverdraft = errors.New("ledger: overdraft")

// Book records credits and debits.
type Book interface {
	Credit(ctx context.Context, account string, cents int64) error
	Debit(ctx context.Context, account string, cents int64) error
	Balance(ctx context.Context, account string) (int64, error)
}

type memBook struct{ balances map[string]int64 }

// NewMemory returns a Book held in memory.
func NewMemory() Book { return &memBook{balances: map[string]int64{}} }

func (b *memBook) Credit(_ context.Context, account string, cents int64) error {
	b.balances[account] += cents
	return nil
}

func (b *memBook) Debit(_ context.Context, account string, cents int64) error {
	if b.balances[account] < cents {
		return ErrOverdraft
	}
	b.balances[account] -= cents
	return nil
}

func (b *memBook) Balance(_ context.Context, account string) (int64, error) {
	return b.balances[account], nil
}
