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

// New returns a handler that serves the services node can reach. node is
// typically a caller-only node joined to the mesh (Config.Listen empty);
// the caller keeps closing it. The handler is a gin engine: GET / lists the
// services, every other request goes to the mesh.
func New(node *meshrt.Node) http.Handler {
	h := &handler{node: node}
	h.proxy = &httputil.ReverseProxy{
		Rewrite:      rewrite,
		Transport:    node.Transport(),
		ErrorHandler: proxyError,
	}
	return newEngine(func(e *gin.Engine) {
		// Paths are service names: no cleaning or trailing-slash redirects.
		e.RedirectTrailingSlash = false
		e.RedirectFixedPath = false
		e.GET("/", func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) })
		e.HEAD("/", func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) })
		e.NoRoute(func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) })
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

// handler is the gateway's http.Handler.
type handler struct {
	node  *meshrt.Node
	proxy *httputil.ReverseProxy
}

// targetKey carries the mesh path of a request from ServeHTTP to rewrite.
type targetKey struct{}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "malformed", "GET / lists the services; call a method with POST /<service>/<method>")
			return
		}
		writeJSON(w, http.StatusOK, listing(h.node.Services()))
		return
	}
	services := h.node.Services()
	svc, rest, err := resolve(services, r.URL.Path)
	if err != nil {
		var re *resolveError
		status, code := http.StatusNotFound, "unknown_service"
		if errors.As(err, &re) && re.ambiguous {
			status = http.StatusBadRequest
		}
		writeError(w, status, code, err.Error())
		return
	}
	method := strings.TrimPrefix(rest, "/")
	switch {
	case hasMethod(svc, method):
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
			fmt.Sprintf("name a method of %s in the path, POST %s/<method>; it has %s", svc.Name, strings.TrimSuffix(r.URL.Path, "/"), strings.Join(methodNames(svc), ", ")))
		return
	case len(svc.Methods) > 0:
		writeError(w, http.StatusNotFound, "unknown_method",
			fmt.Sprintf("service %s has no method %q; it has %s", svc.Name, method, strings.Join(methodNames(svc), ", ")))
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
// Transport picks the node; scheme and host only keep net/http content.
func rewrite(pr *httputil.ProxyRequest) {
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
}

func (e *resolveError) Error() string {
	if e.ambiguous {
		return fmt.Sprintf("path %s names several services: %s; use the full name", e.path, strings.Join(e.candidates, ", "))
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
}

// listing builds the answer of GET / from the mesh's services.
func listing(services []meshrt.ServiceInfo) Listing {
	l := Listing{Services: make([]ServiceListing, 0, len(services))}
	for _, s := range services {
		sl := ServiceListing{Name: s.Name, Path: "/" + shortest(services, s.Name), HTTP: s.HTTP, Nodes: s.Nodes}
		for _, m := range s.Methods {
			params := m.Params
			if params == nil {
				params = []string{}
			}
			sl.Methods = append(sl.Methods, MethodListing{Name: m.Name, Call: "POST " + sl.Path + "/" + m.Name, Params: params})
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
