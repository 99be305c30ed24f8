// Package mapkeys declares maps keyed by every kind of value the codec
// carries, and by pointers, which it refuses.
package mapkeys

import "context"

// Point is a struct key.
type Point struct{ X, Y int }

// Cell is a struct key with a struct and an array inside. (A time.Time in
// a key is carried too, but compares its Location pointer, so a round trip
// keeps equal keys only in UTC: analyze warns about it.)
type Cell struct {
	At   Point
	Tags [2]string
}

// Grid is keyed by values JSON cannot encode but the mesh codec carries
// (analyze warns about the gateway).
type Grid interface {
	ByPoint(ctx context.Context, m map[Point]string) (map[Point]string, error)
	ByCell(ctx context.Context, m map[Cell][]int) error
	ByArray(ctx context.Context) (map[[2]int]bool, error)
	ByFloat(ctx context.Context, m map[float64]bool) (map[bool]complex128, error)
}

// Node holds a pointer.
type Node struct {
	Name  string
	Owner *Point
}

// Links is keyed by pointers, which compare by address: refused.
type Links interface {
	ByPointer(ctx context.Context, m map[*Point]string) error
}

// Nodes is keyed by a struct that holds a pointer: refused.
type Nodes interface {
	ByNode(ctx context.Context) (map[Node]int, error)
}
