// Package app uses the store seams.
package app

import (
	"context"

	"fixtures/model/store"
)

// App holds a sink as a field.
type App struct {
	S    store.Store
	Sink store.Sink
}

// Run builds and uses everything.
func Run(ctx context.Context, ids []string) error {
	s := store.New()
	a := App{S: s, Sink: store.Discard{}}
	for _, id := range ids {
		if _, err := s.Get(ctx, id); err != nil {
			return err
		}
		if err := a.S.Put(ctx, id, "v"); err != nil {
			return err
		}
	}
	m, err := store.NewMem()
	if err != nil {
		return err
	}
	var r store.Reader = m
	_, _ = r.Get(ctx, "x")
	use(&store.Buffer{})
	sinks := []store.Sink{&store.Buffer{}}
	ch := make(chan store.Sink, 1)
	ch <- store.Discard{}
	_ = store.Sink(store.Discard{})
	_ = sinks
	return nil
}

func use(s store.Sink) {}

func sink() store.Sink { return &store.Buffer{} }
