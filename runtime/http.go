package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// This file holds the HTTP path (docs/protocol.md, "HTTP path"): every node
// serves HTTP/1.1 over the yamux streams its peers open with kind 'H',
// with net/http: GET /ping, GET /__heartbeat__, POST /<service>/<method>
// (JSON bodies keyed by parameter names) and the published http.Handlers
// under /<service>/...; and Transport, the http.RoundTripper that sends a
// request for /<service>/... to a node serving that service. The runtime
// needs no router: the only fixed routes are the two above, and the rest is
// a longest-prefix match over the node's services and handlers.

// TimeoutHeader carries a call's timeout on the HTTP path, as a Go duration
// ("250ms"); the server's context ends when it passes.
const TimeoutHeader = "Meshrpc-Timeout"

// httpSide is a node's HTTP server over yamux streams.
type httpSide struct {
	n     *Node
	ln    *streamListener
	srv   *http.Server
	start sync.Once
}

func newHTTPSide(n *Node) *httpSide {
	h := &httpSide{n: n, ln: newStreamListener()}
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelDebug)}
	return h
}

// ServeHTTP routes a request of the HTTP path: the two fixed GET routes
// first, then the node's services and published handlers.
func (h *httpSide) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case get && r.URL.Path == "/ping":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "pong")
	case get && r.URL.Path == "/__heartbeat__":
		h.heartbeat(w)
	default:
		h.dispatch(w, r)
	}
}

// serveConn hands an accepted 'H' stream to the HTTP server, starting it on
// first use.
func (h *httpSide) serveConn(c net.Conn) {
	h.start.Do(func() { go h.srv.Serve(h.ln) })
	if !h.ln.push(c) {
		c.Close()
	}
}

// close stops the server and closes its connections.
func (h *httpSide) close() {
	h.ln.Close()
	h.srv.Close()
}

// heartbeat answers GET /__heartbeat__ with the node's id, address and the
// services it publishes.
func (h *httpSide) heartbeat(w http.ResponseWriter) {
	h.n.mu.Lock()
	info := h.n.selfInfoLocked()
	peers := len(h.n.peers)
	h.n.mu.Unlock()
	writeJSON(w, http.StatusOK, heartbeatAnswer{ID: h.n.id, Addr: h.n.addr, Peers: peers, Services: info.Services, HTTP: info.HTTP})
}

// heartbeatAnswer is the JSON answer of GET /__heartbeat__.
type heartbeatAnswer struct {
	ID       string        `json:"id"`
	Addr     string        `json:"addr"`
	Peers    int           `json:"peers"`
	Services []ServiceInfo `json:"services"`
	HTTP     []string      `json:"http"`
}

// writeJSON answers v as JSON with the given status. A value that JSON
// cannot encode (a NaN, a channel in a result) becomes a 500 with code
// "internal" that says so, instead of a half-written answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(httpError{Error: "encoding the answer as JSON: " + err.Error(), Code: "internal"}) // cannot fail: strings only
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// httpError is the JSON body of every HTTP-path failure.
type httpError struct {
	Error string `json:"error"`
	// Code names a mesh failure: unknown_service, unknown_method,
	// malformed, too_large, panic, unavailable, timeout, internal,
	// ambiguous_service; empty for the method's own error.
	Code string `json:"code,omitempty"`
	// Is lists the registered sentinels the method's error wraps.
	Is []string `json:"is,omitempty"`
	// Result holds the results returned beside the error, if any.
	Result any `json:"result,omitempty"`
}

// dispatch routes /<service>/<method> to a published service and
// /<service>/... to a published handler.
func (h *httpSide) dispatch(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	n := h.n
	n.mu.Lock()
	var svcName string
	var svc *localService
	var handler http.Handler
	var handlerName string
	for name, s := range n.services {
		if strings.HasPrefix(path, "/"+name+"/") && len(name) > len(svcName) {
			svcName, svc = name, s
		}
	}
	for name, hd := range n.handlers {
		if (path == "/"+name || strings.HasPrefix(path, "/"+name+"/")) && len(name) > len(handlerName) {
			handlerName, handler = name, hd
		}
	}
	// A path that no full name prefixes may name its service as
	// MESHRPC_REMOTE does: a suffix of the full name after a slash, or
	// Package.Iface (docs/protocol.md, "Service names").
	prefix := "/" + svcName + "/"
	var aliased []string
	if svc == nil && handler == nil {
		if slash := strings.LastIndexByte(path, '/'); slash > 1 {
			prefix = path[:slash+1]
			aliased = n.servicesNamedLocked(path[1:slash])
			if len(aliased) == 1 {
				svcName, svc = aliased[0], n.services[aliased[0]]
			}
		}
	}
	n.mu.Unlock()
	if len(aliased) > 1 {
		writeJSON(w, http.StatusNotFound, httpError{Error: fmt.Sprintf("%q names more than one service on this node: %s; use a longer suffix or the full name", prefix[1:len(prefix)-1], strings.Join(aliased, ", ")), Code: "ambiguous_service"})
		return
	}
	if svc != nil {
		method := strings.TrimPrefix(path, prefix)
		for i := range svc.desc.Methods {
			if svc.desc.Methods[i].Name == method {
				h.call(w, r, svc, &svc.desc.Methods[i])
				return
			}
		}
		if handler == nil || len(handlerName) < len(svcName) {
			writeJSON(w, http.StatusNotFound, httpError{Error: fmt.Sprintf("service %s has no method %q", svcName, method), Code: "unknown_method"})
			return
		}
	}
	if handler != nil {
		handler.ServeHTTP(w, r)
		return
	}
	writeJSON(w, http.StatusNotFound, httpError{Error: fmt.Sprintf("no service published on this node for path %s", path), Code: "unknown_service"})
}

