package tally

import (
	"context"
	"errors"
	"testing"
	"time"
)

// errBoom exists only in test code: remotely, Check returns a copy of it.
var errBoom = errors.New("tally test: boom")

func TestAdd(t *testing.T) {
	c := NewCounter(Config{})
	ctx := context.Background()
	if _, err := c.Add(ctx, "a", 2); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Add(ctx, "a", 3); err != nil || n != 5 {
		t.Fatalf("Add = %d, %v; want 5", n, err)
	}
}

func TestCheckIdentity(t *testing.T) {
	c := NewCounter(Config{Fail: errBoom})
	if err := c.Check(context.Background()); err != errBoom {
		t.Fatalf("Check = %v, want errBoom itself", err)
	}
}

func TestFill(t *testing.T) {
	c := NewCounter(Config{})
	ctx := context.Background()
	c.Add(ctx, "a", 4)
	items := []Item{{ID: "a"}}
	if err := c.Fill(ctx, items); err != nil {
		t.Fatal(err)
	}
	if items[0].Count != 4 {
		t.Fatalf("after Fill, items[0].Count = %d, want 4", items[0].Count)
	}
}

func TestTrackBump(t *testing.T) {
	c := NewCounter(Config{})
	ctx := context.Background()
	it := &Item{ID: "a"}
	if err := c.Track(ctx, it); err != nil {
		t.Fatal(err)
	}
	if err := c.Bump(ctx); err != nil {
		t.Fatal(err)
	}
	if it.Count != 1 {
		t.Fatalf("after Bump, it.Count = %d, want 1", it.Count)
	}
}

func TestLogByTime(t *testing.T) {
	c := NewCounter(Config{})
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	log, err := c.Log(context.Background(), map[time.Time]string{at: "opened"})
	if err != nil {
		t.Fatal(err)
	}
	if log[at] != "opened" {
		t.Fatalf("Log returned %v; its entry at %v = %q, want opened", log, at, log[at])
	}
}
