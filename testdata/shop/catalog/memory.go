package catalog

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// DefaultPageSize is the page size List uses when asked for limit <= 0.
const DefaultPageSize = 20

// memory is the in-memory Catalog. It is read-only after construction, so it
// needs no lock.
type memory struct {
	products map[string]Product
	thumbs   map[string][]byte
	skus     []string // sorted
}

// NewMemory returns a Catalog holding the given products and thumbnails
// (keyed by SKU). It keeps its own copies of both. A thumbnail for a SKU
// that is not among the products is an error, as is a duplicate SKU.
func NewMemory(products []Product, thumbnails map[string][]byte) (Catalog, error) {
	m := &memory{products: make(map[string]Product, len(products)), thumbs: make(map[string][]byte, len(thumbnails))}
	for _, p := range products {
		if strings.TrimSpace(p.SKU) == "" {
			return nil, fmt.Errorf("catalog: product %q has no SKU", p.Name)
		}
		if _, dup := m.products[p.SKU]; dup {
			return nil, fmt.Errorf("catalog: duplicate SKU %q", p.SKU)
		}
		m.products[p.SKU] = clone(p)
		m.skus = append(m.skus, p.SKU)
	}
	for sku, img := range thumbnails {
		if _, ok := m.products[sku]; !ok {
			return nil, fmt.Errorf("catalog: thumbnail for unknown SKU %q", sku)
		}
		m.thumbs[sku] = slices.Clone(img)
	}
	slices.Sort(m.skus)
	return m, nil
}

// Get implements Catalog.
func (m *memory) Get(ctx context.Context, sku string) (Product, error) {
	p, ok := m.products[sku]
	if !ok {
		return Product{}, ErrNotFound // returned as is: callers use ==
	}
	return clone(p), nil
}

// List implements Catalog.
func (m *memory) List(ctx context.Context, after string, limit int) (page []Product, next string, err error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	start, _ := slices.BinarySearch(m.skus, after)
	if start < len(m.skus) && m.skus[start] == after {
		start++
	}
	end := min(start+limit, len(m.skus))
	for _, sku := range m.skus[start:end] {
		page = append(page, clone(m.products[sku]))
	}
	if end == len(m.skus) {
		return page, "", io.EOF // the last page comes with io.EOF
	}
	return page, m.skus[end-1], nil
}

// Thumbnail implements Catalog.
func (m *memory) Thumbnail(ctx context.Context, sku string) ([]byte, error) {
	if _, ok := m.products[sku]; !ok {
		return nil, ErrNotFound
	}
	return slices.Clone(m.thumbs[sku]), nil // nil when there is none
}

// clone copies p so that callers never share its slices or maps with the
// catalog. nil stays nil and empty stays empty.
func clone(p Product) Product {
	p.Tags = slices.Clone(p.Tags)
	p.Attrs = maps.Clone(p.Attrs)
	return p
}
