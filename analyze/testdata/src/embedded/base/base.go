// Package base declares an interface that another package embeds.
package base

// Closer closes without a context.
type Closer interface {
	Close() error // want "no-context: Close has no context.Context parameter"
}
