// Package mapkey holds seams with map keys of every kind.
package mapkey

import "context"

// Point is a struct key.
type Point struct{ X, Y int }

// ID is a named string key.
type ID string

// Grid maps by keys.
type Grid interface {
	ByPoint(ctx context.Context, m map[Point]string) error // want "map-key: m is a map keyed by Point"
	ByID(ctx context.Context, m map[ID]int) error
	ByFloat(ctx context.Context, m map[float64]bool) error
	ByArray(ctx context.Context) (map[[2]int]string, error) // want "map-key: result#1 is a map keyed by \\[2\\]int"
}
