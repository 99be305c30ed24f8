package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"example.com/notes/notes"
)

// fakeStore is a hand-written test double of notes.Store.
type fakeStore struct {
	saved []notes.Note
}

func (f *fakeStore) Save(ctx context.Context, n notes.Note) (string, error) {
	f.saved = append(f.saved, n)
	return "n1", nil
}

func (f *fakeStore) Get(ctx context.Context, id string) (notes.Note, error) {
	if len(f.saved) > 0 {
		return f.saved[0], nil
	}
	return notes.Note{}, notes.ErrNotFound
}

func (f *fakeStore) List(ctx context.Context, owner string) ([]notes.Note, error) {
	return f.saved, nil
}

func TestCreate(t *testing.T) {
	store := &fakeStore{}
	a := &API{Store: store}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/notes", strings.NewReader(`{"Owner":"ana","Text":"call bo"}`)))
	if rec.Code != http.StatusCreated || len(store.saved) != 1 {
		t.Fatalf("POST /notes: %d %s, saved %v", rec.Code, rec.Body, store.saved)
	}
}

func TestGetMissing(t *testing.T) {
	a := New(&fakeStore{})
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/notes?id=n7", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("GET /notes?id=n7: %d, want 404", rec.Code)
	}
}
