// Package greeter is the service that every benchmark stack calls: a small
// method (a ~20-byte string in and out) and one that echoes a ~4 KB document.
// The handler logic lives here once; the gRPC, meshsplit, tcp and direct stacks
// all end up calling the implementation that New returns.
//
// service_mesh.go is meshsplit's generated mesh code for Service (what
// meshsplit extract writes); go generate refreshes it with the generator of
// this checkout.
package greeter

//go:generate go test . -run TestMeshCodeIsGenerated -update

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Service is the interface a monolith would split off. Its shape is what
// meshsplit extract handles: a context first, plain data in and out, an
// error result.
type Service interface {
	// Echo returns doc as it received it.
	Echo(ctx context.Context, doc Doc) (Doc, error)
	// Greet returns "hello, " followed by name.
	Greet(ctx context.Context, name string) (string, error)
}

// Doc is the ~4 KB payload: a mix of scalars, a time, strings, a map, a
// slice of structs and raw bytes, as a real model would carry.
type Doc struct {
	ID      int64
	Title   string
	Owner   string
	Created time.Time
	Active  bool
	Ratio   float64
	Tags    []string
	Attrs   map[string]string
	Lines   []Line
	Blob    []byte
}

// Line is one item of a Doc.
type Line struct {
	SKU   string
	Qty   int32
	Price float64
	Note  string
}

// SmallName is the ~20-byte argument of the small benchmarks.
const SmallName = "Maximilian Mustermann"

// New returns the implementation that every stack serves.
func New() Service { return impl{} }

// impl is the handler logic shared by every stack.
type impl struct{}

func (impl) Greet(ctx context.Context, name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("greet: empty name")
	}
	return "hello, " + name, nil
}

func (impl) Echo(ctx context.Context, doc Doc) (Doc, error) {
	if doc.ID == 0 {
		return Doc{}, fmt.Errorf("echo: document has no ID")
	}
	return doc, nil
}

// SampleDoc returns the document of the 4k benchmarks: about 4 KB once
// encoded by either codec (the tests check the sizes). The time is in UTC
// so that every codec carries it back equal.
func SampleDoc() Doc {
	d := Doc{
		ID:      1<<40 + 12345,
		Title:   "Quarterly inventory reconciliation for the north-east warehouse",
		Owner:   "warehouse-ops@example.com",
		Created: time.Date(2026, 11, 25, 15, 4, 5, 123456789, time.UTC),
		Active:  true,
		Ratio:   0.8125,
		Attrs:   make(map[string]string, 12),
		Blob:    make([]byte, 1700),
	}
	for i := range 12 {
		d.Tags = append(d.Tags, fmt.Sprintf("tag-%02d-%s", i, strings.Repeat("x", 6)))
		d.Attrs[fmt.Sprintf("attribute-%02d", i)] = fmt.Sprintf("value %02d of the document", i)
	}
	for i := range 24 {
		d.Lines = append(d.Lines, Line{
			SKU:   fmt.Sprintf("SKU-%06d", 100000+i*37),
			Qty:   int32(i%7 + 1),
			Price: float64(i)*1.25 + 0.99,
			Note:  fmt.Sprintf("line %02d: pick from aisle %d, shelf %d", i, i%9, i%4),
		})
	}
	for i := range d.Blob {
		d.Blob[i] = byte(i * 31)
	}
	return d
}
