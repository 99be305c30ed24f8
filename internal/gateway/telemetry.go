package gateway

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// This file holds what the gateway tells operators beside its log line:
// a server span per request, in the caller's trace when the request
// carries one (W3C traceparent), and Prometheus metrics of its traffic.
// The mesh call's client span comes from runtime/otelmesh's interceptor on
// the gateway's node (meshsplit gateway installs it), a child of the
// server span.

// tracerName is the gateway's instrumentation scope.
const tracerName = "github.com/meshsplit/meshsplit/internal/gateway"

// w3c is the propagator used when the application set no global one.
var w3c = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// startSpan extracts the caller's trace context and baggage from r's
// headers and starts the request's server span, from the global
// TracerProvider. It returns r with the span in its context.
func startSpan(r *http.Request) (*http.Request, trace.Span) {
	carrier := propagation.HeaderCarrier(r.Header)
	ctx := otel.GetTextMapPropagator().Extract(r.Context(), carrier)
	if ctx == r.Context() {
		ctx = w3c.Extract(ctx, carrier)
	}
	ctx, span := otel.Tracer(tracerName).Start(ctx, "gateway "+r.Method,
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attribute.String("http.request.method", r.Method),
			attribute.String("url.path", r.URL.Path),
		))
	return r.WithContext(ctx), span
}

// endSpan names the span after the service and method called, records the
// status and ends it. A 5xx is an error of the span.
func endSpan(span trace.Span, r *http.Request, call *callInfo, status int) {
	if !span.IsRecording() {
		span.End()
		return
	}
	if call.service != "" {
		span.SetName("gateway " + r.Method + " " + call.service + "/" + call.method)
		span.SetAttributes(attribute.String("rpc.service", call.service), attribute.String("rpc.method", call.method))
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
		span.SetAttributes(attribute.String("error.type", strconv.Itoa(status)))
	}
	span.End()
}

// Metrics are the Prometheus metrics of a gateway's traffic, in a registry
// of their own with the Go runtime's and the process's collectors:
//
//	meshsplit_gateway_requests_total{service,method,code}      counter
//	meshsplit_gateway_request_duration_seconds{service,method}  histogram
//	meshsplit_gateway_requests_in_flight                        gauge
//
// service and method are those the request called; a request that named no
// known service has service "", and one of a published http.Handler method
// "_handler" (its path is the client's to choose: not a label).
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// NewMetrics returns the metrics of one gateway.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "meshsplit_gateway_requests_total",
			Help: "Requests the gateway answered, by service, method and HTTP status code.",
		}, []string{"service", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "meshsplit_gateway_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by service and method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"service", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "meshsplit_gateway_requests_in_flight",
			Help: "Requests the gateway is answering.",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus's text format (GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// begin counts a request in flight.
func (m *Metrics) begin() {
	if m != nil {
		m.inFlight.Inc()
	}
}

// end records a request answered with status after took.
func (m *Metrics) end(call *callInfo, r *http.Request, status int, took time.Duration) {
	if m == nil {
		return
	}
	m.inFlight.Dec()
	method := call.method
	if !call.rpc {
		method = "_handler"
		if call.service == "" {
			method = ""
		}
	}
	m.requests.WithLabelValues(call.service, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(call.service, method).Observe(took.Seconds())
}
