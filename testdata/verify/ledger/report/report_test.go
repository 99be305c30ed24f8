package report

import (
	"context"
	"os"
	"testing"

	"example.com/ledger/ledger"
)

func TestBalances(t *testing.T) {
	b := ledger.NewBook(ledger.Options{})
	ctx := context.Background()
	if err := b.Post(ctx, ledger.Entry{ID: "e1", From: "cash", To: "rent", Amount: 120000}); err != nil {
		t.Fatal(err)
	}
	got, err := Balances(ctx, b, []string{"cash", "rent"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/balances.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("Balances =\n%s\nwant (testdata/balances.golden)\n%s", got, want)
	}
}
