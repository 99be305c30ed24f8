// Package noerror has methods without an error result.
package noerror

import "context"

// Counter counts.
type Counter interface {
	Add(ctx context.Context, n int) int
	Reset(ctx context.Context)
	Value() int
}
