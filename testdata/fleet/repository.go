package cargo

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

//go:generate mockgen -source=repository.go -destination=mock_repository.go -package=cargo

// Repository stores shipments.
type Repository interface {
	Get(ctx context.Context, id string) (Shipment, error)
	Save(ctx context.Context, s Shipment) error
	List(ctx context.Context) ([]Shipment, error)
}

type memRepository struct {
	mu        sync.RWMutex
	shipments map[string]Shipment
}

// NewMemRepository returns a Repository that keeps shipments in memory.
func NewMemRepository() Repository {
	return &memRepository{shipments: map[string]Shipment{}}
}

func (r *memRepository) Get(ctx context.Context, id string) (Shipment, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.shipments[id]
	if !ok {
		return Shipment{}, fmt.Errorf("get %q: %w", id, ErrNotFound)
	}
	return s, nil
}

func (r *memRepository) Save(ctx context.Context, s Shipment) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shipments[s.ID] = s
	return nil
}

func (r *memRepository) List(ctx context.Context) ([]Shipment, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Shipment, 0, len(r.shipments))
	for _, s := range r.shipments {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
