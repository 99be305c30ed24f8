package runtime

import (
	"context"
	"fmt"
	"log/slog"
	stdruntime "runtime"
	"sync"
	"sync/atomic"
	"time"
)

// This file holds what generated constructors call: Connect (the client
// from the environment, or the loopback pair for tests), the process-wide
// node, and Unreported.

// DefaultNode returns the process-wide node built from the environment
// (ConfigFromEnv: MESHRPC_LISTEN, MESHRPC_CLUSTER_NODES, ...), starting it
// on first use. Connect's clients use it; generated service mains publish
// on it. It is never started unless something asks for it.
func DefaultNode() (*Node, error) { return defaultNode() }

var defaultNode = sync.OnceValues(func() (*Node, error) {
	cfg, err := ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	return NewNode(cfg)
})

// Connect returns a client for desc. Without MESHRPC_LOOPBACK it uses the
// process-wide node (DefaultNode). With MESHRPC_LOOPBACK=1 it calls local()
// once, publishes the value on an in-process node listening on 127.0.0.1,
// and returns a client that reaches it from a second in-process node over
// real TCP and yamux. Connect never fails: a configuration error (a
// malformed MESHRPC_REMOTE, a bad MESHRPC_LISTEN...) is logged once and
// returned by every call of the client.
func Connect(desc *ServiceDesc, local func() any) *Client {
	if err := remoteFromEnv().err; err != nil {
		return configFailure(desc, err)
	}
	if loopbackFromEnv() {
		c, err := connectLoopback(desc, local)
		if err != nil {
			return configFailure(desc, err)
		}
		return c
	}
	n, err := DefaultNode()
	if err != nil {
		return configFailure(desc, err)
	}
	return n.Client(desc)
}

// configLogged makes Connect log each configuration error once.
var configLogged sync.Map

func configFailure(desc *ServiceDesc, err error) *Client {
	if _, seen := configLogged.LoadOrStore(err.Error(), true); !seen {
		slog.Error("meshrpc: mesh configuration error; every call of the remote services fails", "service", desc.Name, "err", err)
	}
	return failedClient(desc, err)
}

// loopbackPair is the process-wide pair of MESHRPC_LOOPBACK: a server node on
// 127.0.0.1:0 that serves every connected implementation, and a caller-only
// node joined to it.
type loopbackPair struct {
	server, client *Node
}

var loopback = sync.OnceValues(func() (*loopbackPair, error) {
	cfg := DefaultConfig()
	if env, err := ConfigFromEnv(); err == nil {
		cfg.Logger, cfg.MaxBody, cfg.TrafficDir = env.Logger, env.MaxBody, env.TrafficDir // MESHRPC_DEBUG, MESHRPC_MAX_BODY, MESHRPC_TRAFFIC
	}
	cfg.Listen = "127.0.0.1:0"
	server, err := NewNode(cfg)
	if err != nil {
		return nil, fmt.Errorf("loopback server node: %w", err)
	}
	cfg.Listen = ""
	client, err := NewNode(cfg)
	if err != nil {
		return nil, fmt.Errorf("loopback client node: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.Join(ctx, server.Addr()); err != nil {
		return nil, fmt.Errorf("loopback: %w", err)
	}
	return &loopbackPair{server: server, client: client}, nil
})

// loopbackSeq numbers loopback instances.
var loopbackSeq atomic.Uint64

// connectLoopback publishes local() under an instance name of its own (two
// constructors called in one test process keep two implementations; the
// instances are not gossiped) and returns a client bound to that instance on
// the loopback server node. The instance is unpublished when the client is
// garbage.
func connectLoopback(desc *ServiceDesc, local func() any) (*Client, error) {
	if local == nil {
		return nil, fmt.Errorf("%s=1 but Connect of %s got no local constructor", EnvLoopback, desc.Name)
	}
	pair, err := loopback()
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s#%d", desc.Name, loopbackSeq.Add(1))
	if err := pair.server.publish(name, desc, local(), true); err != nil {
		return nil, err
	}
	c := pair.client.newClient(desc, name)
	c.via = pair.server.ID()
	stdruntime.AddCleanup(c, func(name string) { pair.server.unpublish(name) }, name)
	return c, nil
}

// Unreported is called by generated clients of methods that have no error
// result when a call fails: the failure cannot be returned, so it is logged
// (slog.Default, level Error).
func Unreported(service, method string, err error) {
	slog.Error("meshrpc: remote call failed and the method has no error result to report it", "service", service, "method", method, "err", err)
}
