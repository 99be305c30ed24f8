package cargo

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Tracker is the use case the HTTP layer calls.
type Tracker interface {
	// Book records a new shipment and returns it with its status set.
	Book(ctx context.Context, s Shipment) (Shipment, error)
	// Dispatch sends a booked shipment on its way.
	Dispatch(ctx context.Context, id string) (Shipment, error)
	// Track returns a shipment as it is now.
	Track(ctx context.Context, id string) (Shipment, error)
}

type tracker struct {
	repo Repository
	now  func() time.Time
}

// NewTracker returns the Tracker, every call logged.
func NewTracker(repo Repository, logger *slog.Logger) Tracker {
	// The decorator wraps the real tracker: callers get both or neither.
	return newLoggingTracker(&tracker{repo: repo, now: time.Now}, logger)
}

func (t *tracker) Book(ctx context.Context, s Shipment) (Shipment, error) {
	if err := Validate(s); err != nil {
		return Shipment{}, fmt.Errorf("book: %w", err)
	}
	s.Status = StatusBooked
	s.UpdatedAt = t.now().UTC()
	if err := t.repo.Save(ctx, s); err != nil {
		return Shipment{}, fmt.Errorf("book %q: %w", s.ID, err)
	}
	if s.Notify != nil {
		s.Notify(s.Status)
	}
	return s, nil
}

func (t *tracker) Dispatch(ctx context.Context, id string) (Shipment, error) {
	s, err := t.repo.Get(ctx, id)
	if err != nil {
		return Shipment{}, err
	}
	if s.Status != StatusBooked {
		return Shipment{}, fmt.Errorf("dispatch %q (%s): %w", id, s.Status, ErrInvalidState)
	}
	s.Status = StatusDispatched
	s.UpdatedAt = t.now().UTC()
	if err := t.repo.Save(ctx, s); err != nil {
		return Shipment{}, fmt.Errorf("dispatch %q: %w", id, err)
	}
	return s, nil
}

func (t *tracker) Track(ctx context.Context, id string) (Shipment, error) {
	return t.repo.Get(ctx, id)
}

// loggingTracker logs each call of the Tracker it wraps.
type loggingTracker struct {
	next Tracker
	log  *slog.Logger
}

func newLoggingTracker(next Tracker, log *slog.Logger) Tracker {
	return &loggingTracker{next: next, log: log}
}

func (l *loggingTracker) Book(ctx context.Context, s Shipment) (Shipment, error) {
	out, err := l.next.Book(ctx, s)
	l.log.InfoContext(ctx, "book", "id", s.ID, "err", err)
	return out, err
}

func (l *loggingTracker) Dispatch(ctx context.Context, id string) (Shipment, error) {
	out, err := l.next.Dispatch(ctx, id)
	l.log.InfoContext(ctx, "dispatch", "id", id, "err", err)
	return out, err
}

func (l *loggingTracker) Track(ctx context.Context, id string) (Shipment, error) {
	out, err := l.next.Track(ctx, id)
	l.log.DebugContext(ctx, "track", "id", id, "err", err)
	return out, err
}
