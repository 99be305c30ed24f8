package rewrite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// modEnv prepares the environment of the go command for loading a module
// whose go.mod is (or will be) gomod, without ever writing the module's own
// go.mod or go.sum: gomod and a copy of go.sum go to a temporary directory,
// and GOFLAGS gains -mod=mod -modfile=<that go.mod>. So a load sees the
// requirements an extraction adds, and what 'go mod tidy' would add for
// them, before the user has run it. cleanup removes the directory.
//
// asBuilt asks for the mode the go command would build the module in as it
// stands: vendor mode (-mod=vendor) when the module vendors its
// dependencies (see vendored), so that a load sees vendor/'s patches and
// downloads nothing. Loads of the plan's result do not ask for it.
//
// tmp is the temporary directory that holds the copies (go.mod, go.sum),
// "" in vendor mode.
func modEnv(root string, gomod []byte, env []string, asBuilt bool) (out []string, tmp string, cleanup func(), err error) {
	if env == nil {
		env = os.Environ()
	}
	flags := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			flags = v
		}
	}
	if asBuilt && vendored(root, gomod, flags) {
		// As the go command builds this module: from vendor/, with the
		// patches it may hold, downloading nothing. -mod=vendor never writes
		// go.mod, and vendor/modules.txt must match go.mod as it is, so no
		// copy is needed.
		out = append(env[:len(env):len(env)], "GOWORK=off", "GOFLAGS="+strings.TrimSpace(flags+" -mod=vendor"))
		return out, "", func() {}, nil
	}
	tmp, err = os.MkdirTemp("", "meshsplit-mod-")
	if err != nil {
		return nil, "", nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	if strings.ContainsAny(tmp, " \t") {
		cleanup()
		return nil, "", nil, fmt.Errorf("the temporary directory %s has a space, which GOFLAGS cannot carry: set TMPDIR to a directory without one", tmp)
	}
	// Keep relative replace directives pointing where they did.
	gomod, err = absoluteReplaces(gomod, root)
	if err != nil {
		cleanup()
		return nil, "", nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "go.mod"), gomod, 0o644); err != nil {
		cleanup()
		return nil, "", nil, err
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		cleanup()
		return nil, "", nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "go.sum"), sum, 0o644); err != nil {
		cleanup()
		return nil, "", nil, err
	}
	var keep []string
	for _, f := range strings.Fields(flags) {
		if !strings.HasPrefix(f, "-mod=") && !strings.HasPrefix(f, "-modfile=") && !strings.HasPrefix(f, "--mod=") && !strings.HasPrefix(f, "--modfile=") {
			keep = append(keep, f)
		}
	}
	keep = append(keep, "-mod=mod", "-modfile="+filepath.Join(tmp, "go.mod"))
	out = append(env[:len(env):len(env)], "GOWORK=off", "GOFLAGS="+strings.Join(keep, " "))
	return out, tmp, cleanup, nil
}

// vendored reports whether the go command would build the module at root
// in vendor mode: vendor/modules.txt exists, go.mod says go 1.14 or later,
// and GOFLAGS does not choose a mode. Only loads of the module as it is
// use it (modEnv's asBuilt): the plan's go.mod requires the runtime, which
// vendor/ does not hold until 'go mod vendor'.
func vendored(root string, gomod []byte, goflags string) bool {
	if strings.Contains(goflags, "-mod=") {
		return false
	}
	if _, err := os.Stat(filepath.Join(root, "vendor", "modules.txt")); err != nil {
		return false
	}
	f, err := modfile.ParseLax("go.mod", gomod, nil)
	return err == nil && f.Go != nil && semver.Compare("v"+f.Go.Version, "v1.14") >= 0
}

// moduleRoot returns the directory of the go.mod that governs dir.
func moduleRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or any parent: run 'go mod init' there or pass -C with a module's directory", abs)
		}
	}
}
