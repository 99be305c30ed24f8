package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/meshsplit/meshsplit/verify"
)

// runVerify implements 'meshsplit verify': the module's tests with an
// interface in process and remote over loopback, side by side.
func runVerify(args []string, stdout, stderr io.Writer) (code int) {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	iface := fs.String("iface", "", "the extracted interface: `pkg.Iface`")
	dir := fs.String("C", ".", "the module's `dir`ectory")
	if code, ok := parseFlags(fs, args, []string{
		"usage: meshsplit verify -iface pkg.Iface [-C dir]",
		"Builds, vets and runs the module's tests with the interface in process and",
		"with MESHRPC_REMOTE=<iface> MESHRPC_LOOPBACK=1; exit 1 when they differ.",
	}, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "meshsplit verify: unexpected argument %q: name the interface with -iface pkg.Iface\n", fs.Arg(0))
		return exitUsage
	}
	if *iface == "" {
		fmt.Fprintln(stderr, "meshsplit verify: -iface is required, e.g. -iface inventory.Service")
		return exitUsage
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "meshsplit verify: internal error: %v; please report it\n", r)
			code = exitFailure
		}
	}()
	rep, err := verify.Run(context.Background(), verify.Options{Dir: *dir, Iface: *iface, Progress: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit verify: %s\n", oneLine(err))
		return exitFailure
	}
	if err := rep.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "meshsplit verify: %v\n", err)
		return exitFailure
	}
	if rep.Failed() {
		return exitFailure
	}
	return exitOK
}
