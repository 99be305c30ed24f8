package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/meshsplit/meshsplit/rewrite"
)

// runExtract implements 'meshsplit extract': it prints the plan and the
// diff of extracting one interface, and applies it with -w.
func runExtract(args []string, stdout, stderr io.Writer) (code int) {
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	iface := fs.String("iface", "", "the interface to extract: `pkg.Iface` (pkg: an import path, a package name or a path suffix)")
	dir := fs.String("C", ".", "the module's `dir`ectory")
	write := fs.Bool("w", false, "write the changes (all or nothing) instead of only showing them")
	revert := fs.Bool("revert", false, "undo the extraction: restore the constructors and remove what extract generated")
	force := fs.Bool("force", false, "touch files even when they have uncommitted changes")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	verbose := fs.Bool("v", false, "print each phase on stderr as it starts and ends (on a terminal, phases over a second are shown anyway)")
	if code, ok := parseFlags(fs, args, []string{
		"usage: meshsplit extract -iface pkg.Iface [-C dir] [-w] [-revert] [-force] [-json] [-v]",
		"Without -w, prints the plan and a unified diff and writes nothing.",
	}, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "meshsplit extract: unexpected argument %q: name the interface with -iface pkg.Iface\n", fs.Arg(0))
		return exitUsage
	}
	if *iface == "" {
		fmt.Fprintln(stderr, "meshsplit extract: -iface is required, e.g. -iface inventory.Service; 'meshsplit analyze' lists the candidates")
		return exitUsage
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "meshsplit extract: internal error: %v (nothing was written unless the report above says so); please report it\n", r)
			code = exitFailure
		}
	}()

	ctx := context.Background()
	prog := newProgress("extract", stderr, *verbose)
	plan, err := rewrite.Extract(ctx, rewrite.Options{Dir: *dir, Iface: *iface, Revert: *revert, Force: *force, Write: *write, Progress: prog.Phase})
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit extract: %s\n", oneLine(err))
		return exitFailure
	}
	written := false
	if *write && !plan.Refused() && len(plan.Changes) > 0 {
		if err := plan.Apply(ctx, rewrite.Writer{}); err != nil {
			fmt.Fprintf(stderr, "meshsplit extract: %v\n", err)
			return exitFailure
		}
		written = true
	}
	if *asJSON {
		out, err := plan.MarshalJSONWritten(written)
		if err != nil {
			fmt.Fprintf(stderr, "meshsplit extract: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "%s\n", out)
		if plan.Refused() {
			return exitFailure
		}
		return exitOK
	}
	var b bytes.Buffer
	plan.WriteText(&b)
	if plan.Refused() {
		stderr.Write(b.Bytes())
		return exitFailure
	}
	stdout.Write(b.Bytes())
	switch {
	case written:
		fmt.Fprintf(stdout, "wrote %d file(s)\n", len(plan.Changes))
		if plan.TidyNeeded {
			fmt.Fprintf(stdout, "go.mod changed: run 'go mod tidy' in %s before building\n", plan.Root)
		}
	case len(plan.Changes) > 0:
		fmt.Fprintln(stdout)
		io.WriteString(stdout, plan.Diff(isTerminal(stdout)))
		if !*write {
			fmt.Fprintln(stdout, "\nnothing written: run again with -w to apply")
		}
	}
	return exitOK
}

// isTerminal reports whether w is a terminal (a character device), where
// colour helps; pipes and files get plain text.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// oneLine returns the first line of an error's message.
func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
