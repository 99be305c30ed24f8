// Package tally is a fixture for meshsplit verify: a counter whose tests
// pass in process and, for four of them, fail once the counter is remote,
// each for a reason verify should name.
package tally

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// An Item is something counted.
type Item struct {
	ID    string
	Count int
}

// Counter counts items.
type Counter interface {
	// Add adds n to the item id and returns its new count.
	Add(ctx context.Context, id string, n int) (int, error)
	// Check returns the error the counter was configured to fail with.
	Check(ctx context.Context) error
	// Fill writes the current count into each item: a write into a slice
	// parameter, lost when the call is remote.
	Fill(ctx context.Context, items []Item) error
	// Track remembers the item; Bump then counts through the pointer it
	// remembered: shared memory, lost when the call is remote.
	Track(ctx context.Context, it *Item) error
	// Bump adds one to every tracked item.
	Bump(ctx context.Context) error
	// Log records events by time and returns every event recorded: keys
	// that compare their time zone by address, which a remote call cannot
	// keep.
	Log(ctx context.Context, events map[time.Time]string) (map[time.Time]string, error)
}

// Config configures a counter.
type Config struct {
	// Fail is what Check returns.
	Fail error
}

// NewCounter returns an in-memory Counter.
func NewCounter(cfg Config) Counter {
	return &memory{cfg: cfg, counts: map[string]int{}}
}

type memory struct {
	cfg     Config
	mu      sync.Mutex
	counts  map[string]int
	tracked []*Item
	log     map[time.Time]string
}

func (m *memory) Add(ctx context.Context, id string, n int) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("add %d to %s: negative", n, id)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[id] += n
	return m.counts[id], nil
}

func (m *memory) Check(ctx context.Context) error { return m.cfg.Fail }

func (m *memory) Fill(ctx context.Context, items []Item) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range items {
		items[i].Count = m.counts[items[i].ID]
	}
	return nil
}

func (m *memory) Track(ctx context.Context, it *Item) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tracked = append(m.tracked, it)
	return nil
}

func (m *memory) Bump(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range m.tracked {
		it.Count++
	}
	return nil
}

func (m *memory) Log(ctx context.Context, events map[time.Time]string) (map[time.Time]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.log == nil {
		m.log = map[time.Time]string{}
	}
	for at, e := range events {
		m.log[at] = e
	}
	out := make(map[time.Time]string, len(m.log))
	for at, e := range m.log {
		out[at] = e
	}
	return out, nil
}
