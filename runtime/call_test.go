package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// bulkConfig is testConfig for tests that move megabytes: their subject is
// what arrives, not how fast a peer is declared dead, so a write may take as
// long as a loaded machine under -race needs (testConfig's one-second
// LivenessTimeout, yamux's connection write timeout, cut sessions there).
func bulkConfig() Config {
	c := testConfig()
	c.KeepAlive = time.Second
	c.LivenessTimeout = 30 * time.Second
	return c
}

func TestCallRoundTrip(t *testing.T) {
	srv, _ := serveGreeter(t, bulkConfig(), "a")
	_, g := callerOf(t, bulkConfig(), srv.Addr())
	ctx := within(t, 10*time.Second)

	got, err := g.Greet(ctx, "Max")
	if err != nil || got != "hello Max" {
		t.Fatalf("Greet = %q, %v; want hello Max, nil", got, err)
	}
	// Up to near the default 16 MiB limit: many yamux windows per message.
	// The 12 MB echo's time is the machine's business (it took over 10 s
	// under -race on a loaded 2-core machine): it is bounded by the test
	// binary's own deadline, not by a guess.
	for _, data := range [][]byte{nil, {}, bytes.Repeat([]byte("x"), 100_000), bytes.Repeat([]byte("0123456789"), 1_200_000)} {
		ctx := ctx
		if len(data) > 1<<20 {
			ctx = untilTestDeadline(t)
		}
		out, err := g.Echo(ctx, data)
		if err != nil {
			t.Fatalf("Echo(%d bytes): %v", len(data), err)
		}
		if (out == nil) != (data == nil) || !bytes.Equal(out, data) {
			t.Fatalf("Echo(%d bytes, nil=%v) = %d bytes, nil=%v", len(data), data == nil, len(out), out == nil)
		}
	}
}

func TestCallErrorsKeepIdentity(t *testing.T) {
	srv, _ := serveGreeter(t, testConfig(), "a")
	_, g := callerOf(t, testConfig(), srv.Addr())
	ctx := within(t, 10*time.Second)

	tests := []struct {
		kind    string
		check   func(error) bool
		message string
		result  int
	}{
		{"sentinel", func(err error) bool { return err == errNotFound }, "greeter: not found", 0},
		{"wrapped", func(err error) bool { return errors.Is(err, errNotFound) && err != errNotFound }, "looking up sku 42: greeter: not found", 7},
		{"typed", func(err error) bool {
			d, ok := err.(*declinedError)
			return ok && d.Code == 51 && d.Reason == "insufficient funds"
		}, "declined 51: insufficient funds", 0},
		{"wrapped-typed", func(err error) bool {
			var d *declinedError
			return errors.As(err, &d) && d.Code == 5 && errors.Is(err, errNotFound)
		}, "charging: declined 5: stolen (and greeter: not found)", 0},
		{"eof", func(err error) bool { return errors.Is(err, context.Canceled) }, "reading: other\ncontext canceled", 0},
		{"plain", func(err error) bool {
			var re *RemoteError
			var ce *CallError
			return errors.As(err, &re) && !errors.As(err, &ce)
		}, "plain failure", 3},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			n, err := g.Fail(ctx, tc.kind)
			if err == nil || !tc.check(err) {
				t.Fatalf("Fail(%s) error %#v does not keep its identity", tc.kind, err)
			}
			if err.Error() != tc.message {
				t.Errorf("Fail(%s) error text %q, want %q", tc.kind, err.Error(), tc.message)
			}
			if n != tc.result {
				t.Errorf("Fail(%s) result %d, want %d (results beside an error must arrive)", tc.kind, n, tc.result)
			}
		})
	}
}

func TestCallerDeadlineStopsSlowHandler(t *testing.T) {
	srv, impl := serveGreeter(t, testConfig(), "a")
	_, g := callerOf(t, testConfig(), srv.Addr())
	impl.started = make(chan struct{}, 1)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := g.Sleep(ctx, time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sleep past the deadline: %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Sleep returned after %v; the deadline was 100ms", took)
	}
	<-impl.started
	// The server's context ended too: its in-flight count drains.
	waitFor(t, 5*time.Second, "the server to end the call", func() bool { return srv.inflightCount() == 0 })
}

