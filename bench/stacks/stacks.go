// Package stacks starts greeter.Service behind each transport that the
// benchmarks compare and hands back a greeter.Service that calls through it.
// Every stack serves the same implementation, greeter.New, so that only the
// way the call travels differs.
package stacks

import (
	"fmt"
	"strings"

	"github.com/meshsplit/meshsplit/bench/greeter"
)

// A Stack is one way to reach greeter.Service.
type Stack struct {
	// Name is the stack's element of a benchmark name: "grpc",
	// "meshsplit", "tcp", "direct", or "grpc-otel" and "meshsplit-otel"
	// for the first two instrumented with OpenTelemetry, and
	// "meshsplit-icpt" for meshsplit with pass-through interceptors.
	Name string
	// Start serves greeter.New and returns a client of it. The caller
	// closes the Conn when done.
	Start func() (*Conn, error)
}

// Conn is a greeter.Service reached through one stack, with what it takes
// to stop that stack's client and server.
type Conn struct {
	greeter.Service
	closers []func() error
}

// Close stops the client and then the server, and returns the first error.
func (c *Conn) Close() error {
	var first error
	for _, close := range c.closers {
		if err := close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// All returns every stack, the baseline (grpc) first.
func All() []Stack {
	return []Stack{
		{Name: "grpc", Start: StartGRPC},
		{Name: "meshsplit", Start: StartMeshsplit},
		{Name: "grpc-otel", Start: StartGRPCOtel},
		{Name: "meshsplit-otel", Start: StartMeshsplitOtel},
		{Name: "meshsplit-icpt", Start: StartMeshsplitIntercepted},
		{Name: "tcp", Start: StartTCP},
		{Name: "direct", Start: StartDirect},
	}
}

// Lookup returns the stack called name.
func Lookup(name string) (Stack, error) {
	for _, s := range All() {
		if s.Name == name {
			return s, nil
		}
	}
	var names []string
	for _, s := range All() {
		names = append(names, s.Name)
	}
	return Stack{}, fmt.Errorf("no benchmark stack %q (have %s)", name, strings.Join(names, ", "))
}

// StartDirect returns the implementation itself: the call is an interface
// method call in process, what a monolith does when the interface is local.
func StartDirect() (*Conn, error) {
	return &Conn{Service: greeter.New()}, nil
}
