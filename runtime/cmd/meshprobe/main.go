// Command meshprobe is the health check of a mesh node: it connects to the
// node of its own host or container with the node's own configuration (the
// MESHRPC_* variables: cluster key, TLS) and asks its heartbeat. It needs
// no shell and no curl, so it runs in a FROM scratch image beside the
// binary it checks (meshsplit deploy puts it there).
//
// Usage:
//
//	meshprobe [-serving service] [-timeout 2s] [host:port]
//
// The address defaults to MESHRPC_LISTEN's port on 127.0.0.1 (:11999).
// With -serving, the node must also publish that service (its full name,
// or a suffix of it after a '/', such as inventory.Service): a readiness
// check for a service command. Exit code 0 healthy, 1 not, 2 usage.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	meshrt "github.com/meshsplit/meshsplit/runtime"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("meshprobe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serving := fs.String("serving", "", "also require the node to publish this service (full name, or a suffix after a '/')")
	timeout := fs.Duration("timeout", 2*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 || *timeout <= 0 {
		fmt.Fprintln(stderr, "meshprobe: usage: meshprobe [-serving service] [-timeout 2s] [host:port]")
		return 2
	}
	cfg, err := meshrt.ConfigFromEnv()
	if err != nil {
		fmt.Fprintln(stderr, "meshprobe:", err)
		return 1
	}
	cfg.Logger = nil // the probe's own node says nothing; the result line does
	addr := fs.Arg(0)
	if addr == "" {
		if addr, err = meshrt.ProbeAddr(cfg.Listen); err != nil {
			fmt.Fprintln(stderr, "meshprobe:", err)
			return 1
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	res, err := meshrt.Probe(ctx, cfg, addr)
	if err != nil {
		fmt.Fprintln(stderr, "meshprobe:", err)
		return 1
	}
	if *serving != "" && !serves(res.Services, *serving) {
		fmt.Fprintf(stderr, "meshprobe: node %s at %s is up but does not serve %s (it serves %d service(s): %s)\n",
			res.ID, addr, *serving, len(res.Services), strings.Join(res.Services, ", "))
		return 1
	}
	fmt.Fprintf(stdout, "ok: node %s at %s, %d peer(s), serving %d service(s)\n", res.ID, addr, res.Peers, len(res.Services))
	return 0
}

// serves reports whether name is one of services, or a suffix of one that
// starts after a '/'.
func serves(services []string, name string) bool {
	for _, s := range services {
		if s == name || strings.HasSuffix(s, "/"+name) {
			return true
		}
	}
	return false
}