// servicesNamedLocked returns, sorted, the services published on the node
// that name selects as an entry of MESHRPC_REMOTE would: the full name, a
// suffix of it starting after a slash, or Package.Iface where the
// ServiceDesc sets Package. n.mu must be held.
func (n *Node) servicesNamedLocked(name string) []string {
	spec := parseRemote(name)
	if spec.err != nil || spec.all || len(spec.entries) != 1 {
		return nil
	}
	var out []string
	for full, s := range n.services {
		if spec.selects(&ServiceDesc{Name: full, Package: s.desc.Package}) {
			out = append(out, full)
		}
	}
	sort.Strings(out)
	return out
}

// call serves POST /<service>/<method> with a JSON body keyed by parameter
// names; it answers the JSON results keyed by result names.
func (h *httpSide) call(w http.ResponseWriter, r *http.Request, svc *localService, md *MethodDesc) {
	n := h.n
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, httpError{Error: "call " + svc.desc.Name + "." + md.Name + " with POST and a JSON body", Code: "malformed"})
		return
	}
	ctx := r.Context()
	if v := r.Header.Get(TimeoutHeader); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			writeJSON(w, http.StatusBadRequest, httpError{Error: fmt.Sprintf("header %s: %q is not a positive Go duration such as 250ms", TimeoutHeader, v), Code: "malformed"})
			return
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	if md.Stream != nil {
		writeJSON(w, http.StatusNotImplemented, httpError{Error: svc.desc.Name + "." + md.Name + " streams (an io.Reader, iter.Seq or channel): the HTTP path does not carry it; call it through a generated client", Code: "malformed"})
		return
	}
	in := md.NewRequest()
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, int64(n.cfg.MaxBody)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil && !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, httpError{Error: fmt.Sprintf("request body over this node's limit of %d bytes (MESHRPC_MAX_BODY)", n.cfg.MaxBody), Code: "too_large"})
			return
		}
		writeJSON(w, http.StatusBadRequest, httpError{Error: fmt.Sprintf("decoding the JSON body of %s.%s (parameters %v): %v", svc.desc.Name, md.Name, md.Params, err), Code: "malformed"})
		return
	}
	meta, merr := metadataFromHeader(r.Header)
	if merr != nil {
		writeJSON(w, http.StatusBadRequest, httpError{Error: fmt.Sprintf("%s.%s: %s headers: %v", svc.desc.Name, md.Name, MetadataHeaderPrefix, merr), Code: "malformed"})
		return
	}
	if !n.beginServe() {
		writeJSON(w, http.StatusServiceUnavailable, httpError{Error: "node " + n.addr + " is shutting down; the call did not run", Code: "unavailable"})
		return
	}
	defer n.endServe()
	var out Message
	var panicked string
	var cvErr error
	run := func(ctx context.Context) error {
		ctx, err := decodeContextValues(ctx, meta)
		if err != nil {
			cvErr = err
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		out, err, panicked = invoke(ctx, md, svc.impl, in)
		if panicked != "" {
			n.log.ErrorContext(ctx, "handler panicked", "service", svc.desc.Name, "method", md.Name, "panic", panicked)
			return fmt.Errorf("%w: %s.%s panicked: %s", ErrHandlerPanic, svc.desc.Name, md.Name, firstLine(panicked))
		}
		return err
	}
	var err error
	if n.serverIcpt == nil {
		err = run(ctx)
	} else {
		if meta == nil {
			meta = &Metadata{}
		}
		info := &CallInfo{Service: svc.desc.Name, Method: md.Name, Peer: r.RemoteAddr, HTTP: true, Metadata: meta, ResponseMetadata: &Metadata{}, RequestBytes: int(r.ContentLength), ResponseBytes: -1}
		err = n.serverIcpt(ctx, info, run)
		if rerr := info.ResponseMetadata.check(); rerr != nil {
			n.log.Warn("dropping invalid response metadata set by a server interceptor", "err", rerr)
		} else {
			for k, v := range info.ResponseMetadata.All() {
				w.Header().Set(MetadataHeaderPrefix+k, v)
			}
		}
	}
	switch {
	case cvErr != nil:
		writeJSON(w, http.StatusBadRequest, httpError{Error: fmt.Sprintf("%s.%s: %v", svc.desc.Name, md.Name, cvErr), Code: "malformed"})
	case panicked != "":
		writeJSON(w, http.StatusInternalServerError, httpError{Error: fmt.Sprintf("%s.%s panicked: %s", svc.desc.Name, md.Name, firstLine(panicked)), Code: "panic"})
	case err != nil:
		he := httpError{Error: err.Error()}
		for _, d := range svc.errs.sentinels {
			if errors.Is(err, d.sentinel) {
				he.Is = append(he.Is, d.name)
			}
		}
		if out != nil {
			he.Result = out
		}
		status := http.StatusInternalServerError
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			status, he.Code = http.StatusGatewayTimeout, "timeout"
		}
		writeJSON(w, status, he)
	case out == nil:
		writeJSON(w, http.StatusOK, struct{}{})
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

// metadataFromHeader returns the metadata carried by MetadataHeaderPrefix
// headers, checked against the bounds; nil when there is none.
func metadataFromHeader(h http.Header) (*Metadata, error) {
	var m *Metadata
	for k, vs := range h {
		if len(k) <= len(MetadataHeaderPrefix) || !strings.EqualFold(k[:len(MetadataHeaderPrefix)], MetadataHeaderPrefix) || len(vs) == 0 {
			continue
		}
		if m == nil {
			m = &Metadata{}
		}
		m.Set(k[len(MetadataHeaderPrefix):], vs[0])
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// streamListener is a net.Listener fed with accepted yamux streams.
type streamListener struct {
	conns  chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newStreamListener() *streamListener {
	return &streamListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// push hands c to Accept; it returns false once the listener is closed.
func (l *streamListener) push(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

// Accept returns the next stream.
func (l *streamListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept.
func (l *streamListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

// Addr returns a placeholder address.
func (l *streamListener) Addr() net.Addr { return meshAddr("mesh") }

// meshAddr is the net.Addr of mesh streams.
type meshAddr string

func (a meshAddr) Network() string { return "meshrpc" }
func (a meshAddr) String() string  { return string(a) }

// Transport returns an http.RoundTripper that sends a request for
// /<service>/... (any scheme and host) to a live node serving that service,
// over the mesh's HTTP path: POST /<service>/<method> reaches the method
// with a JSON body, other paths reach the handlers published with
// PublishHTTP. Nodes are picked round robin; WithAffinity on the request's
// context routes by key. Connections (yamux streams) are kept alive and
// reused. The service is the longest known service name that prefixes the
// path.
func (n *Node) Transport() http.RoundTripper {
	n.transportOnce.Do(func() {
		n.transport = &meshTransport{n: n, base: &http.Transport{
			DialContext:         n.dialHTTP,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		}}
	})
	return n.transport
}

// meshTransport implements Node.Transport.
type meshTransport struct {
	n    *Node
	base *http.Transport
	rr   uint64
	mu   sync.Mutex
}

// meshHostSuffix marks the per-peer host names the transport dials.
const meshHostSuffix = ".meshrpc.invalid"

// RoundTrip picks a node for the request's service and sends it there,
// through the node's client interceptors when it has any, with the
// request's metadata (its interceptors' and the registered context values)
// in MetadataHeaderPrefix headers.
func (t *meshTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	icpt, cvs := t.n.clientIcpt, contextValues.Load()
	if icpt == nil && cvs == nil {
		return t.roundTrip(req, nil)
	}
	service := t.n.serviceForPath(req.URL.Path)
	info := &CallInfo{Service: service, HTTP: true, Metadata: &Metadata{}, RequestBytes: int(req.ContentLength), ResponseBytes: -1}
	if m := strings.TrimPrefix(req.URL.Path, "/"+service+"/"); t.n.hasMethod(service, m) {
		info.Method = m
	}
	var resp *http.Response
	run := func(ctx context.Context) error {
		out := req
		if ctx != req.Context() {
			out = req.WithContext(ctx)
		}
		meta := info.Metadata
		if cvs != nil {
			meta = encodeContextValues(ctx, *cvs, meta)
		}
		if err := meta.check(); err != nil {
			return &CallError{Service: info.Service, Op: "send", Err: fmt.Errorf("%w: %v", ErrMalformed, err)}
		}
		if meta.Len() > 0 {
			out = out.Clone(ctx)
			for k, v := range meta.All() {
				out.Header.Set(MetadataHeaderPrefix+k, v)
			}
		}
		var err error
		resp, err = t.roundTrip(out, info)
		if resp != nil {
			info.HTTPStatus = resp.StatusCode
			info.ResponseBytes = int(resp.ContentLength)
			info.ResponseMetadata, _ = metadataFromHeader(resp.Header)
		}
		return err
	}
	var err error
	if icpt == nil {
		err = run(req.Context())
	} else {
		err = icpt(req.Context(), info, run)
	}
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		} else if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	if resp == nil {
		return nil, &CallError{Service: info.Service, Op: "http", Err: fmt.Errorf("%w: a client interceptor returned without sending the request or returning an error", ErrMalformed)}
	}
	return resp, nil
}

// roundTrip is RoundTrip without interceptors; info, when not nil, gets
// the peer picked.
func (t *meshTransport) roundTrip(req *http.Request, info *CallInfo) (*http.Response, error) {
	service := t.n.serviceForPath(req.URL.Path)
	if service == "" {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &CallError{Service: req.URL.Path, Op: "route", Err: fmt.Errorf("%w: no live node serves a service for path %s", ErrUnavailable, req.URL.Path)}
	}
	nodes := t.n.nodesFor(service)
	if len(nodes) == 0 {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &CallError{Service: service, Op: "route", Err: fmt.Errorf("%w: no live node serves it", ErrUnavailable)}
	}
	var tried []*peer
	for {
		cands := nodes
		if len(tried) > 0 {
			cands = without(nodes, tried)
		}
		var p *peer
		if key, ok := req.Context().Value(affinityKey{}).(string); ok {
			p = rendezvous(cands, key)
		} else {
			t.mu.Lock()
			t.rr++
			p = cands[t.rr%uint64(len(cands))]
			t.mu.Unlock()
		}
		if info != nil {
			info.Peer = p.name()
		}
		out := req.Clone(req.Context())
		if len(tried) > 0 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, &CallError{Service: service, Op: "http", Err: fmt.Errorf("%w: replaying the request body: %v", ErrUnavailable, err)}
			}
			out.Body = body
		}
		out.URL.Scheme = "http"
		out.URL.Host = p.id + meshHostSuffix
		out.Host = p.id + meshHostSuffix
		resp, err := t.base.RoundTrip(out)
		if err == nil {
			return resp, nil
		}
		var de *dialError
		if !errors.As(err, &de) {
			return nil, &CallError{Service: service, Node: p.name(), Op: "http", Err: fmt.Errorf("%w: %v", ErrConnLost, err)}
		}
		// Not sent: another node may take it, if the body can be sent again.
		tried = append(tried, p)
		replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
		if !replayable || len(tried) >= len(nodes) {
			return nil, &CallError{Service: service, Node: p.name(), Op: "http", Err: fmt.Errorf("%w: %v", ErrUnavailable, err)}
		}
	}
}

// hasMethod reports whether a live node serving service lists method among
// its RPC methods.
func (n *Node) hasMethod(service, method string) bool {
	if service == "" || method == "" {
		return false
	}
	for _, p := range n.nodesFor(service) {
		info := p.info.Load()
		if info == nil {
			continue
		}
		for _, s := range info.Services {
			if s.Name != service {
				continue
			}
			for _, m := range s.Methods {
				if m.Name == method {
					return true
				}
			}
		}
	}
	return false
}

// dialError is a failure to open an HTTP stream to a peer: nothing was sent.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// serviceForPath returns the longest live service name prefixing path.
func (n *Node) serviceForPath(path string) string {
	best := ""
	for name, nodes := range n.routes.Load().byService {
		if len(nodes) > 0 && len(name) > len(best) && (path == "/"+name || strings.HasPrefix(path, "/"+name+"/")) {
			best = name
		}
	}
	return best
}

// dialHTTP opens an 'H' stream to the peer named by addr ("<id>.meshrpc.invalid:80").
func (n *Node) dialHTTP(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	id := strings.TrimSuffix(host, meshHostSuffix)
	n.mu.Lock()
	p := n.peers[id]
	n.mu.Unlock()
	if p == nil {
		return nil, &dialError{fmt.Errorf("peer %s is gone", id)}
	}
	st, err := p.openStream(streamHTTP)
	if err != nil {
		return nil, &dialError{fmt.Errorf("opening a stream to %s: %w", p.name(), err)}
	}
	return st, nil
}
