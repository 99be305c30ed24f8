package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// This file holds what observes and extends calls: interceptors (client
// and server side, in the spirit of gRPC's interceptors and stats
// handlers), process-wide instrumentation, and context values carried
// across the mesh. With none installed or registered the call path only
// checks a nil pointer.

// CallInfo describes one call to interceptors. The runtime fills it in;
// an interceptor may set request metadata before it calls next (client
// side) and response metadata (server side), and reads the rest once next
// returned.
type CallInfo struct {
	// Service is the service's full name ("example.com/shop/inventory.Service");
	// empty for a request through Node.Transport whose path names no
	// live service.
	Service string
	// Method is the method's name; empty for a request through
	// Node.Transport to a handler published with PublishHTTP (whose path,
	// the client's to choose, is the request's).
	Method string
	// Peer is the address of the other side: on the client, the node that
	// ran the call (set once it was picked; empty when none was); on the
	// server, the caller's network address.
	Peer string
	// HTTP is true for a call over the HTTP path (POST /<service>/<method>,
	// or any request through Node.Transport), false for the fast path.
	HTTP bool
	// Metadata is the request's metadata. On the client, interceptors add
	// to it before calling next; on the server it is what the caller sent.
	Metadata *Metadata
	// ResponseMetadata is the response's. On the server, interceptors add
	// to it (before or after next); on the client it is what the server
	// sent, once next returned.
	ResponseMetadata *Metadata
	// RequestBytes and ResponseBytes are the sizes of the encoded request
	// and response messages (on the HTTP path: the bodies; -1 when
	// unknown), set by the time next returns.
	RequestBytes, ResponseBytes int
	// HTTPStatus is, on the client side of the HTTP path, the status code
	// of the response once next returned; 0 otherwise.
	HTTPStatus int
}

// ClientInterceptor wraps every call a node's clients make (Client.Call
// and the requests of Node.Transport): it runs in the caller's goroutine,
// calls next to perform the call (with the same or a derived context), and
// returns next's error or its own. The outcome is the error: nil, the
// method's error, a *CallError, or the context's error.
type ClientInterceptor func(ctx context.Context, call *CallInfo, next func(context.Context) error) error

// ServerInterceptor wraps every call a node serves (fast path and HTTP
// path): next runs the method with the given context and returns the
// method's error. A ServerInterceptor that returns an error without calling
// next answers the caller with that error as the method's.
type ServerInterceptor func(ctx context.Context, call *CallInfo, next func(context.Context) error) error

// Instrumentation is what Instrument installs on every node created after
// it: interceptors that run after those of the node's Config, and a wrapper
// of the node's slog handler (to add trace ids to its records, for
// example). Node, when set, is called with every new node (to observe its
// Stats). Any field may be nil.
type Instrumentation struct {
	Client ClientInterceptor
	Server ServerInterceptor
	Log    func(slog.Handler) slog.Handler
	Node   func(*Node)
}

// instrumentations holds what Instrument registered.
var instrumentations struct {
	mu   sync.Mutex
	list []Instrumentation
}

// Instrument registers process-wide instrumentation, which every node
// created afterwards installs: those of NewNode, DefaultNode and the
// loopback pair of MESHRPC_LOOPBACK. Generated code calls it from an init
// function (runtime/otelmesh), so that it runs before the first node
// starts. Nodes created before the call are unchanged.
func Instrument(in Instrumentation) {
	instrumentations.mu.Lock()
	defer instrumentations.mu.Unlock()
	instrumentations.list = append(instrumentations.list, in)
}

// instrument installs the interceptors of cfg and of Instrument on n. It
// returns the Node hooks, for NewNode to call once the node started.
func (n *Node) instrument(cfg *Config) (hooks []func(*Node)) {
	instrumentations.mu.Lock()
	list := append([]Instrumentation(nil), instrumentations.list...)
	instrumentations.mu.Unlock()
	clients := append([]ClientInterceptor(nil), cfg.ClientInterceptors...)
	servers := append([]ServerInterceptor(nil), cfg.ServerInterceptors...)
	for _, in := range list {
		if in.Client != nil {
			clients = append(clients, in.Client)
		}
		if in.Server != nil {
			servers = append(servers, in.Server)
		}
		if in.Log != nil {
			n.log = slog.New(in.Log(n.log.Handler()))
		}
	}
	n.clientIcpt = chainClient(clients)
	n.serverIcpt = chainServer(servers)
	for _, in := range list {
		if in.Node != nil {
			hooks = append(hooks, in.Node)
		}
	}
	return hooks
}

// chainClient makes one interceptor of several, the first outermost; nil
// for none.
func chainClient(list []ClientInterceptor) ClientInterceptor {
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return func(ctx context.Context, call *CallInfo, next func(context.Context) error) error {
		return list[0](ctx, call, func(ctx context.Context) error {
			return chainClient(list[1:])(ctx, call, next)
		})
	}
}

