// Package gateway exposes every service of a mesh to plain HTTP clients, the
// way curl or a browser reaches them:
//
//	POST /<service>/<method>   a JSON body keyed by parameter names, answered
//	                           with the JSON results keyed by result names
//	ANY  /<service>/...        the legacy http.Handlers a node published
//	                           with PublishHTTP
//	GET  /                     the services and methods the mesh offers, as JSON
//
// <service> is the full name ("example.com/shop/inventory.Service") or any
// suffix of it that starts after a slash, such as the short
// "inventory.Service", as long as one service alone ends that way. The
// gateway forwards each request over the mesh's HTTP path through the
// node's Transport (round robin over the nodes serving the service; a
// Meshrpc-Timeout header, e.g. "250ms", bounds the call on the server),
// so it holds no state of its own: the services it sees are those
// Node.Services reports at the time of the request. A Meshrpc-Affinity
// header routes every request with the same value to the same node while
// it lives (runtime.WithAffinity), for sticky sessions.
//
// Failures of the gateway itself are answered with the same JSON body as
// the mesh's: {"error": "...", "code": "..."}, code being unknown_service,
// unknown_method, malformed, unavailable or timeout.
//
// With Config.Tokens every request needs "Authorization: Bearer <token>"
// with a token of a token file (ParseTokens describes it) whose patterns
// allow the service and method: 401 without a valid token (with
// WWW-Authenticate: Bearer), 403 outside its allowlist, both with
// {"error": "...", "code": "unauthorized"|"forbidden", "status": 401|403}.
// Config.Logger gets one line per request, naming the token, never
// showing it. docs/gateway.md has the details.
//
// gin routes the gateway's requests. It lives here, in meshsplit's own
// module, and not in the runtime: the runtime is linked into every user
// binary and serves its HTTP path with net/http alone, so that a module
// split with meshsplit gains no router (gin needs a newer Go than the
// runtime's go line, and brings some 30 modules).
package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// AffinityHeader carries an affinity key: requests with the same value go to
// the same node of the service while it lives, and to the same other node
// when it dies.
const AffinityHeader = "Meshrpc-Affinity"

// Config holds the gateway's options; the zero value serves every service
// to anyone and logs nothing.
type Config struct {
	// Tokens, when not nil, is the access control: every request, GET /
	// too, needs "Authorization: Bearer <token>" with a token of the set
	// (401 otherwise) whose patterns allow the service and method called
	// (403 otherwise); GET / and error messages list only the services the
	// token may call. The header is not forwarded to the mesh.
	Tokens *Tokens
	// Logger, when not nil, gets one line per request: token name (never
	// the token), service, method, path, status and duration.
	Logger *slog.Logger
	// Telemetry, when true, traces and measures every request with
	// OpenTelemetry (telemetry.go): a span of kind server per request,
	// child of the trace context of its headers (the global propagator's),
	// from the global TracerProvider, and the HTTP server metrics from the
	// global MeterProvider as it is when New is called. The mesh call's
	// client span comes from the node's client interceptors
	// (runtime/otelmesh's ClientInterceptor).
	Telemetry bool
}

