package stacks

import (
	"context"
	"fmt"
	"time"

	"github.com/meshsplit/meshsplit/bench/greeter"
	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// startTimeout bounds how long the meshsplit stack may take to form.
const startTimeout = 10 * time.Second

// StartMeshsplit serves greeter.New on a mesh node listening on 127.0.0.1
// and returns the generated client (greeter.ServiceMeshClient) of a second,
// caller-only node joined to it: each call goes through meshsplit's fast
// path over real TCP and yamux, exactly as a generated client's does when
// MESHRPC_REMOTE selects the interface.
func StartMeshsplit() (*Conn, error) {
	return startMeshsplit(meshrt.DefaultConfig(), meshrt.DefaultConfig())
}

// startMeshsplit is StartMeshsplit with the configurations of the server
// and the client node (their addresses are set here).
func startMeshsplit(scfg, ccfg meshrt.Config) (*Conn, error) {
	scfg.Listen = "127.0.0.1:0"
	server, err := meshrt.NewNode(scfg)
	if err != nil {
		return nil, fmt.Errorf("meshsplit stack: server node: %w", err)
	}
	closeServer := closeNode(server)
	if err := server.Publish(&greeter.ServiceMeshDesc, greeter.New()); err != nil {
		closeServer()
		return nil, fmt.Errorf("meshsplit stack: publish: %w", err)
	}

	ccfg.Listen = ""
	client, err := meshrt.NewNode(ccfg)
	if err != nil {
		closeServer()
		return nil, fmt.Errorf("meshsplit stack: client node: %w", err)
	}
	closeClient := closeNode(client)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := client.Join(ctx, server.Addr()); err != nil {
		closeClient()
		closeServer()
		return nil, fmt.Errorf("meshsplit stack: %w", err)
	}
	if err := client.Wait(ctx, greeter.ServiceMeshDesc.Name); err != nil {
		closeClient()
		closeServer()
		return nil, fmt.Errorf("meshsplit stack: %w", err)
	}
	return &Conn{
		Service: greeter.NewServiceMeshClient(client.Client(&greeter.ServiceMeshDesc)),
		closers: []func() error{closeClient, closeServer},
	}, nil
}

// closeNode returns a function that closes n, giving in-flight calls a few
// seconds to finish.
func closeNode(n *meshrt.Node) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return n.Close(ctx)
	}
}
