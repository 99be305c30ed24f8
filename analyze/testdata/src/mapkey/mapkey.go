// Package mapkey holds seams with map keys of every kind.
package mapkey

import (
	"context"
	"time"
)

// Point is a struct key.
type Point struct{ X, Y int }

// ID is a named string key.
type ID string

// Node is a struct key that holds a pointer.
type Node struct {
	Name  string
	Owner *Point
}

// Slot is a struct key with a time inside.
type Slot struct {
	Room int
	At   time.Time
}

// Code is a struct key that JSON reads and writes as text.
type Code struct{ A, B byte }

// MarshalText writes the code as two letters.
func (c Code) MarshalText() ([]byte, error) { return []byte{c.A, c.B}, nil }

// UnmarshalText reads two letters.
func (c *Code) UnmarshalText(b []byte) error { c.A, c.B = b[0], b[1]; return nil }

// Grid maps by keys.
type Grid interface {
	ByPoint(ctx context.Context, m map[Point]string) error // want "map-key: m is a map keyed by Point: generated clients carry it, but JSON callers \\(gateway, curl\\) cannot"
	ByID(ctx context.Context, m map[ID]int) error
	ByInt(ctx context.Context, m map[int8]uint64) error
	ByCode(ctx context.Context, m map[Code]int) error
	ByTime(ctx context.Context, m map[time.Time]int) error  // want "map-key: m is a map keyed by time.Time: a time compares its Location pointer too"
	BySlot(ctx context.Context, m map[Slot]int) error       // want "map-key: m is a map keyed by Slot, which holds a time.Time: .*only for UTC times; key it by t.UTC\\(\\) or a Unix time, and note that JSON callers \\(gateway, curl\\) cannot send it at all"
	ByFloat(ctx context.Context, m map[float64]bool) error  // want "map-key: m is a map keyed by float64"
	ByBool(ctx context.Context) (map[bool]int, error)       // want "map-key: result#1 is a map keyed by bool"
	ByArray(ctx context.Context) (map[[2]int]string, error) // want "map-key: result#1 is a map keyed by \\[2\\]int"
}

// Links maps by keys that compare by address.
type Links interface {
	ByPointer(ctx context.Context, m map[*Point]string) error // want "pointer-key: m is a map keyed by \\*Point, which holds a pointer \\(\\*mapkey.Point\\)"
	ByNode(ctx context.Context, m map[Node]int) error         // want "pointer-key: m is a map keyed by Node, which holds a pointer \\(mapkey.Node.Owner\\): keys compare by address"
}
