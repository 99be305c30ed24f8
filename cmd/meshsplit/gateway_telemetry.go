package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The gateway's OpenTelemetry: W3C trace context and baggage always cross
// it (a caller's trace continues into the mesh even when the gateway
// exports nothing), its own spans go to an OTLP/HTTP collector when the
// standard OTEL_EXPORTER_OTLP_* variables name one, and -metrics serves
// the metrics of its traffic (its HTTP server's and the mesh calls') to
// Prometheus.

// The variables that turn on the OTLP/HTTP span exporter; the exporter
// reads them, and the other OTEL_EXPORTER_OTLP_* ones (headers, timeout,
// certificates), itself.
const (
	envOTLPEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envOTLPTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
)

// gatewayServiceName is the gateway's service.name, unless
// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES says otherwise.
const gatewayServiceName = "meshsplit-gateway"

// gatewayResource describes the gateway process to the exporters.
func gatewayResource(ctx context.Context) *resource.Resource {
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", gatewayServiceName)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
		resource.WithTelemetrySDK(),
		resource.WithProcessPID(),
	)
	if err != nil && res == nil {
		// Only a malformed OTEL_RESOURCE_ATTRIBUTES gets here; what was
		// detected before it stays.
		otel.Handle(err)
		return resource.Default()
	}
	return res
}

// setGatewayPropagator makes W3C trace context and baggage the global
// propagator, which the gateway's server spans and the mesh calls'
// metadata use.
func setGatewayPropagator() {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
}

// startTracing installs, when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, a TracerProvider that samples
// every trace whose caller did not decide otherwise (parent-based) and
// sends its spans in batches over OTLP/HTTP. It returns a function that
// sends what is left and stops the exporter, and whether tracing is on.
func startTracing(ctx context.Context) (stop func(context.Context) error, on bool, err error) {
	name := envOTLPTracesEndpoint
	endpoint := os.Getenv(name)
	if endpoint == "" {
		name, endpoint = envOTLPEndpoint, os.Getenv(envOTLPEndpoint)
	}
	if endpoint == "" {
		return func(context.Context) error { return nil }, false, nil
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false, fmt.Errorf("%s %q: want the http:// or https:// URL of an OTLP/HTTP collector, such as http://127.0.0.1:4318", name, endpoint)
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("the OTLP/HTTP span exporter of %s/%s: %w", envOTLPEndpoint, envOTLPTracesEndpoint, err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(gatewayResource(ctx)))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, true, nil
}

// gatewayMetrics makes, once per process, the global MeterProvider an
// OpenTelemetry SDK one read by a Prometheus exporter, and returns the
// handler of /metrics: the gateway's HTTP server metrics, the mesh calls'
// (runtime/otelmesh's), and the Go runtime's and the process's.
var gatewayMetrics = sync.OnceValues(func() (http.Handler, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("registering the Go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("registering the process collector: %w", err)
	}
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("the Prometheus exporter: %w", err)
	}
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(gatewayResource(context.Background()))))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
})
