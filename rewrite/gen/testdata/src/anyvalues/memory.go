package anyvalues

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrNoName is returned for a record without a name.
var ErrNoName = errors.New("anyvalues: record without a name")

// Memory is an in-memory Catalog.
type Memory struct {
	mu      sync.Mutex
	records map[string]Record
	tags    map[Label]Value
}

// NewMemory returns an empty catalog.
func NewMemory() *Memory {
	return &Memory{records: map[string]Record{}, tags: map[Label]Value{}}
}

// Put implements Catalog.
func (m *Memory) Put(_ context.Context, r Record) (*Record, error) {
	if r.Name == "" {
		return nil, ErrNoName
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.records[r.Name]
	m.records[r.Name] = r
	if !ok {
		return nil, nil
	}
	return &old, nil
}

// Echo implements Catalog.
func (m *Memory) Echo(_ context.Context, v any) (any, error) { return v, nil }

// Weigh implements Catalog: the weight of a record is its number of extras
// and attributes.
func (m *Memory) Weigh(_ context.Context, names []string, _ Stamp) (map[string]Weight, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]Weight{}
	for _, n := range names {
		r, ok := m.records[n]
		if !ok {
			return nil, fmt.Errorf("anyvalues: no record %q", n)
		}
		out[n] = Weight(len(r.Extras) + len(r.Attrs))
	}
	return out, nil
}

// Tag implements Catalog.
func (m *Memory) Tag(_ context.Context, key Label, v Value) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tags[key] = v
	return nil
}

// NewCatalog returns the catalog that callers use.
func NewCatalog() Catalog { return NewMemory() }
