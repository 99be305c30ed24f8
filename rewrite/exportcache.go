package rewrite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// This file remembers, between runs, where the go command's build cache
// keeps the export data fetched ahead (fetchExportAhead): asking the go
// command takes 200-300 ms even when everything is cached, most of an
// extraction's -w beyond its dry run on a small module, while checking
// that the answer still holds takes a few milliseconds.
//
// An entry is found by a key made of what selects the packages and how
// they build: the go command's environment as 'go env' reports it (the
// toolchain, GOROOT, GOOS, GOARCH, GOFLAGS, cgo, GOCACHE...), the
// compiler binary's size and time, the planned go.mod and go.sum, and the
// module's directory (for relative replace directives). An entry found is
// then validated, never trusted as it is: every file and directory of
// every package the export data was built from (the runtime, yamux, the
// standard library's, as 'go list -deps' named them, and their modules'
// go.mod files) must have the size and modification time it had, every
// directory of theirs the same names (no file added or removed), and
// every export file must still be in the build cache with its size (the
// build cache names a file by the hash of its content). Otherwise the go
// command is asked, as without the cache, and the entry is replaced. The
// cache keeps the maxExportEntries entries used last.

// exportCacheVersion changes when the entry format or key does.
const exportCacheVersion = "meshsplit export data 1"

// goEnvKeys are the variables of 'go env' that select what the go command
// builds and where it keeps it.
var goEnvKeys = []string{
	"GOVERSION", "GOROOT", "GOHOSTOS", "GOHOSTARCH", "GOOS", "GOARCH", "GOFLAGS", "GOEXPERIMENT", "GOCACHE", "GOMODCACHE", "GOTOOLCHAIN",
	"CGO_ENABLED", "CC", "CXX", "CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS", "PKG_CONFIG",
	"GOAMD64", "GO386", "GOARM", "GOARM64", "GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64", "GOWASM",
}

// exportEntry is what the cache keeps for one key.
type exportEntry struct {
	Files   []cachedExport `json:"files"`   // the export data of aheadPackages and their dependencies
	Sources []sourceStat   `json:"sources"` // what it was built from
}

// cachedExport is one package's export file in the build cache.
type cachedExport struct {
	Path string `json:"path"`
	File string `json:"file"`
	Size int64  `json:"size"`
}

// sourceStat is a file or directory the export data was built from, as it
// was then: a file's size and modification time, a directory's names (a
// file added or removed changes them, whatever its time).
type sourceStat struct {
	Name  string `json:"name"`
	Size  int64  `json:"size"`            // -1 for a directory
	MTime int64  `json:"mtime,omitempty"` // a file's
	Names string `json:"names,omitempty"` // a directory's, hashed
}

// statOf returns the sourceStat of name, or false when it cannot be read.
func statOf(name string) (sourceStat, bool) {
	fi, err := os.Stat(name)
	if err != nil {
		return sourceStat{}, false
	}
	if !fi.IsDir() {
		return sourceStat{Name: name, Size: fi.Size(), MTime: fi.ModTime().UnixNano()}, true
	}
	f, err := os.Open(name)
	if err != nil {
		return sourceStat{}, false
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return sourceStat{}, false
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00", n)
	}
	return sourceStat{Name: name, Size: -1, Names: hex.EncodeToString(h.Sum(nil)[:16])}, true
}

// exportCacheFile returns the file of key in the user's cache directory,
// or "" when there is none.
func exportCacheFile(key string) string {
	dir, err := os.UserCacheDir()
	if err != nil || key == "" {
		return ""
	}
	return filepath.Join(dir, "meshsplit", "export", key+".json")
}

