package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"example.com/shop/catalog"
)

// cet is a non-UTC zone: product times must keep it.
var cet = time.FixedZone("CET", 3600)

func testProducts() []catalog.Product {
	updated := time.Date(2026, 3, 1, 9, 30, 0, 0, cet)
	return []catalog.Product{
		{SKU: "b-mug", Name: "Mug", Price: 1200, Cost: 450, Tags: []string{"kitchen"}, Attrs: map[string]string{"colour": "blue"}, UpdatedAt: updated},
		{SKU: "a-sticker", Name: "Sticker", Price: 300, Cost: 50, UpdatedAt: updated}, // nil Tags, nil Attrs
		{SKU: "c-poster", Name: "Poster", Price: 2500, Cost: 2000, Tags: []string{}, Attrs: map[string]string{}, UpdatedAt: updated},
		{SKU: "d-shirt", Name: "Shirt", Price: 2200, Cost: 900, UpdatedAt: updated},
		{SKU: "e-cap", Name: "Cap", Price: 1500, Cost: 600, UpdatedAt: updated},
	}
}

func newCatalog(t *testing.T) catalog.Catalog {
	t.Helper()
	c, err := catalog.NewMemory(testProducts(), map[string][]byte{"b-mug": {0x89, 'P', 'N', 'G', 0, 1, 2}})
	if err != nil {
		t.Fatalf("NewMemory: %v", err)
	}
	return c
}

func TestGet(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)

	p, err := c.Get(ctx, "b-mug")
	if err != nil {
		t.Fatalf("Get(b-mug): %v", err)
	}
	if p.Name != "Mug" || p.Price != 1200 {
		t.Errorf("Get(b-mug) = %+v", p)
	}
	if p.Cost != 450 {
		t.Errorf("Cost = %d, want 450: the json:\"-\" field must come back", p.Cost)
	}
	if name, off := p.UpdatedAt.Zone(); name != "CET" || off != 3600 || !p.UpdatedAt.Equal(testProducts()[0].UpdatedAt) {
		t.Errorf("UpdatedAt = %v (zone %s%+d), want 2026-03-01 09:30 CET", p.UpdatedAt, name, off)
	}

	_, err = c.Get(ctx, "no-such-sku")
	if err != catalog.ErrNotFound { // documented: returned as is, compared with ==
		t.Errorf("Get(unknown) error = %v, want catalog.ErrNotFound itself", err)
	}
}

// TestGetNilAndEmpty checks that nil slices and maps stay nil and empty ones
// stay empty: the API hands back what it was given.
func TestGetNilAndEmpty(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)

	sticker, err := c.Get(ctx, "a-sticker")
	if err != nil {
		t.Fatal(err)
	}
	if sticker.Tags != nil || sticker.Attrs != nil {
		t.Errorf("a-sticker: Tags = %#v, Attrs = %#v, want both nil", sticker.Tags, sticker.Attrs)
	}
	poster, err := c.Get(ctx, "c-poster")
	if err != nil {
		t.Fatal(err)
	}
	if poster.Tags == nil || len(poster.Tags) != 0 || poster.Attrs == nil || len(poster.Attrs) != 0 {
		t.Errorf("c-poster: Tags = %#v, Attrs = %#v, want both empty and non-nil", poster.Tags, poster.Attrs)
	}
}

// TestGetReturnsCopies checks that changing a returned product does not
// change the catalog.
func TestGetReturnsCopies(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	p, err := c.Get(ctx, "b-mug")
	if err != nil {
		t.Fatal(err)
	}
	p.Tags[0] = "changed"
	p.Attrs["colour"] = "changed"
	again, err := c.Get(ctx, "b-mug")
	if err != nil {
		t.Fatal(err)
	}
	if again.Tags[0] != "kitchen" || again.Attrs["colour"] != "blue" {
		t.Errorf("after changing a returned product, Get = %+v", again)
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		name     string
		after    string
		limit    int
		wantSKUs []string
		wantNext string
		wantEOF  bool
	}{
		{"first page", "", 2, []string{"a-sticker", "b-mug"}, "b-mug", false},
		{"middle page", "b-mug", 2, []string{"c-poster", "d-shirt"}, "d-shirt", false},
		{"last page comes with EOF", "d-shirt", 2, []string{"e-cap"}, "", true},
		{"exact last page", "c-poster", 2, []string{"d-shirt", "e-cap"}, "", true},
		{"cursor between SKUs", "b-zzz", 1, []string{"c-poster"}, "c-poster", false},
		{"past the end", "e-cap", 2, nil, "", true},
		{"default page size", "", 0, []string{"a-sticker", "b-mug", "c-poster", "d-shirt", "e-cap"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCatalog(t)
			page, next, err := c.List(context.Background(), tt.after, tt.limit)
			if tt.wantEOF && err != io.EOF { // io.EOF is compared with ==, as with io.Reader
				t.Fatalf("err = %v, want io.EOF", err)
			}
			if !tt.wantEOF && err != nil {
				t.Fatalf("err = %v, want nil", err)
			}
			var skus []string
			for _, p := range page {
				skus = append(skus, p.SKU)
			}
			if !slices.Equal(skus, tt.wantSKUs) || next != tt.wantNext {
				t.Errorf("List(%q, %d) = %v, next %q; want %v, next %q", tt.after, tt.limit, skus, next, tt.wantSKUs, tt.wantNext)
			}
			if tt.wantSKUs == nil && page != nil {
				t.Errorf("page = %#v, want nil past the end", page)
			}
		})
	}
}

// TestListAll pages through the whole catalog the way callers do.
func TestListAll(t *testing.T) {
	c := newCatalog(t)
	var all []string
	after := ""
	for range 10 { // bounded: 5 products, 2 per page
		page, next, err := c.List(context.Background(), after, 2)
		for _, p := range page {
			all = append(all, p.SKU)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		after = next
	}
	if want := []string{"a-sticker", "b-mug", "c-poster", "d-shirt", "e-cap"}; !slices.Equal(all, want) {
		t.Errorf("all pages = %v, want %v", all, want)
	}
}

func TestThumbnail(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)

	img, err := c.Thumbnail(ctx, "b-mug")
	if err != nil || !bytes.Equal(img, []byte{0x89, 'P', 'N', 'G', 0, 1, 2}) {
		t.Errorf("Thumbnail(b-mug) = %v, %v", img, err)
	}
	img, err = c.Thumbnail(ctx, "a-sticker")
	if err != nil || img != nil {
		t.Errorf("Thumbnail(a-sticker) = %#v, %v; want nil, nil (no thumbnail)", img, err)
	}
	if _, err := c.Thumbnail(ctx, "no-such-sku"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Thumbnail(unknown) error = %v, want catalog.ErrNotFound", err)
	}
}

func TestNewMemoryRejects(t *testing.T) {
	tests := []struct {
		name     string
		products []catalog.Product
		thumbs   map[string][]byte
	}{
		{"duplicate SKU", []catalog.Product{{SKU: "x"}, {SKU: "x"}}, nil},
		{"empty SKU", []catalog.Product{{SKU: " ", Name: "blank"}}, nil},
		{"thumbnail of unknown SKU", []catalog.Product{{SKU: "x"}}, map[string][]byte{"y": {1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := catalog.NewMemory(tt.products, tt.thumbs)
			if err == nil {
				t.Error("NewMemory succeeded, want an error")
			}
			if c != nil {
				t.Errorf("NewMemory returned a %T with its error, want nil", c)
			}
		})
	}
}
