// Command benchtable runs BenchmarkCall (or, with -bench Stream,
// BenchmarkStream) of the bench module several times, interleaving its
// cells so that drift of a noisy machine hits every stack alike, and prints
// markdown tables of the medians with ratios against gRPC measured in the
// same run, and against the floor: the raw TCP stack.
//
// Usage (inside the bench module):
//
//	go run ./cmd/benchtable [-bench Call|Stream] [-n 8] [-benchtime 1s] [-cells regexp] [-baseline grpc] [-floor tcp]
//
// It builds the benchmark's test binary once, lists the cells
// (BenchmarkCall/<stack>/<payload>/<mode>, BenchmarkStream/<stack>/<kind>)
// with one quick run, then runs
// each cell in its own process, n rounds, in an order rotated every round.
// Progress goes to stderr, the table to stdout. Exit codes: 0 ok, 1 a build
// or a benchmark failed, 2 usage error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// benchPkg is the package whose BenchmarkCall the table reports.
const benchPkg = "github.com/meshsplit/meshsplit/bench"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	bench     string // "Call" or "Stream"
	rounds    int
	benchtime string
	cells     *regexp.Regexp
	baseline  string
	floor     string
}

func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "benchtable: %v\n", err)
		return 2
	}
	if err := measure(opts, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "benchtable: %v\n", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bench := fs.String("bench", "Call", "the `benchmark`: Call (BenchmarkCall) or Stream (BenchmarkStream)")
	rounds := fs.Int("n", 8, "number of interleaved `rounds`; the table shows medians over them")
	benchtime := fs.String("benchtime", "1s", "go test -benchtime for each run (a `duration` such as 1s, or a count such as 5000x)")
	cells := fs.String("cells", "", "only run the cells whose name (stack/payload/mode) matches this `regexp`")
	baseline := fs.String("baseline", "grpc", "the `stack` that ratios are measured against")
	floor := fs.String("floor", "tcp", "the `stack` of the last table's ratios, the floor of a call (\"\" leaves the table out)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q: benchtable takes flags only", fs.Arg(0))
	}
	if _, ok := benches[*bench]; !ok {
		return options{}, fmt.Errorf("-bench %q: want Call or Stream", *bench)
	}
	if *rounds < 1 {
		return options{}, fmt.Errorf("-n %d: need at least one round", *rounds)
	}
	if !validBenchtime(*benchtime) {
		return options{}, fmt.Errorf("-benchtime %q: want a duration (1s, 500ms) or a count (5000x)", *benchtime)
	}
	re, err := regexp.Compile(*cells)
	if err != nil {
		return options{}, fmt.Errorf("-cells %q: %w", *cells, err)
	}
	return options{bench: *bench, rounds: *rounds, benchtime: *benchtime, cells: re, baseline: *baseline, floor: *floor}, nil
}

// validBenchtime reports whether s is a value go test's -benchtime accepts.
func validBenchtime(s string) bool {
	if n, ok := strings.CutSuffix(s, "x"); ok {
		var count int
		_, err := fmt.Sscanf(n, "%d", &count)
		return err == nil && count > 0 && fmt.Sprint(count) == n
	}
	d, err := time.ParseDuration(s)
	return err == nil && d > 0
}

// measure builds the test binary, runs every cell opts.rounds times and
// prints the table.
func measure(opts options, stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "benchtable-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bench.test")
	build := exec.Command("go", "test", "-c", "-o", bin, benchPkg)
	build.Stderr = stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go test -c %s (run benchtable inside the bench module): %w", benchPkg, err)
	}

	listing, err := runBench(bin, "^Benchmark"+opts.bench+"$", "1x")
	if err != nil {
		return fmt.Errorf("listing the cells: %w", err)
	}
	var cells []string
	for _, r := range listing {
		if opts.cells.MatchString(r.Cell) {
			cells = append(cells, r.Cell)
		}
	}
	if len(cells) == 0 {
		return fmt.Errorf("no Benchmark%s cell matches -cells %q", opts.bench, opts.cells)
	}

	var results []Result
	for round := range opts.rounds {
		for _, cell := range rotate(cells, round) {
			rs, err := runBench(bin, benchPattern(opts.bench, cell), opts.benchtime)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round+1, cell, err)
			}
			if len(rs) != 1 {
				return fmt.Errorf("round %d, %s: the benchmark printed %d results, want 1", round+1, cell, len(rs))
			}
			fmt.Fprintf(stderr, "round %d/%d  %-22s %s\n", round+1, opts.rounds, cell, formatNs(rs[0].NsPerOp))
			results = append(results, rs[0])
		}
	}
	against := opts.baseline
	if opts.floor != "" && opts.floor != opts.baseline {
		against += " and " + opts.floor
	}
	fmt.Fprintf(stdout, "Benchmark%s: medians of %d interleaved runs (-benchtime %s, GOMAXPROCS %d); ratios against %s in the same run.\n\n",
		opts.bench, opts.rounds, opts.benchtime, results[0].Procs, against)
	op := "call"
	if opts.bench == "Stream" {
		op = "op"
	}
	return render(stdout, Summarize(results), opts.baseline, opts.floor, op)
}

// rotate returns cells starting at index round (mod len), every round
// reversed in odd rounds, so that no cell always runs first or after the
// same neighbour.
func rotate(cells []string, round int) []string {
	out := make([]string, 0, len(cells))
	k := round % len(cells)
	out = append(out, cells[k:]...)
	out = append(out, cells[:k]...)
	if round%2 == 1 {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

// cellPattern is the -test.bench pattern that selects exactly one cell of
// BenchmarkCall.
func cellPattern(cell string) string { return benchPattern("Call", cell) }

// benchPattern is the -test.bench pattern that selects exactly one cell of
// Benchmark<bench>.
func benchPattern(bench, cell string) string {
	parts := strings.Split(cell, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return "^Benchmark" + bench + "$/" + strings.Join(parts, "/")
}

// runBench runs the test binary's benchmarks matching pattern and parses
// its result lines.
func runBench(bin, pattern, benchtime string) ([]Result, error) {
	cmd := exec.Command(bin, "-test.run=^$", "-test.bench="+pattern, "-test.benchmem", "-test.benchtime="+benchtime)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s -test.bench=%s: %w\n%s", filepath.Base(bin), pattern, err, out)
	}
	return ParseOutput(string(out))
}
