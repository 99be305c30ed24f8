package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line    string
		want    Result
		wantErr string
	}{
		{
			line: "BenchmarkCall/grpc/small/seq-2         	    2000	     83539 ns/op	    9089 B/op	     151 allocs/op",
			want: Result{Bench: "Call", Cell: "grpc/small/seq", Procs: 2, NsPerOp: 83539, BytesPerOp: 9089, AllocsPerOp: 151, CPUNsPerOp: -1},
		},
		{
			line: "BenchmarkCall/direct/4k/par-16 	1000000	        56.65 ns/op	        60.10 cpu-ns/op	       0 B/op	       0 allocs/op",
			want: Result{Bench: "Call", Cell: "direct/4k/par", Procs: 16, NsPerOp: 56.65, CPUNsPerOp: 60.1},
		},
		{ // GOMAXPROCS=1: go test prints no suffix; no -benchmem: no B/op.
			line: "BenchmarkCall/meshsplit/small/seq 	 100	 21000 ns/op",
			want: Result{Bench: "Call", Cell: "meshsplit/small/seq", Procs: 1, NsPerOp: 21000, BytesPerOp: -1, AllocsPerOp: -1, CPUNsPerOp: -1},
		},
		{
			line: "BenchmarkStream/meshsplit/bytes-2 3 345700000 ns/op 776.5 MB/s 282400000 cpu-ns/op 9030000 B/op 18564 allocs/op",
			want: Result{Bench: "Stream", Cell: "meshsplit/bytes", Procs: 2, NsPerOp: 345700000, BytesPerOp: 9030000, AllocsPerOp: 18564, CPUNsPerOp: 282400000},
		},
		{line: "BenchmarkCall/grpc/small-2 10 5 ns/op", wantErr: "want BenchmarkCall/<stack>/<payload>/<mode>"},
		{line: "BenchmarkStream/grpc/bytes/x-2 10 5 ns/op", wantErr: "BenchmarkStream/<stack>/<kind>"},
		{line: "BenchmarkCall/grpc/small/seq-2 10 fast ns/op", wantErr: `value "fast"`},
		{line: "BenchmarkCall/grpc/small/seq-2 10 5 B/op", wantErr: "no ns/op"},
		{line: "BenchmarkCall/grpc/small/seq-2 --- FAIL", wantErr: "value-unit pairs"},
	}
	for _, tt := range tests {
		got, err := parseLine(tt.line)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseLine(%q) error = %v, want one containing %q", tt.line, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseLine(%q) = %+v, %v; want %+v", tt.line, got, err, tt.want)
		}
	}
}

func TestParseOutputSkipsOtherLines(t *testing.T) {
	out := "goos: linux\ngoarch: amd64\npkg: github.com/meshsplit/meshsplit/bench\ncpu: AMD EPYC\n" +
		"BenchmarkCall/grpc/small/seq-2 100 36800 ns/op 9000 B/op 148 allocs/op\n" +
		"BenchmarkCall/direct/small/seq-2 100 26 ns/op 32 B/op 1 allocs/op\nPASS\nok  \tx\t1.0s\n"
	rs, err := ParseOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	var cells []string
	for _, r := range rs {
		cells = append(cells, r.Cell)
	}
	if want := []string{"grpc/small/seq", "direct/small/seq"}; !slices.Equal(cells, want) {
		t.Errorf("cells = %v, want %v", cells, want)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{5}, 5},
		{[]float64{9, 1, 5}, 5},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{7, 7, 100, 7, 1}, 7},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSummarizeAndRender(t *testing.T) {
	results := []Result{
		{Cell: "grpc/small/seq", NsPerOp: 40000, BytesPerOp: 9000, AllocsPerOp: 150, CPUNsPerOp: 30000},
		{Cell: "meshsplit/small/seq", NsPerOp: 20000, BytesPerOp: 500, AllocsPerOp: 10, CPUNsPerOp: 15000},
		{Cell: "tcp/small/seq", NsPerOp: 16000, BytesPerOp: 96, AllocsPerOp: 4, CPUNsPerOp: 10000},
		{Cell: "grpc/small/seq", NsPerOp: 36000, BytesPerOp: 9000, AllocsPerOp: 148, CPUNsPerOp: 32000},
		{Cell: "meshsplit/small/seq", NsPerOp: 22000, BytesPerOp: 500, AllocsPerOp: 10, CPUNsPerOp: 16000},
		{Cell: "grpc/small/seq", NsPerOp: 38000, BytesPerOp: 9100, AllocsPerOp: 148, CPUNsPerOp: 31000},
		{Cell: "meshsplit/small/seq", NsPerOp: 19000, BytesPerOp: 510, AllocsPerOp: 10, CPUNsPerOp: 14000},
		{Cell: "direct/small/seq", NsPerOp: 26, BytesPerOp: 32, AllocsPerOp: 1, CPUNsPerOp: 26},
		{Cell: "meshsplit/4k/par", NsPerOp: 30000, BytesPerOp: 9000, AllocsPerOp: 30, CPUNsPerOp: -1},
		{Cell: "tcp/4k/par", NsPerOp: 40000, BytesPerOp: 8000, AllocsPerOp: 25, CPUNsPerOp: 20000},
	}
	sums := Summarize(results)
	if len(sums) != 6 {
		t.Fatalf("Summarize gave %d cells, want 6: %+v", len(sums), sums)
	}
	if s := sums[0]; s.Cell != "grpc/small/seq" || s.Runs != 3 || s.NsPerOp != 38000 || s.AllocsPerOp != 148 {
		t.Errorf("grpc/small/seq summary = %+v", s)
	}
	if s := sums[1]; s.NsPerOp != 20000 || s.Spread != 0.075 {
		t.Errorf("meshsplit/small/seq summary = %+v, want median 20000 and spread 0.075", s)
	}

	tables := `| time per call | grpc | meshsplit | tcp | direct |
|---|---|---|---|---|
| small/seq | 38 µs ±5% | 20 µs ±8% (**0.53×**) | 16 µs ±0% (**0.42×**) | 26 ns ±0% (**0.00068×**) |
| 4k/par | – | 30 µs ±0% | 40 µs ±0% | – |

| CPU per call | grpc | meshsplit | tcp | direct |
|---|---|---|---|---|
| small/seq | 31 µs | 15 µs (**0.48×**) | 10 µs (**0.32×**) | 26 ns (**0.00084×**) |
| 4k/par | – | – | 20 µs | – |

| allocs/op, B/op | grpc | meshsplit | tcp | direct |
|---|---|---|---|---|
| small/seq | 148, 8.8 KB | 10, 500 B | 4, 96 B | 1, 32 B |
| 4k/par | – | 30, 8.8 KB | 25, 7.8 KB | – |
`
	floorTable := `
| ÷ tcp: time (CPU) | grpc | meshsplit | direct |
|---|---|---|---|
| small/seq | **2.38×** (3.10×) | **1.25×** (1.50×) | **0.0016×** (0.0026×) |
| 4k/par | – | **0.75×** | – |
`
	tests := []struct {
		floor string
		want  string
	}{
		{"tcp", tables + floorTable},
		{"", tables},
		{"grpc", tables},   // the baseline's ratios are in the tables already
		{"nosuch", tables}, // a floor that was not measured
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := Render(&buf, sums, "grpc", tt.floor); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != tt.want {
			t.Errorf("Render(floor %q):\n%s\nwant:\n%s", tt.floor, got, tt.want)
		}
	}
}

