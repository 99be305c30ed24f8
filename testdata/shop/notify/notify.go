// Package notify tells people and other parts of the shop what happened:
// an outbox of messages to customers, and an in-process event bus.
package notify

import (
	"context"
	"errors"
	"time"
)

// ErrNoRecipient is returned, wrapped, by Send for a message without an
// address.
var ErrNoRecipient = errors.New("message has no recipient")

// Message is a notification to one person.
type Message struct {
	To      string            `json:"to"`
	Subject string            `json:"subject"`
	Body    string            `json:"body"`
	Meta    map[string]string `json:"meta,omitempty"` // such as "order_id"
	At      time.Time         `json:"at"`             // when it was queued
}

// Notifier is the seam to the customer-messaging system. Unlike the other
// services it takes no context.Context: queueing never blocks. Pending has no
// error result, so a remote Notifier cannot report a failed Pending call.
type Notifier interface {
	// Send queues m for delivery. It fills in m.At when it is zero.
	Send(m Message) error

	// Pending returns how many messages wait for delivery (no error result).
	Pending() int

	// Take removes and returns up to max messages, oldest first, for a
	// mailer to deliver. It returns nil, not an empty slice, when none wait.
	Take(max int) ([]Message, error)
}

// Event is something that happened in the shop, for in-process listeners.
type Event struct {
	Topic string            `json:"topic"` // such as "order.placed"
	Key   string            `json:"key"`   // such as the order ID
	Data  map[string]string `json:"data,omitempty"`
	At    time.Time         `json:"at"`
}

// Bus delivers events to in-process subscribers. It cannot go remote as it
// stands: Subscribe takes a callback func and returns a func, and neither can
// cross a network.
type Bus interface {
	// Publish delivers e to every subscriber of e.Topic, synchronously and
	// in subscription order. It returns ctx.Err() if ctx has ended.
	Publish(ctx context.Context, e Event) error

	// Subscribe calls fn for every event published on topic until cancel is
	// called.
	Subscribe(topic string, fn func(Event)) (cancel func())
}
