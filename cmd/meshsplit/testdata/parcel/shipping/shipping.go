// Package shipping books parcels.
package shipping

import (
	"context"
	"fmt"

	"example.com/parcel/rates"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
)

var tracer = otel.Tracer("example.com/parcel/shipping")

// Label is a booked parcel.
type Label struct {
	Zone  string
	Cents int
}

// Service books parcels at the current rates.
type Service struct {
	quotes rates.Quoter
}

// New returns a Service.
func New() *Service { return &Service{quotes: rates.NewQuoter()} }

// Ship books a parcel of grams to zone.
func (s *Service) Ship(ctx context.Context, grams int, zone string) (Label, error) {
	ctx, span := tracer.Start(ctx, "shipping.Ship")
	defer span.End()
	cents, err := s.quotes.Quote(ctx, grams, zone)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		return Label{}, fmt.Errorf("shipping to %s: %w", zone, err)
	}
	return Label{Zone: zone, Cents: cents}, nil
}
