// Package foreign holds seams that reach what another package keeps to itself.
package foreign

import (
	"context"

	"fixtures/foreign/other"
)

// Uses reaches an unexported type of another package.
type Uses interface {
	Get(ctx context.Context) (other.Public, error)   // want "unexported-type: result#1.In is of type inner, unexported in package fixtures/foreign/other"
	Flags(ctx context.Context, set []struct{}) error // want "zero-size: set is a slice of struct{}, whose values encode to no bytes"
	Sizes(ctx context.Context, m map[string][0]int) error
}

// Wraps embeds an interface with an unexported method.
type Wraps interface {
	other.Sealed // want "unexported-method: seal is an unexported method of package fixtures/foreign/other" "no-context: seal has no" "no-error: seal has no"
}
