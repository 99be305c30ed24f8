package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/meshsplit/meshsplit/impact"
)

// runImpact implements 'meshsplit impact': what the calls that verify
// recorded across an interface cost, per test and call site, at the cost
// of a call measured on this machine. Exit 0 with a report, 1 when there
// is none to make (no or stale verify report, no traffic, a module that
// does not load), 2 for usage errors.
func runImpact(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "meshsplit impact: internal error: %v; please report it with the command line\n", r)
			code = exitFailure
		}
	}()
	fs := flag.NewFlagSet("impact", flag.ContinueOnError)
	iface := fs.String("iface", "", "the extracted interface: `pkg.Iface`")
	dir := fs.String("C", ".", "the module's `dir`ectory")
	asJSON := fs.Bool("json", false, "print the report as JSON (schema in docs/extract.md)")
	htmlFile := fs.String("html", "", "also write the report as a self-contained HTML page to `file`")
	if code, ok := parseFlags(fs, args, []string{
		"usage: meshsplit impact -iface pkg.Iface [-C dir] [-json] [-html file]",
		"Prices the calls that 'meshsplit verify' recorded across the interface, per test and",
		"call site, with the cost of a call measured on this machine against a loopback node,",
		"and names the call sites inside loops (N+1). Run verify first.",
	}, stdout, stderr); !ok {
		return code
	}
	if *iface == "" {
		fmt.Fprintln(stderr, "meshsplit impact: -iface is required, e.g. -iface inventory.Service")
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "meshsplit impact: unexpected argument %q: impact takes flags only\n", fs.Arg(0))
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := impact.Run(ctx, impact.Options{Dir: *dir, Iface: *iface})
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit impact: %s\n", oneLine(err))
		return exitFailure
	}
	if *htmlFile != "" {
		var page bytes.Buffer
		if err := rep.WriteHTML(&page); err != nil {
			fmt.Fprintf(stderr, "meshsplit impact: %v\n", err)
			return exitFailure
		}
		if err := writeFileAtomic(*htmlFile, page.Bytes()); err != nil {
			fmt.Fprintf(stderr, "meshsplit impact: %v\n", err)
			return exitFailure
		}
	}
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit impact: %v\n", err)
		return exitFailure
	}
	return exitOK
}
