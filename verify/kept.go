package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/meshsplit/meshsplit/analyze"
)

// TrafficVersion is the version of the kept traffic file (docs/extract.md,
// "Kept traffic"). It changes only when a field is removed or changes
// meaning.
const TrafficVersion = 1

// KeptTraffic is what verify keeps of a remote run's traffic, for
// 'meshsplit impact' and the seam map: the recorded calls of the
// interface, grouped by method, call site and test.
type KeptTraffic struct {
	// Version is TrafficVersion.
	Version int `json:"version"`
	// Module is the module's path, Root its directory.
	Module string `json:"module"`
	Root   string `json:"root"`
	// Seam is the interface's qualified name.
	Seam string `json:"seam"`
	// Taken is when verify began building the tests: source changed after
	// it was not what the traffic came from.
	Taken time.Time `json:"taken"`
	// Patterns are the packages tested.
	Patterns []string `json:"patterns"`
	// Calls groups every recorded call, sorted by site, test, then method.
	Calls []CallGroup `json:"calls"`
}

// A CallGroup sums the recorded calls of one method from one call site in
// one test.
type CallGroup struct {
	// Method is the interface method's name.
	Method string `json:"method"`
	// Site is the caller's "file:line", relative to the module root when
	// inside it (see MethodTraffic.Sites).
	Site string `json:"site"`
	// Test is the test the calls ran in ("import/path.TestName"), or ""
	// for calls made on goroutines the test started.
	Test string `json:"test"`
	// Calls counts the calls; Errors those whose method returned an error;
	// Transport those that failed in the mesh.
	Calls     int `json:"calls"`
	Errors    int `json:"errors"`
	Transport int `json:"transport"`
	// ReqBytes and RespBytes total the encoded bodies.
	ReqBytes  int64 `json:"req_bytes"`
	RespBytes int64 `json:"resp_bytes"`
	// Nanos totals the calls' durations as the caller saw them.
	Nanos int64 `json:"ns"`
}

// Crossed counts the calls that reached the implementation and came back.
func (g CallGroup) Crossed() int { return g.Calls - g.Transport }

// groupTraffic reads the records of the seam in dir, grouped.
func groupTraffic(dir, root string, seam *analyze.Seam) ([]CallGroup, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	type key struct{ method, site, test string }
	groups := map[key]*CallGroup{}
	for _, name := range files {
		if err := readRecords(name, func(r record) {
			if r.Service != seam.Name {
				return
			}
			k := key{r.Method, relSite(root, r.Site), r.Test}
			g := groups[k]
			if g == nil {
				g = &CallGroup{Method: k.method, Site: k.site, Test: k.test}
				groups[k] = g
			}
			g.Calls++
			switch r.Outcome {
			case "error":
				g.Errors++
			case "transport":
				g.Transport++
			}
			g.ReqBytes += r.ReqBytes
			g.RespBytes += r.RespBytes
			g.Nanos += r.Nanos
		}); err != nil {
			return nil, err
		}
	}
	out := make([]CallGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Site != b.Site {
			return SiteLess(a.Site, b.Site)
		}
		if a.Test != b.Test {
			return a.Test < b.Test
		}
		return a.Method < b.Method
	})
	return out, nil
}

// EnvTrafficDir names the directory where verify keeps traffic, instead of
// meshsplit/traffic in the user's cache directory.
const EnvTrafficDir = "MESHSPLIT_TRAFFIC_DIR"

// TrafficFile returns where verify keeps the traffic of seam (a qualified
// interface name) for the module in root: under $MESHSPLIT_TRAFFIC_DIR, or
// meshsplit/traffic in the user's cache directory ($XDG_CACHE_HOME or
// ~/.cache on Linux), one directory per module root.
func TrafficFile(root, seam string) (string, error) {
	dir := os.Getenv(EnvTrafficDir)
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("where to keep the traffic: %w (set %s)", err, EnvTrafficDir)
		}
		dir = filepath.Join(cache, "meshsplit", "traffic")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("where to keep the traffic: %w", err)
	}
	sum := sha256.Sum256([]byte(abs))
	name := strings.NewReplacer("/", "_", "\\", "_", ":", "_").Replace(seam) + ".json"
	return filepath.Join(dir, hex.EncodeToString(sum[:8]), name), nil
}

// keepTraffic writes kept to its TrafficFile, whole or not at all, and
// returns the file's name.
func keepTraffic(kept *KeptTraffic) (string, error) {
	name, err := TrafficFile(kept.Root, kept.Seam)
	if err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(kept, "", " ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return "", fmt.Errorf("keeping the traffic: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".traffic-*")
	if err != nil {
		return "", fmt.Errorf("keeping the traffic: %w", err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), name)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("keeping the traffic in %s: %w", name, werr)
	}
	return name, nil
}

// ErrNoTraffic is wrapped by LoadTraffic's error when verify kept no
// traffic for the interface.
var ErrNoTraffic = errors.New("no traffic kept")

// LoadTraffic reads the traffic verify kept for seam in the module at
// root. The error wraps ErrNoTraffic when there is none.
func LoadTraffic(root, seam string) (*KeptTraffic, string, error) {
	name, err := TrafficFile(root, seam)
	if err != nil {
		return nil, "", err
	}
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, name, fmt.Errorf("%w for %s in %s", ErrNoTraffic, seam, name)
	}
	if err != nil {
		return nil, name, fmt.Errorf("reading the kept traffic: %w", err)
	}
	var kept KeptTraffic
	if err := json.Unmarshal(data, &kept); err != nil {
		return nil, name, fmt.Errorf("%s does not parse (%v): run meshsplit verify again to rewrite it", name, err)
	}
	if kept.Version != TrafficVersion {
		return nil, name, fmt.Errorf("%s has version %d, this meshsplit reads %d: run meshsplit verify again to rewrite it", name, kept.Version, TrafficVersion)
	}
	return &kept, name, nil
}

// NewerSource returns the first Go source or go.mod/go.sum file of the
// module at root (nested modules, testdata, vendor and hidden directories
// aside) changed after t, or "" when none was: the kept traffic is stale
// when there is one.
func NewerSource(root string, t time.Time) (string, time.Time, error) {
	var newest string
	var when time.Time
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if analyze.SkipsDir(root, path) {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if !strings.HasSuffix(name, ".go") && name != "go.mod" && name != "go.sum" {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().After(t) && info.ModTime().After(when) {
			newest, when = path, info.ModTime()
		}
		return nil
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("checking the module's files against the kept traffic: %w", err)
	}
	if newest != "" {
		if rel, err := filepath.Rel(root, newest); err == nil {
			newest = filepath.ToSlash(rel)
		}
	}
	return newest, when, nil
}
