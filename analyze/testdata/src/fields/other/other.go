// Package other declares types with unexported fields.
package other

// Money has an unexported field no other package can reach.
type Money struct {
	Cents    int64
	currency string
}

// Public has only exported fields.
type Public struct{ N int }