// New returns a handler that serves the services node can reach. node is
// typically a caller-only node joined to the mesh (Config.Listen empty);
// the caller keeps closing it. The handler is a gin engine: GET / lists the
// services, every other request goes to the mesh.
func New(node *meshrt.Node, cfg Config) http.Handler {
	h := &handler{node: node, tokens: cfg.Tokens, logger: cfg.Logger}
	if cfg.Telemetry {
		h.tel = newTelemetry()
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	h.proxy = &httputil.ReverseProxy{
		Rewrite:      h.rewrite,
		Transport:    node.Transport(),
		ErrorHandler: proxyError,
	}
	serve := func(c *gin.Context) {
		start := time.Now()
		var call callInfo
		r := c.Request
		var rq *request
		if h.tel != nil {
			r, rq = h.tel.begin(r)
		}
		h.serve(c.Writer, r, &call)
		if rq != nil {
			h.tel.end(r.Context(), rq, r, &call, c.Writer.Status(), c.Writer.Size())
		}
		h.logCall(r, &call, c.Writer.Status(), time.Since(start))
	}
	return newEngine(func(e *gin.Engine) {
		// Paths are service names: no cleaning or trailing-slash redirects.
		e.RedirectTrailingSlash = false
		e.RedirectFixedPath = false
		e.GET("/", serve)
		e.HEAD("/", serve)
		e.NoRoute(serve)
	})
}

// ginModeMu guards the temporary switch of gin's process-wide mode.
var ginModeMu sync.Mutex

// newEngine builds a gin engine and lets setup add its routes without gin's
// debug-mode chatter (meshsplit gateway logs its own lines), leaving gin's
// mode as it was.
func newEngine(setup func(*gin.Engine)) *gin.Engine {
	ginModeMu.Lock()
	defer ginModeMu.Unlock()
	if gin.Mode() == gin.DebugMode && os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
		defer gin.SetMode(gin.DebugMode)
	}
	e := gin.New()
	setup(e)
	return e
}

// handler serves the gateway's requests.
type handler struct {
	node   *meshrt.Node
	proxy  *httputil.ReverseProxy
	tokens *Tokens // nil: no access control
	logger *slog.Logger
	tel    *telemetry // nil: no telemetry
}

// targetKey carries the mesh path of a request from serve to rewrite.
type targetKey struct{}

// serve answers one request and notes in call what the log line reports.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, call *callInfo) {
	var grant *Grant
	if h.tokens != nil {
		grant = h.authenticate(w, r)
		if grant == nil {
			return
		}
		call.token = grant.Name
	}
	if r.URL.Path == "/" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "malformed", "GET / lists the services; call a method with POST /<service>/<method>")
			return
		}
		writeJSON(w, http.StatusOK, listing(h.node.Services(), grant))
		return
	}
	if hasDotSegment(r.URL.Path) {
		// A handler that cleaned the path would serve another one than
		// the allowlist was checked against.
		writeError(w, http.StatusBadRequest, "malformed",
			fmt.Sprintf("path %s has a \".\" or \"..\" segment: send the path the service is to see", r.URL.Path))
		return
	}
	services := h.node.Services()
	svc, rest, err := resolve(services, r.URL.Path)
	if err != nil {
		var re *resolveError
		status, code := http.StatusNotFound, "unknown_service"
		if errors.As(err, &re) {
			if re.ambiguous {
				status = http.StatusBadRequest
			}
			if grant != nil {
				re.candidates, re.filtered = visibleNames(re.candidates, grant), true
			}
		}
		writeError(w, status, code, err.Error())
		return
	}
	method := strings.TrimPrefix(rest, "/")
	first, _, _ := strings.Cut(method, "/")
	call.service, call.method = svc.Name, first
	if grant != nil && !grant.Allows(svc.Name, call.method) {
		writeAuthError(w, http.StatusForbidden, "forbidden",
			fmt.Sprintf("token %s may not call %s/%s; its patterns: %s", grant.Name, svc.Name, call.method, grant.patternList()))
		return
	}
	shown := svc // what the error messages show: the methods grant may call
	shown.Methods = allowedMethods(svc, grant)
	switch {
	case hasMethod(svc, method):
		call.rpc = true
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeError(w, http.StatusMethodNotAllowed, "malformed",
				fmt.Sprintf("call %s.%s with POST and a JSON body keyed by its parameters %s", svc.Name, method, paramList(svc, method)))
			return
		}
	case svc.HTTP:
		// A path of the service's published handlers.
	case len(svc.Methods) > 0 && method == "":
		writeError(w, http.StatusNotFound, "unknown_method",
			fmt.Sprintf("name a method of %s in the path, POST %s/<method>; it has %s", svc.Name, strings.TrimSuffix(r.URL.Path, "/"), strings.Join(methodNames(shown), ", ")))
		return
	case len(svc.Methods) > 0:
		writeError(w, http.StatusNotFound, "unknown_method",
			fmt.Sprintf("service %s has no method %q; it has %s", svc.Name, method, strings.Join(methodNames(shown), ", ")))
		return
	}
	ctx := context.WithValue(r.Context(), targetKey{}, "/"+svc.Name+rest)
	if key := r.Header.Get(AffinityHeader); key != "" {
		ctx = meshrt.WithAffinity(ctx, key)
	}
	if v := r.Header.Get(meshrt.TimeoutHeader); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, "malformed",
				fmt.Sprintf("header %s: %q is not a positive Go duration such as 250ms", meshrt.TimeoutHeader, v))
			return
		}
		// The node ends the call when d passes; the gateway stops waiting
		// then too, in case the node cannot answer.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	h.proxy.ServeHTTP(w, r.WithContext(ctx))
}

