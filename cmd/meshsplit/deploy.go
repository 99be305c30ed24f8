package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/meshsplit/meshsplit/internal/deploy"
)

// runDeploy implements 'meshsplit deploy': it writes the Dockerfile, the
// Compose file and the Kubernetes manifests of a split module, and with
// -prebuilt builds the static binaries they copy.
func runDeploy(args []string, stdout, stderr io.Writer) (code int) {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	dir := fs.String("C", ".", "the module's `dir`ectory")
	out := fs.String("o", "deploy", "output `dir`ectory, inside the module")
	mainDir := fs.String("main", "", "the monolith's main package (`./cmd/x`); needed only when the module has several")
	prebuilt := fs.Bool("prebuilt", false, "images copy binaries built on the host (no registry needed); also builds them into <out>/bin")
	if code, ok := parseFlags(fs, args, []string{
		"usage: meshsplit deploy [-C dir] [-o deploy] [-main ./cmd/x] [-prebuilt]",
		"Writes <out>/Dockerfile, <out>/compose.yaml and <out>/k8s/*.yaml for the module's main and",
		"every generated cmd/<x>-svc; regenerated on each run. <out>/cluster.env (the cluster key) is",
		"created once and is yours.",
	}, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "meshsplit deploy: unexpected argument %q; run 'meshsplit deploy -h' for usage\n", fs.Arg(0))
		return exitUsage
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "meshsplit deploy: internal error: %v; please report it\n", r)
			code = exitFailure
		}
	}()
	m, err := deploy.Scan(*dir, *mainDir)
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit deploy: %s\n", oneLine(err))
		return exitFailure
	}
	rel, err := deploy.OutRel(m.Root, *out)
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit deploy: %s\n", oneLine(err))
		return exitUsage
	}
	files, err := deploy.Render(m, deploy.Options{OutRel: rel, Prebuilt: *prebuilt})
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit deploy: %s\n", oneLine(err))
		return exitFailure
	}
	acts, err := deploy.Write(m.Root, rel, files)
	if err != nil {
		fmt.Fprintf(stderr, "meshsplit deploy: %s\n", oneLine(err))
		return exitFailure
	}
	var svcs []string
	for _, s := range m.Services {
		svcs = append(svcs, s.Name)
	}
	fmt.Fprintf(stdout, "deploy %s: the monolith ./%s (%s) and %d service(s): %s\n", m.Path, m.Main.Dir, m.Main.Name, len(m.Services), strings.Join(svcs, ", "))
	for _, a := range acts {
		fmt.Fprintf(stdout, "  %-9s %s: %s\n", a.Verb, a.Path, a.What)
	}
	for _, u := range m.Unserved {
		fmt.Fprintf(stdout, "note: %s is extracted but no service command serves it: it stays in process\n", u)
	}
	if *prebuilt {
		bin := path.Join(rel, "bin")
		if err := buildPrebuilt(m, bin, stderr); err != nil {
			fmt.Fprintf(stderr, "meshsplit deploy: %s\n", oneLine(err))
			return exitFailure
		}
		fmt.Fprintf(stdout, "built %s/: static linux binaries of %s and meshprobe\n", bin, strings.Join(append([]string{m.Main.Name}, svcs...), ", "))
	}
	fmt.Fprintf(stdout, "next: docker compose -f %s up -d --build   (docker-compose with Compose v1)\n", path.Join(rel, "compose.yaml"))
	return exitOK
}

// buildPrebuilt builds the static binaries the -prebuilt Dockerfile copies
// into bin (relative to the module's root).
func buildPrebuilt(m *deploy.Module, bin string, stderr io.Writer) error {
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	pkgs := []string{"./" + m.Main.Dir}
	for _, s := range m.Services {
		pkgs = append(pkgs, "./"+s.Dir)
	}
	for _, args := range [][]string{
		append([]string{"build", "-trimpath", "-o", filepath.FromSlash(bin) + string(filepath.Separator)}, pkgs...),
		{"build", "-trimpath", "-o", filepath.Join(filepath.FromSlash(bin), "meshprobe"), deploy.ProbeCommand},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = m.Root, env
		if outb, err := cmd.CombinedOutput(); err != nil {
			stderr.Write(outb)
			return fmt.Errorf("go %s in %s: %v (see the output above)", strings.Join(args, " "), m.Root, err)
		}
	}
	return nil
}
