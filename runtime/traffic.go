package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	stdruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EnvTraffic names a directory where every node of the process records the
// calls its clients make, one JSON line per call (Config.TrafficDir).
// meshsplit verify sets it for its remote run; unset, nothing is recorded
// and the call path is unchanged.
const EnvTraffic = "MESHRPC_TRAFFIC"

// The outcomes of a recorded call.
const (
	trafficOK        = "ok"        // the method returned no error
	trafficError     = "error"     // the method returned an error
	trafficTransport = "transport" // the call failed in the mesh (a *CallError, or ctx ended)
)

// trafficRecord is one line of a traffic file; docs/extract.md documents
// the schema, which meshsplit verify reads.
type trafficRecord struct {
	Service   string `json:"service"`
	Method    string `json:"method"`
	Outcome   string `json:"outcome"`
	ReqBytes  int    `json:"req_bytes"`
	RespBytes int    `json:"resp_bytes"`
	Nanos     int64  `json:"ns"`
	Site      string `json:"site,omitempty"`
	Test      string `json:"test,omitempty"`
	Err       string `json:"err,omitempty"`
}

// trafficLog appends the calls of one node's clients to its own file in
// dir: <dir>/calls-<pid>-<node id>.jsonl, opened on the first call with
// O_APPEND. Each record is one write(2), so records of concurrent calls
// never interleave and a process that exits leaves only whole lines.
type trafficLog struct {
	path   string
	log    *slog.Logger
	dir    string // this package's source directory: frames to skip
	opened sync.Once
	mu     sync.Mutex
	f      *os.File
	closed sync.Once
}

// newTrafficLog returns the log of the node id, or nil when dir is empty.
func newTrafficLog(dir, id string, log *slog.Logger) *trafficLog {
	if dir == "" {
		return nil
	}
	return &trafficLog{
		path: filepath.Join(dir, fmt.Sprintf("calls-%d-%s.jsonl", os.Getpid(), id)),
		log:  log,
		dir:  sourceDir(),
	}
}

// sourceDir returns the directory of this file as the binary records it.
func sourceDir() string {
	_, file, _, _ := stdruntime.Caller(0)
	return filepath.Dir(file)
}

// call performs c.call and records it.
func (t *trafficLog) call(ctx context.Context, c *Client, method int, req, resp Message) error {
	start := time.Now()
	err := c.call(ctx, method, req, resp)
	t.record(ctx, c, method, req, resp, start, err)
	return err
}

// record writes the record of one call of c's method, started at start
// and ended with err, with its call site and test.
func (t *trafficLog) record(ctx context.Context, c *Client, method int, req, resp Message, start time.Time, err error) {
	rec := trafficRecord{Service: c.desc.Name, Method: "#" + strconv.Itoa(method), Outcome: trafficOK, Nanos: int64(time.Since(start))}
	rec.Site, rec.Test = t.callSite()
	if method >= 0 && method < len(c.desc.Methods) {
		rec.Method = c.desc.Methods[method].Name
	}
	var ce *CallError
	switch {
	case err == nil:
	case errors.As(err, &ce), ctxEnded(ctx, err):
		rec.Outcome = trafficTransport
	default:
		rec.Outcome = trafficError
	}
	if err != nil {
		rec.Err = err.Error()
		if len(rec.Err) > 200 {
			rec.Err = rec.Err[:200] + "..."
		}
	}
	rec.ReqBytes = encodedSize(req)
	if rec.Outcome != trafficTransport {
		rec.RespBytes = encodedSize(resp)
	}
	t.write(rec)
}

// ctxEnded reports whether err is the end of the call's context: its
// error, or the server's context.DeadlineExceeded once the caller's
// deadline passed too. The server's context ends a little after the
// caller's, but on a busy machine its answer can arrive before the caller's
// own timer has fired; either way it is the deadline that ended the call,
// and the record says so the same way every time.
func ctxEnded(ctx context.Context, err error) bool {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl) && errors.Is(err, context.DeadlineExceeded)
}

// encodedSize returns the size of m as the codec encodes it: the request
// or response body, without frame and call headers.
func encodedSize(m Message) int {
	if m == nil {
		return 0
	}
	e := encoderPool.Get().(*Encoder)
	e.Reset()
	m.MarshalMesh(e)
	n := len(e.buf)
	e.Reset()
	encoderPool.Put(e)
	return n
}

// callSite returns "file:line" of the first caller outside this package's
// own (non-test) files and outside generated code (the *_mesh.go files
// meshsplit writes), and the test the call ran in: the function that
// testing.tRunner called, without its closures ("import/path.TestName"),
// or "" when the calling goroutine is not a test's.
func (t *trafficLog) callSite() (site, test string) {
	var pcs [64]uintptr
	n := stdruntime.Callers(3, pcs[:])
	frames := stdruntime.CallersFrames(pcs[:n])
	prev := ""
	for {
		f, more := frames.Next()
		inRuntime := filepath.Dir(f.File) == t.dir && !strings.HasSuffix(f.File, "_test.go")
		if site == "" && f.File != "" && !inRuntime && !strings.HasSuffix(f.File, "_mesh.go") {
			site = f.File + ":" + strconv.Itoa(f.Line)
		}
		if f.Function == "testing.tRunner" {
			return site, testName(prev)
		}
		prev = f.Function
		if !more {
			return site, ""
		}
	}
}

// testName trims the closures off a test function's symbol name:
// "example.com/shop/orders.TestPlace.func1" -> "example.com/shop/orders.TestPlace".
// The package path ends at the first dot after its last slash (the linker
// escapes dots in the last element).
func testName(fn string) string {
	start := strings.LastIndexByte(fn, '/') + 1
	dot := strings.IndexByte(fn[start:], '.')
	if dot < 0 {
		return fn
	}
	name := start + dot + 1
	if i := strings.IndexByte(fn[name:], '.'); i >= 0 {
		return fn[:name+i]
	}
	return fn
}

// write appends rec as one line. A file that cannot be opened or written
// is logged once; the call itself is never affected.
func (t *trafficLog) write(rec trafficRecord) {
	t.opened.Do(func() {
		f, err := os.OpenFile(t.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		t.mu.Lock()
		t.f = f
		t.mu.Unlock()
		if err != nil {
			t.log.Error("meshrpc: cannot record traffic", "env", EnvTraffic, "err", err)
		}
	})
	line, err := json.Marshal(rec)
	if err != nil {
		return
	}
	t.mu.Lock()
	f := t.f
	t.mu.Unlock()
	if f == nil {
		return
	}
	if _, err := f.Write(append(line, '\n')); err != nil && !errors.Is(err, os.ErrClosed) {
		t.log.Error("meshrpc: cannot record traffic", "file", t.path, "err", err)
	}
}

// shutdown closes the file; later records are dropped. It is nil-safe.
func (t *trafficLog) shutdown() {
	if t == nil {
		return
	}
	t.closed.Do(func() {
		t.opened.Do(func() {}) // never open it after this
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.f != nil {
			t.f.Close()
		}
	})
}
