package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// This file holds a tiny hand-written service shaped like the code
// `meshsplit extract` generates: an interface, request and response structs
// implementing Message, a ServiceDesc and a client type. The other tests
// publish it and call it over real TCP on 127.0.0.1.

type greeter interface {
	Echo(ctx context.Context, data []byte) ([]byte, error)
	Fail(ctx context.Context, kind string) (int, error)
	Greet(ctx context.Context, name string) (string, error)
	Panic(ctx context.Context) error
	Sleep(ctx context.Context, d time.Duration) error
	Whoami(ctx context.Context) (string, error)
}

// errNotFound is a sentinel registered with the service.
var errNotFound = errors.New("greeter: not found")

// declinedError is an error type registered with the service.
type declinedError struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

func (e *declinedError) Error() string { return fmt.Sprintf("declined %d: %s", e.Code, e.Reason) }

// greeterImpl is the implementation; tag names the node in Whoami.
type greeterImpl struct {
	tag     string
	calls   atomic.Int64
	started chan struct{} // Sleep sends here when it starts, if non-nil
}

func (g *greeterImpl) Echo(ctx context.Context, data []byte) ([]byte, error) {
	g.calls.Add(1)
	return data, nil
}

func (g *greeterImpl) Fail(ctx context.Context, kind string) (int, error) {
	g.calls.Add(1)
	switch kind {
	case "sentinel":
		return 0, errNotFound
	case "wrapped":
		return 7, fmt.Errorf("looking up sku 42: %w", errNotFound)
	case "typed":
		return 0, &declinedError{Code: 51, Reason: "insufficient funds"}
	case "wrapped-typed":
		return 0, fmt.Errorf("charging: %w (and %w)", &declinedError{Code: 5, Reason: "stolen"}, errNotFound)
	case "eof":
		return 0, fmt.Errorf("reading: %w", errors.Join(errors.New("other"), context.Canceled))
	case "plain":
		return 3, errors.New("plain failure")
	}
	return 1, nil
}

func (g *greeterImpl) Greet(ctx context.Context, name string) (string, error) {
	g.calls.Add(1)
	return "hello " + name, nil
}

func (g *greeterImpl) Panic(ctx context.Context) error {
	g.calls.Add(1)
	var m map[string]int
	m["boom"]++
	return nil
}

