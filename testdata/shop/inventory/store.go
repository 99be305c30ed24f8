package inventory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// DefaultHold is how long a reservation holds stock when Config.Hold is zero.
const DefaultHold = 15 * time.Minute

// Config configures a Store.
type Config struct {
	// Stock is the initial number of units per SKU.
	Stock map[string]int
	// Hold is how long a reservation holds stock before it expires
	// (DefaultHold when zero).
	Hold time.Duration
	// RestockDelay is how long the warehouse takes to confirm a restock.
	RestockDelay time.Duration
	// Now is the clock (time.Now when nil); tests inject a fake one.
	Now func() time.Time
}

// Store is the in-memory stock keeper. It implements Service; the shop only
// ever uses it as a Service.
type Store struct {
	cfg Config

	mu     sync.Mutex
	onHand map[string]int         // units in the warehouse, held ones included
	held   map[string]Reservation // by reservation ID
	seq    int                    // last reservation number handed out
}

var _ Service = (*Store)(nil)

// NewStore returns a Store with the stock of cfg. It returns the concrete
// type, not the Service interface: every caller stores it as a Service.
func NewStore(cfg Config) *Store {
	if cfg.Hold <= 0 {
		cfg.Hold = DefaultHold
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Store{cfg: cfg, onHand: make(map[string]int, len(cfg.Stock)), held: make(map[string]Reservation)}
	for sku, qty := range cfg.Stock {
		s.onHand[sku] = qty
	}
	return s
}

// Reserve implements Service.
func (s *Store) Reserve(ctx context.Context, lines ...Line) (Reservation, error) {
	if len(lines) == 0 {
		return Reservation{}, fmt.Errorf("inventory: reserve: no lines: %w", ErrInvalidQuantity)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	want := make(map[string]int)
	for _, l := range lines {
		if l.Qty <= 0 {
			return Reservation{}, fmt.Errorf("inventory: reserve %s: %d units: %w", l.SKU, l.Qty, ErrInvalidQuantity)
		}
		want[l.SKU] += l.Qty
	}
	for _, l := range lines {
		if free := s.free(l.SKU); want[l.SKU] > free {
			return Reservation{}, fmt.Errorf("inventory: reserve %s: want %d, have %d: %w", l.SKU, want[l.SKU], free, ErrOutOfStock)
		}
	}
	s.seq++
	r := Reservation{
		ID:        fmt.Sprintf("res-%06d", s.seq),
		Lines:     slices.Clone(lines),
		ExpiresAt: s.cfg.Now().Add(s.cfg.Hold),
	}
	s.held[r.ID] = r
	return r, nil
}

// Commit implements Service.
func (s *Store) Commit(ctx context.Context, reservationID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	r, ok := s.held[reservationID]
	if !ok {
		return fmt.Errorf("inventory: commit %s: %w", reservationID, ErrUnknownReservation)
	}
	delete(s.held, reservationID)
	for _, l := range r.Lines {
		s.onHand[l.SKU] -= l.Qty
	}
	return nil
}

// Release implements Service.
func (s *Store) Release(ctx context.Context, reservationID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	if _, ok := s.held[reservationID]; !ok {
		return fmt.Errorf("inventory: release %s: %w", reservationID, ErrUnknownReservation)
	}
	delete(s.held, reservationID)
	return nil
}

// Restock implements Service. It waits for the warehouse without holding the
// lock, so other calls go on meanwhile.
func (s *Store) Restock(ctx context.Context, sku string, qty int) error {
	if qty <= 0 {
		return fmt.Errorf("inventory: restock %s: %d units: %w", sku, qty, ErrInvalidQuantity)
	}
	if s.cfg.RestockDelay > 0 {
		confirmed := time.NewTimer(s.cfg.RestockDelay)
		defer confirmed.Stop()
		select {
		case <-confirmed.C:
		case <-ctx.Done():
			return fmt.Errorf("inventory: restock %s: waiting for the warehouse: %w", sku, ctx.Err())
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onHand[sku] += qty
	return nil
}

// Levels implements Service.
func (s *Store) Levels(ctx context.Context, skus ...string) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	levels := make(map[string]int) // never nil, as documented
	if len(skus) == 0 {
		for sku := range s.onHand {
			levels[sku] = s.free(sku)
		}
		return levels, nil
	}
	for _, sku := range skus {
		if _, ok := s.onHand[sku]; ok {
			levels[sku] = s.free(sku)
		}
	}
	return levels, nil
}

// free returns the units of sku not held by a reservation. s.mu is held.
func (s *Store) free(sku string) int {
	n := s.onHand[sku]
	for _, r := range s.held {
		for _, l := range r.Lines {
			if l.SKU == sku {
				n -= l.Qty
			}
		}
	}
	return n
}

// expire drops the reservations whose hold has run out. s.mu is held.
func (s *Store) expire() {
	now := s.cfg.Now()
	for id, r := range s.held {
		if !now.Before(r.ExpiresAt) {
			delete(s.held, id)
		}
	}
}
