// Package store is a second package named store, for lookups.
package store

import "context"

// Store has the same name as fixtures/model/store.Store.
type Store interface {
	Get(ctx context.Context, id string) (string, error)
}