func TestCallerCancelReachesServer(t *testing.T) {
	srv, impl := serveGreeter(t, testConfig(), "a")
	_, g := callerOf(t, testConfig(), srv.Addr())
	impl.started = make(chan struct{}, 1)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- g.Sleep(ctx, time.Minute) }()
	<-impl.started
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Sleep: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled Sleep did not return")
	}
	waitFor(t, 5*time.Second, "the server to cancel the call", func() bool { return srv.inflightCount() == 0 })
}

func TestHandlerPanicKeepsNodeServing(t *testing.T) {
	srv, _ := serveGreeter(t, testConfig(), "a")
	_, g := callerOf(t, testConfig(), srv.Addr())
	ctx := within(t, 10*time.Second)

	err := g.Panic(ctx)
	var ce *CallError
	if !errors.Is(err, ErrHandlerPanic) || !errors.As(err, &ce) || !strings.Contains(err.Error(), "assignment to entry in nil map") {
		t.Fatalf("Panic: %v, want a *CallError wrapping ErrHandlerPanic with the panic value", err)
	}
	if got, err := g.Greet(ctx, "again"); err != nil || got != "hello again" {
		t.Fatalf("Greet after a panic = %q, %v", got, err)
	}
}

func TestVersionSkewIsAClearError(t *testing.T) {
	srv, _ := serveGreeter(t, testConfig(), "a")
	caller, _ := callerOf(t, testConfig(), srv.Addr())
	skewed := greeterDesc
	skewed.Methods = append([]MethodDesc(nil), greeterDesc.Methods...)
	skewed.Methods[greeterGreet].Fingerprint = "greet-2"
	g := &greeterClient{caller.Client(&skewed)}

	_, err := g.Greet(within(t, 10*time.Second), "x")
	if !errors.Is(err, ErrVersionSkew) {
		t.Fatalf("skewed Greet: %v, want ErrVersionSkew", err)
	}
	for _, want := range []string{greeterName, "Greet", "greet-2", "greet-1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("skew error %q does not mention %q", err, want)
		}
	}
}

func TestOversizedRequestRefused(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBody = 1 << 10
	srv, impl := serveGreeter(t, cfg, "a")
	// The caller allows large bodies, so the server's limit is what refuses.
	_, g := callerOf(t, testConfig(), srv.Addr())
	ctx := within(t, 10*time.Second)

	_, err := g.Echo(ctx, make([]byte, 4<<10))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1024") {
		t.Fatalf("oversized Echo: %v, want ErrTooLarge naming the limit", err)
	}
	if impl.calls.Load() != 0 {
		t.Fatalf("the oversized request reached the handler")
	}
	if out, err := g.Echo(ctx, []byte("small")); err != nil || string(out) != "small" {
		t.Fatalf("Echo after the refusal = %q, %v", out, err)
	}
}

func TestMalformedRequestRefused(t *testing.T) {
	srv, impl := serveGreeter(t, testConfig(), "a")
	caller, g := callerOf(t, testConfig(), srv.Addr())
	broken := greeterDesc
	broken.Methods = append([]MethodDesc(nil), greeterDesc.Methods...)
	// A request whose bytes do not decode as the server's request type: a
	// string length running past the end.
	broken.Methods[greeterGreet].NewRequest = func() Message { return new(badRequest) }
	bad := caller.Client(&broken)
	ctx := within(t, 10*time.Second)

	err := bad.Call(ctx, greeterGreet, &badRequest{}, &greeterStringResponse{})
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "Greet") {
		t.Fatalf("malformed Greet: %v, want ErrMalformed naming the method", err)
	}
	if impl.calls.Load() != 0 {
		t.Fatalf("the malformed request reached the handler")
	}
	if got, err := g.Greet(ctx, "ok"); err != nil || got != "hello ok" {
		t.Fatalf("Greet after the malformed request = %q, %v", got, err)
	}
}

// badRequest encodes a string length with no bytes behind it.
type badRequest struct{}

func (badRequest) MarshalMesh(e *Encoder)   { e.Uint(1000) }
func (badRequest) UnmarshalMesh(d *Decoder) {}

