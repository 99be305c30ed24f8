// Package other declares what package foreign cannot use in a seam.
package other

import "context"

// inner is unexported.
type inner struct{ N int }

// Public exposes an unexported type through an exported field.
type Public struct {
	In inner
	_  int // blank fields carry nothing: not reported
}

// Sealed has an unexported method: only this package can implement it.
type Sealed interface {
	Name(ctx context.Context) (string, error)
	seal() // want "no-context: seal has no" "no-error: seal has no"
}
