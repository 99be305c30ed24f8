package orders_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/shop/audit"
	"example.com/shop/catalog"
	"example.com/shop/inventory"
	"example.com/shop/notify"
	"example.com/shop/orders"
	"example.com/shop/payments"
)

// placedAt is the order clock, in a non-UTC zone that must survive.
var placedAt = time.Date(2026, 11, 20, 14, 5, 0, 0, time.FixedZone("CET", 3600))

// shop is the order service with every real dependency, built through the
// constructors as cmd/shop does.
type shop struct {
	inv    inventory.Service
	pay    payments.Gateway
	mail   notify.Notifier
	ledger *audit.Ledger
	ord    orders.Service

	mu     sync.Mutex // the bus may call back from another goroutine
	events []string   // topic:key of every event published
}

// published returns the events seen so far.
func (s *shop) published() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

func newShop(t *testing.T, restockDelay time.Duration) *shop {
	t.Helper()
	now := func() time.Time { return placedAt }
	cat, err := catalog.NewMemory([]catalog.Product{
		{SKU: "mug", Name: "Mug", Price: 1200, Cost: 450},
		{SKU: "poster", Name: "Poster", Price: 1000, Cost: 800},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &shop{
		inv:    inventory.NewStore(inventory.Config{Stock: map[string]int{"mug": 10, "poster": 2}, RestockDelay: restockDelay, Now: now}),
		pay:    payments.NewSandbox(payments.SandboxConfig{Now: now}),
		mail:   notify.NewOutbox(notify.OutboxConfig{Now: now}),
		ledger: &audit.Ledger{Name: "test"},
	}
	bus := notify.NewBus()
	for _, topic := range []string{"order.placed", "order.cancelled"} {
		bus.Subscribe(topic, func(e notify.Event) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.events = append(s.events, e.Topic+":"+e.Key)
		})
	}
	s.ord, err = orders.NewService(cat, s.inv, s.pay, s.mail, orders.Config{Recorder: s.ledger, Events: bus, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newOrder is a valid order for customer c-1 that pays with the test card.
func newOrder(lines ...inventory.Line) *orders.Order {
	return &orders.Order{
		Customer: orders.Customer{ID: "c-1", Email: "ann@example.com", PaymentToken: payments.TokenVisa},
		Lines:    lines,
	}
}

func (s *shop) stock(t *testing.T, sku string) int {
	t.Helper()
	l, err := s.inv.Levels(context.Background(), sku)
	if err != nil {
		t.Fatal(err)
	}
	return l[sku]
}

func TestPlaceFillsInTheOrder(t *testing.T) {
	ctx := context.Background()
	s := newShop(t, 0)
	o := newOrder(inventory.Line{SKU: "mug", Qty: 2}, inventory.Line{SKU: "poster", Qty: 1})

	if err := s.ord.Place(ctx, o); err != nil {
		t.Fatalf("Place: %v", err)
	}
	// Place fills in its *Order argument: an out-parameter.
	if o.ID == "" || o.Status != orders.StatusPaid || o.ChargeID == "" || o.Currency != "EUR" {
		t.Errorf("after Place: ID %q, status %q, charge %q, currency %q", o.ID, o.Status, o.ChargeID, o.Currency)
	}
	if o.Total != 3400 || o.Margin != 3400-1700 {
		t.Errorf("Total %s, Margin %s; want 34.00 and 17.00", o.Total, o.Margin)
	}
	if name, off := o.CreatedAt.Zone(); !o.CreatedAt.Equal(placedAt) || name != "CET" || off != 3600 {
		t.Errorf("CreatedAt = %v, want %v in CET", o.CreatedAt, placedAt)
	}
	if o.CancelledAt != nil || o.Coupon != nil {
		t.Errorf("CancelledAt %v, Coupon %v: want both nil", o.CancelledAt, o.Coupon)
	}

	got, err := s.ord.Get(ctx, o.ID)
	if err != nil || got == nil {
		t.Fatalf("Get(%s) = %v, %v", o.ID, got, err)
	}
	if got.ID != o.ID || got.Total != o.Total || got.Margin != o.Margin || got.ChargeID != o.ChargeID ||
		!slices.Equal(got.Lines, o.Lines) || !got.CreatedAt.Equal(o.CreatedAt) || got.Customer != o.Customer {
		t.Errorf("Get = %+v\nwant %+v", got, o)
	}
	if name, _ := got.CreatedAt.Zone(); name != "CET" {
		t.Errorf("Get: CreatedAt zone %s, want CET", name)
	}

	// Stock left, a charge made, the customer told, the books and the bus told.
	if s.stock(t, "mug") != 8 || s.stock(t, "poster") != 1 {
		t.Errorf("stock after Place: mug %d, poster %d; want 8 and 1", s.stock(t, "mug"), s.stock(t, "poster"))
	}
	if c, err := s.pay.Lookup(ctx, o.ChargeID); err != nil || c.Amount != o.Total || c.OrderID != o.ID {
		t.Errorf("charge = %+v, %v", c, err)
	}
	msgs, err := s.mail.Take(10)
	if err != nil || len(msgs) != 1 || msgs[0].To != "ann@example.com" || msgs[0].Meta["order_id"] != o.ID {
		t.Errorf("notifications = %+v, %v", msgs, err)
	}
	if lines := s.ledger.Lines(); len(lines) != 1 || !strings.Contains(lines[0], "margin=17.00") {
		t.Errorf("ledger = %q, want the order with its margin", lines)
	}
	if want := []string{"order.placed:" + o.ID}; !slices.Equal(s.published(), want) {
		t.Errorf("events = %v, want %v", s.published(), want)
	}
}

// TestPlaceKeepsItsOwnCopy checks that the caller changing its order after
// Place does not change the stored one.
func TestPlaceKeepsItsOwnCopy(t *testing.T) {
	ctx := context.Background()
	s := newShop(t, 0)
	o := newOrder(inventory.Line{SKU: "mug", Qty: 1})
	if err := s.ord.Place(ctx, o); err != nil {
		t.Fatal(err)
	}
	o.Lines[0].Qty = 99
	o.Total = 1
	got, err := s.ord.Get(ctx, o.ID)
	if err != nil || got.Lines[0].Qty != 1 || got.Total != 1200 {
		t.Errorf("Get after changing the caller's copy = %+v, %v", got, err)
	}
}

func TestGetUnknownIsNilNil(t *testing.T) {
	got, err := newShop(t, 0).ord.Get(context.Background(), "ord-404")
	if got != nil || err != nil {
		t.Errorf("Get(unknown) = %v, %v; want nil, nil", got, err)
	}
}

func TestPlaceFails(t *testing.T) {
	tests := []struct {
		name  string
		order func() *orders.Order
		check func(error) bool
	}{
		{"unknown product", func() *orders.Order { return newOrder(inventory.Line{SKU: "lamp", Qty: 1}) },
			func(err error) bool { return errors.Is(err, catalog.ErrNotFound) }},
		{"out of stock", func() *orders.Order { return newOrder(inventory.Line{SKU: "poster", Qty: 3}) },
			func(err error) bool {
				return errors.Is(err, inventory.ErrOutOfStock) && strings.Contains(err.Error(), "poster")
			}},
		{"card declined", func() *orders.Order {
			o := newOrder(inventory.Line{SKU: "mug", Qty: 1})
			o.Customer.PaymentToken = payments.TokenDeclined
			return o
		}, func(err error) bool {
			var d *payments.DeclinedError
			return errors.As(err, &d) && d.Code == "card_declined"
		}},
		{"nil order", func() *orders.Order { return nil },
			func(err error) bool { return errors.Is(err, orders.ErrInvalidOrder) }},
		{"no lines", func() *orders.Order { return newOrder() },
			func(err error) bool { return errors.Is(err, orders.ErrInvalidOrder) }},
		{"no email", func() *orders.Order {
			o := newOrder(inventory.Line{SKU: "mug", Qty: 1})
			o.Customer.Email = ""
			return o
		}, func(err error) bool { return errors.Is(err, orders.ErrInvalidOrder) }},
		{"already placed", func() *orders.Order {
			o := newOrder(inventory.Line{SKU: "mug", Qty: 1})
			o.ID = "ord-1"
			return o
		}, func(err error) bool { return errors.Is(err, orders.ErrInvalidOrder) }},
		{"coupon over 100%", func() *orders.Order {
			o := newOrder(inventory.Line{SKU: "mug", Qty: 1})
			o.Coupon = &orders.Coupon{Code: "FREE", PercentOff: 101}
			return o
		}, func(err error) bool { return errors.Is(err, orders.ErrInvalidOrder) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := newShop(t, 0)
			o := tt.order()
			err := s.ord.Place(ctx, o)
			if err == nil || !tt.check(err) {
				t.Fatalf("Place = %v", err)
			}
			if o != nil && o.ID != "" && tt.name != "already placed" {
				t.Errorf("a failed Place filled in ID %q", o.ID)
			}
			// Nothing happened: stock untouched (released), nobody told.
			if s.stock(t, "mug") != 10 || s.stock(t, "poster") != 2 {
				t.Errorf("stock after a failed Place: mug %d, poster %d", s.stock(t, "mug"), s.stock(t, "poster"))
			}
			if n := s.mail.Pending(); n != 0 {
				t.Errorf("%d notifications after a failed Place", n)
			}
			if list, _ := s.ord.ListByCustomer(ctx, "c-1"); list != nil {
				t.Errorf("orders after a failed Place: %v", list)
			}
		})
	}
}

// TestCouponNeverBelowCost is why orders needs catalog.Product.Cost, a field
// JSON never shows: without it the shop would sell posters at a loss.
func TestCouponNeverBelowCost(t *testing.T) {
	tests := []struct {
		name       string
		sku        string
		coupon     *orders.Coupon
		wantTotal  int64
		wantMargin int64
	}{
		{"no coupon", "poster", nil, 1000, 200},
		{"coupon within the margin", "mug", &orders.Coupon{Code: "TEN", PercentOff: 10}, 1080, 630},
		{"coupon capped at cost", "poster", &orders.Coupon{Code: "HALF", PercentOff: 50}, 800, 0},
		{"free is still at cost", "mug", &orders.Coupon{Code: "ALL", PercentOff: 100}, 450, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newShop(t, 0)
			o := newOrder(inventory.Line{SKU: tt.sku, Qty: 1})
			o.Coupon = tt.coupon
			if err := s.ord.Place(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			if int64(o.Total) != tt.wantTotal || int64(o.Margin) != tt.wantMargin {
				t.Errorf("Total %d, Margin %d; want %d, %d", o.Total, o.Margin, tt.wantTotal, tt.wantMargin)
			}
			if (o.Coupon == nil) != (tt.coupon == nil) {
				t.Errorf("Coupon = %v after Place, want %v", o.Coupon, tt.coupon)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	tests := []struct {
		name   string
		lines  []inventory.Line
		coupon *orders.Coupon
		want   int64
		err    error
	}{
		{"no coupon", []inventory.Line{{SKU: "mug", Qty: 2}, {SKU: "poster", Qty: 1}}, nil, 3400, nil},
		{"coupon capped at cost", []inventory.Line{{SKU: "poster", Qty: 1}}, &orders.Coupon{Code: "HALF", PercentOff: 50}, 800, nil},
		{"more than in stock is still a price", []inventory.Line{{SKU: "poster", Qty: 5}}, nil, 5000, nil},
		{"unknown product", []inventory.Line{{SKU: "lamp", Qty: 1}}, nil, 0, catalog.ErrNotFound},
		{"no lines", nil, nil, 0, orders.ErrInvalidOrder},
		{"bad coupon", []inventory.Line{{SKU: "mug", Qty: 1}}, &orders.Coupon{Code: "NONE", PercentOff: 0}, 0, orders.ErrInvalidOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newShop(t, 0)
			total, err := s.ord.Quote(context.Background(), tt.lines, tt.coupon)
			if !errors.Is(err, tt.err) || int64(total) != tt.want {
				t.Errorf("Quote = %d, %v; want %d, %v", total, err, tt.want, tt.err)
			}
			if s.stock(t, "mug") != 10 || s.stock(t, "poster") != 2 || s.mail.Pending() != 0 {
				t.Error("Quote reserved stock or told someone")
			}
		})
	}
}

// TestPaymentTokenIsNeverJSONButIsUsed checks both halves of the
// json:"-" on Customer.PaymentToken.
func TestPaymentTokenIsNeverJSONButIsUsed(t *testing.T) {
	ctx := context.Background()
	s := newShop(t, 0)
	o := newOrder(inventory.Line{SKU: "mug", Qty: 1})
	if err := s.ord.Place(ctx, o); err != nil {
		t.Fatalf("Place with the token: %v", err)
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), payments.TokenVisa) {
		t.Errorf("the payment token leaked into JSON: %s", b)
	}
	got, err := s.ord.Get(ctx, o.ID)
	if err != nil || got.Customer.PaymentToken != payments.TokenVisa {
		t.Errorf("stored order lost the token: %+v, %v", got, err)
	}

	noToken := newOrder(inventory.Line{SKU: "mug", Qty: 1})
	noToken.Customer.PaymentToken = ""
	var d *payments.DeclinedError
	if err := s.ord.Place(ctx, noToken); !errors.As(err, &d) || d.Code != "invalid_token" {
		t.Errorf("Place without a token = %v, want an invalid_token decline", err)
	}
}

func TestPlaceIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := newShop(t, 0)
	// Two keys a float64 cannot tell apart: they must stay two orders.
	const k1, k2 = uint64(1)<<62 + 1, uint64(1)<<62 + 2

	first := newOrder(inventory.Line{SKU: "mug", Qty: 1})
	first.IdempotencyKey = k1
	retry := newOrder(inventory.Line{SKU: "mug", Qty: 1})
	retry.IdempotencyKey = k1
	other := newOrder(inventory.Line{SKU: "mug", Qty: 1})
	other.IdempotencyKey = k2
	for _, o := range []*orders.Order{first, retry, other} {
		if err := s.ord.Place(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if retry.ID != first.ID || retry.ChargeID != first.ChargeID || retry.IdempotencyKey != k1 {
		t.Errorf("retry = %s/%s, want the first order %s/%s", retry.ID, retry.ChargeID, first.ID, first.ChargeID)
	}
	if other.ID == first.ID || other.IdempotencyKey != k2 {
		t.Errorf("keys %d and %d were confused: %s and %s", k1, k2, first.ID, other.ID)
	}
	if got := s.stock(t, "mug"); got != 8 {
		t.Errorf("mug stock = %d, want 8: the retry must not sell again", got)
	}
	if got := s.mail.Pending(); got != 2 {
		t.Errorf("%d notifications, want 2", got)
	}
}

func TestCancel(t *testing.T) {
	ctx := context.Background()
	s := newShop(t, 0)
	o := newOrder(inventory.Line{SKU: "poster", Qty: 2})
	if err := s.ord.Place(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := s.ord.Cancel(ctx, o.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	got, err := s.ord.Get(ctx, o.ID)
	if err != nil || got.Status != orders.StatusCancelled || got.CancelledAt == nil || !got.CancelledAt.Equal(placedAt) {
		t.Fatalf("after Cancel, Get = %+v, %v", got, err)
	}
	if c, err := s.pay.Lookup(ctx, o.ChargeID); err != nil || c.Refunded != o.Total {
		t.Errorf("charge after Cancel = %+v, %v; want fully refunded", c, err)
	}
	if got := s.stock(t, "poster"); got != 2 {
		t.Errorf("poster stock after Cancel = %d, want 2", got)
	}
	if want := []string{"order.placed:" + o.ID, "order.cancelled:" + o.ID}; !slices.Equal(s.published(), want) {
		t.Errorf("events = %v, want %v", s.published(), want)
	}
	if err := s.ord.Cancel(ctx, o.ID); !errors.Is(err, orders.ErrAlreadyCancelled) {
		t.Errorf("second Cancel = %v, want ErrAlreadyCancelled", err)
	}
	if err := s.ord.Cancel(ctx, "ord-404"); !errors.Is(err, orders.ErrUnknownOrder) {
		t.Errorf("Cancel(unknown) = %v, want ErrUnknownOrder", err)
	}
}

// TestCancelHonoursDeadline: the warehouse is slow to take goods back, and
// the caller's deadline reaches through the order service to inventory.
func TestCancelHonoursDeadline(t *testing.T) {
	s := newShop(t, time.Hour)
	o := newOrder(inventory.Line{SKU: "mug", Qty: 1})
	if err := s.ord.Place(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.ord.Cancel(ctx, o.ID); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Cancel with a slow warehouse = %v, want context.DeadlineExceeded", err)
	}
	if got := s.stock(t, "mug"); got != 9 {
		t.Errorf("mug stock = %d, want 9: the restock was abandoned", got)
	}
}

func TestListByCustomer(t *testing.T) {
	ctx := context.Background()
	s := newShop(t, 0)
	list, err := s.ord.ListByCustomer(ctx, "c-1")
	if err != nil || list != nil {
		t.Fatalf("ListByCustomer before any order = %#v, %v; want nil, nil", list, err)
	}
	var ids []string
	for _, sku := range []string{"mug", "poster", "mug"} {
		o := newOrder(inventory.Line{SKU: sku, Qty: 1})
		if err := s.ord.Place(ctx, o); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	someoneElse := newOrder(inventory.Line{SKU: "mug", Qty: 1})
	someoneElse.Customer.ID = "c-2"
	if err := s.ord.Place(ctx, someoneElse); err != nil {
		t.Fatal(err)
	}
	list, err = s.ord.ListByCustomer(ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range list {
		got = append(got, o.ID)
	}
	if !slices.Equal(got, ids) {
		t.Errorf("ListByCustomer(c-1) = %v, want %v", got, ids)
	}
}

func TestNewServiceNeedsItsDependencies(t *testing.T) {
	if _, err := orders.NewService(nil, nil, nil, nil, orders.Config{}); err == nil {
		t.Error("NewService without dependencies succeeded")
	}
}
