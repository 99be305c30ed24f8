package impact

import (
	"context"
	"fmt"
	"sort"
	"time"

	meshrpc "github.com/meshsplit/meshsplit/runtime"
)

// This file measures what a call across the mesh costs on this machine: a
// node on 127.0.0.1 serves an echo method, a second node calls it, as
// verify's remote run does, with a small and a large message. The fixed
// cost per call and the cost per byte come from the medians of the two.

// Cost is the calibrated price of a call across the mesh.
type Cost struct {
	// PerCall is the time a call of an empty message adds to an in-process
	// call: encoding, the round trip over loopback TCP and yamux, decoding.
	PerCall time.Duration `json:"per_call_ns"`
	// PerByte is the time each byte of request and response adds, in
	// nanoseconds.
	PerByte float64 `json:"per_byte_ns"`
	// Calls counts the calls measured; Took is how long calibrating took
	// (starting the nodes included).
	Calls int           `json:"calls"`
	Took  time.Duration `json:"took_ns"`
}

// Of returns what calls carrying bytes (requests and responses) add.
func (c Cost) Of(calls int, bytes int64) time.Duration {
	return time.Duration(calls)*c.PerCall + time.Duration(c.PerByte*float64(bytes))
}

// String spells the cost as the report prints it.
func (c Cost) String() string {
	return fmt.Sprintf("%s per call + %.2fns per byte (calibrated against a loopback node: %d calls in %s)", human(c.PerCall), c.PerByte, c.Calls, human(c.Took))
}

// The calibration's sizes and bounds.
const (
	smallPayload = 16
	largePayload = 32 << 10
	smallCalls   = 400
	largeCalls   = 100
	phaseBudget  = 400 * time.Millisecond // per size, after the warm-up
)

// echoName is the calibration service's name.
const echoName = "github.com/meshsplit/meshsplit/impact.calibration"

// echoMsg is the echo method's request and response: a byte string.
type echoMsg struct{ data []byte }

// MarshalMesh implements meshrpc.Message.
func (m *echoMsg) MarshalMesh(e *meshrpc.Encoder) { e.ByteSlice(m.data) }

// UnmarshalMesh implements meshrpc.Message.
func (m *echoMsg) UnmarshalMesh(d *meshrpc.Decoder) { m.data = d.ByteSlice() }

// echoDesc describes the calibration service: one method that returns its
// request.
var echoDesc = meshrpc.ServiceDesc{
	Name:        echoName,
	Fingerprint: "calibration-v1",
	Methods: []meshrpc.MethodDesc{{
		Name:        "Echo",
		Fingerprint: "echo-v1",
		Params:      []string{"data"},
		NewRequest:  func() meshrpc.Message { return &echoMsg{} },
		NewResponse: func() meshrpc.Message { return &echoMsg{} },
		Invoke: func(ctx context.Context, impl any, req meshrpc.Message) (meshrpc.Message, error) {
			return &echoMsg{data: req.(*echoMsg).data}, nil
		},
	}},
}

// Calibrate measures the cost of a call across the mesh on this machine,
// in about a second at most.
func Calibrate(ctx context.Context) (Cost, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cfg := meshrpc.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	server, err := meshrpc.NewNode(cfg)
	if err != nil {
		return Cost{}, fmt.Errorf("calibrating: starting a loopback node: %w", err)
	}
	defer closeNode(server)
	if err := server.Publish(&echoDesc, struct{}{}); err != nil {
		return Cost{}, fmt.Errorf("calibrating: %w", err)
	}
	cfg.Listen = ""
	caller, err := meshrpc.NewNode(cfg)
	if err != nil {
		return Cost{}, fmt.Errorf("calibrating: starting a caller node: %w", err)
	}
	defer closeNode(caller)
	if err := caller.Join(ctx, server.Addr()); err != nil {
		return Cost{}, fmt.Errorf("calibrating: joining the loopback node: %w", err)
	}
	if err := caller.Wait(ctx, echoName); err != nil {
		return Cost{}, fmt.Errorf("calibrating: %w", err)
	}
	client := caller.Client(&echoDesc)
	calls := 0
	measure := func(size, n int) (time.Duration, error) {
		req := &echoMsg{data: make([]byte, size)}
		var ds []time.Duration
		deadline := time.Now().Add(phaseBudget)
		for i := 0; i < n && (i < 10 || time.Now().Before(deadline)); i++ {
			var resp echoMsg
			t0 := time.Now()
			if err := client.Call(ctx, 0, req, &resp); err != nil {
				return 0, fmt.Errorf("calibrating: a loopback call: %w", err)
			}
			ds = append(ds, time.Since(t0))
			if len(resp.data) != size {
				return 0, fmt.Errorf("calibrating: the echo returned %d bytes of %d", len(resp.data), size)
			}
			calls++
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2], nil
	}
	if _, err := measure(smallPayload, 50); err != nil { // warm up: streams, buffers
		return Cost{}, err
	}
	small, err := measure(smallPayload, smallCalls)
	if err != nil {
		return Cost{}, err
	}
	large, err := measure(largePayload, largeCalls)
	if err != nil {
		return Cost{}, err
	}
	// Echo carries the payload both ways; its encoding adds a length.
	perByte := max(0, float64(large-small)) / float64(2*(largePayload-smallPayload))
	perCall := small - time.Duration(perByte*2*smallPayload)
	return Cost{PerCall: max(perCall, 0), PerByte: perByte, Calls: calls, Took: time.Since(start)}, nil
}

// closeNode closes a calibration node, waiting a little for its calls.
func closeNode(n *meshrpc.Node) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n.Close(ctx)
}

// human spells a duration rounded for people, the way Go prints
// durations: 0.6ms, 48µs, 1.2s.
func human(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d >= 100*time.Microsecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d >= time.Microsecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%dns", d.Nanoseconds())
}
