// Package cargo tracks the shipments of a small haulage fleet: where each one
// is, and who may dispatch it. The module's root package is named unlike its
// path (example.com/fleet), as many real modules are.
package cargo

import (
	"errors"
	"time"
)

// Status is where a shipment is in its life.
type Status string

// The statuses a shipment goes through, in order.
const (
	StatusBooked     Status = "booked"
	StatusDispatched Status = "dispatched"
	StatusDelivered  Status = "delivered"
)

// Shipment is one consignment from an origin depot to a destination.
type Shipment struct {
	ID          string    `json:"id"`
	Origin      string    `json:"origin"`
	Destination string    `json:"destination"`
	WeightKg    float64   `json:"weight_kg"`
	Status      Status    `json:"status"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Extras holds what integrations attach to a shipment (a carrier's
	// reference, customs data, pallet counts), as they sent it: the
	// tracker keeps it and gives it back unchanged.
	Extras map[string]any `json:"extras,omitempty"`
	// Notify, when set, hears of the status changes the tracker makes to
	// this shipment. It stays on the caller's side: the mesh leaves it off
	// the wire.
	Notify func(Status) `json:"-" meshsplit:"-"`
}

// Errors of the repository and the tracker; compare with errors.Is.
var (
	ErrNotFound     = errors.New("cargo: shipment not found")
	ErrInvalidState = errors.New("cargo: shipment is not in a state that allows this")
)

// ValidationError is what Book returns for an incomplete shipment; callers
// find the field at fault with errors.As.
type ValidationError interface {
	error
	Field() string
}

type missingField string

func (m missingField) Error() string { return "cargo: " + string(m) + " is required" }
func (m missingField) Field() string { return string(m) }

// Validate checks that a shipment can be booked.
func Validate(s Shipment) ValidationError {
	switch {
	case s.ID == "":
		return missingField("id")
	case s.Origin == "":
		return missingField("origin")
	case s.Destination == "":
		return missingField("destination")
	}
	return nil
}
