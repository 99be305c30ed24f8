// Package aliases uses type aliases in signatures: to a basic type, to a
// type of another package, to an unnamed struct and to a generic instance.
package aliases

import (
	"context"

	"example.com/fixtures/aliases/money"
)

// ID is an alias of string.
type ID = string

// Price is an alias of a type of another package.
type Price = money.Amount

// Pair is an alias of an unnamed struct.
type Pair = struct{ A, B int }

// Prices is an alias of a map of aliases.
type Prices = map[ID]Price

// Catalog prices products.
type Catalog interface {
	Price(ctx context.Context, id ID) (Price, error)
	All(ctx context.Context) (Prices, error)
	Swap(ctx context.Context, p Pair) (Pair, error)
}
