package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/meshsplit/meshsplit/analyze"
)

// runAnalyze implements 'meshsplit analyze': it loads the module, judges
// every interface seam and prints the report. Exit 0 when the analysis ran
// (findings are not failures), 1 when packages failed to load or
// type-check (the rest is still reported), 2 for usage errors.
func runAnalyze(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "meshsplit analyze: internal error: %v; please report it with the command line\n", r)
			code = exitFailure
		}
	}()
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	dir := fs.String("C", ".", "analyze the module in `dir`")
	tags := fs.String("tags", "", "comma-separated build `tags`, as for go build")
	tests := fs.Bool("test", false, "include _test.go files and test packages")
	generated := fs.Bool("generated", false, "include interfaces declared in files other tools generated (mocks, gRPC stubs)")
	asJSON := fs.Bool("json", false, "print the report as JSON (schema in docs/analyze.md)")
	asDOT := fs.Bool("dot", false, "print the seam map in Graphviz DOT (draw it with 'dot -Tsvg')")
	htmlFile := fs.String("html", "", "write the seam map as one self-contained HTML page to `file`")
	verbose := fs.Bool("v", false, "after the table, list each seam's methods, implementations, constructors, importers and conversions")
	if code, ok := parseFlags(fs, args, []string{
		"usage: meshsplit analyze [-C dir] [-tags list] [-test] [-generated] [-json | -dot] [-html file] [-v] [patterns...]",
		"Finds the interface seams of a Go module and judges whether each can cross a network.",
		"Patterns default to ./... (relative to -C).",
	}, stdout, stderr); !ok {
		return code
	}
	for _, p := range fs.Args() {
		if strings.HasPrefix(p, "-") {
			fmt.Fprintf(stderr, "meshsplit analyze: flag %s after a pattern: put flags before the patterns\n", p)
			return exitUsage
		}
	}
	if *asJSON && *asDOT {
		fmt.Fprintln(stderr, "meshsplit analyze: -json and -dot exclude each other: choose one")
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	prog, err := analyze.Load(ctx, analyze.Config{
		Dir:       *dir,
		Patterns:  fs.Args(),
		Tags:      splitTags(*tags),
		Tests:     *tests,
		Generated: *generated,
	})
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit analyze: %v\n", err)
		return exitFailure
	}
	if *verbose && prog.Workspace != "" {
		fmt.Fprintf(stderr, "meshsplit analyze: %s\n", prog.Workspace)
	}
	rep := analyze.Run(prog)
	if *htmlFile != "" {
		if err := writeHTMLMap(rep, *htmlFile, stderr); err != nil {
			fmt.Fprintf(stderr, "meshsplit analyze: %v\n", err)
			return exitFailure
		}
	}
	switch {
	case *htmlFile != "" && !*asJSON && !*asDOT:
		err = nil // the page is the output; the table would repeat it
	case *asJSON:
		err = rep.WriteJSON(stdout)
	case *asDOT:
		err = rep.WriteDOT(stdout)
	default:
		err = rep.WriteText(stdout, *verbose)
	}
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit analyze: %v\n", err)
		return exitFailure
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(stderr, "meshsplit analyze: note: %s\n", n)
	}
	if len(prog.Errors) > 0 {
		for _, e := range prog.Errors {
			fmt.Fprintln(stderr, e.String())
		}
		what := fmt.Sprintf("%d load or type errors (above)", len(prog.Errors))
		if len(prog.Errors) == 1 {
			what = "1 load or type error (above)"
		}
		fmt.Fprintf(stderr, "meshsplit analyze: %s; the report covers what could be analyzed; fix them and run again\n", what)
		return exitFailure
	}
	return exitOK
}

// splitTags splits a -tags value at commas (and, as the go command still
// accepts, spaces).
func splitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}
