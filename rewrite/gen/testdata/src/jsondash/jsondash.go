// Package jsondash has a model whose json:"-" fields the business logic
// still needs: the fast path carries them.
package jsondash

import "context"

// Account hides its hash from JSON.
type Account struct {
	Name     string `json:"name"`
	Hash     []byte `json:"-"`
	Internal int64  `json:"-,"`
	Limit    uint64 `json:"limit,string"`
}

// Accounts stores accounts.
type Accounts interface {
	Load(ctx context.Context, name string) (Account, error)
}
