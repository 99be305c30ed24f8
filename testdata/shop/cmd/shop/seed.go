package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"time"

	"example.com/shop/catalog"
	"example.com/shop/money"
)

// seedProducts is what the example shop sells.
func seedProducts(now time.Time) []catalog.Product {
	return []catalog.Product{
		{SKU: "mug-blue", Name: "Blue mug", Price: 1200, Cost: 450, Tags: []string{"kitchen"}, Attrs: map[string]string{"colour": "blue", "volume": "350ml"}, UpdatedAt: now},
		{SKU: "mug-red", Name: "Red mug", Price: 1200, Cost: 450, Tags: []string{"kitchen"}, Attrs: map[string]string{"colour": "red", "volume": "350ml"}, UpdatedAt: now},
		{SKU: "poster-gopher", Name: "Gopher poster", Price: 2500, Cost: 2000, Tags: []string{"wall", "gopher"}, UpdatedAt: now},
		{SKU: "sticker-pack", Name: "Sticker pack", Price: 500, Cost: 100, UpdatedAt: now}, // no tags: nil
		{SKU: "tshirt-m", Name: "T-shirt, size M", Price: 2200, Cost: 900, Tags: []string{"clothing"}, Attrs: map[string]string{"size": "M"}, UpdatedAt: now},
	}
}

// seedStock is the initial stock of every product.
func seedStock() map[string]int {
	return map[string]int{"mug-blue": 20, "mug-red": 5, "poster-gopher": 3, "sticker-pack": 100, "tshirt-m": 10}
}

// seedThumbnails draws a small PNG swatch for the products that have a
// colour attribute; the others have no thumbnail.
func seedThumbnails(products []catalog.Product) (map[string][]byte, error) {
	swatches := map[string]color.RGBA{"blue": {0, 90, 200, 255}, "red": {200, 30, 30, 255}}
	thumbs := make(map[string][]byte)
	for _, p := range products {
		c, ok := swatches[p.Attrs["colour"]]
		if !ok {
			continue
		}
		img := image.NewRGBA(image.Rect(0, 0, 16, 16))
		for y := range 16 {
			for x := range 16 {
				img.SetRGBA(x, y, c)
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return nil, fmt.Errorf("thumbnail of %s: %w", p.SKU, err)
		}
		thumbs[p.SKU] = buf.Bytes()
	}
	return thumbs, nil
}

// defaultCreditLimit is the invoice gateway's credit limit per customer.
const defaultCreditLimit money.Cents = 100_000
