package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	stdruntime "runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// readTraffic returns every record of every traffic file in dir.
func readTraffic(t *testing.T, dir string) []trafficRecord {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "calls-*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []trafficRecord
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r trafficRecord
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: a torn or malformed line %q: %v", name, sc.Text(), err)
			}
			recs = append(recs, r)
		}
		f.Close()
	}
	return recs
}

// here returns "file:line" of its caller.
func here() string {
	_, file, line, _ := stdruntime.Caller(1)
	return file + ":" + strconv.Itoa(line)
}

// TestTrafficRecordsEveryOutcome makes calls that succeed, return an error
// and fail in the mesh, and checks each record: method, outcome, bytes,
// duration and the caller's file:line.
func TestTrafficRecordsEveryOutcome(t *testing.T) {
	dir := t.TempDir()
	srv, _ := serveGreeter(t, testConfig(), "a")
	cfg := testConfig()
	cfg.TrafficDir = dir
	caller, g := callerOf(t, cfg, srv.Addr())
	ctx := within(t, 10*time.Second)

	var resp greeterStringResponse
	err := g.c.Call(ctx, greeterGreet, &greeterGreetRequest{Name: "Max"}, &resp)
	okSite := here()
	if err != nil || resp.R0 != "hello Max" {
		t.Fatalf("Greet = %q, %v", resp.R0, err)
	}
	var failResp greeterFailResponse
	err = g.c.Call(ctx, greeterFail, &greeterFailRequest{Kind: "sentinel"}, &failResp)
	errSite := here()
	if err == nil {
		t.Fatal("Fail(sentinel) returned nil")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.c.Call(cancelled, greeterGreet, &greeterGreetRequest{Name: "x"}, &resp); err == nil {
		t.Fatal("a call with an ended context succeeded")
	}
	// Concurrent calls through the generated-style client: whole lines.
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := g.Echo(ctx, []byte("0123456789")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	// A closed node records nothing more and the call path still works.
	closeCtx, cancelClose := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelClose()
	caller.Close(closeCtx)

	recs := readTraffic(t, dir)
	if len(recs) != 23 {
		t.Fatalf("%d records, want 23: %+v", len(recs), recs)
	}
	tests := []struct {
		rec       trafficRecord
		method    string
		outcome   string
		site      string
		respBytes bool
	}{
		{recs[0], "Greet", trafficOK, okSite, true},
		{recs[1], "Fail", trafficError, errSite, true},
		{recs[2], "Greet", trafficTransport, "", false},
	}
	for i, tt := range tests {
		r := tt.rec
		if r.Service != greeterName || r.Method != tt.method || r.Outcome != tt.outcome {
			t.Errorf("record %d = %+v, want %s %s", i, r, tt.method, tt.outcome)
		}
		if r.ReqBytes == 0 || (r.RespBytes > 0) != tt.respBytes || r.Nanos <= 0 {
			t.Errorf("record %d sizes/duration = %+v", i, r)
		}
		// The site is the line of the Call expression, one line above here().
		if tt.site != "" {
			file, line := splitSite(t, tt.site)
			if r.Site != file+":"+strconv.Itoa(line-1) {
				t.Errorf("record %d site = %q, want %s:%d", i, r.Site, file, line-1)
			}
		}
	}
	for i, r := range recs {
		// The concurrent Echo calls run on goroutines of their own.
		want := "github.com/meshsplit/meshsplit/runtime.TestTrafficRecordsEveryOutcome"
		if i >= 3 {
			want = ""
		}
		if r.Test != want {
			t.Errorf("record %d test = %q, want %q", i, r.Test, want)
		}
	}
	if recs[1].Err != "greeter: not found" {
		t.Errorf("error record err = %q", recs[1].Err)
	}
	for _, r := range recs[3:] {
		if r.Method != "Echo" || r.Outcome != trafficOK || r.ReqBytes != 11 || r.RespBytes != 11 || filepath.Base(splitFile(r.Site)) != "greeter_test.go" {
			t.Errorf("echo record = %+v", r)
		}
	}
}

// TestTrafficOffByDefault checks that a node without TrafficDir gives its
// clients no log: the call path is the plain one.
func TestTrafficOffByDefault(t *testing.T) {
	cfg, err := configFrom(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TrafficDir != "" {
		t.Fatalf("TrafficDir = %q with no environment", cfg.TrafficDir)
	}
	cfg, err = configFrom(func(k string) string {
		if k == EnvTraffic {
			return "/tmp/x"
		}
		return ""
	})
	if err != nil || cfg.TrafficDir != "/tmp/x" {
		t.Fatalf("%s=/tmp/x: TrafficDir %q, %v", EnvTraffic, cfg.TrafficDir, err)
	}
	n := startNode(t, testConfig())
	if c := n.Client(&greeterDesc); c.tlog != nil {
		t.Fatal("a client of a node without TrafficDir records traffic")
	}
}

func splitSite(t *testing.T, site string) (string, int) {
	t.Helper()
	file := splitFile(site)
	line, err := strconv.Atoi(site[len(file)+1:])
	if err != nil {
		t.Fatalf("site %q: %v", site, err)
	}
	return file, line
}

func splitFile(site string) string {
	for i := len(site) - 1; i >= 0; i-- {
		if site[i] == ':' {
			return site[:i]
		}
	}
	return site
}

// TestTrafficTestName trims a test function's closures off its symbol.
func TestTrafficTestName(t *testing.T) {
	for _, tt := range []struct{ fn, want string }{
		{"example.com/shop/orders.TestPlace", "example.com/shop/orders.TestPlace"},
		{"example.com/shop/orders.TestPlace.func1", "example.com/shop/orders.TestPlace"},
		{"example.com/shop/orders_test.TestPlace.func2.1", "example.com/shop/orders_test.TestPlace"},
		{"example%2ecom.TestRoot.func1", "example%2ecom.TestRoot"},
		{"main.TestX", "main.TestX"},
		{"", ""},
	} {
		if got := testName(tt.fn); got != tt.want {
			t.Errorf("testName(%q) = %q, want %q", tt.fn, got, tt.want)
		}
	}
}

// lateTimer is a context whose deadline passed while its timer has not
// fired yet (Err is nil), as on a busy machine.
type lateTimer struct{ context.Context }

func (lateTimer) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

func TestCtxEnded(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	remoteDeadline := fmt.Errorf("restock: %w", context.DeadlineExceeded) // the server's answer
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"cancelled caller", cancelled, context.Canceled, true},
		{"server's deadline after the caller's passed, timer not fired", lateTimer{context.Background()}, remoteDeadline, true},
		{"server's deadline, caller without one", context.Background(), remoteDeadline, false},
		{"another error after the deadline", lateTimer{context.Background()}, errors.New("out of stock"), false},
		{"cancelled caller, the method's own error", cancelled, errors.New("out of stock"), false},
	} {
		if got := ctxEnded(tc.ctx, tc.err); got != tc.want {
			t.Errorf("%s: ctxEnded = %v, want %v", tc.name, got, tc.want)
		}
	}
}
