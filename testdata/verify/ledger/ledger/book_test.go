package ledger

import (
	"context"
	"errors"
	"testing"
)

// errFrozen is what the frozen-account check below returns.
var errFrozen = errors.New("account frozen")

func TestPostMovesMoney(t *testing.T) {
	b := NewBook(Options{})
	ctx := context.Background()
	if err := b.Post(ctx, Entry{ID: "e1", From: "cash", To: "rent", Amount: 120000}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		account string
		want    int64
	}{{"cash", -120000}, {"rent", 120000}, {"food", 0}}
	for _, tt := range tests {
		if got, err := b.Balance(ctx, tt.account); err != nil || got != tt.want {
			t.Errorf("Balance(%s) = %d, %v; want %d", tt.account, got, err, tt.want)
		}
	}
}

func TestPostRejectsNonPositive(t *testing.T) {
	b := NewBook(Options{})
	if err := b.Post(context.Background(), Entry{ID: "e1", From: "a", To: "b", Amount: 0}); err == nil {
		t.Fatal("Post of a zero amount succeeded")
	}
}

func TestFrozenAccount(t *testing.T) {
	b := NewBook(Options{Check: func(e Entry) error {
		if e.From == "escrow" {
			return errFrozen
		}
		return nil
	}})
	err := b.Post(context.Background(), Entry{ID: "e2", From: "escrow", To: "cash", Amount: 5})
	if !errors.Is(err, errFrozen) {
		t.Fatalf("Post from escrow = %v, want errFrozen", err)
	}
}

// TestVoidDirect exercises the implementation directly, not through the
// constructor.
func TestVoidDirect(t *testing.T) {
	b := &memBook{balances: map[string]int64{}}
	ctx := context.Background()
	b.Post(ctx, Entry{ID: "e1", From: "a", To: "b", Amount: 7})
	if err := b.Void(ctx, "e1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Void(ctx, "e9"); !errors.Is(err, ErrUnknownEntry) {
		t.Fatalf("Void(e9) = %v, want ErrUnknownEntry", err)
	}
	if got, _ := b.Balance(ctx, "a"); got != 0 {
		t.Fatalf("after Void, Balance(a) = %d, want 0", got)
	}
}
