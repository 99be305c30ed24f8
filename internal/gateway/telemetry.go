package gateway

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the gateway's tracer and meter.
const ScopeName = "github.com/meshsplit/meshsplit/internal/gateway"

// The attributes of the gateway's spans and metrics: the OpenTelemetry HTTP
// semantic conventions, and the RPC ones for the mesh method a request
// calls.
const (
	keyHTTPMethod   = attribute.Key("http.request.method")
	keyHTTPStatus   = attribute.Key("http.response.status_code")
	keyHTTPRoute    = attribute.Key("http.route")
	keyURLPath      = attribute.Key("url.path")
	keyURLScheme    = attribute.Key("url.scheme")
	keyServerAddr   = attribute.Key("server.address")
	keyServerPort   = attribute.Key("server.port")
	keyClientAddr   = attribute.Key("client.address")
	keyPeerAddr     = attribute.Key("network.peer.address")
	keyPeerPort     = attribute.Key("network.peer.port")
	keyProtoVersion = attribute.Key("network.protocol.version")
	keyUserAgent    = attribute.Key("user_agent.original")
	keyErrorType    = attribute.Key("error.type")
	keyRPCSystem    = attribute.Key("rpc.system")
	keyRPCService   = attribute.Key("rpc.service")
	keyRPCMethod    = attribute.Key("rpc.method")
	rpcSystem       = "meshsplit"
	methodOther     = "_OTHER"
)

// telemetry traces and measures the gateway's requests: a span of kind
// server per request, child of the caller's trace context, and the HTTP
// server metrics. Spans and the propagator come from the global providers,
// looked up at every request (so that the application may set them after
// New); the instruments are made by New from the global MeterProvider.
type telemetry struct {
	duration         metric.Float64Histogram
	reqSize, resSize metric.Int64Histogram
	active           metric.Int64UpDownCounter
}

// newTelemetry makes the instruments from the global MeterProvider. An
// instrument the provider refuses is reported to otel.Handle and records
// nothing.
func newTelemetry() *telemetry {
	m := otel.GetMeterProvider().Meter(ScopeName)
	t := &telemetry{}
	var err error
	t.duration, err = m.Float64Histogram("http.server.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of the HTTP requests the gateway served, the mesh call included."),
		metric.WithExplicitBucketBoundaries(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	handle(err)
	t.reqSize, err = m.Int64Histogram("http.server.request.body.size", metric.WithUnit("By"),
		metric.WithDescription("Size of the HTTP request bodies the gateway received (when the request declared it)."))
	handle(err)
	t.resSize, err = m.Int64Histogram("http.server.response.body.size", metric.WithUnit("By"),
		metric.WithDescription("Size of the HTTP response bodies the gateway sent."))
	handle(err)
	t.active, err = m.Int64UpDownCounter("http.server.active_requests", metric.WithUnit("{request}"),
		metric.WithDescription("HTTP requests the gateway is serving."))
	handle(err)
	return t
}

// handle reports an error of the OpenTelemetry API to its global handler.
func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// w3c is the propagator used when the application set no global one.
var w3c = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// propagator returns the global propagator, or W3C trace context and
// baggage when the global one propagates nothing (as runtime/otelmesh does).
func propagator() propagation.TextMapPropagator {
	p := otel.GetTextMapPropagator()
	if len(p.Fields()) == 0 {
		return w3c
	}
	return p
}

// request is one request being traced and measured.
type request struct {
	start  time.Time
	span   trace.Span
	method string // http.request.method, normalized
	scheme string
}

// begin extracts the caller's trace context from r's headers, starts the
// server span and counts the request as active. It returns r with the span
// in its context.
func (t *telemetry) begin(r *http.Request) (*http.Request, *request) {
	rq := &request{start: time.Now(), method: httpMethod(r.Method), scheme: "http"}
	if r.TLS != nil {
		rq.scheme = "https"
	}
	ctx := propagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	tracer := otel.GetTracerProvider().Tracer(ScopeName)
	attrs := []attribute.KeyValue{
		keyHTTPMethod.String(rq.method),
		keyURLPath.String(r.URL.Path),
		keyURLScheme.String(rq.scheme),
		keyProtoVersion.String(strconv.Itoa(r.ProtoMajor) + "." + strconv.Itoa(r.ProtoMinor)),
	}
	if host, port, ok := hostPort(r.Host); ok {
		attrs = append(attrs, keyServerAddr.String(host), keyServerPort.Int(port))
	}
	if host, port, ok := hostPort(r.RemoteAddr); ok {
		attrs = append(attrs, keyClientAddr.String(host), keyPeerAddr.String(host), keyPeerPort.Int(port))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, keyUserAgent.String(ua))
	}
	ctx, rq.span = tracer.Start(ctx, rq.method,
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	t.active.Add(ctx, 1, t.activeSet(rq))
	return r.WithContext(ctx), rq
}

// activeSet is the attributes of http.server.active_requests.
func (t *telemetry) activeSet(rq *request) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(keyHTTPMethod.String(rq.method), keyURLScheme.String(rq.scheme)))
}

