// Package switchbench holds a small interface as meshsplit extract leaves
// it (counter.go is counter.go.txt of rewrite/testdata/switchbench with its
// constructor switched; counter_mesh.go is what rewrite/gen generates), so
// that a benchmark can compare a method call on the value the rewritten
// constructor returns with one on the value of the original.
package switchbench

import (
	"context"
	"sync/atomic"
)

// Counter counts.
type Counter interface {
	// Add adds n and returns the new total.
	Add(ctx context.Context, n int64) (int64, error)
}

// counter is the in-process Counter.
type counter struct{ n atomic.Int64 }

func (c *counter) Add(ctx context.Context, n int64) (int64, error) {
	return c.n.Add(n), nil
}

// NewCounter returns a Counter that starts at zero.
func NewCounter() Counter {
	if remote, ok := meshCounter(func() Counter {
		return newCounterLocal()
	}); ok {
		return remote
	}
	return newCounterLocal()
}

// newCounterLocal is the original NewCounter, unchanged.
func newCounterLocal() Counter {
	return &counter{}
}
