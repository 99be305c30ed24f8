package notify

import (
	"context"
	"slices"
	"sync"
)

// bus is the in-process Bus.
type bus struct {
	mu   sync.Mutex
	next int                            // next subscription number
	subs map[string]map[int]func(Event) // topic -> subscription number -> callback
}

// NewBus returns a Bus with no subscribers.
func NewBus() Bus {
	return &bus{subs: make(map[string]map[int]func(Event))}
}

// Publish implements Bus. Callbacks run without the lock held, so they may
// publish or subscribe themselves.
func (b *bus) Publish(ctx context.Context, e Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	ids := make([]int, 0, len(b.subs[e.Topic]))
	for id := range b.subs[e.Topic] {
		ids = append(ids, id)
	}
	fns := make([]func(Event), 0, len(ids))
	slices.Sort(ids) // subscription order
	for _, id := range ids {
		fns = append(fns, b.subs[e.Topic][id])
	}
	b.mu.Unlock()
	for _, fn := range fns {
		fn(e)
	}
	return nil
}

// Subscribe implements Bus.
func (b *bus) Subscribe(topic string, fn func(Event)) (cancel func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	if b.subs[topic] == nil {
		b.subs[topic] = make(map[int]func(Event))
	}
	b.subs[topic][id] = fn
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			delete(b.subs[topic], id)
		})
	}
}
