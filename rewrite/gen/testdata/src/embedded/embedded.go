// Package embedded flattens interfaces embedded from this package and
// from another.
package embedded

import (
	"context"

	"example.com/fixtures/base"
)

type sizer interface {
	Size(ctx context.Context) (int64, error)
}

// Repo embeds base.Reader and sizer.
type Repo interface {
	base.Reader
	sizer
	Write(ctx context.Context, b base.Blob) error
}
