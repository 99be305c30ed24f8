module example.com/parcel

go 1.24.0

require (
	go.opentelemetry.io/otel v1.40.0
	go.opentelemetry.io/otel/sdk v1.40.0
	go.opentelemetry.io/otel/trace v1.40.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-logr/logr v1.4.3 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel/metric v1.40.0 // indirect
	golang.org/x/sys v0.40.0 // indirect
)

// meshsplit extract adds requires for the runtime and, because this module
// uses OpenTelemetry, for runtime/otelmesh; these replaces make them resolve
// to the checkout the fixture is bundled with.
replace (
	github.com/meshsplit/meshsplit/runtime => ../../../../runtime
	github.com/meshsplit/meshsplit/runtime/otelmesh => ../../../../runtime/otelmesh
)
