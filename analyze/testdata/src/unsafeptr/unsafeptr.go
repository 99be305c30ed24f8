// Package unsafeptr holds a seam with addresses.
package unsafeptr

import (
	"context"
	"unsafe"
)

// Mem passes addresses around.
type Mem interface {
	Peek(ctx context.Context, p unsafe.Pointer) (byte, error) // want "unsafe: p is unsafe.Pointer"
	Addr(ctx context.Context) (uintptr, error)                // want "unsafe: result#1 is uintptr"
}
