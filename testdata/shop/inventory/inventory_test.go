package inventory_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/shop/inventory"
)

// clock is a fake clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newStore returns a store with a little stock, used as a Service like the
// shop does.
func newStore(t *testing.T, cfg inventory.Config) inventory.Service {
	t.Helper()
	if cfg.Stock == nil {
		cfg.Stock = map[string]int{"mug": 10, "poster": 2}
	}
	return inventory.NewStore(cfg)
}

func levels(t *testing.T, inv inventory.Service, skus ...string) map[string]int {
	t.Helper()
	l, err := inv.Levels(context.Background(), skus...)
	if err != nil {
		t.Fatalf("Levels(%v): %v", skus, err)
	}
	return l
}

func TestReserveCommitRelease(t *testing.T) {
	ctx := context.Background()
	inv := newStore(t, inventory.Config{})

	// Variadic: several lines in one call, the same SKU twice.
	res, err := inv.Reserve(ctx, inventory.Line{SKU: "mug", Qty: 3}, inventory.Line{SKU: "poster", Qty: 1}, inventory.Line{SKU: "mug", Qty: 1})
	if err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	if res.ID == "" || len(res.Lines) != 3 {
		t.Errorf("Reserve = %+v, want an ID and 3 lines", res)
	}
	if got, want := levels(t, inv), map[string]int{"mug": 6, "poster": 1}; !maps.Equal(got, want) {
		t.Errorf("levels while held = %v, want %v", got, want)
	}
	if err := inv.Commit(ctx, res.ID); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got, want := levels(t, inv), map[string]int{"mug": 6, "poster": 1}; !maps.Equal(got, want) {
		t.Errorf("levels after commit = %v, want %v", got, want)
	}

	// A slice passed to the variadic parameter.
	lines := []inventory.Line{{SKU: "mug", Qty: 6}}
	res2, err := inv.Reserve(ctx, lines...)
	if err != nil {
		t.Fatalf("Reserve(lines...): %v", err)
	}
	if err := inv.Release(ctx, res2.ID); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if got := levels(t, inv, "mug")["mug"]; got != 6 {
		t.Errorf("mug after release = %d, want 6", got)
	}
	for _, op := range []func(context.Context, string) error{inv.Commit, inv.Release} {
		if err := op(ctx, res2.ID); !errors.Is(err, inventory.ErrUnknownReservation) {
			t.Errorf("commit/release of a released reservation: %v, want ErrUnknownReservation", err)
		}
	}
}

func TestReserveFails(t *testing.T) {
	tests := []struct {
		name    string
		lines   []inventory.Line
		want    error
		wantSKU string // named in the message
	}{
		{"more than in stock", []inventory.Line{{SKU: "poster", Qty: 3}}, inventory.ErrOutOfStock, "poster"},
		{"all or nothing", []inventory.Line{{SKU: "mug", Qty: 1}, {SKU: "poster", Qty: 2}, {SKU: "poster", Qty: 1}}, inventory.ErrOutOfStock, "poster"},
		{"unknown SKU", []inventory.Line{{SKU: "lamp", Qty: 1}}, inventory.ErrOutOfStock, "lamp"},
		{"zero quantity", []inventory.Line{{SKU: "mug", Qty: 0}}, inventory.ErrInvalidQuantity, "mug"},
		{"no lines", nil, inventory.ErrInvalidQuantity, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := newStore(t, inventory.Config{})
			before := levels(t, inv)
			_, err := inv.Reserve(context.Background(), tt.lines...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Reserve error = %v, want one wrapping %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantSKU) {
				t.Errorf("error %q does not name %q", err, tt.wantSKU)
			}
			if after := levels(t, inv); !maps.Equal(before, after) {
				t.Errorf("levels changed by a failed Reserve: %v -> %v", before, after)
			}
		})
	}
}

func TestReservationExpires(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))}
	inv := newStore(t, inventory.Config{Hold: 10 * time.Minute, Now: clk.Now})

	res, err := inv.Reserve(ctx, inventory.Line{SKU: "poster", Qty: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.Now().Add(10 * time.Minute); !res.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", res.ExpiresAt, want)
	}
	if name, _ := res.ExpiresAt.Zone(); name != "CEST" {
		t.Errorf("ExpiresAt zone = %s, want CEST", name)
	}
	if _, err := inv.Reserve(ctx, inventory.Line{SKU: "poster", Qty: 1}); !errors.Is(err, inventory.ErrOutOfStock) {
		t.Fatalf("Reserve while held: %v, want ErrOutOfStock", err)
	}
	clk.Advance(10 * time.Minute)
	if got := levels(t, inv, "poster")["poster"]; got != 2 {
		t.Errorf("poster after expiry = %d, want 2", got)
	}
	if err := inv.Commit(ctx, res.ID); !errors.Is(err, inventory.ErrUnknownReservation) {
		t.Errorf("Commit after expiry: %v, want ErrUnknownReservation", err)
	}
}

func TestRestock(t *testing.T) {
	inv := newStore(t, inventory.Config{})
	if err := inv.Restock(context.Background(), "lamp", 4); err != nil {
		t.Fatalf("Restock: %v", err)
	}
	if got := levels(t, inv, "lamp")["lamp"]; got != 4 {
		t.Errorf("lamp after restock = %d, want 4", got)
	}
	if err := inv.Restock(context.Background(), "lamp", -1); !errors.Is(err, inventory.ErrInvalidQuantity) {
		t.Errorf("Restock(-1) = %v, want ErrInvalidQuantity", err)
	}
}

// TestRestockHonoursContext checks that a restock waiting for the warehouse
// gives up when its context ends, and adds nothing.
func TestRestockHonoursContext(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := newStore(t, inventory.Config{RestockDelay: time.Hour})
			ctx, cancel := tt.ctx()
			defer cancel()
			if err := inv.Restock(ctx, "mug", 5); !errors.Is(err, tt.want) {
				t.Fatalf("Restock = %v, want %v", err, tt.want)
			}
			if got := levels(t, inv, "mug")["mug"]; got != 10 {
				t.Errorf("mug after an abandoned restock = %d, want 10", got)
			}
		})
	}
}

func TestLevels(t *testing.T) {
	tests := []struct {
		name  string
		stock map[string]int
		skus  []string
		want  map[string]int
	}{
		{"every SKU", map[string]int{"mug": 1, "poster": 0}, nil, map[string]int{"mug": 1, "poster": 0}},
		{"some SKUs", map[string]int{"mug": 1, "poster": 2}, []string{"poster"}, map[string]int{"poster": 2}},
		{"unknown SKUs are absent", map[string]int{"mug": 1}, []string{"lamp", "mug"}, map[string]int{"mug": 1}},
		{"empty store", map[string]int{}, nil, map[string]int{}},
		{"nothing known", map[string]int{"mug": 1}, []string{"lamp"}, map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := newStore(t, inventory.Config{Stock: tt.stock})
			got := levels(t, inv, tt.skus...)
			if got == nil {
				t.Fatal("Levels returned a nil map; it promises never to")
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("Levels(%v) = %v, want %v", tt.skus, got, tt.want)
			}
		})
	}
}