// chainServer makes one interceptor of several, the first outermost; nil
// for none.
func chainServer(list []ServerInterceptor) ServerInterceptor {
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return func(ctx context.Context, call *CallInfo, next func(context.Context) error) error {
		return list[0](ctx, call, func(ctx context.Context) error {
			return chainServer(list[1:])(ctx, call, next)
		})
	}
}

// ContextValue carries one value of a caller's context to the context the
// method runs with on the server, under Name: Encode reads it from the
// caller's context (ok false: the context has none, nothing is sent) and
// Decode puts it into the server's context. The encoded value is sent as
// metadata key "meshrpc-ctx-<name>" and must be printable ASCII of at most
// MaxMetadataValue bytes (encode binary values with base64).
type ContextValue struct {
	Name   string
	Encode func(ctx context.Context) (value string, ok bool)
	Decode func(ctx context.Context, value string) (context.Context, error)
}

// contextValuePrefix prefixes the metadata keys of context values.
const contextValuePrefix = "meshrpc-ctx-"

// contextValues holds the registered context values (copy on write).
var contextValues atomic.Pointer[[]ContextValue]

// contextValuesMu serializes RegisterContextValue.
var contextValuesMu sync.Mutex

// RegisterContextValue registers a context value that every call of the
// process carries, client and server side: register the same names in
// every binary of the mesh, typically from an init function. The name is
// 1 to 64 lower-case letters, digits, '-', '_' or '.', registered once. A
// call whose value fails to encode within the metadata bounds fails before
// it is sent; a server whose Decode returns an error refuses the call as
// malformed, naming the value.
func RegisterContextValue(cv ContextValue) error {
	if cv.Encode == nil || cv.Decode == nil {
		return fmt.Errorf("meshrpc: context value %q: Encode and Decode are both required", cv.Name)
	}
	if len(cv.Name) > 64 {
		return fmt.Errorf("meshrpc: context value name %.40q: over 64 bytes", cv.Name)
	}
	if err := checkMetadataPair(contextValuePrefix+cv.Name, ""); err != nil || cv.Name == "" {
		return fmt.Errorf("meshrpc: context value name %q: want 1 to 64 lower-case letters, digits, '-', '_' or '.'", cv.Name)
	}
	contextValuesMu.Lock()
	defer contextValuesMu.Unlock()
	var next []ContextValue
	if cur := contextValues.Load(); cur != nil {
		next = append(next, *cur...)
	}
	for _, have := range next {
		if have.Name == cv.Name {
			return fmt.Errorf("meshrpc: context value %q registered twice", cv.Name)
		}
	}
	next = append(next, cv)
	contextValues.Store(&next)
	return nil
}

// encodeContextValues adds the registered values present in ctx to md,
// allocating md when needed. It returns md.
func encodeContextValues(ctx context.Context, cvs []ContextValue, md *Metadata) *Metadata {
	for _, cv := range cvs {
		v, ok := cv.Encode(ctx)
		if !ok {
			continue
		}
		if md == nil {
			md = &Metadata{}
		}
		md.Set(contextValuePrefix+cv.Name, v)
	}
	return md
}

// errContextValue is a server-side failure to decode a context value.
var errContextValue = errors.New("context value")

// decodeContextValues returns ctx with the registered values md carries.
func decodeContextValues(ctx context.Context, md *Metadata) (context.Context, error) {
	cvs := contextValues.Load()
	if cvs == nil || md == nil {
		return ctx, nil
	}
	for _, cv := range *cvs {
		v, ok := md.Lookup(contextValuePrefix + cv.Name)
		if !ok {
			continue
		}
		next, err := cv.Decode(ctx, v)
		if err != nil {
			return ctx, fmt.Errorf("%w %q: decoding %.60q: %v", errContextValue, cv.Name, v, err)
		}
		if next != nil {
			ctx = next
		}
	}
	return ctx, nil
}

// NodeStats is a snapshot of a node's state, for gauges.
type NodeStats struct {
	// Peers is the number of live connections to other nodes.
	Peers int
	// Services is the number of services the node publishes (fast path
	// and HTTP handlers; loopback instances not counted).
	Services int
	// ServerCalls and ClientCalls are the calls in progress, served and
	// made.
	ServerCalls, ClientCalls int64
	// Closed is true once Close started.
	Closed bool
}

// Stats returns a snapshot of the node's state.
func (n *Node) Stats() NodeStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := NodeStats{Peers: len(n.peers), Closed: n.closing, ServerCalls: n.serverCalls.n.Load(), ClientCalls: n.clientCalls.n.Load()}
	for _, svc := range n.services {
		if !svc.hidden {
			s.Services++
		}
	}
	s.Services += len(n.handlers)
	return s
}
