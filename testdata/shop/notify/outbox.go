package notify

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// OutboxConfig configures an outbox.
type OutboxConfig struct {
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// outbox is a Notifier that queues messages in memory until a mailer takes
// them.
type outbox struct {
	now func() time.Time

	mu    sync.Mutex
	queue []Message
}

// NewOutbox returns an empty in-memory outbox.
func NewOutbox(cfg OutboxConfig) Notifier {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &outbox{now: cfg.Now}
}

// Send implements Notifier.
func (o *outbox) Send(m Message) error {
	if m.To == "" {
		return fmt.Errorf("notify: send %q: %w", m.Subject, ErrNoRecipient)
	}
	if m.At.IsZero() {
		m.At = o.now()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.queue = append(o.queue, m)
	return nil
}

// Pending implements Notifier.
func (o *outbox) Pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue)
}

// Take implements Notifier.
func (o *outbox) Take(max int) ([]Message, error) {
	if max <= 0 {
		return nil, fmt.Errorf("notify: take %d messages: max must be positive", max)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n := min(max, len(o.queue))
	if n == 0 {
		return nil, nil // nil, not empty, as documented
	}
	taken := slices.Clone(o.queue[:n])
	o.queue = slices.Delete(o.queue, 0, n)
	return taken, nil
}
