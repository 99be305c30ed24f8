// Package generic instantiates generic types in signatures.
package generic

import "context"

// Page is one page of results.
type Page[T any] struct {
	Items []T
	Next  *string
	Total uint64
}

// Item is an element of a page.
type Item struct{ Name string }

// List is a generic linked list: a recursive generic type.
type List[T any] struct{ Head *Node[T] }

// Node is a link of a List.
type Node[T any] struct {
	Value T
	Next  *Node[T]
}

// Pair holds two values of different types.
type Pair[K comparable, V any] struct {
	Key K
	Val V
}

// Browser pages through items.
type Browser interface {
	Browse(ctx context.Context, cursor string) (Page[Item], error)
	Chain(ctx context.Context) (List[string], error)
	Pairs(ctx context.Context, in []Pair[string, Item]) (map[string]Page[int], error)
}
