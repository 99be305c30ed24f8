// Package yaml sits at a path ending in yaml.v3.
package yaml

// Node is a node of a tree.
type Node struct {
	Tag   string
	Value string
}
