// Package errctx holds seams without error results or contexts.
package errctx

import "context"

// Logger has no error results and no contexts.
type Logger interface {
	Log(msg string)                // want "no-error: Log has no error result" "no-context: Log has no context.Context parameter"
	Level(ctx context.Context) int // want "no-error: Level has no error result"
	Flush() error                  // want "no-context: Flush has no context.Context parameter"
	Sync(ctx context.Context, force bool) error
}
