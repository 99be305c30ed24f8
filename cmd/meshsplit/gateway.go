package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/meshsplit/meshsplit/internal/gateway"
	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// gatewayShutdown bounds how long the gateway drains requests and leaves
// the mesh once asked to stop.
const gatewayShutdown = 5 * time.Second

// runGateway implements 'meshsplit gateway': it joins the mesh as a
// caller-only node and serves every mesh service to plain HTTP clients
// until interrupted. Exit 0 after a clean stop, 1 when the HTTP address
// cannot be listened on or no node can be reached, 2 for usage errors.
func runGateway(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveGateway(ctx, args, stdout, stderr, nil)
}

// gatewayFlags are the checked flags of 'meshsplit gateway'.
type gatewayFlags struct {
	http  string
	nodes []string
	wait  time.Duration
}

// parseGatewayFlags parses and checks the flags; MESHRPC_CLUSTER_NODES
// stands in for a missing -nodes. It returns flag.ErrHelp for -h.
func parseGatewayFlags(args []string, stdout io.Writer) (gatewayFlags, error) {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors are reported by the caller, on one line
	httpAddr := fs.String("http", ":8282", "serve HTTP on `addr` (host:port, :port)")
	nodes := fs.String("nodes", "", "comma-separated mesh `nodes` to join (host:port; port "+strconv.Itoa(meshrt.DefaultPort)+" when missing); default $"+meshrt.EnvNodes)
	wait := fs.Duration("wait", 10*time.Second, "how long to try reaching the nodes at start (a Go `duration`)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: meshsplit gateway [-http :8282] -nodes host:port[,host:port...] [-wait 10s]")
		fmt.Fprintln(fs.Output(), "Joins the mesh as a caller-only node and serves every mesh service to plain HTTP clients:")
		fmt.Fprintln(fs.Output(), "  POST /<service>/<method>  JSON body keyed by parameter names (service: full or short name)")
		fmt.Fprintln(fs.Output(), "  ANY  /<service>/...       the service's published HTTP handlers")
		fmt.Fprintln(fs.Output(), "  GET  /                    the services and methods, as JSON")
		fmt.Fprintln(fs.Output(), "Honours "+meshrt.EnvClusterKey+", the TLS variables and "+meshrt.EnvDebug+" like any node.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
		}
		return gatewayFlags{}, err
	}
	if fs.NArg() > 0 {
		return gatewayFlags{}, fmt.Errorf("unexpected argument %q: the gateway takes flags only", fs.Arg(0))
	}
	if err := checkListenAddr(*httpAddr); err != nil {
		return gatewayFlags{}, fmt.Errorf("-http %q: %w", *httpAddr, err)
	}
	if *wait <= 0 {
		return gatewayFlags{}, fmt.Errorf("-wait %v: want a positive duration such as 10s", *wait)
	}
	list, from := *nodes, "-nodes"
	if strings.TrimSpace(list) == "" {
		list, from = os.Getenv(meshrt.EnvNodes), meshrt.EnvNodes
	}
	if strings.TrimSpace(list) == "" {
		return gatewayFlags{}, fmt.Errorf("-nodes is required: name at least one mesh node, e.g. -nodes 127.0.0.1:%d", meshrt.DefaultPort)
	}
	addrs, err := parseNodes(list)
	if err != nil {
		return gatewayFlags{}, fmt.Errorf("%s %q: %w", from, list, err)
	}
	return gatewayFlags{http: *httpAddr, nodes: addrs, wait: *wait}, nil
}

// checkListenAddr checks a host:port to listen on.
func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port or :port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

// parseNodes splits a comma-separated node list, adding the default mesh
// port to entries that name none.
func parseNodes(list string) ([]string, error) {
	var addrs []string
	for i, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		host, port, err := net.SplitHostPort(e)
		if err != nil {
			if strings.Contains(strings.Trim(e, "[]"), ":") && !strings.HasPrefix(e, "[") {
				return nil, fmt.Errorf("entry %d %q: want host or host:port", i+1, e)
			}
			host, port = strings.Trim(e, "[]"), strconv.Itoa(meshrt.DefaultPort)
		}
		if host == "" {
			return nil, fmt.Errorf("entry %d %q: no host", i+1, e)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("entry %d %q: port %q is not a number from 1 to 65535", i+1, e, port)
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("no node in the list")
	}
	return addrs, nil
}

// serveGateway runs the gateway until ctx ends. ready, when not nil, is
// called with the HTTP address once the gateway serves (for tests).
func serveGateway(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) int {
	flags, err := parseGatewayFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit gateway: %v; run 'meshsplit gateway -h' for usage\n", err)
		return exitUsage
	}
	cfg, err := meshrt.ConfigFromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit gateway: %v\n", err)
		return exitUsage
	}
	cfg.Listen = "" // a caller-only node: it serves HTTP, not the mesh
	cfg.Seeds = nil // joined below, so that an unreachable node is reported

	ln, err := net.Listen("tcp", flags.http)
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit gateway: cannot serve HTTP on -http %s: %v\n", flags.http, err)
		return exitFailure
	}
	defer ln.Close()
	node, err := meshrt.NewNode(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit gateway: %v\n", err)
		return exitFailure
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), gatewayShutdown)
		defer cancel()
		node.Close(closeCtx)
	}()

	reached, failures := joinNodes(ctx, node, flags.nodes, flags.wait)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "meshsplit gateway: interrupted while joining the mesh")
		return exitFailure
	}
	if reached == 0 {
		fmt.Fprintf(stderr, "meshsplit gateway: cannot reach any mesh node within -wait %v: %s; check the addresses, that the nodes run, and %s\n",
			flags.wait, strings.Join(failures, "; "), meshrt.EnvClusterKey)
		return exitFailure
	}
	for _, f := range failures {
		fmt.Fprintf(stderr, "meshsplit gateway: warning: %s; still trying in the background\n", f)
	}

	srv := &http.Server{Handler: gateway.New(node, gateway.Config{}), ReadHeaderTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	addr := ln.Addr().String()
	fmt.Fprintf(stdout, "meshsplit gateway: serving http://%s for the mesh at %s (GET / lists the services)\n",
		addr, strings.Join(flags.nodes, ","))
	if ready != nil {
		ready(addr)
	}

	select {
	case err := <-served:
		fmt.Fprintf(stderr, "meshsplit gateway: serving HTTP on %s: %v\n", addr, err)
		return exitFailure
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), gatewayShutdown)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "meshsplit gateway: stopping: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// joinNodes joins every address at once, each within wait, and returns how
// many answered and a description of each that did not.
func joinNodes(ctx context.Context, node *meshrt.Node, addrs []string, wait time.Duration) (int, []string) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		reached  int
		failures []string
	)
	for _, a := range addrs {
		wg.Go(func() {
			err := node.Join(ctx, a)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failures = append(failures, fmt.Sprintf("node %s unreachable: %v", a, err))
				return
			}
			reached++
		})
	}
	wg.Wait()
	slices.Sort(failures)
	return reached, failures
}
