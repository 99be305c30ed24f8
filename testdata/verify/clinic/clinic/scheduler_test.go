package clinic

import (
	"context"
	"errors"
	"testing"
	"time"
)

// berlin is the clinic's time zone in winter.
var berlin = time.FixedZone("CET", 60*60)

func TestBookKeepsTime(t *testing.T) {
	s := NewScheduler()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, berlin)
	a, err := s.Book(context.Background(), "ana", at)
	if err != nil {
		t.Fatal(err)
	}
	if a.At != at {
		t.Errorf("Book returned At = %v, want %v", a.At, at)
	}
}

func TestDoubleBooking(t *testing.T) {
	s := NewScheduler()
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	if _, err := s.Book(ctx, "ana", at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Book(ctx, "bo", at); !errors.Is(err, ErrTaken) {
		t.Fatalf("second Book = %v, want ErrTaken", err)
	}
}

func TestMaxPerDay(t *testing.T) {
	s := NewScheduler()
	ctx := context.Background()
	for h := 9; h < 9+MaxPerDay; h++ {
		if _, err := s.Book(ctx, "ana", time.Date(2026, 3, 4, h, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.Book(ctx, "ana", time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC))
	var pe *PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("third Book on one day = %v, want a *PolicyError", err)
	}
	if pe.Limit != MaxPerDay {
		t.Errorf("PolicyError.Limit = %v (%T), want %d", pe.Limit, pe.Limit, MaxPerDay)
	}
}

func TestWatchSeesCancel(t *testing.T) {
	s := NewScheduler()
	ctx := context.Background()
	a, err := s.Book(ctx, "ana", time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Watch(ctx, &a); err != nil {
		t.Fatal(err)
	}
	if err := s.Cancel(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if a.Status != "cancelled" {
		t.Errorf("after Cancel, the watched appointment's Status = %q, want cancelled", a.Status)
	}
}
