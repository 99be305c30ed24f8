package main

import (
	"fmt"
	"strconv"
	"strings"
)

// Result is one benchmark result line of BenchmarkCall or BenchmarkStream.
type Result struct {
	// Bench is the benchmark: "Call" or "Stream".
	Bench string
	// Cell is the name after "BenchmarkCall/" (or "BenchmarkStream/"),
	// without the GOMAXPROCS suffix: "grpc/small/seq", "grpc/events".
	Cell string
	// Procs is the GOMAXPROCS of the run (go test's "-N" suffix).
	Procs       int
	NsPerOp     float64
	BytesPerOp  float64
	AllocsPerOp float64
	// CPUNsPerOp is the process's CPU time per op (BenchmarkCall's
	// cpu-ns/op metric: client and server together), -1 when not reported.
	CPUNsPerOp float64
}

// Stack, Payload and Mode split the cell's name.
func (r Result) Stack() string   { return part(r.Cell, 0) }
func (r Result) Payload() string { return part(r.Cell, 1) }
func (r Result) Mode() string    { return part(r.Cell, 2) }

// Row is the cell's name without its stack: "small/seq", "events".
func (r Result) Row() string {
	_, row, _ := strings.Cut(r.Cell, "/")
	return row
}

// benches are the benchmarks benchtable reads, with the number of parts of
// their cell names.
var benches = map[string]int{"Call": 3, "Stream": 2}

func part(cell string, i int) string {
	parts := strings.Split(cell, "/")
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

// ParseOutput reads the result lines of BenchmarkCall and BenchmarkStream
// cells from go test's benchmark output and ignores every other line. A
// result line that cannot be read is an error naming it.
func ParseOutput(out string) ([]Result, error) {
	var rs []Result
	for line := range strings.SplitSeq(out, "\n") {
		if !strings.HasPrefix(line, "BenchmarkCall/") && !strings.HasPrefix(line, "BenchmarkStream/") {
			continue
		}
		r, err := parseLine(line)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// parseLine reads "BenchmarkCall/grpc/small/seq-2  2000  83539 ns/op
// 9089 B/op  151 allocs/op".
func parseLine(line string) (Result, error) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return Result{}, fmt.Errorf("benchmark line %q: want a name, a count and value-unit pairs", line)
	}
	bench, name, _ := strings.Cut(strings.TrimPrefix(f[0], "Benchmark"), "/")
	procs := 1
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if n, err := strconv.Atoi(name[i+1:]); err == nil {
			name, procs = name[:i], n
		}
	}
	if parts, ok := benches[bench]; !ok || strings.Count(name, "/") != parts-1 {
		return Result{}, fmt.Errorf("benchmark line %q: want BenchmarkCall/<stack>/<payload>/<mode> or BenchmarkStream/<stack>/<kind>", line)
	}
	r := Result{Bench: bench, Cell: name, Procs: procs, NsPerOp: -1, BytesPerOp: -1, AllocsPerOp: -1, CPUNsPerOp: -1}
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return Result{}, fmt.Errorf("benchmark line %q: value %q: %w", line, f[i], err)
		}
		switch f[i+1] {
		case "ns/op":
			r.NsPerOp = v
		case "B/op":
			r.BytesPerOp = v
		case "allocs/op":
			r.AllocsPerOp = v
		case "cpu-ns/op":
			r.CPUNsPerOp = v
		}
	}
	if r.NsPerOp < 0 {
		return Result{}, fmt.Errorf("benchmark line %q: no ns/op", line)
	}
	return r, nil
}