// rewrite points the outgoing request at the service's full mesh path. The
// Transport picks the node; scheme and host only keep net/http content. The
// gateway's bearer token stays with the gateway.
func (h *handler) rewrite(pr *httputil.ProxyRequest) {
	if h.tokens != nil {
		pr.Out.Header.Del("Authorization")
	}
	if h.tel != nil {
		injectTrace(pr.In.Context(), pr.Out.Header)
	}
	target, _ := pr.In.Context().Value(targetKey{}).(string)
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = "mesh"
	pr.Out.URL.Path = target
	pr.Out.URL.RawPath = ""
	pr.Out.Host = ""
	pr.SetXForwarded()
}

// proxyError answers a request the mesh could not carry. r carries the
// context ServeHTTP gave the proxy, with the Meshrpc-Timeout deadline.
func proxyError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(r.Context().Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusGatewayTimeout, "timeout",
			fmt.Sprintf("the call did not finish within %s %s: %v", meshrt.TimeoutHeader, r.Header.Get(meshrt.TimeoutHeader), err))
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
		w.WriteHeader(http.StatusBadGateway)
	default:
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
	}
}

// resolveError is a path that names no service, or names several.
type resolveError struct {
	path       string
	ambiguous  bool
	candidates []string
	filtered   bool // candidates holds only the services the token may call
}

func (e *resolveError) Error() string {
	if e.ambiguous {
		if len(e.candidates) == 0 {
			return fmt.Sprintf("path %s names several services; use the full name", e.path)
		}
		return fmt.Sprintf("path %s names several services: %s; use the full name", e.path, strings.Join(e.candidates, ", "))
	}
	if e.filtered {
		if len(e.candidates) == 0 {
			return fmt.Sprintf("no service on the mesh for path %s, and none that this token may call", e.path)
		}
		return fmt.Sprintf("no service on the mesh for path %s; services this token may call: %s (GET / lists their methods)", e.path, strings.Join(e.candidates, ", "))
	}
	if len(e.candidates) == 0 {
		return fmt.Sprintf("no service on the mesh for path %s (no node serves anything yet; GET / lists the services)", e.path)
	}
	return fmt.Sprintf("no service on the mesh for path %s; known services: %s (GET / lists their methods)", e.path, strings.Join(e.candidates, ", "))
}

// resolve finds the service that path starts with and returns it with the
// rest of the path ("/Reserve", "/orders/7", or ""). The longest matching
// prefix of path segments wins; a prefix that is a suffix of several
// service names is ambiguous.
func resolve(services []meshrt.ServiceInfo, path string) (meshrt.ServiceInfo, string, error) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for k := len(segs); k >= 1; k-- {
		name := strings.Join(segs[:k], "/")
		if name == "" {
			continue
		}
		var found []meshrt.ServiceInfo
		for _, s := range services {
			if s.Name == name {
				found = []meshrt.ServiceInfo{s}
				break
			}
			if strings.HasSuffix(s.Name, "/"+name) {
				found = append(found, s)
			}
		}
		rest := ""
		if k < len(segs) {
			rest = "/" + strings.Join(segs[k:], "/")
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], rest, nil
		default:
			names := make([]string, len(found))
			for i, s := range found {
				names[i] = s.Name
			}
			return meshrt.ServiceInfo{}, "", &resolveError{path: path, ambiguous: true, candidates: names}
		}
	}
	names := make([]string, len(services))
	for i, s := range services {
		names[i] = s.Name
	}
	return meshrt.ServiceInfo{}, "", &resolveError{path: path, candidates: names}
}

