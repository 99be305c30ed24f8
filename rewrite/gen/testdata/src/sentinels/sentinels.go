// Package sentinels returns another module's sentinel error as it is.
package sentinels

import (
	"context"

	"example.com/thirdparty/kv"
)

// Cache reads values; a missing key is kv.ErrGone itself.
type Cache interface {
	Get(ctx context.Context, key string) (string, error)
}

type cache struct{ data map[string]string }

// NewCache returns a Cache over data.
func NewCache(data map[string]string) Cache { return &cache{data: data} }

func (c *cache) Get(ctx context.Context, key string) (string, error) {
	v, ok := c.data[key]
	if !ok {
		return "", kv.ErrGone
	}
	return v, nil
}
