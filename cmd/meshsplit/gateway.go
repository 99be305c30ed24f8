package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/meshsplit/meshsplit/runtime/otelmesh"
)

// gatewayShutdown bounds how long the gateway drains requests and leaves
// the mesh once asked to stop.
const gatewayShutdown = 5 * time.Second

// runGateway implements 'meshsplit gateway': it joins the mesh as a
// caller-only node and serves every mesh service to plain HTTP clients
// until interrupted; SIGHUP rereads the -tokens file and the TLS pair. Exit 0 after a clean
// stop, 1 when the HTTP address cannot be listened on or no node can be
// reached, 2 for usage errors (a non-loopback -http without -tokens, a
// malformed token file, TLS files that do not load among them).
func runGateway(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return serveGateway(ctx, args, stdout, stderr, gatewayHooks{reload: hup})
}

// gatewayHooks connect serveGateway to its caller.
type gatewayHooks struct {
	// ready, when not nil, is called with the HTTP address once the
	// gateway serves (for tests).
	ready func(addr string)
	// reload delivers SIGHUP: each value reads the -tokens file and the
	// TLS pair again.
	reload <-chan os.Signal
	// metrics, when not nil, is called with the -metrics address once it
	// serves (for tests).
	metrics func(addr string)
}

// gatewayFlags are the checked flags of 'meshsplit gateway'.
type gatewayFlags struct {
	http    string
	nodes   []string
	wait    time.Duration
	tokens  string       // the -tokens file, "" for none
	cert    *gatewayCert // from -tls-cert and -tls-key; nil for plain HTTP
	metrics string       // the -metrics address, "" for none
}

