package orders

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"example.com/shop/catalog"
	"example.com/shop/inventory"
	"example.com/shop/money"
	"example.com/shop/notify"
	"example.com/shop/payments"
)

// Config configures the order service. Every field is optional.
type Config struct {
	// Currency of every order ("EUR" when empty).
	Currency string
	// Recorder, when set, gets every order placed or cancelled.
	Recorder Recorder
	// Events, when set, gets "order.placed" and "order.cancelled" events.
	Events notify.Bus
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// service is the order service. It keeps orders in memory.
type service struct {
	cat    catalog.Catalog
	inv    inventory.Service
	pay    payments.Gateway
	notify notify.Notifier
	cfg    Config

	mu     sync.Mutex
	seq    int
	orders map[string]Order  // by ID
	byKey  map[uint64]string // idempotency key -> order ID
}

// NewService returns the order service, built on the other services of the
// shop: it takes its dependencies and a config struct.
func NewService(cat catalog.Catalog, inv inventory.Service, pay payments.Gateway, n notify.Notifier, cfg Config) (Service, error) {
	if cat == nil || inv == nil || pay == nil || n == nil {
		return nil, fmt.Errorf("orders: NewService needs a catalog, an inventory, a payment gateway and a notifier")
	}
	if cfg.Currency == "" {
		cfg.Currency = "EUR"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &service{cat: cat, inv: inv, pay: pay, notify: n, cfg: cfg, orders: make(map[string]Order), byKey: make(map[uint64]string)}, nil
}

// Place implements Service. It fills in o.ID and the other results: an
// out-parameter.
func (s *service) Place(ctx context.Context, o *Order) error {
	if err := validate(o); err != nil {
		return err
	}
	if earlier, ok := s.byIdempotencyKey(o.IdempotencyKey); ok {
		// A retry: the same order again, charged once. (A retry that arrives
		// while the first call is still running is not detected here.)
		*o = earlier
		return nil
	}
	total, margin, err := s.price(ctx, o.Lines, o.Coupon)
	if err != nil {
		return fmt.Errorf("orders: place: %w", err)
	}
	res, err := s.inv.Reserve(ctx, o.Lines...)
	if err != nil {
		return fmt.Errorf("orders: place: %w", err)
	}

	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("ord-%06d", s.seq)
	s.mu.Unlock()
	key := o.IdempotencyKey
	if key == 0 {
		key = derivedKey(id)
	}
	charge, err := s.pay.Charge(ctx, payments.Request{
		OrderID:        id,
		CustomerID:     o.Customer.ID,
		Token:          o.Customer.PaymentToken, // the json:"-" field, needed here
		Amount:         total,
		Currency:       s.cfg.Currency,
		IdempotencyKey: key,
	})
	if err != nil {
		if rerr := s.inv.Release(ctx, res.ID); rerr != nil {
			return fmt.Errorf("orders: place: %w (and releasing stock failed: %v)", err, rerr)
		}
		return fmt.Errorf("orders: place: %w", err)
	}
	if err := s.inv.Commit(ctx, res.ID); err != nil {
		// The reservation expired while the customer paid: give the money back.
		if rerr := s.pay.Refund(ctx, charge.ID, charge.Amount); rerr != nil {
			return fmt.Errorf("orders: place: %w (and refunding %s failed: %v)", err, charge.ID, rerr)
		}
		return fmt.Errorf("orders: place: %w", err)
	}

	o.ID, o.Status, o.Total, o.Margin, o.Currency = id, StatusPaid, total, margin, s.cfg.Currency
	o.ChargeID, o.CreatedAt, o.CancelledAt = charge.ID, s.cfg.Now(), nil
	s.mu.Lock()
	s.orders[id] = clone(*o) // the service keeps its own copy
	if o.IdempotencyKey != 0 {
		s.byKey[o.IdempotencyKey] = id
	}
	s.mu.Unlock()

	// The order is paid: what follows cannot undo it, only note failures.
	s.announce(ctx, o, "order.placed", notify.Message{
		To:      o.Customer.Email,
		Subject: "Your order " + o.ID,
		Body:    fmt.Sprintf("Thank you! We charged %s %s for order %s.", o.Total, o.Currency, o.ID),
		Meta:    map[string]string{"order_id": o.ID},
	})
	return nil
}

// validate checks what Place needs from the caller.
func validate(o *Order) error {
	switch {
	case o == nil:
		return fmt.Errorf("orders: place: nil order: %w", ErrInvalidOrder)
	case o.ID != "":
		return fmt.Errorf("orders: place: order already has ID %q: %w", o.ID, ErrInvalidOrder)
	case o.Customer.ID == "" || o.Customer.Email == "":
		return fmt.Errorf("orders: place: customer ID and email are required: %w", ErrInvalidOrder)
	}
	if err := validateBasket(o.Lines, o.Coupon); err != nil {
		return fmt.Errorf("orders: place: %w", err)
	}
	return nil
}

// validateBasket checks what Place and Quote need.
func validateBasket(lines []inventory.Line, coupon *Coupon) error {
	switch {
	case len(lines) == 0:
		return fmt.Errorf("no lines: %w", ErrInvalidOrder)
	case coupon != nil && (coupon.PercentOff < 1 || coupon.PercentOff > 100):
		return fmt.Errorf("coupon %q: %d%% off: %w", coupon.Code, coupon.PercentOff, ErrInvalidOrder)
	}
	return nil
}

// Quote implements Service. It reads coupon and never writes through it.
func (s *service) Quote(ctx context.Context, lines []inventory.Line, coupon *Coupon) (total money.Cents, err error) {
	if err := validateBasket(lines, coupon); err != nil {
		return 0, fmt.Errorf("orders: quote: %w", err)
	}
	total, _, err = s.price(ctx, lines, coupon)
	if err != nil {
		return 0, fmt.Errorf("orders: quote: %w", err)
	}
	return total, nil
}

// price returns what lines cost the customer with an optional coupon, and
// the shop's margin on them. A coupon never takes the total below what the
// goods cost the shop, which is why orders needs catalog.Product.Cost
// although JSON never shows it.
func (s *service) price(ctx context.Context, lines []inventory.Line, coupon *Coupon) (total, margin money.Cents, err error) {
	var subtotal, cost money.Cents
	for i, l := range lines {
		p, err := s.cat.Get(ctx, l.SKU)
		if err == catalog.ErrNotFound { // a sentinel compared with ==
			return 0, 0, fmt.Errorf("line %d: %q: %w", i+1, l.SKU, err)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("line %d: catalog: %w", i+1, err)
		}
		subtotal += p.Price.Times(l.Qty)
		cost += p.Cost.Times(l.Qty)
	}
	total = subtotal
	if coupon != nil {
		total = max(subtotal-subtotal.Percent(coupon.PercentOff), min(cost, subtotal))
	}
	return total, total - cost, nil
}

// announce records, notifies and publishes an order event. Failures are
// noted in o.Meta (and in the stored copy), since the order stands.
func (s *service) announce(ctx context.Context, o *Order, topic string, m notify.Message) {
	notes := map[string]string{}
	if s.cfg.Recorder != nil {
		if err := s.cfg.Recorder.RecordOrder(ctx, clone(*o)); err != nil {
			notes["audit_error"] = err.Error()
		}
	}
	if err := s.notify.Send(m); err != nil {
		notes["notify_error"] = err.Error()
	}
	if s.cfg.Events != nil {
		e := notify.Event{Topic: topic, Key: o.ID, At: s.cfg.Now(), Data: map[string]string{"customer": o.Customer.ID, "total": o.Total.String()}}
		if err := s.cfg.Events.Publish(ctx, e); err != nil {
			notes["event_error"] = err.Error()
		}
	}
	if len(notes) == 0 {
		return
	}
	if o.Meta == nil {
		o.Meta = make(map[string]string, len(notes))
	}
	maps.Copy(o.Meta, notes)
	s.mu.Lock()
	defer s.mu.Unlock()
	stored := s.orders[o.ID]
	if stored.Meta == nil {
		stored.Meta = make(map[string]string, len(notes))
	}
	maps.Copy(stored.Meta, notes)
	s.orders[o.ID] = stored
}

// Get implements Service. An unknown ID gives (nil, nil).
func (s *service) Get(ctx context.Context, id string) (*Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return nil, nil // not found is not an error
	}
	o = clone(o)
	return &o, nil
}

// Cancel implements Service.
func (s *service) Cancel(ctx context.Context, id string) error {
	s.mu.Lock()
	o, ok := s.orders[id]
	claimed := ok && o.Status == StatusPaid
	if claimed {
		o.Status = StatusCancelled // claimed: a concurrent Cancel now fails
		s.orders[id] = o
	}
	s.mu.Unlock()
	switch {
	case !ok:
		return fmt.Errorf("orders: cancel %s: %w", id, ErrUnknownOrder)
	case !claimed:
		return fmt.Errorf("orders: cancel %s: %w", id, ErrAlreadyCancelled)
	}
	if err := s.pay.Refund(ctx, o.ChargeID, o.Total); err != nil {
		s.setStatus(id, StatusPaid)
		return fmt.Errorf("orders: cancel %s: %w", id, err)
	}
	now := s.cfg.Now()
	o.CancelledAt = &now
	s.mu.Lock()
	s.orders[id] = clone(o)
	s.mu.Unlock()
	for _, l := range o.Lines {
		if err := s.inv.Restock(ctx, l.SKU, l.Qty); err != nil {
			return fmt.Errorf("orders: cancel %s: refunded, but stock not returned: %w", id, err)
		}
	}
	s.announce(ctx, &o, "order.cancelled", notify.Message{
		To:      o.Customer.Email,
		Subject: "Order " + o.ID + " cancelled",
		Body:    fmt.Sprintf("We refunded %s %s for order %s.", o.Total, o.Currency, o.ID),
		Meta:    map[string]string{"order_id": o.ID},
	})
	return nil
}

// setStatus changes the status of a stored order.
func (s *service) setStatus(id string, st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	o.Status = st
	s.orders[id] = o
}

// ListByCustomer implements Service.
func (s *service) ListByCustomer(ctx context.Context, customerID string) ([]Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []Order // stays nil when the customer has no orders
	for _, o := range s.orders {
		if o.Customer.ID == customerID {
			list = append(list, clone(o))
		}
	}
	slices.SortFunc(list, func(a, b Order) int { return strings.Compare(a.ID, b.ID) })
	return list, nil
}

// byIdempotencyKey returns the earlier order placed with key, if any.
func (s *service) byIdempotencyKey(key uint64) (Order, bool) {
	if key == 0 {
		return Order{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byKey[key]
	if !ok {
		return Order{}, false
	}
	return clone(s.orders[id]), true
}

// derivedKey is the payment idempotency key of an order placed without one.
func derivedKey(orderID string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(orderID))
	return h.Sum64()
}

// clone copies o so that the service and its callers never share memory.
func clone(o Order) Order {
	o.Lines = slices.Clone(o.Lines)
	o.Meta = maps.Clone(o.Meta)
	if o.Coupon != nil {
		c := *o.Coupon
		o.Coupon = &c
	}
	if o.CancelledAt != nil {
		t := *o.CancelledAt
		o.CancelledAt = &t
	}
	return o
}
