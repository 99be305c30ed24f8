// Package recursive holds seams with recursive types.
package recursive

import "context"

// Node is a tree node.
type Node struct {
	Name     string
	Children []*Node
}

// A and B refer to each other.
type A struct{ B *B }

// B refers back to A.
type B struct{ A *A }

// Tree passes recursive values.
type Tree interface {
	Walk(ctx context.Context, root *Node) error // want "recursive: root.Children\\[\\] refers back to Node"
	Pair(ctx context.Context, a A) error        // want "recursive: a.B.A refers back to A"
}