// hasDotSegment reports whether path has a "." or ".." segment.
func hasDotSegment(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

func hasMethod(s meshrt.ServiceInfo, method string) bool {
	return slices.ContainsFunc(s.Methods, func(m meshrt.MethodInfo) bool { return m.Name == method })
}

func methodNames(s meshrt.ServiceInfo) []string {
	names := make([]string, len(s.Methods))
	for i, m := range s.Methods {
		names[i] = m.Name
	}
	return names
}

// paramList describes a method's JSON body: {"sku", "qty"}.
func paramList(s meshrt.ServiceInfo, method string) string {
	for _, m := range s.Methods {
		if m.Name == method {
			if len(m.Params) == 0 {
				return "(none: send {})"
			}
			return `{"` + strings.Join(m.Params, `", "`) + `"}`
		}
	}
	return ""
}

// Listing is the JSON answer of GET /.
type Listing struct {
	Services []ServiceListing `json:"services"`
}

// ServiceListing describes one service of the mesh for GET /.
type ServiceListing struct {
	// Name is the full service name.
	Name string `json:"name"`
	// Path is the shortest path prefix that names the service alone:
	// "/inventory.Service", or longer when two services share that.
	Path string `json:"path"`
	// Methods are the RPC methods, each called with POST <Path>/<method>.
	Methods []MethodListing `json:"methods,omitempty"`
	// HTTP reports published legacy handlers under <Path>/...
	HTTP bool `json:"http,omitempty"`
	// Nodes are the live nodes serving the service.
	Nodes []string `json:"nodes"`
}

// MethodListing describes one method for GET /.
type MethodListing struct {
	Name string `json:"name"`
	// Call is the request line that calls it: "POST /inventory.Service/Reserve".
	Call string `json:"call"`
	// Params are the keys of the JSON body.
	Params []string `json:"params"`
	// Stream, for a streaming method, says how it streams ("in", "out",
	// "in,out"): the gateway cannot call it (the node answers 501).
	Stream string `json:"stream,omitempty"`
}

// listing builds the answer of GET / from the mesh's services: those grant
// may call, all when grant is nil.
func listing(services []meshrt.ServiceInfo, grant *Grant) Listing {
	l := Listing{Services: make([]ServiceListing, 0, len(services))}
	for _, s := range services {
		if grant != nil && !grant.mayCall(s.Name) {
			continue
		}
		sl := ServiceListing{Name: s.Name, Path: "/" + shortest(services, s.Name), HTTP: s.HTTP, Nodes: s.Nodes}
		for _, m := range allowedMethods(s, grant) {
			params := m.Params
			if params == nil {
				params = []string{}
			}
			sl.Methods = append(sl.Methods, MethodListing{Name: m.Name, Call: "POST " + sl.Path + "/" + m.Name, Params: params, Stream: m.Stream})
		}
		l.Services = append(l.Services, sl)
	}
	return l
}

// shortest returns the shortest suffix of name, starting after a slash,
// that resolve maps to name alone.
func shortest(services []meshrt.ServiceInfo, name string) string {
	segs := strings.Split(name, "/")
	for k := len(segs) - 1; k > 0; k-- {
		suffix := strings.Join(segs[k:], "/")
		if s, _, err := resolve(services, "/"+suffix); err == nil && s.Name == name {
			return suffix
		}
	}
	return name
}

// httpError is the JSON body of a gateway failure, the same shape the mesh
// answers with.
type httpError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, httpError{Error: msg, Code: code})
}

// writeJSON answers v as indented JSON, for people reading curl output
// (so "<" and ">" stay as they are).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		body.Reset()
		b, _ := json.Marshal(httpError{Error: "encoding the answer: " + err.Error(), Code: "internal"}) // cannot fail: two strings
		body.Write(append(b, '\n'))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body.Bytes())
}