func (g *greeterImpl) Sleep(ctx context.Context, d time.Duration) error {
	g.calls.Add(1)
	if g.started != nil {
		g.started <- struct{}{}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *greeterImpl) Whoami(ctx context.Context) (string, error) {
	g.calls.Add(1)
	return g.tag, nil
}

// Messages, one pair per method as the generator writes them.

type greeterEchoRequest struct {
	Data []byte `json:"data"`
}

func (m *greeterEchoRequest) MarshalMesh(e *Encoder)   { e.ByteSlice(m.Data) }
func (m *greeterEchoRequest) UnmarshalMesh(d *Decoder) { m.Data = d.ByteSlice() }

type greeterEchoResponse struct {
	R0 []byte `json:"r0"`
}

func (m *greeterEchoResponse) MarshalMesh(e *Encoder)   { e.ByteSlice(m.R0) }
func (m *greeterEchoResponse) UnmarshalMesh(d *Decoder) { m.R0 = d.ByteSlice() }

type greeterFailRequest struct {
	Kind string `json:"kind"`
}

func (m *greeterFailRequest) MarshalMesh(e *Encoder)   { e.String(m.Kind) }
func (m *greeterFailRequest) UnmarshalMesh(d *Decoder) { m.Kind = d.String() }

type greeterFailResponse struct {
	R0 int `json:"r0"`
}

func (m *greeterFailResponse) MarshalMesh(e *Encoder)   { e.Int(int64(m.R0)) }
func (m *greeterFailResponse) UnmarshalMesh(d *Decoder) { m.R0 = int(d.Int()) }

type greeterGreetRequest struct {
	Name string `json:"name"`
}

func (m *greeterGreetRequest) MarshalMesh(e *Encoder)   { e.String(m.Name) }
func (m *greeterGreetRequest) UnmarshalMesh(d *Decoder) { m.Name = d.String() }

type greeterStringResponse struct {
	R0 string `json:"r0"`
}

func (m *greeterStringResponse) MarshalMesh(e *Encoder)   { e.String(m.R0) }
func (m *greeterStringResponse) UnmarshalMesh(d *Decoder) { m.R0 = d.String() }

type greeterEmpty struct{}

func (m *greeterEmpty) MarshalMesh(e *Encoder)   {}
func (m *greeterEmpty) UnmarshalMesh(d *Decoder) {}

type greeterSleepRequest struct {
	D time.Duration `json:"d"`
}

func (m *greeterSleepRequest) MarshalMesh(e *Encoder)   { e.Int(int64(m.D)) }
func (m *greeterSleepRequest) UnmarshalMesh(d *Decoder) { m.D = time.Duration(d.Int()) }

// Method indexes into greeterDesc.Methods (sorted by name).
const (
	greeterEcho = iota
	greeterFail
	greeterGreet
	greeterPanic
	greeterSleep
	greeterWhoami
)

const greeterName = "example.com/test/greet.Greeter"

// greeterDesc describes greeter on the mesh.
var greeterDesc = ServiceDesc{
	Name:        greeterName,
	Fingerprint: "svc-fp-1",
	Methods: []MethodDesc{
		{
			Name: "Echo", Fingerprint: "echo-1", Params: []string{"data"},
			NewRequest:  func() Message { return new(greeterEchoRequest) },
			NewResponse: func() Message { return new(greeterEchoResponse) },
			Invoke: func(ctx context.Context, impl any, req Message) (Message, error) {
				r0, err := impl.(greeter).Echo(ctx, req.(*greeterEchoRequest).Data)
				return &greeterEchoResponse{R0: r0}, err
			},
		},
		{
			Name: "Fail", Fingerprint: "fail-1", Params: []string{"kind"},
			NewRequest:  func() Message { return new(greeterFailRequest) },
			NewResponse: func() Message { return new(greeterFailResponse) },
			Invoke: func(ctx context.Context, impl any, req Message) (Message, error) {
				r0, err := impl.(greeter).Fail(ctx, req.(*greeterFailRequest).Kind)
				return &greeterFailResponse{R0: r0}, err
			},
		},
		{
			Name: "Greet", Fingerprint: "greet-1", Params: []string{"name"},
			NewRequest:  func() Message { return new(greeterGreetRequest) },
			NewResponse: func() Message { return new(greeterStringResponse) },
			Invoke: func(ctx context.Context, impl any, req Message) (Message, error) {
				r0, err := impl.(greeter).Greet(ctx, req.(*greeterGreetRequest).Name)
				return &greeterStringResponse{R0: r0}, err
			},
		},
		{
			Name: "Panic", Fingerprint: "panic-1",
			NewRequest:  func() Message { return new(greeterEmpty) },
			NewResponse: func() Message { return new(greeterEmpty) },
			Invoke: func(ctx context.Context, impl any, req Message) (Message, error) {
				return &greeterEmpty{}, impl.(greeter).Panic(ctx)
			},
		},
		{
			Name: "Sleep", Fingerprint: "sleep-1", Params: []string{"d"},
			NewRequest:  func() Message { return new(greeterSleepRequest) },
			NewResponse: func() Message { return new(greeterEmpty) },
			Invoke: func(ctx context.Context, impl any, req Message) (Message, error) {
				return &greeterEmpty{}, impl.(greeter).Sleep(ctx, req.(*greeterSleepRequest).D)
			},
		},
		{
			Name: "Whoami", Fingerprint: "whoami-1",
			NewRequest:  func() Message { return new(greeterEmpty) },
			NewResponse: func() Message { return new(greeterStringResponse) },
			Invoke: func(ctx context.Context, impl any, req Message) (Message, error) {
				r0, err := impl.(greeter).Whoami(ctx)
				return &greeterStringResponse{R0: r0}, err
			},
		},
	},
	Errors: []ErrorDesc{
		Sentinel("example.com/test/greet.ErrNotFound", errNotFound),
		ErrorType[*declinedError]("example.com/test/greet.*DeclinedError"),
	},
}

// greeterClient implements greeter by calling a remote implementation.
type greeterClient struct{ c *Client }

var _ greeter = (*greeterClient)(nil)

func (c *greeterClient) Echo(ctx context.Context, data []byte) ([]byte, error) {
	var resp greeterEchoResponse
	err := c.c.Call(ctx, greeterEcho, &greeterEchoRequest{Data: data}, &resp)
	return resp.R0, err
}

func (c *greeterClient) Fail(ctx context.Context, kind string) (int, error) {
	var resp greeterFailResponse
	err := c.c.Call(ctx, greeterFail, &greeterFailRequest{Kind: kind}, &resp)
	return resp.R0, err
}

func (c *greeterClient) Greet(ctx context.Context, name string) (string, error) {
	var resp greeterStringResponse
	err := c.c.Call(ctx, greeterGreet, &greeterGreetRequest{Name: name}, &resp)
	return resp.R0, err
}

func (c *greeterClient) Panic(ctx context.Context) error {
	return c.c.Call(ctx, greeterPanic, &greeterEmpty{}, &greeterEmpty{})
}

func (c *greeterClient) Sleep(ctx context.Context, d time.Duration) error {
	return c.c.Call(ctx, greeterSleep, &greeterSleepRequest{D: d}, &greeterEmpty{})
}

func (c *greeterClient) Whoami(ctx context.Context) (string, error) {
	var resp greeterStringResponse
	err := c.c.Call(ctx, greeterWhoami, &greeterEmpty{}, &resp)
	return resp.R0, err
}

// testConfig is a configuration for nodes on 127.0.0.1 with fast failure
// detection.
func testConfig() Config {
	c := DefaultConfig()
	c.Listen = "127.0.0.1:0"
	c.KeepAlive = 200 * time.Millisecond
	c.LivenessTimeout = time.Second
	c.GossipInterval = 100 * time.Millisecond
	c.RouteWait = 2 * time.Second
	c.ReconnectMax = 500 * time.Millisecond
	return c
}

// startNode starts a node and closes it when the test ends.
func startNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	n, err := NewNode(cfg)
	if err != nil {
		t.Fatalf("NewNode: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Close(ctx)
	})
	return n
}

// serveGreeter starts a node publishing a greeterImpl tagged tag.
func serveGreeter(t testing.TB, cfg Config, tag string) (*Node, *greeterImpl) {
	t.Helper()
	n := startNode(t, cfg)
	impl := &greeterImpl{tag: tag}
	if err := n.Publish(&greeterDesc, impl); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return n, impl
}

// callerOf starts a caller-only node joined to seed and waits until the
// greeter service is reachable.
func callerOf(t testing.TB, cfg Config, seed string) (*Node, *greeterClient) {
	t.Helper()
	cfg.Listen = ""
	n := startNode(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Join(ctx, seed); err != nil {
		t.Fatalf("Join: %v", err)
	}
	if err := n.Wait(ctx, greeterName); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return n, &greeterClient{n.Client(&greeterDesc)}
}

// within returns a context that ends after d.
func within(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
