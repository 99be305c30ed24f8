package runtime

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestCallReturnsCtxErrItself checks Client.Call's contract on every path
// where the caller's context ends first: the error is ctx.Err() itself, so
// that both err == ctx.Err() and errors.Is hold.
func TestCallReturnsCtxErrItself(t *testing.T) {
	srv, _ := serveGreeter(t, testConfig(), "a")
	_, g := callerOf(t, testConfig(), srv.Addr())
	young := func() Config { c := testConfig(); c.Listen = ""; c.RouteWait = time.Hour; return c }()
	noRoute := &greeterClient{startNode(t, young).Client(&greeterDesc)}

	cases := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		call func(ctx context.Context) error
	}{
		{"cancelled before the call", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, func(ctx context.Context) error { _, err := g.Greet(ctx, "x"); return err }},
		{"deadline while the handler runs", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, func(ctx context.Context) error { return g.Sleep(ctx, time.Minute) }},
		{"cancelled while the handler runs", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, func(ctx context.Context) error { return g.Sleep(ctx, time.Minute) }},
		{"deadline while waiting for a route", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, func(ctx context.Context) error { _, err := noRoute.Greet(ctx, "x"); return err }},
		{"cancelled while waiting for a route", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, func(ctx context.Context) error { _, err := noRoute.Greet(ctx, "x"); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := c.ctx()
			defer cancel()
			err := c.call(ctx)
			// The server's copy of the deadline may fire first and the
			// method return context.DeadlineExceeded itself, a moment
			// before the caller's timer sets ctx.Err().
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
				t.Fatalf("the call returned %v and its context never ended", err)
			}
			if err != ctx.Err() || !errors.Is(err, ctx.Err()) {
				t.Fatalf("err = %#v, want ctx.Err() = %v itself", err, ctx.Err())
			}
		})
	}
}
