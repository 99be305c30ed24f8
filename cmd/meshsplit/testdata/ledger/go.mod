module example.com/ledger

go 1.24.0

toolchain go1.24.5

require (
	github.com/goccy/go-json v0.10.5
	github.com/google/go-cmp v0.7.0
)