// exportKey returns the key of the export data of aheadPackages for the
// module at root with go.mod planned, built with env (as modEnv made it),
// or an error when the go command's environment cannot be read.
func exportKey(ctx context.Context, root string, planned []byte, env []string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"env", "-json"}, goEnvKeys...)...)
	cmd.Dir = root
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var vars map[string]string
	if err := json.Unmarshal(out, &vars); err != nil {
		return "", fmt.Errorf("go env: %w", err)
	}
	if vars["GOROOT"] == "" || vars["GOCACHE"] == "" || vars["GOCACHE"] == "off" {
		return "", errors.New("go env: no GOROOT or no build cache")
	}
	// -modfile names a temporary copy of planned, which the key holds.
	var flags []string
	for _, f := range strings.Fields(vars["GOFLAGS"]) {
		if !strings.HasPrefix(f, "-modfile=") && !strings.HasPrefix(f, "--modfile=") {
			flags = append(flags, f)
		}
	}
	vars["GOFLAGS"] = strings.Join(flags, " ")
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%q\n%q\n", exportCacheVersion, aheadPackages, root)
	for _, k := range goEnvKeys {
		fmt.Fprintf(h, "%s=%q\n", k, vars[k])
	}
	compiler := filepath.Join(vars["GOROOT"], "pkg", "tool", vars["GOHOSTOS"]+"_"+vars["GOHOSTARCH"], "compile")
	if vars["GOHOSTOS"] == "windows" {
		compiler += ".exe"
	}
	st, ok := statOf(compiler)
	if !ok {
		return "", fmt.Errorf("no compiler at %s", compiler)
	}
	fmt.Fprintf(h, "compile %d %d\n", st.Size, st.MTime)
	fmt.Fprintf(h, "go.mod %d\n%s\ngo.sum %d\n%s\n", len(planned), planned, len(sum), sum)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// loadExportCache returns the export files kept under key when every
// source they were built from is as it was and each is still in the
// build cache; false otherwise.
func loadExportCache(key string) ([]exportFile, bool) {
	name := exportCacheFile(key)
	if name == "" {
		return nil, false
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, false
	}
	var e exportEntry
	if err := json.Unmarshal(data, &e); err != nil || len(e.Files) == 0 || len(e.Sources) == 0 {
		return nil, false
	}
	for _, s := range e.Sources {
		if now, ok := statOf(s.Name); !ok || now != s {
			return nil, false
		}
	}
	files := make([]exportFile, 0, len(e.Files))
	for _, f := range e.Files {
		if st, ok := statOf(f.File); !ok || st.Size != f.Size {
			return nil, false
		}
		files = append(files, exportFile{f.Path, f.File})
	}
	now := time.Now()
	_ = os.Chtimes(name, now, now) // used: the last to be trimmed
	return files, true
}

// maxExportEntries is how many entries the cache keeps: storing one more
// removes the least recently used.
const maxExportEntries = 32

// storeExportCache keeps under key the export files in list and the
// sources they were built from, unless a source changed
// while the go command ran or so shortly before it started (since) that a
// change within the same clock tick could go unseen. A failure to write
// changes nothing but the next run's time.
func storeExportCache(key string, list []exportFile, sources []sourceStat, since time.Time) {
	name := exportCacheFile(key)
	if name == "" || len(sources) == 0 {
		return
	}
	racy := since.Add(-2 * time.Second).UnixNano()
	for _, s := range sources {
		if s.Size >= 0 && s.MTime >= racy {
			return
		}
	}
	var e exportEntry
	for _, f := range list {
		st, ok := statOf(f.file)
		if !ok {
			return
		}
		e.Files = append(e.Files, cachedExport{Path: f.path, File: f.file, Size: st.Size})
	}
	e.Sources = sources
	data, err := json.Marshal(e)
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".entry-*")
	if err != nil {
		return
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		return
	}
	if os.Rename(tmp.Name(), name) != nil {
		return
	}
	trimExportCache(filepath.Dir(name))
}

// trimExportCache removes the least recently used entries of the cache
// directory dir beyond maxExportEntries.
func trimExportCache(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type entry struct {
		name string
		used time.Time
	}
	var list []entry
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		if fi, err := e.Info(); err == nil {
			list = append(list, entry{e.Name(), fi.ModTime()})
		}
	}
	if len(list) <= maxExportEntries {
		return
	}
	sort.Slice(list, func(i, j int) bool { return list[i].used.After(list[j].used) })
	for _, e := range list[maxExportEntries:] {
		_ = os.Remove(filepath.Join(dir, e.name))
	}
}
