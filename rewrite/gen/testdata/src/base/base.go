// Package base declares an interface that another package embeds.
package base

import "context"

// Reader reads blobs.
type Reader interface {
	Read(ctx context.Context, key string) ([]byte, error)
}

// Blob is a value of another package.
type Blob struct {
	Key  string
	Data []byte
}
