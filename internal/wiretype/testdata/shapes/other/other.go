// Package other declares the types of another package that the shapes
// corpus carries: exported ones, and ones whose unexported parts the codec
// generated in package shapes cannot reach.
package other

// Pub has exported fields only.
type Pub struct {
	Name string
	N    int
}

// Hidden has an unexported field.
type Hidden struct {
	Name string
	n    int
}

// level is an unexported type.
type level int

// Leveled reaches the unexported type level through an exported field.
type Leveled struct{ L level }

// Box holds one value of any type.
type Box[T any] struct{ V T }

// secret is an unexported type with exported fields.
type secret struct{ N int }

// Secrets is a Box of the unexported type secret.
type Secrets = Box[secret]

// Blank has only an exported field besides a blank one.
type Blank struct {
	N int
	_ func()
}

// N makes n and secret used.
func (h Hidden) N() int { return h.n + int(Leveled{}.L) + Secrets{}.V.N }
