// Package journal keeps append-only logs of events, one per topic, and
// streams them to readers: a tail as an iterator, a live feed as a
// channel, exports and imports as JSON lines.
package journal

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// ErrNoTopic is returned for a topic that has no events.
var ErrNoTopic = errors.New("journal: no such topic")

// ErrCorrupt is yielded beside an event whose body is not valid UTF-8.
var ErrCorrupt = errors.New("journal: corrupt event")

// Event is one entry of a topic.
type Event struct {
	Seq   int64     `json:"seq"`
	Topic string    `json:"topic"`
	Body  string    `json:"body"`
	At    time.Time `json:"at"`
}

// Stats counts the readers a journal is serving right now.
type Stats struct {
	Tails, Follows, Exports int
}

// Log is the journal.
type Log interface {
	// Append adds an event to topic and returns its sequence number.
	Append(ctx context.Context, topic, body string) (int64, error)
	// Tail yields the events of topic from sequence number from on, an
	// event with a corrupt body together with ErrCorrupt.
	Tail(ctx context.Context, topic string, from int64) iter.Seq2[Event, error]
	// Topics yields the topic names, sorted.
	Topics(ctx context.Context) (iter.Seq[string], error)
	// Follow sends the events of topic, then every new one, until ctx
	// ends.
	Follow(ctx context.Context, topic string) (<-chan Event, error)
	// Export returns the events of topic as JSON lines.
	Export(ctx context.Context, topic string) (io.ReadCloser, error)
	// Import appends the JSON lines of r to topic and returns how many.
	Import(ctx context.Context, topic string, r io.Reader) (int, error)
	// Stats says how many readers are open.
	Stats(ctx context.Context) (Stats, error)
}

type journal struct {
	mu      sync.Mutex
	topics  map[string][]Event
	changed chan struct{} // closed and replaced on every append
	stats   Stats
	now     func() time.Time
}

// New returns an empty journal.
func New() Log {
	return &journal{topics: map[string][]Event{}, changed: make(chan struct{}), now: time.Now}
}

func (j *journal) count(field *int, d int) {
	j.mu.Lock()
	*field += d
	j.mu.Unlock()
}

func (j *journal) Append(ctx context.Context, topic, body string) (int64, error) {
	if topic == "" {
		return 0, errors.New("journal: empty topic name")
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	seq := int64(len(j.topics[topic]))
	j.topics[topic] = append(j.topics[topic], Event{Seq: seq, Topic: topic, Body: body, At: j.now().UTC()})
	close(j.changed)
	j.changed = make(chan struct{})
	return seq, nil
}

// events returns the events of topic from seq from, and a channel closed
// at the next append.
func (j *journal) events(topic string, from int64) ([]Event, <-chan struct{}) {
	j.mu.Lock()
	defer j.mu.Unlock()
	evs := j.topics[topic]
	if from >= int64(len(evs)) {
		return nil, j.changed
	}
	return slices.Clone(evs[max(from, 0):]), j.changed
}

func (j *journal) Tail(ctx context.Context, topic string, from int64) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		j.count(&j.stats.Tails, 1)
		defer j.count(&j.stats.Tails, -1)
		evs, _ := j.events(topic, from)
		if evs == nil && from == 0 {
			yield(Event{}, fmt.Errorf("tail %q: %w", topic, ErrNoTopic))
			return
		}
		for _, ev := range evs {
			var err error
			if !utf8.ValidString(ev.Body) {
				err = fmt.Errorf("event %d of %q: %w", ev.Seq, topic, ErrCorrupt)
			}
			if !yield(ev, err) {
				return
			}
		}
	}
}

func (j *journal) Topics(ctx context.Context) (iter.Seq[string], error) {
	j.mu.Lock()
	names := make([]string, 0, len(j.topics))
	for name := range j.topics {
		names = append(names, name)
	}
	j.mu.Unlock()
	slices.Sort(names)
	return slices.Values(names), nil
}

func (j *journal) Follow(ctx context.Context, topic string) (<-chan Event, error) {
	if topic == "" {
		return nil, errors.New("journal: empty topic name")
	}
	ch := make(chan Event, 16)
	j.count(&j.stats.Follows, 1)
	go func() {
		defer j.count(&j.stats.Follows, -1)
		defer close(ch)
		next := int64(0)
		for {
			evs, changed := j.events(topic, next)
			for _, ev := range evs {
				select {
				case ch <- ev:
					next = ev.Seq + 1
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

// exporter writes a topic's events as JSON lines through a pipe, one
// event at a time, so that a large topic is never held in memory twice.
type exporter struct {
	*io.PipeReader
	done func()
}

func (e *exporter) Close() error {
	err := e.PipeReader.Close()
	e.done()
	return err
}

func (j *journal) Export(ctx context.Context, topic string) (io.ReadCloser, error) {
	evs, _ := j.events(topic, 0)
	if evs == nil {
		return nil, fmt.Errorf("export %q: %w", topic, ErrNoTopic)
	}
	j.count(&j.stats.Exports, 1)
	pr, pw := io.Pipe()
	go func() {
		enc := json.NewEncoder(pw)
		for _, ev := range evs {
			if err := enc.Encode(ev); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.Close()
	}()
	var once sync.Once
	return &exporter{PipeReader: pr, done: func() { once.Do(func() { j.count(&j.stats.Exports, -1) }) }}, nil
}

func (j *journal) Import(ctx context.Context, topic string, r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return n, fmt.Errorf("import %q: line %d: %w", topic, n+1, err)
		}
		if _, err := j.Append(ctx, topic, ev.Body); err != nil {
			return n, err
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("import %q after %d lines: %w", topic, n, err)
	}
	return n, nil
}

func (j *journal) Stats(ctx context.Context) (Stats, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.stats, nil
}
