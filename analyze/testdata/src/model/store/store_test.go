package store

import (
	"context"
	"testing"
)

// fake implements Reader in the test variant of the package only.
type fake struct{}

func (fake) Get(ctx context.Context, id string) (string, error) { return id, nil }

func TestGet(t *testing.T) {
	var r Reader = fake{}
	for _, id := range []string{"a", "b"} {
		if got, _ := r.Get(context.Background(), id); got != id {
			t.Fatal(got)
		}
	}
	s := New()
	_ = s.Put(context.Background(), "k", "v")
}
