// Package audit checks a ledger's books.
package audit

import (
	"context"
	"fmt"

	"example.com/ledger"
)

// NonNegative reports the first of accounts whose balance is negative.
func NonNegative(ctx context.Context, b ledger.Book, accounts ...string) error {
	for _, a := range accounts {
		n, err := b.Balance(ctx, a)
		if err != nil {
			return err
		}
		if n < 0 {
			return fmt.Errorf("audit: %s is at %d", a, n)
		}
	}
	return nil
}
