// Package variadic forwards variadic parameters.
package variadic

import "context"

// Logger logs lines.
type Logger interface {
	Log(ctx context.Context, format string, args ...int) error
	Tag(tags ...string) (int, error)
}