// waitFor polls cond until it holds or d passes.
// untilTestDeadline returns a context that ends a little before the test
// binary's -timeout would, so that a hung call fails the test with its own
// error rather than the timeout's panic; without a -timeout it never ends.
// It bounds work whose duration depends on the machine (large transfers
// under -race), where a fixed budget would fail a correct program on a slow
// one.
func untilTestDeadline(t *testing.T) context.Context {
	deadline, ok := t.Deadline()
	if !ok {
		return context.Background()
	}
	margin := time.Until(deadline) / 20
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(-margin))
	t.Cleanup(cancel)
	return ctx
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCancellationStorm mixes completed, cancelled and timed-out calls on
// shared streams: every call must end with its own result or its own
// context's error, and the server must end every call.
func TestCancellationStorm(t *testing.T) {
	srv, _ := serveGreeter(t, testConfig(), "a")
	_, g := callerOf(t, testConfig(), srv.Addr())
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 150 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+(i*7+w)%5)*time.Millisecond)
				if i%3 == 0 {
					cancel() // cancelled before or while sending
				}
				name := fmt.Sprintf("w%d-%d", w, i)
				var err error
				if i%2 == 0 {
					var got string
					got, err = g.Greet(ctx, name)
					if err == nil && got != "hello "+name {
						err = fmt.Errorf("Greet(%s) = %q: a response went to the wrong call", name, got)
					}
				} else {
					err = g.Sleep(ctx, time.Duration(i%4)*time.Millisecond)
				}
				cancel()
				if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitFor(t, 5*time.Second, "the server to end every call", func() bool { return srv.inflightCount() == 0 })
	if got, err := g.Greet(within(t, 5*time.Second), "after"); err != nil || got != "hello after" {
		t.Fatalf("Greet after the storm = %q, %v", got, err)
	}
}

// TestConcurrentMixedSizesArriveIntact sends small and multi-megabyte
// messages at once over the same streams, so that write buffers grow,
// shrink and swap under load; every byte must come back as sent.
func TestConcurrentMixedSizesArriveIntact(t *testing.T) {
	srv, _ := serveGreeter(t, bulkConfig(), "a")
	_, g := callerOf(t, bulkConfig(), srv.Addr())
	ctx := within(t, 60*time.Second)
	sizes := []int{10, 4 << 10, 1<<20 + 3, 3 << 20}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				data := make([]byte, sizes[(w+i)%len(sizes)])
				for j := range data {
					data[j] = byte(w*31 + i*7 + j)
				}
				out, err := g.Echo(ctx, data)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(out, data) {
					errs <- fmt.Errorf("worker %d call %d: %d bytes sent, %d came back different", w, i, len(data), len(out))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestInterruptedWritesKeepTheStreamWhole cuts large requests short with
// tiny deadlines while other calls share the streams: the writes the
// callers abandon are finished by another goroutine, so every frame
// arrives whole and the other calls keep succeeding.
func TestInterruptedWritesKeepTheStreamWhole(t *testing.T) {
	srv, _ := serveGreeter(t, bulkConfig(), "a")
	_, g := callerOf(t, bulkConfig(), srv.Addr())
	ctx := within(t, 60*time.Second)
	big := bytes.Repeat([]byte("0123456789"), 300_000) // 3 MB: many yamux windows
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Add(1)
		go func() { // large calls abandoned mid-write
			defer wg.Done()
			for i := range 6 {
				short, cancel := context.WithTimeout(ctx, time.Duration(1+(w+i)%3)*time.Millisecond)
				_, err := g.Echo(short, big)
				cancel()
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					errs <- fmt.Errorf("abandoned Echo: %w", err)
					return
				}
			}
		}()
		wg.Add(1)
		go func() { // calls that must go through
			defer wg.Done()
			for i := range 30 {
				name := fmt.Sprintf("w%d-%d", w, i)
				if got, err := g.Greet(ctx, name); err != nil || got != "hello "+name {
					errs <- fmt.Errorf("Greet(%s) = %q, %v", name, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if out, err := g.Echo(ctx, big); err != nil || !bytes.Equal(out, big) {
		t.Fatalf("Echo after the interrupted writes: %d bytes, %v", len(out), err)
	}
}
