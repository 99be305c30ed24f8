package rewrite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// offlineRuntime puts the go command of the test offline (no proxy, no
// checksum database, no workspace, no GOFLAGS, the local toolchain) and
// returns this checkout's runtime module directory and its go.sum, which a
// module that extract touches replaces and takes, so that it builds without
// the network once the plan adds the runtime.
func offlineRuntime(t testing.TB) (runtimeDir string, sum []byte) {
	t.Helper()
	for k, v := range map[string]string{"GOPROXY": "off", "GOSUMDB": "off", "GOFLAGS": "", "GOWORK": "off", "GOTOOLCHAIN": "local"} {
		t.Setenv(k, v)
	}
	runtimeDir, err := filepath.Abs(filepath.Join("..", "runtime"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err = os.ReadFile(filepath.Join(runtimeDir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	return runtimeDir, sum
}

// copyFixture copies the module testdata/<name> of this checkout to a
// temporary directory, points its replace of the runtime module at this
// checkout's runtime and adds the runtime's go.sum lines (see
// offlineRuntime, which it calls).
func copyFixture(t testing.TB, name string) string {
	t.Helper()
	runtimeDir, sum := offlineRuntime(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "testdata", name))); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	own, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	writeFiles(t, map[string]string{
		filepath.Join(dir, "go.mod"): strings.ReplaceAll(string(gomod), "=> ../../runtime", "=> "+runtimeDir),
		filepath.Join(dir, "go.sum"): string(own) + string(sum),
	})
	return dir
}
