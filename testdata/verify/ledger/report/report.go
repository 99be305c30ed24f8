// Package report renders ledger reports.
package report

import (
	"context"
	"fmt"
	"strings"

	"example.com/ledger/ledger"
)

// Balances renders the balance of each account, one per line, in euros.
func Balances(ctx context.Context, b ledger.Book, accounts []string) (string, error) {
	var sb strings.Builder
	for _, a := range accounts {
		cents, err := b.Balance(ctx, a)
		if err != nil {
			return "", fmt.Errorf("report: balance of %s: %w", a, err)
		}
		fmt.Fprintf(&sb, "%-10s %10.2f EUR\n", a, float64(cents)/100)
	}
	return sb.String(), nil
}
