package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/meshsplit/meshsplit/verify"
)

// runVerify implements 'meshsplit verify': the module's tests with an
// interface in process and remote over loopback, side by side, with the
// calls that crossed the mesh per method.
func runVerify(args []string, stdout, stderr io.Writer) (code int) {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	iface := fs.String("iface", "", "the extracted interface: `pkg.Iface`")
	dir := fs.String("C", ".", "the module's `dir`ectory")
	asJSON := fs.Bool("json", false, "print the report as JSON (schema in docs/extract.md)")
	strict := fs.Bool("strict", false, "exit 3 when a method of the interface was never exercised remotely")
	verbose := fs.Bool("v", false, "list every call site, and the remote output of each test that differs")
	if code, ok := parseFlags(fs, args, []string{
		"usage: meshsplit verify -iface pkg.Iface [-C dir] [-json] [-strict] [-v] [packages]",
		"Vets the module and runs the tests of packages (default ./...) with the interface",
		"in process and with MESHRPC_REMOTE=<iface> MESHRPC_LOOPBACK=1, recording every call",
		"that crosses the mesh. Exit 0: the tests agree and calls crossed; 1: not extracted,",
		"vet failed or a test differs; 3: unproven (no call crossed, or with -strict a",
		"method never exercised remotely); 2: usage.",
	}, stdout, stderr); !ok {
		return code
	}
	if *iface == "" {
		fmt.Fprintln(stderr, "meshsplit verify: -iface is required, e.g. -iface inventory.Service")
		return exitUsage
	}
	for _, a := range fs.Args() {
		if len(a) > 0 && a[0] == '-' {
			fmt.Fprintf(stderr, "meshsplit verify: flag %q after the package patterns: put flags first\n", a)
			return exitUsage
		}
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "meshsplit verify: internal error: %v; please report it\n", r)
			code = exitFailure
		}
	}()
	rep, err := verify.Run(context.Background(), verify.Options{
		Dir: *dir, Iface: *iface, Patterns: fs.Args(), Strict: *strict, Keep: true, Progress: stderr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit verify: %s\n", oneLine(err))
		return exitFailure
	}
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout, *verbose)
	}
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit verify: %v\n", err)
		return exitFailure
	}
	return rep.ExitCode()
}
