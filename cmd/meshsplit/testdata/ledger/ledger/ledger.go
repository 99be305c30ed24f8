// Package ledger keeps account balances as a list of postings.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// ErrUnknownAccount is returned for an account that has no posting.
var ErrUnknownAccount = errors.New("ledger: unknown account")

// Posting moves Amount cents into Account (negative: out of it).
type Posting struct {
	Account string `json:"account"`
	Amount  int64  `json:"amount"`
	Memo    string `json:"memo,omitempty"`
}

// Book records postings and answers balances.
type Book interface {
	// Post records postings that sum to zero, all or none.
	Post(ctx context.Context, postings []Posting) error
	// Balance returns the sum of the account's postings.
	Balance(ctx context.Context, account string) (int64, error)
	// Accounts lists the accounts with a posting, sorted.
	Accounts(ctx context.Context) ([]string, error)
}

// memBook is a Book in memory.
type memBook struct {
	mu       sync.Mutex
	balances map[string]int64
}

// NewBook returns an empty in-memory Book.
func NewBook() Book {
	return &memBook{balances: map[string]int64{}}
}

func (b *memBook) Post(ctx context.Context, postings []Posting) error {
	var sum int64
	for _, p := range postings {
		if p.Account == "" {
			return fmt.Errorf("ledger: posting %+v has no account", p)
		}
		sum += p.Amount
	}
	if sum != 0 {
		return fmt.Errorf("ledger: postings sum to %d, not 0", sum)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range postings {
		b.balances[p.Account] += p.Amount
	}
	return nil
}

func (b *memBook) Balance(ctx context.Context, account string) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.balances[account]
	if !ok {
		return 0, fmt.Errorf("balance of %q: %w", account, ErrUnknownAccount)
	}
	return v, nil
}

func (b *memBook) Accounts(ctx context.Context) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	names := make([]string, 0, len(b.balances))
	for name := range b.balances {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}
