// Package recursive carries recursive types: through pointers, slices,
// maps and a named slice of itself.
package recursive

import "context"

// Tree is a recursive struct.
type Tree struct {
	Name   string
	Kids   []*Tree
	ByName map[string]Tree
	Parent *Tree
}

// Chain is a slice of itself.
type Chain []Chain

// Graph is a map of itself.
type Graph map[string]Graph

// Forest walks trees.
type Forest interface {
	Plant(ctx context.Context, t *Tree) error
	Links(ctx context.Context, c Chain, g Graph) (Chain, Graph, error)
}
