package basic

import (
	"context"
	"slices"
	"time"
)

// Memory is an in-memory Store.
type Memory struct {
	orders  []Order
	touched time.Time
}

// NewStore returns an empty in-memory Store.
func NewStore() Store { return &Memory{} }

// Get returns the order with that ID, or (nil, nil).
func (m *Memory) Get(ctx context.Context, id uint64) (*Order, error) {
	for _, o := range m.orders {
		if o.ID == id {
			return &o, nil
		}
	}
	return nil, nil
}

// Create stores o with the next ID and writes the ID into o.
func (m *Memory) Create(ctx context.Context, o *Order) error {
	if o.Secret == "conflict" {
		return &ConflictError{ID: o.ID}
	}
	o.ID = uint64(len(m.orders) + 1)
	o.status = "created"
	m.orders = append(m.orders, *o)
	return nil
}

// Find returns the orders carrying every tag.
func (m *Memory) Find(ctx context.Context, tags ...string) ([]Order, error) {
	if len(tags) == 0 {
		return nil, ErrNotFound
	}
	var out []Order
	for _, o := range m.orders {
		all := true
		for _, t := range tags {
			all = all && slices.Contains(o.Tags, t)
		}
		if all {
			out = append(out, o)
		}
	}
	return out, nil
}

// Count returns the number of orders.
func (m *Memory) Count() int { return len(m.orders) }

// Stats counts orders per tag with the prefix.
func (m *Memory) Stats(ctx context.Context, prefix string) (int, map[string]int, error) {
	by := map[string]int{}
	for _, o := range m.orders {
		for _, t := range o.Tags {
			by[prefix+t]++
		}
	}
	return len(m.orders), by, nil
}

// Touch records when.
func (m *Memory) Touch(when time.Time, every time.Duration) { m.touched = when.Add(every) }

// Locate rotates p by a quarter turn.
func (m *Memory) Locate(ctx context.Context, p Point) (Point, error) {
	return Point{Z: p.Z * 1i, Z8: p.Z8 * 1i}, nil
}

// Total adds up the prices of o's items; it does not change o.
func (m *Memory) Total(ctx context.Context, o *Order) (float64, error) {
	var sum float64
	for _, it := range o.Items {
		sum += it.Price * float64(it.Qty)
	}
	return sum, nil
}
