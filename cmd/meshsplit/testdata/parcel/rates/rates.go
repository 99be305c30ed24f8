// Package rates prices parcels by weight and zone.
package rates

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
)

var tracer = otel.Tracer("example.com/parcel/rates")

// ErrNoZone is returned for a zone the table does not serve.
var ErrNoZone = errors.New("rates: zone not served")

// Quoter prices a parcel.
type Quoter interface {
	// Quote returns the price in cents of a parcel of grams to zone.
	Quote(ctx context.Context, grams int, zone string) (int, error)
}

// NewQuoter returns the quoter of the current price table.
func NewQuoter() Quoter {
	return &table{perKg: map[string]int{"domestic": 450, "eu": 900, "world": 1800}}
}

type table struct {
	perKg map[string]int
}

func (t *table) Quote(ctx context.Context, grams int, zone string) (int, error) {
	_, span := tracer.Start(ctx, "rates.Quote")
	defer span.End()
	span.SetAttributes(attribute.Int("parcel.grams", grams), attribute.String("parcel.zone", zone))
	per, ok := t.perKg[zone]
	if !ok {
		span.SetStatus(codes.Error, "zone not served")
		return 0, fmt.Errorf("quoting %q: %w", zone, ErrNoZone)
	}
	price := (grams + 999) / 1000 * per
	// Customers on the gold plan pay 20% less; the plan travels as baggage
	// from the storefront.
	if baggage.FromContext(ctx).Member("plan").Value() == "gold" {
		price = price * 8 / 10
		span.SetAttributes(attribute.Bool("parcel.discounted", true))
	}
	return price, nil
}
