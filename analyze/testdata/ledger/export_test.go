package ledger

// balances exposes the book's map to the external tests.
func balances(b Book) map[string]int64 { return b.(*memBook).balances }
