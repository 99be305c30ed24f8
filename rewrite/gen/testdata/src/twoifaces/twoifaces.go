// Package twoifaces declares two interfaces with a method of the same name
// over the same type: their generated files must not collide.
package twoifaces

import "context"

// Doc is shared by both interfaces.
type Doc struct {
	ID   string
	Tags []string
}

// Reader reads documents.
type Reader interface {
	Get(ctx context.Context, id string) (Doc, error)
}

// Writer writes documents.
type Writer interface {
	Get(ctx context.Context, id string) (Doc, error)
	Put(ctx context.Context, d Doc) error
}
