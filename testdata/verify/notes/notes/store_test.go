package notes

import (
	"context"
	"errors"
	"testing"
)

func TestSaveAndGet(t *testing.T) {
	s := &memStore{notes: map[string]Note{}}
	ctx := context.Background()
	id, err := s.Save(ctx, Note{Owner: "ana", Text: "buy milk"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Get(ctx, id)
	if err != nil || n.Text != "buy milk" {
		t.Fatalf("Get(%s) = %+v, %v", id, n, err)
	}
	if _, err := s.Get(ctx, "n99"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(n99) = %v, want ErrNotFound", err)
	}
}

func TestListByOwner(t *testing.T) {
	s := &memStore{notes: map[string]Note{}}
	ctx := context.Background()
	for _, n := range []Note{{Owner: "ana", Text: "a"}, {Owner: "bo", Text: "b"}, {Owner: "ana", Text: "c"}} {
		if _, err := s.Save(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.List(ctx, "ana")
	if err != nil || len(got) != 2 || got[0].Text != "a" || got[1].Text != "c" {
		t.Fatalf("List(ana) = %+v, %v", got, err)
	}
}
