package cargo

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"testing"
)

func TestTrackerLifecycle(t *testing.T) {
	ctx := context.Background()
	tr := NewTracker(NewMemRepository(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	s, err := tr.Book(ctx, Shipment{ID: "SH-1", Origin: "Leeds", Destination: "Hull", WeightKg: 120})
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusBooked || s.UpdatedAt.IsZero() {
		t.Fatalf("booked shipment = %+v", s)
	}
	if _, err := tr.Dispatch(ctx, "SH-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Dispatch(ctx, "SH-1"); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("second dispatch: %v, want ErrInvalidState", err)
	}
	got, err := tr.Track(ctx, "SH-1")
	if err != nil || got.Status != StatusDispatched {
		t.Fatalf("Track = %+v, %v", got, err)
	}
	if _, err := tr.Track(ctx, "SH-404"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Track unknown: %v, want ErrNotFound", err)
	}
}

func TestTrackerWithMockRepository(t *testing.T) {
	repo := &MockRepository{
		GetFunc: func(ctx context.Context, id string) (Shipment, error) {
			return Shipment{ID: id, Status: StatusDelivered}, nil
		},
	}
	tr := &tracker{repo: repo}
	if _, err := tr.Dispatch(context.Background(), "SH-9"); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("dispatch of a delivered shipment: %v", err)
	}
	if got := repo.Recorded(); len(got) != 1 || got[0] != "Get" {
		t.Fatalf("calls = %v", got)
	}
}

func TestBookValidates(t *testing.T) {
	tr := NewTracker(NewMemRepository(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err := tr.Book(context.Background(), Shipment{ID: "SH-2", Origin: "York"})
	var ve ValidationError
	if !errors.As(err, &ve) || ve.Field() != "destination" {
		t.Fatalf("Book of a shipment without destination: %v, want a ValidationError on destination", err)
	}
}

func TestTrackerKeepsExtras(t *testing.T) {
	ctx := context.Background()
	tr := NewTracker(NewMemRepository(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	// What an integration sends, as encoding/json decodes it, and what Go
	// code attaches.
	extras := map[string]any{
		"carrier_ref": "DX-991",
		"customs":     map[string]any{"hs_code": "8471.30", "declared_eur": 1250.5, "docs": []any{"invoice", "cmr"}},
		"pallets":     3,
		"fragile":     true,
		"seal":        []byte{0xca, 0xfe},
		"note":        nil,
	}
	if _, err := tr.Book(ctx, Shipment{ID: "SH-3", Origin: "Leeds", Destination: "Hull", Extras: extras}); err != nil {
		t.Fatal(err)
	}
	got, err := tr.Track(ctx, "SH-3")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Extras, extras) {
		t.Fatalf("Extras = %#v, want %#v", got.Extras, extras)
	}
}
