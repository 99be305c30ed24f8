package audit_test

import (
	"context"
	"slices"
	"testing"

	"example.com/shop/audit"
	"example.com/shop/orders"
	"example.com/shop/payments"
)

// TestLedgerIsBothInterfaces uses one ledger as an orders.Recorder and as a
// payments.Journal, as the shop does.
func TestLedgerIsBothInterfaces(t *testing.T) {
	ctx := context.Background()
	l := &audit.Ledger{Name: "books"}
	var rec orders.Recorder = l
	var j payments.Journal = l

	if err := rec.RecordOrder(ctx, orders.Order{ID: "ord-1", Status: orders.StatusPaid, Customer: orders.Customer{ID: "c-1"}, Total: 1200, Margin: 750}); err != nil {
		t.Fatal(err)
	}
	entries := []payments.Entry{
		{Account: "receivable:c-1", Amount: 1200, Memo: "invoice 1"},
		{Account: "receivable:c-1", Amount: -200, Memo: "credit note 1"},
		{Account: "receivable:c-2", Amount: 500, Memo: "invoice 2"},
	}
	for _, e := range entries {
		if err := j.Post(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	balances := []struct {
		account string
		want    int64
	}{
		{"receivable:c-1", 1000},
		{"receivable:c-2", 500},
		{"receivable:nobody", 0},
	}
	for _, b := range balances {
		if got, err := j.Balance(ctx, b.account); err != nil || int64(got) != b.want {
			t.Errorf("Balance(%s) = %d, %v; want %d", b.account, got, err, b.want)
		}
	}
	want := []string{
		"books order ord-1 paid customer=c-1 total=12.00 margin=7.50",
		`books post receivable:c-1 12.00 "invoice 1"`,
		`books post receivable:c-1 -2.00 "credit note 1"`,
		`books post receivable:c-2 5.00 "invoice 2"`,
	}
	if got := l.Lines(); !slices.Equal(got, want) {
		t.Errorf("Lines() = %q\nwant %q", got, want)
	}
}

func TestLedgerRejects(t *testing.T) {
	ctx := context.Background()
	var l audit.Ledger // the zero value is ready to use
	if err := l.RecordOrder(ctx, orders.Order{}); err == nil {
		t.Error("RecordOrder without an ID succeeded")
	}
	if err := l.Post(ctx, payments.Entry{Memo: "lost"}); err == nil {
		t.Error("Post without an account succeeded")
	}
	if got := l.Lines(); got != nil {
		t.Errorf("rejected calls wrote %q", got)
	}
}
