package ledger

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBook(t *testing.T) {
	ctx := context.Background()
	b := NewBook()
	if err := b.Post(ctx, []Posting{{Account: "cash", Amount: -500}, {Account: "rent", Amount: 500}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Post(ctx, []Posting{{Account: "cash", Amount: 1}}); err == nil {
		t.Error("unbalanced postings were accepted")
	}
	got, err := b.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"cash", "rent"}, got); diff != "" {
		t.Errorf("accounts (-want +got):\n%s", diff)
	}
	if v, err := b.Balance(ctx, "cash"); err != nil || v != -500 {
		t.Errorf("Balance(cash) = %d, %v", v, err)
	}
	if _, err := b.Balance(ctx, "tax"); !errors.Is(err, ErrUnknownAccount) {
		t.Errorf("Balance(tax) = %v, want ErrUnknownAccount", err)
	}
}
