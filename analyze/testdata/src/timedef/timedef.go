// Package timedef has types defined as time.Time, blank fields and an
// error that is not the last result: what internal/wiretype decides for
// analyze and the generator alike.
package timedef

import (
	"context"
	"time"
)

// Stamp is defined as time.Time: carried as a time, but JSON writes {}.
type Stamp time.Time

// Marshalled is defined as time.Time with JSON methods of its own.
type Marshalled time.Time

// MarshalJSON writes m as a time.
func (m Marshalled) MarshalJSON() ([]byte, error) { return time.Time(m).MarshalJSON() }

// UnmarshalJSON reads a time into m.
func (m *Marshalled) UnmarshalJSON(b []byte) error { return (*time.Time)(m).UnmarshalJSON(b) }

// Blanks has blank fields, which carry nothing, whatever their type.
type Blanks struct {
	N int
	_ chan int
	_ func()
}

// Clock uses them.
type Clock interface {
	Now(ctx context.Context) (Stamp, error) // want "defined-time: result#1 is a Stamp, defined as time.Time: generated clients carry it as a time, but it has none of time.Time's methods, so encoding/json writes {}"
	Set(ctx context.Context, m Marshalled, b Blanks) error
	Pair(ctx context.Context) (error, int) // want "interface: result#1 is a value of the interface error" "no-error: Pair has no error result"
}
