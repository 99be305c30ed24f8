// Package ledger keeps double-entry accounts.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// ErrUnknownEntry is returned by Void for an id never posted.
var ErrUnknownEntry = errors.New("ledger: unknown entry")

// An Entry moves Amount cents from one account to another.
type Entry struct {
	ID     string
	From   string
	To     string
	Amount int64
	Memo   string
}

// Book is the ledger's interface.
type Book interface {
	// Post records e.
	Post(ctx context.Context, e Entry) error
	// Balance returns the balance of account in cents.
	Balance(ctx context.Context, account string) (int64, error)
	// History returns the entries that touch account, in posting order.
	History(ctx context.Context, account string) ([]Entry, error)
	// Void reverses the entry id.
	Void(ctx context.Context, id string) error
	// Accounts lists every account with a posting, sorted.
	Accounts(ctx context.Context) ([]string, error)
	// Close refuses further postings.
	Close(ctx context.Context) error
}

// Options configure a Book.
type Options struct {
	// Check, when set, vets every entry before it is posted.
	Check func(Entry) error
}

// NewBook returns an empty in-memory Book.
func NewBook(opts Options) Book {
	return &memBook{opts: opts, balances: map[string]int64{}}
}

type memBook struct {
	opts     Options
	mu       sync.Mutex
	entries  []Entry
	balances map[string]int64
	closed   bool
}

func (b *memBook) Post(ctx context.Context, e Entry) error {
	if e.Amount <= 0 {
		return fmt.Errorf("ledger: post %s: amount %d is not positive", e.ID, e.Amount)
	}
	if b.opts.Check != nil {
		if err := b.opts.Check(e); err != nil {
			return fmt.Errorf("ledger: post %s: %w", e.ID, err)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errors.New("ledger: closed")
	}
	b.entries = append(b.entries, e)
	b.balances[e.From] -= e.Amount
	b.balances[e.To] += e.Amount
	return nil
}

func (b *memBook) Balance(ctx context.Context, account string) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.balances[account], nil
}

func (b *memBook) History(ctx context.Context, account string) ([]Entry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Entry
	for _, e := range b.entries {
		if e.From == account || e.To == account {
			out = append(out, e)
		}
	}
	return out, nil
}

func (b *memBook) Void(ctx context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.entries {
		if e.ID == id {
			b.balances[e.From] += e.Amount
			b.balances[e.To] -= e.Amount
			return nil
		}
	}
	return fmt.Errorf("void %s: %w", id, ErrUnknownEntry)
}

func (b *memBook) Accounts(ctx context.Context) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, 0, len(b.balances))
	for a := range b.balances {
		out = append(out, a)
	}
	sort.Strings(out)
	return out, nil
}

func (b *memBook) Close(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}
