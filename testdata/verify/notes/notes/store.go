// Package notes stores short notes by owner.
package notes

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// ErrNotFound is returned for an unknown note id.
var ErrNotFound = errors.New("notes: not found")

// A Note is one note.
type Note struct {
	ID    string
	Owner string
	Text  string
}

// Store keeps notes.
type Store interface {
	// Save stores n under a new id and returns the id.
	Save(ctx context.Context, n Note) (string, error)
	// Get returns the note id.
	Get(ctx context.Context, id string) (Note, error)
	// List returns the notes of owner, oldest first.
	List(ctx context.Context, owner string) ([]Note, error)
}

// NewStore returns an empty in-memory store.
func NewStore() Store {
	return &memStore{notes: map[string]Note{}}
}

type memStore struct {
	mu    sync.Mutex
	next  int
	notes map[string]Note
}

func (s *memStore) Save(ctx context.Context, n Note) (string, error) {
	if n.Owner == "" {
		return "", fmt.Errorf("notes: save: a note needs an owner")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	n.ID = fmt.Sprintf("n%d", s.next)
	s.notes[n.ID] = n
	return n.ID, nil
}

func (s *memStore) Get(ctx context.Context, id string) (Note, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notes[id]
	if !ok {
		return Note{}, fmt.Errorf("get %s: %w", id, ErrNotFound)
	}
	return n, nil
}

func (s *memStore) List(ctx context.Context, owner string) ([]Note, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for _, n := range s.notes {
		if n.Owner == owner {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return len(out[i].ID) < len(out[j].ID) || len(out[i].ID) == len(out[j].ID) && out[i].ID < out[j].ID
	})
	return out, nil
}
