package ledger_test

import (
	"context"
	"errors"
	"testing"

	"example.com/ledger"
	"example.com/ledger/audit"
)

func TestDebitBeyondBalance(t *testing.T) {
	ctx := context.Background()
	b := ledger.NewMemory()
	if err := b.Credit(ctx, "alice", 500); err != nil {
		t.Fatal(err)
	}
	if err := b.Debit(ctx, "alice", 900); !errors.Is(err, ledger.ErrOverdraft) {
		t.Fatalf("Debit beyond the balance: %v", err)
	}
	if err := audit.NonNegative(ctx, b, "alice"); err != nil {
		t.Fatal(err)
	}
}