func TestRotate(t *testing.T) {
	cells := []string{"a", "b", "c"}
	tests := []struct {
		round int
		want  []string
	}{
		{0, []string{"a", "b", "c"}},
		{1, []string{"a", "c", "b"}},
		{2, []string{"c", "a", "b"}},
		{3, []string{"c", "b", "a"}},
	}
	for _, tt := range tests {
		if got := rotate(cells, tt.round); !slices.Equal(got, tt.want) {
			t.Errorf("rotate(round %d) = %v, want %v", tt.round, got, tt.want)
		}
	}
	if !slices.Equal(cells, []string{"a", "b", "c"}) {
		t.Errorf("rotate changed its input: %v", cells)
	}
}

func TestCellPattern(t *testing.T) {
	if got, want := cellPattern("grpc/4k/seq"), "^BenchmarkCall$/^grpc$/^4k$/^seq$"; got != want {
		t.Errorf("cellPattern = %q, want %q", got, want)
	}
	if got, want := benchPattern("Stream", "tcp/bytes"), "^BenchmarkStream$/^tcp$/^bytes$"; got != want {
		t.Errorf("benchPattern = %q, want %q", got, want)
	}
}

func TestRenderStreams(t *testing.T) {
	var rs []Result
	for _, line := range []string{
		"BenchmarkStream/meshsplit/events-2 10 100000000 ns/op 60000000 cpu-ns/op 7000000 B/op 200000 allocs/op",
		"BenchmarkStream/grpc/events-2 3 400000000 ns/op 300000000 cpu-ns/op 29000000 B/op 1100000 allocs/op",
		"BenchmarkStream/tcp/events-2 30 33000000 ns/op 24000000 cpu-ns/op 1700000 B/op 200000 allocs/op",
	} {
		r, err := parseLine(line)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	var buf bytes.Buffer
	if err := render(&buf, Summarize(rs), "grpc", "tcp", "op"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| time per op | grpc | meshsplit | tcp |",
		"| events | 400 ms ±0% | 100 ms ±0% (**0.25×**) | 33 ms ±0% (**0.08×**) |",
		"| CPU per op | grpc | meshsplit | tcp |",
		"| events | **12.12×** (12.50×) | **3.03×** (2.50×) |",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the stream tables lack %q:\n%s", want, buf.String())
		}
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{args: nil},
		{args: []string{"-n", "3", "-benchtime", "5000x", "-cells", "small"}},
		{args: []string{"-floor", ""}},
		{args: []string{"-bench", "Stream"}},
		{args: []string{"-bench", "Calls"}, wantErr: `-bench "Calls": want Call or Stream`},
		{args: []string{"-n", "0"}, wantErr: "-n 0: need at least one round"},
		{args: []string{"-benchtime", "soon"}, wantErr: `-benchtime "soon"`},
		{args: []string{"-benchtime", "0x"}, wantErr: `-benchtime "0x"`},
		{args: []string{"-cells", "("}, wantErr: `-cells "("`},
		{args: []string{"extra"}, wantErr: `unexpected argument "extra"`},
		{args: []string{"-bogus"}, wantErr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		_, err := parseFlags(tt.args, &stderr)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("parseFlags(%q) = %v, want no error", tt.args, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("parseFlags(%q) = %v, want an error containing %q", tt.args, err, tt.wantErr)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-n", "-1"}, &stdout, &stderr); code != 2 {
		t.Errorf("run(-n -1) exit = %d, want 2 (usage); stderr %q", code, stderr.String())
	}
}
