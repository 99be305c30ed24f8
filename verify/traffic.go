package verify

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/meshsplit/meshsplit/analyze"
)

// MethodTraffic sums up the calls of one method that the remote run
// recorded (docs/extract.md, "Traffic", documents the JSON form).
type MethodTraffic struct {
	// Method is the interface method's name.
	Method string `json:"method"`
	// Calls counts every recorded call, whatever its outcome.
	Calls int `json:"calls"`
	// Errors counts the calls whose method returned an error.
	Errors int `json:"errors"`
	// TransportFailures counts the calls that failed in the mesh (the
	// method may not have run).
	TransportFailures int `json:"transport_failures"`
	// ReqBytes and RespBytes total the encoded request and response bodies.
	ReqBytes  int64 `json:"req_bytes"`
	RespBytes int64 `json:"resp_bytes"`
	// MedianNanos is the median duration of a call, in nanoseconds, as the
	// caller saw it (encoding, the round trip over TCP, decoding).
	MedianNanos int64 `json:"median_ns"`
	// Sites are the distinct call sites, "file:line" relative to the
	// module root: the first frame outside generated code and the runtime.
	Sites []string `json:"sites"`
}

// Crossed counts the calls that reached the implementation and came back.
func (m MethodTraffic) Crossed() int { return m.Calls - m.TransportFailures }

// record is one line of a traffic file as runtime/traffic.go writes it.
type record struct {
	Service   string `json:"service"`
	Method    string `json:"method"`
	Outcome   string `json:"outcome"`
	ReqBytes  int64  `json:"req_bytes"`
	RespBytes int64  `json:"resp_bytes"`
	Nanos     int64  `json:"ns"`
	Site      string `json:"site"`
	Test      string `json:"test"`
}

// readTraffic reads the records of every test process in dir and sums
// them per method of the seam: every method appears, those never called
// with zero calls, in the interface's (name) order.
func readTraffic(dir, root string, seam *analyze.Seam) ([]MethodTraffic, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	byMethod := map[string]*MethodTraffic{}
	var order []string
	get := func(name string) *MethodTraffic {
		m := byMethod[name]
		if m == nil {
			m = &MethodTraffic{Method: name, Sites: []string{}}
			byMethod[name] = m
			order = append(order, name)
		}
		return m
	}
	for _, m := range seam.Methods {
		get(m.Name)
	}
	durations := map[string][]int64{}
	sites := map[string]map[string]bool{}
	for _, name := range files {
		if err := readRecords(name, func(r record) {
			if r.Service != seam.Name {
				return
			}
			m := get(r.Method)
			m.Calls++
			switch r.Outcome {
			case "error":
				m.Errors++
			case "transport":
				m.TransportFailures++
			}
			m.ReqBytes += r.ReqBytes
			m.RespBytes += r.RespBytes
			durations[r.Method] = append(durations[r.Method], r.Nanos)
			if r.Site != "" {
				if sites[r.Method] == nil {
					sites[r.Method] = map[string]bool{}
				}
				sites[r.Method][relSite(root, r.Site)] = true
			}
		}); err != nil {
			return nil, err
		}
	}
	out := make([]MethodTraffic, 0, len(order))
	for _, name := range order {
		m := byMethod[name]
		m.MedianNanos = median(durations[name])
		for s := range sites[name] {
			m.Sites = append(m.Sites, s)
		}
		sort.Slice(m.Sites, func(i, j int) bool { return SiteLess(m.Sites[i], m.Sites[j]) })
		out = append(out, *m)
	}
	return out, nil
}

// readRecords calls f for each record of one traffic file. A line that
// does not parse (a process killed mid-write on a system where appends
// are not atomic) is an error naming the file and line.
func readRecords(name string, f func(record)) error {
	file, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("reading traffic records: %w", err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("traffic record %s:%d: %w", name, n, err)
		}
		f(r)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading traffic records %s: %w", name, err)
	}
	return nil
}

// relSite returns a "file:line" site relative to root when it is inside.
func relSite(root, site string) string {
	i := strings.LastIndexByte(site, ':')
	if i < 0 {
		return site
	}
	file, line := site[:i], site[i:]
	if rel, err := filepath.Rel(root, file); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel) + line
	}
	return site
}

// SiteLess orders "file:line" call sites by file, then line number (so
// that orders/service.go:9 comes before orders/service.go:88).
func SiteLess(a, b string) bool {
	fa, la := splitSite(a)
	fb, lb := splitSite(b)
	if fa != fb {
		return fa < fb
	}
	return la < lb
}

// splitSite splits "file:line"; a site without a line has line 0.
func splitSite(s string) (string, int) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, 0
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return s, 0
	}
	return s[:i], n
}

// median returns the median of ds (the lower middle of an even count), or
// 0 for none.
func median(ds []int64) int64 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]int64(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)/2]
}
