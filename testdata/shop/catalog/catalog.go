// Package catalog is the shop's product catalog: what is for sale, at what
// price, and what it cost the shop.
package catalog

import (
	"context"
	"errors"
	"time"

	"example.com/shop/money"
)

// ErrNotFound is returned, as is and never wrapped, when no product has the
// SKU asked for. Callers compare it with ==.
var ErrNotFound = errors.New("catalog: product not found")

// Product is one item for sale.
type Product struct {
	SKU   string      `json:"sku"`
	Name  string      `json:"name"`
	Price money.Cents `json:"price_cents"`
	// Cost is what the shop paid for one unit. It is never shown to
	// customers (json:"-"), but orders relies on it: a coupon never takes an
	// order below cost.
	Cost      money.Cents       `json:"-"`
	Tags      []string          `json:"tags"`            // nil when the product has no tags
	Attrs     map[string]string `json:"attrs,omitempty"` // free-form attributes such as "colour"
	UpdatedAt time.Time         `json:"updated_at"`
}

// Catalog is the seam between the shop and its product data. Its callers are
// the order service (prices and costs) and the HTTP API (browsing).
type Catalog interface {
	// Get returns the product with the given SKU, or ErrNotFound as is.
	Get(ctx context.Context, sku string) (Product, error)

	// List returns up to limit products whose SKU sorts after the cursor
	// "after" ("" starts at the beginning), in SKU order, and the cursor of
	// the next page. Like io.Reader, the last page comes with io.EOF (a
	// standard-library sentinel callers compare with ==): handle page before
	// err. Named results document what the three values are.
	List(ctx context.Context, after string, limit int) (page []Product, next string, err error)

	// Thumbnail returns the product's PNG thumbnail ([]byte), nil when it has
	// none, or ErrNotFound for an unknown SKU.
	Thumbnail(ctx context.Context, sku string) ([]byte, error)
}