// parseGatewayFlags parses and checks the flags; MESHRPC_CLUSTER_NODES
// stands in for a missing -nodes. It returns flag.ErrHelp for -h.
func parseGatewayFlags(args []string, stdout io.Writer) (gatewayFlags, error) {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors are reported by the caller, on one line
	httpAddr := fs.String("http", ":8282", "serve HTTP on `addr` (host:port, :port)")
	nodes := fs.String("nodes", "", "comma-separated mesh `nodes` to join (host:port; port "+strconv.Itoa(meshrt.DefaultPort)+" when missing); default $"+meshrt.EnvNodes)
	wait := fs.Duration("wait", 10*time.Second, "how long to try reaching the nodes at start (a Go `duration`)")
	tokens := fs.String("tokens", "", "bearer tokens from `file`: lines \"<name> <token> <pattern>[,<pattern>...]\"; reread on SIGHUP")
	certFile := fs.String("tls-cert", "", "serve HTTPS with the PEM certificate (chain) in `file`; needs -tls-key; reread on SIGHUP")
	keyFile := fs.String("tls-key", "", "the PEM private key of -tls-cert, in `file`")
	metrics := fs.String("metrics", "", "serve Prometheus metrics of the gateway's traffic at http://`addr`/metrics (host:port, :port); none without")
	insecure := fs.Bool("insecure-listen", false, "serve a non-loopback -http address without -tokens: anyone who reaches it calls every service")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: meshsplit gateway [-http :8282] -nodes host:port[,host:port...] [-wait 10s] [-tokens file] [-tls-cert file -tls-key file] [-metrics addr]")
		fmt.Fprintln(fs.Output(), "Joins the mesh as a caller-only node and serves every mesh service to plain HTTP clients:")
		fmt.Fprintln(fs.Output(), "  POST /<service>/<method>  JSON body keyed by parameter names (service: full or short name)")
		fmt.Fprintln(fs.Output(), "  ANY  /<service>/...       the service's published HTTP handlers")
		fmt.Fprintln(fs.Output(), "  GET  /                    the services and methods, as JSON")
		fmt.Fprintln(fs.Output(), "Beyond loopback it needs -tokens (requests send \"Authorization: Bearer <token>\"; SIGHUP rereads the file)")
		fmt.Fprintln(fs.Output(), "or -insecure-listen. One log line per call on stderr. See docs/gateway.md.")
		fmt.Fprintln(fs.Output(), "Honours "+meshrt.EnvClusterKey+", the TLS variables and "+meshrt.EnvDebug+" like any node.")
		fmt.Fprintln(fs.Output(), "W3C trace context crosses it; with "+envOTLPEndpoint+" set it sends its spans there over OTLP/HTTP.")
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
	if *metrics != "" {
		if err := checkListenAddr(*metrics); err != nil {
			return gatewayFlags{}, fmt.Errorf("-metrics %q: %w", *metrics, err)
		}
	}
	if *wait <= 0 {
		return gatewayFlags{}, fmt.Errorf("-wait %v: want a positive duration such as 10s", *wait)
	}
	var cert *gatewayCert
	switch {
	case *certFile != "" && *keyFile != "":
		c, err := loadGatewayCert(*certFile, *keyFile)
		if err != nil {
			return gatewayFlags{}, err
		}
		cert = c
	case *certFile != "":
		return gatewayFlags{}, fmt.Errorf("-tls-cert %s needs -tls-key: name the certificate's private key file too", *certFile)
	case *keyFile != "":
		return gatewayFlags{}, fmt.Errorf("-tls-key %s needs -tls-cert: name the certificate file too", *keyFile)
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
	if *tokens == "" && !*insecure && !meshrt.LoopbackOnly(*httpAddr) {
		return gatewayFlags{}, fmt.Errorf("-http %q accepts calls from other hosts, and without -tokens anyone who reaches it calls every service: give -tokens FILE, listen on 127.0.0.1, or add -insecure-listen to accept that", *httpAddr)
	}
	return gatewayFlags{http: *httpAddr, nodes: addrs, wait: *wait, tokens: *tokens, cert: cert, metrics: *metrics}, nil
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

// serveGateway runs the gateway until ctx ends.
func serveGateway(ctx context.Context, args []string, stdout, stderr io.Writer, hooks gatewayHooks) int {
	flags, err := parseGatewayFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit gateway: %v; run 'meshsplit gateway -h' for usage\n", err)
		return exitUsage
	}
	var tokens *gateway.Tokens
	if flags.tokens != "" {
		if tokens, err = gateway.LoadTokens(flags.tokens); err != nil {
			fmt.Fprintf(stderr, "meshsplit gateway: -tokens: %v\n", err)
			return exitUsage
		}
	}
	// Log lines of a traced request carry its trace_id and span_id.
	logger := slog.New(otelmesh.LogHandler(slog.NewTextHandler(stderr, nil)))
	cfg, err := meshrt.ConfigFromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit gateway: %v\n", err)
		return exitUsage
	}
	cfg.Listen = "" // a caller-only node: it serves HTTP, not the mesh
	cfg.Seeds = nil // joined below, so that an unreachable node is reported
	// Every mesh call gets a client span, child of the request's, and
	// carries its trace context to the service.
	cfg.ClientInterceptors = append(cfg.ClientInterceptors, otelmesh.ClientInterceptor())
	setGatewayPropagator()
	stopTracing, tracing, err := startTracing(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit gateway: %v\n", err)
		return exitUsage
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), gatewayShutdown)
		defer cancel()
		if err := stopTracing(flushCtx); err != nil {
			fmt.Fprintf(stderr, "meshsplit gateway: sending the last spans: %v\n", err)
		}
	}()
	var metricsHandler http.Handler
	if flags.metrics != "" {
		if metricsHandler, err = gatewayMetrics(); err != nil {
			fmt.Fprintf(stderr, "meshsplit gateway: -metrics: %v\n", err)
			return exitFailure
		}
	}

	ln, err := net.Listen("tcp", flags.http)
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit gateway: cannot serve HTTP on -http %s: %v\n", flags.http, err)
		return exitFailure
	}
	defer ln.Close()
	var metricsSrv *http.Server
	metricsAddr := ""
	if metricsHandler != nil {
		mln, err := net.Listen("tcp", flags.metrics)
		if err != nil {
			fmt.Fprintf(stderr, "meshsplit gateway: cannot serve metrics on -metrics %s: %v\n", flags.metrics, err)
			return exitFailure
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metricsHandler)
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}
		go metricsSrv.Serve(mln) // ends with Close below
		defer metricsSrv.Close()
		metricsAddr = mln.Addr().String()
		if hooks.metrics != nil {
			hooks.metrics(metricsAddr)
		}
	}
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

	srv := &http.Server{
		Handler:           gateway.New(node, gateway.Config{Tokens: tokens, Logger: logger, Telemetry: true}),
		ReadHeaderTimeout: 30 * time.Second,
	}
	scheme := "http"
	if flags.cert != nil {
		scheme = "https"
		srv.TLSConfig = flags.cert.tlsConfig()
	}
	served := make(chan error, 1)
	go func() {
		if flags.cert != nil {
			served <- srv.ServeTLS(ln, "", "")
			return
		}
		served <- srv.Serve(ln)
	}()
	addr := ln.Addr().String()
	access := ""
	if tokens != nil {
		access = fmt.Sprintf(", %d bearer token(s) from %s", tokens.Current().Len(), tokens.Path())
	}
	if metricsSrv != nil {
		access += ", metrics at http://" + metricsAddr + "/metrics"
	}
	if tracing {
		access += ", spans to the OTLP endpoint"
	}
	fmt.Fprintf(stdout, "meshsplit gateway: serving %s://%s for the mesh at %s (GET / lists the services%s)\n",
		scheme, addr, strings.Join(flags.nodes, ","), access)
	if hooks.ready != nil {
		hooks.ready(addr)
	}

	for running := true; running; {
		select {
		case err := <-served:
			fmt.Fprintf(stderr, "meshsplit gateway: serving HTTP on %s: %v\n", addr, err)
			return exitFailure
		case <-hooks.reload:
			reloadGateway(logger, tokens, flags.cert)
		case <-ctx.Done():
			running = false
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), gatewayShutdown)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "meshsplit gateway: stopping: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// reloadGateway reads the token file and the TLS certificate again, on
// SIGHUP; what cannot be read stays as it was, and the error is logged.
func reloadGateway(logger *slog.Logger, tokens *gateway.Tokens, cert *gatewayCert) {
	if tokens == nil && cert == nil {
		logger.Warn("SIGHUP ignored: the gateway has neither -tokens nor -tls-cert to reload")
		return
	}
	if tokens != nil {
		if err := tokens.Reload(); err != nil {
			logger.Error("token file not reloaded; the tokens in use stay", "file", tokens.Path(), "err", err)
		} else {
			logger.Info("token file reloaded", "file", tokens.Path(), "tokens", tokens.Current().Len())
		}
	}
	if cert != nil {
		if err := cert.reload(); err != nil {
			logger.Error("certificate not reloaded; the one in use stays", "err", err)
		} else {
			logger.Info("certificate reloaded", "cert", cert.certFile, "key", cert.keyFile)
		}
	}
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
