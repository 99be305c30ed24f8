package rewrite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExportCache extracts with Options.Write from a module whose go.mod
// replaces the runtime with a copy, several times, and checks that the
// export data fetched ahead comes from the cache only when nothing it was
// built from changed: the second run is served by the cache and its check
// still catches a misuse of the runtime's API with no go command left to
// run; after a file of the runtime's copy is added, and after one is
// edited, and under other build flags, the go command is asked again, and
// the check sees the runtime as it now is; and a cache entry whose export
// file left the build cache is not used.
func TestExportCache(t *testing.T) {
	runtimeDir, sum := offlineRuntime(t)
	// The go command's caches stay where they are; the user's cache
	// directory, where the entries go, moves to a new one.
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	caches := strings.Fields(string(out))
	if len(caches) != 2 {
		t.Fatalf("go env GOCACHE GOMODCACHE: %q", out)
	}
	t.Setenv("GOCACHE", caches[0])
	t.Setenv("GOMODCACHE", caches[1])
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	if dir, err := os.UserCacheDir(); err != nil || !strings.HasPrefix(dir, os.Getenv("XDG_CACHE_HOME")) {
		t.Skipf("the user's cache directory (%s, %v) does not follow XDG_CACHE_HOME here", dir, err)
	}
	copyDir := filepath.Join(t.TempDir(), "runtime")
	if err := os.CopyFS(copyDir, os.DirFS(runtimeDir)); err != nil {
		t.Fatal(err)
	}
	// Sources changed within the last seconds are not trusted to a cache
	// entry (a change within the same clock tick could go unseen): date the
	// copy back.
	old := time.Now().Add(-time.Hour)
	backdate := func() {
		t.Helper()
		err := filepath.WalkDir(copyDir, func(path string, _ os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Chtimes(path, old, old)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	backdate()
	dir := t.TempDir()
	writeFiles(t, map[string]string{
		filepath.Join(dir, "go.mod"):         "module example.com/m\n\ngo 1.24\n\nreplace " + RuntimeModule + " => " + copyDir + "\n",
		filepath.Join(dir, "go.sum"):         string(sum),
		filepath.Join(dir, "store/store.go"): "package store\n\nimport \"context\"\n\n// Store stores.\ntype Store interface {\n\tGet(ctx context.Context, id string) (string, error)\n}\n\ntype mem struct{}\n\nfunc (mem) Get(ctx context.Context, id string) (string, error) { return id, nil }\n\n// NewStore returns a Store.\nfunc NewStore() Store { return mem{} }\n",
	})
	ctx := context.Background()
	extract := func(wantCached bool) *Plan {
		t.Helper()
		p, err := Extract(ctx, Options{Dir: dir, Iface: "store.Store", Force: true, Write: true})
		if err != nil || p.Refused() {
			t.Fatalf("extract: %v %v", err, p.Refusals)
		}
		gomod, _, err := planned(p.Root, p.Changes)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.ahead.files(gomod, map[string]bool{RuntimeModule: true}); !ok {
			t.Fatalf("the export data fetched ahead does not serve the plan (err %v)", p.ahead.err)
		}
		if p.ahead.cached != wantCached {
			t.Fatalf("export data from the cache: %v, want %v", p.ahead.cached, wantCached)
		}
		return p
	}
	// with replaces the first use of the runtime's Connect in the plan's
	// files by name.
	with := func(p *Plan, name string) *Plan {
		t.Helper()
		q := *p
		q.Changes = append([]FileChange(nil), p.Changes...)
		for i, c := range q.Changes {
			if c.New != nil && bytes.Contains(c.New, []byte("meshrt.Connect(")) {
				q.Changes[i].New = bytes.Replace(c.New, []byte("meshrt.Connect("), []byte("meshrt."+name+"("), 1)
				return &q
			}
		}
		t.Fatal("no generated file calls meshrt.Connect: update the test to another runtime name")
		return nil
	}
	// check runs the plan's check with no go command to run.
	path := os.Getenv("PATH")
	check := func(p *Plan) []string {
		t.Helper()
		os.Setenv("PATH", "")
		defer os.Setenv("PATH", path)
		errs, err := p.check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return errs
	}

	extract(false)
	p := extract(true)
	if errs := check(p); len(errs) > 0 {
		t.Fatalf("check of the plan from the cache = %q, want none", errs)
	}
	if errs := check(with(p, "NoSuchConnect")); !strings.Contains(strings.Join(errs, "\n"), "NoSuchConnect") {
		t.Fatalf("check of a plan misusing the runtime, from the cache = %q; want an error naming NoSuchConnect", errs)
	}

	// A file added to the runtime: its directory changed.
	writeFiles(t, map[string]string{filepath.Join(copyDir, "zz_added.go"): "package runtime\n\n// ConnectAdded is Connect.\nvar ConnectAdded = Connect\n"})
	p = extract(false)
	if errs := check(with(p, "ConnectAdded")); len(errs) > 0 {
		t.Fatalf("check of a plan using what the runtime gained = %q, want none", errs)
	}
	backdate()
	extract(false) // kept now that its sources are not recent
	extract(true)

	// A file edited in place.
	writeFiles(t, map[string]string{filepath.Join(copyDir, "zz_added.go"): "package runtime\n\n// ConnectEdited is Connect.\nvar ConnectEdited = Connect\n"})
	p = extract(false)
	if errs := check(with(p, "ConnectEdited")); len(errs) > 0 {
		t.Fatalf("check of a plan using what an edit gave the runtime = %q, want none", errs)
	}
	if errs := check(with(p, "ConnectAdded")); !strings.Contains(strings.Join(errs, "\n"), "ConnectAdded") {
		t.Fatalf("check of a plan using what an edit took from the runtime = %q, want an error naming ConnectAdded", errs)
	}
	backdate()
	extract(false)
	extract(true)

	// Other build flags: another key.
	t.Setenv("GOFLAGS", "-tags=meshsplit_cache_test")
	extract(false)
	t.Setenv("GOFLAGS", "")
	extract(true)

	// An export file gone from the build cache.
	gomod, _, err := planned(p.Root, p.Changes)
	if err != nil {
		t.Fatal(err)
	}
	env, _, cleanup, err := modEnv(p.Root, gomod, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	key, err := exportKey(ctx, p.Root, gomod, env)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := loadExportCache(key); !ok {
		t.Fatal("no cache entry for the plan's go.mod")
	}
	entry := exportCacheFile(key)
	data, err := os.ReadFile(entry)
	if err != nil {
		t.Fatal(err)
	}
	moved := bytes.Replace(data, []byte(`"file":"`), []byte(`"file":"`+t.TempDir()+`/gone`), 1)
	if err := os.WriteFile(entry, moved, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := loadExportCache(key); ok {
		t.Fatal("a cache entry naming an export file that is gone was used")
	}
	extract(false)
}

// TestTrimExportCache checks that the cache keeps the entries used last,
// maxExportEntries of them, and leaves other files alone.
func TestTrimExportCache(t *testing.T) {
	dir := t.TempDir()
	base := time.Now().Add(-time.Hour)
	n := maxExportEntries + 5
	for i := range n {
		name := filepath.Join(dir, fmt.Sprintf("%02d.json", i))
		writeFiles(t, map[string]string{name: "{}"})
		at := base.Add(time.Duration(i) * time.Second)
		if err := os.Chtimes(name, at, at); err != nil {
			t.Fatal(err)
		}
	}
	writeFiles(t, map[string]string{filepath.Join(dir, ".entry-tmp"): ""})
	trimExportCache(dir)
	for i := range n {
		_, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%02d.json", i)))
		if kept := err == nil; kept != (i >= n-maxExportEntries) {
			t.Errorf("entry %d (used %ds after the first) kept: %v", i, i, kept)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".entry-tmp")); err != nil {
		t.Errorf("a file that is not an entry was removed: %v", err)
	}
}
