package ledger_test

import (
	"context"
	"errors"
	"testing"

	"example.com/ledger/internal/ledgertest"
	"example.com/ledger/ledger"
)

func TestCheckFailure(t *testing.T) {
	b := ledger.NewBook(ledger.Options{Check: ledgertest.FailingCheck})
	err := b.Post(context.Background(), ledger.Entry{ID: "e3", From: "a", To: "b", Amount: 5})
	if !errors.Is(err, ledgertest.ErrInjected) {
		t.Fatalf("Post = %v, want ledgertest.ErrInjected", err)
	}
}