// end names the span after the route the request took, sets its status,
// ends it and records the metrics. status and written are what the
// gateway answered.
func (t *telemetry) end(ctx context.Context, rq *request, r *http.Request, call *callInfo, status, written int) {
	t.active.Add(ctx, -1, t.activeSet(rq))
	attrs := []attribute.KeyValue{
		keyHTTPMethod.String(rq.method),
		keyURLScheme.String(rq.scheme),
		keyHTTPStatus.Int(status),
	}
	recording := rq.span.IsRecording()
	if route := call.route(r); route != "" {
		attrs = append(attrs, keyHTTPRoute.String(route))
		if recording {
			rq.span.SetName(rq.method + " " + route)
		}
	}
	if call.service != "" {
		attrs = append(attrs, keyRPCSystem.String(rpcSystem), keyRPCService.String(call.service))
		if call.method != "" {
			attrs = append(attrs, keyRPCMethod.String(call.method))
		}
	}
	if status >= 500 {
		// Server spans: a 4xx is the caller's error, not the gateway's.
		attrs = append(attrs, keyErrorType.String(strconv.Itoa(status)))
		if recording {
			rq.span.SetStatus(codes.Error, http.StatusText(status))
		}
	}
	if recording {
		rq.span.SetAttributes(attrs...)
	}
	rq.span.End()
	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	t.duration.Record(ctx, time.Since(rq.start).Seconds(), set)
	if r.ContentLength >= 0 {
		t.reqSize.Record(ctx, r.ContentLength, set)
	}
	t.resSize.Record(ctx, int64(max(written, 0)), set)
}

// route is the request's http.route, of bounded cardinality: "/" for the
// listing, "/<service>/<method>" for an RPC method (the full service name,
// whatever spelling the path used), "/<service>/<segment>/*" for a
// published handler, "" for a path that resolved to no service.
func (c *callInfo) route(r *http.Request) string {
	switch {
	case r.URL.Path == "/":
		return "/"
	case c.service == "":
		return ""
	case c.rpc:
		return "/" + c.service + "/" + c.method
	case c.method == "":
		return "/" + c.service + "/*"
	default:
		return "/" + c.service + "/" + c.method + "/*"
	}
}

// httpMethod is the request method as http.request.method has it: a
// method of RFC 9110 or PATCH, or _OTHER.
func httpMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return methodOther
}

// hostPort splits host:port; ok is false when addr has no numeric port.
func hostPort(addr string) (string, int, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, false
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return "", 0, false
	}
	return host, p, true
}

// injectTrace replaces the trace context and baggage headers of a request
// to the mesh with those of ctx (the gateway's server span), so that a
// published handler that reads them continues the gateway's trace rather
// than the caller's. RPC methods get theirs from the mesh call's metadata.
func injectTrace(ctx context.Context, h http.Header) {
	p := propagator()
	for _, f := range p.Fields() {
		h.Del(f)
	}
	p.Inject(ctx, propagation.HeaderCarrier(h))
}
