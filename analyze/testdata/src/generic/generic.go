// Package generic holds a generic interface and a generic type in a signature.
package generic

import "context"

// Repo is generic: not remotable.
type Repo[T any] interface { // want "generic: Repo has type parameters"
	Get(ctx context.Context, id string) (T, error)
}

// Page is a generic struct.
type Page[T any] struct {
	Items []T
	Next  string
}

// Item is a page element.
type Item struct{ Name string }

// Lister uses an instantiated generic type: fine.
type Lister interface {
	List(ctx context.Context, cursor string) (Page[Item], error)
}
