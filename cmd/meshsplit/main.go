// Command meshsplit splits a Go monolith into mesh services without a rewrite.
//
// Usage:
//
//	meshsplit analyze [-C dir] [-tags list] [-test] [-json | -dot] [-html file] [-v] [patterns...]
//	meshsplit extract -iface pkg.Iface [-C dir] [-w] [-revert] [-force] [-json]
//	meshsplit verify  -iface pkg.Iface [-C dir] [-json] [-strict] [-v] [packages]
//	meshsplit impact  -iface pkg.Iface [-C dir] [-json] [-html file]
//	meshsplit gateway -http :8282 -nodes host:port[,host:port...]
//	meshsplit deploy  [-C dir] [-o deploy] [-main ./cmd/x] [-prebuilt]
//
// Exit codes: 0 ok, 1 failure, 2 usage error, 3 (verify) unproven.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// A command is one subcommand of meshsplit. run receives the arguments after
// the subcommand's name and returns the process exit code.
type command struct {
	name  string
	short string
	run   func(args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order the usage message shows them.
// Each one lives in its own file of this package (analyze.go, extract.go, ...).
var commands = []command{
	{"analyze", "find interface seams and judge whether they can cross a network", runAnalyze},
	{"extract", "generate the mesh client and handler for an interface and rewrite its constructors", runExtract},
	{"verify", "run the module's tests with an interface local and remote, side by side", runVerify},
	{"impact", "say what the calls verify recorded across an interface cost, per test and call site", runImpact},
	{"gateway", "serve every mesh service's methods to plain HTTP clients", runGateway},
	{"deploy", "write a Dockerfile, a Compose file and Kubernetes manifests of the split pieces", runDeploy},
}

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "meshsplit: unknown command %q; run 'meshsplit help' for the list\n", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "meshsplit splits a Go monolith into mesh services without a rewrite.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: meshsplit <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.short)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'meshsplit <command> -h' for a command's flags.")
}

// parseFlags parses a subcommand's args into fs, the same way for every
// subcommand: -h prints usage (its lines, then the flag defaults) on stdout
// and stops with exitOK; a parse error is one line on stderr, pointing at
// -h, and stops with exitUsage. ok is true when the command should go on.
func parseFlags(fs *flag.FlagSet, args []string, usage []string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(io.Discard) // parse errors are reported below, on one line
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case err == nil:
		return exitOK, true
	case errors.Is(err, flag.ErrHelp):
		for _, l := range usage {
			fmt.Fprintln(stdout, l)
		}
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return exitOK, false
	default:
		fmt.Fprintf(stderr, "meshsplit %s: %v; run 'meshsplit %s -h' for usage\n", fs.Name(), err, fs.Name())
		return exitUsage, false
	}
}
