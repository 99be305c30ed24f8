// Package clinic books appointments.
package clinic

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrTaken is returned when the slot is booked already.
var ErrTaken = errors.New("clinic: slot taken")

// MaxPerDay is how many appointments a patient may book on one day.
const MaxPerDay = 2

// A PolicyError is a booking the clinic's rules refuse.
type PolicyError struct {
	Rule  string
	Limit any // the limit the booking would exceed
}

func (e *PolicyError) Error() string { return fmt.Sprintf("clinic: %s: limit %v", e.Rule, e.Limit) }

// An Appointment is a booked slot.
type Appointment struct {
	ID      string
	Patient string
	At      time.Time
	Status  string // "booked", "cancelled"
}

// Scheduler books appointments.
type Scheduler interface {
	// Book books patient at the time at.
	Book(ctx context.Context, patient string, at time.Time) (Appointment, error)
	// Watch keeps a so that Cancel updates its Status.
	Watch(ctx context.Context, a *Appointment) error
	// Cancel cancels the appointment id.
	Cancel(ctx context.Context, id string) error
}

// NewScheduler returns an empty in-memory Scheduler.
func NewScheduler() Scheduler {
	return &memScheduler{byID: map[string]*Appointment{}, watched: map[string][]*Appointment{}}
}

type memScheduler struct {
	mu      sync.Mutex
	next    int
	byID    map[string]*Appointment
	watched map[string][]*Appointment
}

func (s *memScheduler) Book(ctx context.Context, patient string, at time.Time) (Appointment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sameDay := 0
	for _, a := range s.byID {
		if a.Patient == patient && a.Status == "booked" && a.At.YearDay() == at.YearDay() && a.At.Year() == at.Year() {
			sameDay++
		}
	}
	if sameDay >= MaxPerDay {
		return Appointment{}, &PolicyError{Rule: "max-per-day", Limit: MaxPerDay}
	}
	for _, a := range s.byID {
		if a.At.Equal(at) && a.Status == "booked" {
			return Appointment{}, fmt.Errorf("book %s at %s: %w", patient, at.Format(time.Kitchen), ErrTaken)
		}
	}
	s.next++
	a := &Appointment{ID: fmt.Sprintf("a%d", s.next), Patient: patient, At: at, Status: "booked"}
	s.byID[a.ID] = a
	return *a, nil
}

func (s *memScheduler) Watch(ctx context.Context, a *Appointment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watched[a.ID] = append(s.watched[a.ID], a)
	return nil
}

func (s *memScheduler) Cancel(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byID[id]
	if !ok {
		return fmt.Errorf("cancel %s: no such appointment", id)
	}
	a.Status = "cancelled"
	for _, w := range s.watched[id] {
		w.Status = "cancelled"
	}
	return nil
}
