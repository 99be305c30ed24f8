package notify_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"example.com/shop/notify"
)

var queuedAt = time.Date(2026, 7, 4, 10, 0, 0, 0, time.FixedZone("EDT", -4*3600))

func newOutbox() notify.Notifier {
	return notify.NewOutbox(notify.OutboxConfig{Now: func() time.Time { return queuedAt }})
}

func TestOutboxSendAndTake(t *testing.T) {
	n := newOutbox()
	if got := n.Pending(); got != 0 {
		t.Errorf("Pending of a new outbox = %d", got)
	}
	msgs, err := n.Take(10)
	if err != nil || msgs != nil {
		t.Fatalf("Take on an empty outbox = %#v, %v; want nil, nil", msgs, err)
	}

	stamped := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	send := []notify.Message{
		{To: "ann@example.com", Subject: "one", Meta: map[string]string{"order_id": "ord-1"}},
		{To: "bob@example.com", Subject: "two", At: stamped},
		{To: "ann@example.com", Subject: "three", Meta: map[string]string{}},
	}
	for _, m := range send {
		if err := n.Send(m); err != nil {
			t.Fatalf("Send(%q): %v", m.Subject, err)
		}
	}
	if got := n.Pending(); got != 3 {
		t.Errorf("Pending = %d, want 3", got)
	}

	first, err := n.Take(2)
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, m := range first {
		subjects = append(subjects, m.Subject)
	}
	if !slices.Equal(subjects, []string{"one", "two"}) {
		t.Errorf("Take(2) = %v, want the two oldest", subjects)
	}
	if zone, _ := first[0].At.Zone(); !first[0].At.Equal(queuedAt) || zone != "EDT" {
		t.Errorf("At of an unstamped message = %v, want %v (the clock, zone kept)", first[0].At, queuedAt)
	}
	if !first[1].At.Equal(stamped) {
		t.Errorf("At of a stamped message = %v, want it kept: %v", first[1].At, stamped)
	}
	if first[0].Meta["order_id"] != "ord-1" || first[1].Meta != nil {
		t.Errorf("Meta = %#v and %#v, want {order_id: ord-1} and nil", first[0].Meta, first[1].Meta)
	}
	if got := n.Pending(); got != 1 {
		t.Errorf("Pending after Take(2) = %d, want 1", got)
	}
	rest, err := n.Take(10)
	if err != nil || len(rest) != 1 || rest[0].Meta == nil {
		t.Errorf("Take(10) = %#v, %v; want the last message with its empty, non-nil Meta", rest, err)
	}
}

func TestOutboxRejects(t *testing.T) {
	n := newOutbox()
	if err := n.Send(notify.Message{Subject: "lost"}); !errors.Is(err, notify.ErrNoRecipient) {
		t.Errorf("Send without To = %v, want ErrNoRecipient", err)
	}
	if got := n.Pending(); got != 0 {
		t.Errorf("a rejected message was queued: Pending = %d", got)
	}
	if _, err := n.Take(0); err == nil {
		t.Error("Take(0) succeeded, want an error")
	}
}

func TestBus(t *testing.T) {
	ctx := context.Background()
	b := notify.NewBus()
	var got []string
	cancelA := b.Subscribe("order.placed", func(e notify.Event) { got = append(got, "a:"+e.Key) })
	b.Subscribe("order.placed", func(e notify.Event) { got = append(got, "b:"+e.Key) })
	b.Subscribe("order.cancelled", func(e notify.Event) { got = append(got, "c:"+e.Key) })

	steps := []struct {
		topic, key string
	}{
		{"order.placed", "1"},
		{"order.cancelled", "1"},
		{"stock.low", "mug"}, // nobody listens
	}
	for _, s := range steps {
		if err := b.Publish(ctx, notify.Event{Topic: s.topic, Key: s.key}); err != nil {
			t.Fatal(err)
		}
	}
	cancelA()
	cancelA() // twice is harmless
	if err := b.Publish(ctx, notify.Event{Topic: "order.placed", Key: "2"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a:1", "b:1", "c:1", "b:2"}; !slices.Equal(got, want) {
		t.Errorf("deliveries = %v, want %v", got, want)
	}

	ended, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Publish(ended, notify.Event{Topic: "order.placed", Key: "3"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish on an ended context = %v, want context.Canceled", err)
	}
	if len(got) != 4 {
		t.Errorf("an event published on an ended context was delivered: %v", got)
	}
}
