package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshsplit/meshsplit/rewrite"
	"golang.org/x/mod/modfile"
)

// This file holds the helpers of the end-to-end tests of extract and
// verify: a private copy of testdata/shop that builds offline against this
// checkout, snapshots of its files, and the go command.

// repoRoot is the meshsplit checkout the tests run in.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// offlineEnv sets the environment so that the go command, in the test and
// in extract's own loads, uses the module cache only and never the network.
func offlineEnv(t testing.TB) {
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOSUMDB", "off")
	t.Setenv("GOWORK", "off")
	t.Setenv("GOTOOLCHAIN", "local")
	t.Setenv("MESHRPC_REMOTE", "")
	t.Setenv("MESHRPC_LOOPBACK", "")
	t.Setenv("MESHSPLIT_TRAFFIC_DIR", t.TempDir()) // verify keeps traffic there
}

// copyShop copies testdata/shop into a temporary directory (see
// copyModule).
func copyShop(t *testing.T) string {
	t.Helper()
	return copyModule(t, filepath.Join(repoRoot(t), "testdata", "shop"))
}

// startGoproxy is the GOPROXY the test binary started with, before
// offlineEnv turns the network off.
var startGoproxy = os.Getenv("GOPROXY")

// runtimeDeps downloads the runtime module's requirements into the module
// cache once per test binary: the split modules need them, and building
// this module need not bring them (the workspace may select newer ones).
var runtimeDeps struct {
	once sync.Once
	err  error
	out  []byte
}

// cacheRuntimeDeps makes sure the module cache holds the runtime's
// requirements, with the network the tests started with.
func cacheRuntimeDeps(t testing.TB) {
	t.Helper()
	runtimeDeps.once.Do(func() {
		cmd := exec.Command("go", "mod", "download")
		cmd.Dir = filepath.Join(repoRoot(t), "runtime")
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GOPROXY="+startGoproxy)
		runtimeDeps.out, runtimeDeps.err = cmd.CombinedOutput()
	})
	if runtimeDeps.err != nil {
		t.Fatalf("go mod download in runtime/ (split modules need its requirements): %v\n%s", runtimeDeps.err, runtimeDeps.out)
	}
}

// copyModule copies a module that replaces the runtime module with a
// relative path into a temporary directory, points its replace directive at
// this checkout's runtime and adds the runtime's go.sum lines to its own, so
// that it builds offline once extract adds the runtime.
func copyModule(t testing.TB, src string) string {
	t.Helper()
	cacheRuntimeDeps(t)
	root := repoRoot(t)
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	copyTree(t, src, dst)
	gomod := filepath.Join(dst, "go.mod")
	data, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.Parse(gomod, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.AddReplace(rewrite.RuntimeModule, "", filepath.Join(root, "runtime"), ""); err != nil {
		t.Fatal(err)
	}
	if data, err = f.Format(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gomod, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "runtime", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	own, err := os.ReadFile(filepath.Join(dst, "go.sum"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "go.sum"), append(own, sum...), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// copyTree copies the regular files of src into dst.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot returns every file of the tree under dir, by slash path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameTree fails the test for every file that differs between two
// snapshots.
func sameTree(t *testing.T, want, got map[string]string) {
	t.Helper()
	for path, w := range want {
		g, ok := got[path]
		switch {
		case !ok:
			t.Errorf("%s is gone", path)
		case g != w:
			t.Errorf("%s differs from the original", path)
		}
	}
	for path := range got {
		if _, ok := want[path]; !ok {
			t.Errorf("%s is left behind", path)
		}
	}
}

// meshsplit runs the command in process and returns its exit code and
// output.
func meshsplit(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// goCmd runs the go command in dir with extra environment and returns its
// combined output, failing the test on error.
func goCmd(t testing.TB, dir string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s (in %s, %s): %v\n%s", strings.Join(args, " "), dir, strings.Join(env, " "), err, out)
	}
	return string(out)
}
