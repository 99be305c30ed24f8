package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// This file runs the Python client of testdata/pyclient, written from
// docs/protocol.md alone, against a real node: if the document and the wire
// drift apart, the Python client's bytes stop matching the node's and this
// test fails.

// stock is a second test service, with a struct, slices, a pointer, a
// float and named results, which the greeter does not have.
type stock interface {
	Describe(ctx context.Context, at time.Time) (text string, later time.Time, err error)
	Restock(ctx context.Context, items []stockItem, add int) (out []stockItem, total int, err error)
}

type stockItem struct {
	SKU   string   `json:"sku"`
	Qty   int      `json:"qty"`
	Tags  []string `json:"tags"`
	Price float64  `json:"price"`
	Fresh bool     `json:"fresh"`
	Note  *string  `json:"note"`
}

// stockImpl adds add to every item's quantity, tags it "restocked" and
// doubles its price; total is the sum of the new quantities.
type stockImpl struct{}

func (stockImpl) Restock(ctx context.Context, items []stockItem, add int) ([]stockItem, int, error) {
	if items == nil {
		return nil, 0, nil
	}
	out := make([]stockItem, len(items))
	total := 0
	for i, it := range items {
		it.Qty += add
		it.Tags = append(it.Tags, "restocked")
		it.Price *= 2
		out[i] = it
		total += it.Qty
	}
	return out, total, nil
}

// Describe formats at with its zone's name, and returns it an hour later.
func (stockImpl) Describe(ctx context.Context, at time.Time) (string, time.Time, error) {
	name, _ := at.Zone()
	return at.Format(time.RFC3339Nano) + " " + name, at.Add(time.Hour), nil
}

type stockDescribeRequest struct {
	At time.Time `json:"at"`
}

func (m *stockDescribeRequest) MarshalMesh(e *Encoder)   { e.Time(m.At) }
func (m *stockDescribeRequest) UnmarshalMesh(d *Decoder) { m.At = d.Time() }

type stockDescribeResponse struct {
	Text  string    `json:"text"`
	Later time.Time `json:"later"`
}

func (m *stockDescribeResponse) MarshalMesh(e *Encoder) {
	e.String(m.Text)
	e.Time(m.Later)
}

func (m *stockDescribeResponse) UnmarshalMesh(d *Decoder) {
	m.Text = d.String()
	m.Later = d.Time()
}

func stockEncodeItem(e *Encoder, it *stockItem) {
	e.String(it.SKU)
	e.Int(int64(it.Qty))
	if it.Tags == nil {
		e.Len(-1)
	} else {
		e.Len(len(it.Tags))
		for _, t := range it.Tags {
			e.String(t)
		}
	}
	e.Float64(it.Price)
	e.Bool(it.Fresh)
	e.Present(it.Note != nil)
	if it.Note != nil {
		e.String(*it.Note)
	}
}

func stockDecodeItem(d *Decoder, it *stockItem) {
	it.SKU = d.String()
	it.Qty = int(d.Int())
	if n := d.Elems(1); n >= 0 {
		it.Tags = make([]string, n)
		for i := range it.Tags {
			it.Tags[i] = d.String()
		}
	}
	it.Price = d.Float64()
	it.Fresh = d.Bool()
	if d.Present() {
		it.Note = new(string)
		*it.Note = d.String()
	}
}

func stockEncodeItems(e *Encoder, items []stockItem) {
	if items == nil {
		e.Len(-1)
		return
	}
	e.Len(len(items))
	for i := range items {
		stockEncodeItem(e, &items[i])
	}
}

func stockDecodeItems(d *Decoder) []stockItem {
	n := d.Elems(12)
	if n < 0 {
		return nil
	}
	items := make([]stockItem, n)
	for i := range items {
		stockDecodeItem(d, &items[i])
	}
	return items
}

type stockRestockRequest struct {
	Items []stockItem `json:"items"`
	Add   int         `json:"add"`
}

func (m *stockRestockRequest) MarshalMesh(e *Encoder) {
	stockEncodeItems(e, m.Items)
	e.Int(int64(m.Add))
}

func (m *stockRestockRequest) UnmarshalMesh(d *Decoder) {
	m.Items = stockDecodeItems(d)
	m.Add = int(d.Int())
}

type stockRestockResponse struct {
	Out   []stockItem `json:"out"`
	Total int         `json:"total"`
}

func (m *stockRestockResponse) MarshalMesh(e *Encoder) {
	stockEncodeItems(e, m.Out)
	e.Int(int64(m.Total))
}

func (m *stockRestockResponse) UnmarshalMesh(d *Decoder) {
	m.Out = stockDecodeItems(d)
	m.Total = int(d.Int())
}

const stockName = "example.com/test/stock.Stock"

var stockDesc = ServiceDesc{
	Name:        stockName,
	Fingerprint: "stock-fp-1",
	Methods: []MethodDesc{{
		Name: "Describe", Fingerprint: "describe-1", Params: []string{"at"},
		NewRequest:  func() Message { return new(stockDescribeRequest) },
		NewResponse: func() Message { return new(stockDescribeResponse) },
		Invoke: func(ctx context.Context, impl any, req Message) (Message, error) {
			text, later, err := impl.(stock).Describe(ctx, req.(*stockDescribeRequest).At)
			return &stockDescribeResponse{Text: text, Later: later}, err
		},
	}, {
		Name: "Restock", Fingerprint: "restock-1", Params: []string{"items", "add"},
		NewRequest:  func() Message { return new(stockRestockRequest) },
		NewResponse: func() Message { return new(stockRestockResponse) },
		Invoke: func(ctx context.Context, impl any, req Message) (Message, error) {
			r := req.(*stockRestockRequest)
			out, total, err := impl.(stock).Restock(ctx, r.Items, r.Add)
			return &stockRestockResponse{Out: out, Total: total}, err
		},
	}},
}

// pythonOrSkip returns the path of python3, or skips the test.
func pythonOrSkip(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH: the Python client of testdata/pyclient is not run")
	}
	return py
}

// runScenario runs testdata/pyclient/scenario.py with args, bounded by
// limit, and returns its steps by name. Its stderr goes to the test log.
func runScenario(t *testing.T, limit time.Duration, args ...string) map[string]map[string]any {
	t.Helper()
	stdout, code := runPython(t, limit, "scenario.py", args...)
	if code != 0 {
		t.Fatalf("scenario.py exited with %d; output:\n%s", code, stdout)
	}
	steps := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s map[string]any
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("scenario.py printed a line that is not JSON: %q: %v", sc.Text(), err)
		}
		name, _ := s["step"].(string)
		delete(s, "step")
		if ex, ok := s["exception"]; ok {
			t.Errorf("step %q raised in Python: %v", name, ex)
		}
		steps[name] = s
	}
	return steps
}

// runPython runs script of testdata/pyclient with args, bounded by limit,
// and returns its stdout and exit code. Its stderr goes to the test log.
func runPython(t *testing.T, limit time.Duration, script string, args ...string) (string, int) {
	t.Helper()
	py := pythonOrSkip(t)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"-B", script}, args...)...)
	cmd.Dir = filepath.Join("testdata", "pyclient")
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if stderr.Len() > 0 {
		t.Logf("%s stderr:\n%s", script, stderr.String())
	}
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v; output so far:\n%s", script, limit, stdout.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running %s: %v", script, err)
	}
	return stdout.String(), cmd.ProcessState.ExitCode()
}

// jsonValue decodes a JSON literal of the test's expectations.
func jsonValue(t *testing.T, lit string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(lit), &v); err != nil {
		t.Fatalf("bad expectation %s: %v", lit, err)
	}
	return v
}

// pythonTestConfig is the configuration of the node the Python client
// calls: testConfig's short liveness timeout (1s, pings every 200ms), which
// the scenario's idle period (pythonIdle) exceeds three times, so that a
// session survives it only if the client answers pings.
func pythonTestConfig() Config { return testConfig() }

const pythonIdle = "3"

// TestPythonClient runs a client written in Python from docs/protocol.md
// against a node publishing the greeter and the stock service: handshake,
// heartbeat, HTTP-path and fast-path calls (results, every error envelope,
// the refusals), an idle period longer than the liveness timeout, gossip.
func TestPythonClient(t *testing.T) {
	pythonOrSkip(t)
	n := checkPythonScenario(t, pythonTestConfig())

	// The command line: HTTP-path calls, exit 1 for a failed call.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"call", "greet.Greeter", "Greet", `{"name": "Cli"}`}, 0, `{"r0": "hello Cli"}`},
		{[]string{"call", greeterName, "Fail", `{"kind": "plain"}`}, 1, `{"error": "plain failure", "result": {"r0": 3}}`},
		{[]string{"call", greeterName, "Nope", `{}`}, 1, `{"error": "service example.com/test/greet.Greeter has no method \"Nope\"", "code": "unknown_method"}`},
	} {
		out, code := runPython(t, 30*time.Second, "meshclient.py", append([]string{n.Addr()}, tc.args...)...)
		var got any
		if err := json.Unmarshal([]byte(out), &got); err != nil || code != tc.code || !reflect.DeepEqual(got, jsonValue(t, tc.want)) {
			t.Errorf("meshclient.py %s: exit %d, output %s; want exit %d and %s", strings.Join(tc.args, " "), code, out, tc.code, tc.want)
		}
	}
}

// TestPythonClientKeyMode runs the same scenario in key mode: TLS 1.3 with
// the certificates the Python client derives from the cluster key
// (testdata/pyclient/keymode.py: HKDF, Ed25519 and X.509 in pure Python).
// A client with another key, or none, is refused.
func TestPythonClientKeyMode(t *testing.T) {
	pythonOrSkip(t)
	const key = "python client cluster key 0123456789"
	cfg := pythonTestConfig()
	cfg.ClusterKey = []byte(key)
	n := checkPythonScenario(t, cfg, "--key", key)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong key", []string{"--key", "another cluster key 0123456789"}, "CERTIFICATE_VERIFY_FAILED"},
		{"no key", nil, "security mismatch: the node uses mode 1"},
	} {
		steps := runScenario(t, 30*time.Second, append([]string{"--addr", n.Addr(), "--connect-only"}, tc.args...)...)
		got := steps["connect"]
		if got["accepted"] != false || !strings.Contains(fmt.Sprint(got["error"]), tc.want) {
			t.Errorf("%s: got %v, want a refusal mentioning %q", tc.name, got, tc.want)
		}
	}
}

// checkPythonScenario starts a node with cfg, runs the scenario against it
// with the extra arguments and checks every step; it returns the node.
func checkPythonScenario(t *testing.T, cfg Config, extra ...string) *Node {
	t.Helper()
	n, impl := serveGreeter(t, cfg, "py")
	if err := n.Publish(&stockDesc, stockImpl{}); err != nil {
		t.Fatalf("Publish: %v", err)
	}

	steps := runScenario(t, 60*time.Second, append([]string{"--addr", n.Addr(), "--idle", pythonIdle}, extra...)...)

	want := map[string]string{
		"handshake": fmt.Sprintf(`{"peer_id": %q, "peer_addr": %q}`, n.ID(), n.Addr()),
		"heartbeat": `{"peers": 1, "methods": {
			"Greeter.Echo": {"index": 0, "fingerprint": "echo-1", "params": ["data"], "param_types": ["[]uint8"], "results": ["r0"], "result_types": ["[]uint8"]},
			"Greeter.Fail": {"index": 1, "fingerprint": "fail-1", "params": ["kind"], "param_types": ["string"], "results": ["r0"], "result_types": ["int"]},
			"Greeter.Greet": {"index": 2, "fingerprint": "greet-1", "params": ["name"], "param_types": ["string"], "results": ["r0"], "result_types": ["string"]},
			"Greeter.Panic": {"index": 3, "fingerprint": "panic-1", "params": [], "param_types": [], "results": [], "result_types": []},
			"Greeter.Sleep": {"index": 4, "fingerprint": "sleep-1", "params": ["d"], "param_types": ["time.Duration"], "results": [], "result_types": []},
			"Greeter.Whoami": {"index": 5, "fingerprint": "whoami-1", "params": [], "param_types": [], "results": ["r0"], "result_types": ["string"]},
			"Stock.Describe": {"index": 0, "fingerprint": "describe-1", "params": ["at"], "param_types": ["time.Time"],
				"results": ["text", "later"], "result_types": ["string", "time.Time"]},
			"Stock.Restock": {"index": 1, "fingerprint": "restock-1", "params": ["items", "add"],
				"param_types": ["[]github.com/meshsplit/meshsplit/runtime.stockItem", "int"], "results": ["out", "total"],
				"result_types": ["[]github.com/meshsplit/meshsplit/runtime.stockItem", "int"]}}}`,

		"http Greet":           `{"status": 200, "body": {"r0": "hello Max"}}`,
		"http Greet by suffix": `{"status": 200, "body": {"r0": "hello Ann"}}`,
		"http Fail sentinel": `{"status": 500, "body": {"error": "greeter: not found",
			"is": ["example.com/test/greet.ErrNotFound"], "result": {"r0": 0}}}`,
		"http Restock": `{"status": 200, "body": {"total": 5, "out": [
			{"sku": "A1", "qty": 5, "tags": ["x", "restocked"], "price": 3, "fresh": true, "note": null}]}}`,

		"fast Greet":      `{"result": "hello Max"}`,
		"fast Greet utf8": `{"result": "hello Zoë ☃"}`,
		"fast Echo bytes": `{"result": [0, 1, 255]}`,
		"fast Echo nil":   `{"result": null}`,
		"fast Fail ok":    `{"result": 1}`,
		"fast Fail sentinel": `{"result": 0, "remote_error": {"form": 1, "message": "greeter: not found",
			"name": "example.com/test/greet.ErrNotFound", "value": null, "sentinels": [], "types": {}}}`,
		"fast Fail wrapped": `{"result": 7, "remote_error": {"form": 3, "message": "looking up sku 42: greeter: not found",
			"name": "", "value": null, "sentinels": ["example.com/test/greet.ErrNotFound"], "types": {}}}`,
		"fast Fail typed": `{"result": 0, "remote_error": {"form": 2, "message": "declined 51: insufficient funds",
			"name": "example.com/test/greet.*DeclinedError", "value": {"code": 51, "reason": "insufficient funds"},
			"sentinels": [], "types": {}}}`,
		"fast Fail wrapped-typed": `{"result": 0, "remote_error": {"form": 3,
			"message": "charging: declined 5: stolen (and greeter: not found)", "name": "", "value": null,
			"sentinels": ["example.com/test/greet.ErrNotFound"],
			"types": {"example.com/test/greet.*DeclinedError": {"code": 5, "reason": "stolen"}}}}`,
		"fast Fail plain": `{"result": 3, "remote_error": {"form": 3, "message": "plain failure",
			"name": "", "value": null, "sentinels": [], "types": {}}}`,
		"fast Restock": `{"result": {"total": -69989, "out": [
			{"sku": "A1", "qty": 5, "tags": ["red", "big", "restocked"], "price": 4.5, "fresh": true, "note": "ünïcode"},
			{"sku": "B2", "qty": -69997, "tags": ["restocked"], "price": -1, "fresh": false, "note": null},
			{"sku": "C3", "qty": 3, "tags": ["restocked"], "price": 2e300, "fresh": true, "note": ""}]}}`,
		// 1 700 000 000 is 2023-11-14T22:13:20Z; the offset is in seconds
		// (-09:30: no test machine's local zone, which would make it Local itself).
		"fast Describe UTC": `{"result": {"text": "2023-11-14T22:13:20.123456789Z UTC",
			"later": {"unix": 1700003600, "nanos": 123456789, "zone": "UTC", "offset": 0}}}`,
		"fast Describe Local": `{"result": {"text": "2023-11-14T12:43:20.123456789-09:30 Local",
			"later": {"unix": 1700003600, "nanos": 123456789, "zone": "Local", "offset": -34200}}}`,
		"fast Describe XYZ": `{"result": {"text": "2023-11-14T23:13:20.123456789+01:00 XYZ",
			"later": {"unix": 1700003600, "nanos": 123456789, "zone": "XYZ", "offset": 3600}}}`,
		"fast short frame":           `{"closed": true}`,
		"fast Restock nil":           `{"result": {"out": null, "total": 0}}`,
		"fast Sleep within deadline": `{"result": null}`,
		"fast unknown service":       `{"status": 2, "code": 1, "name": "unknown_service"}`,
		"after idle fast Greet":      `{"result": "hello again"}`,
		"after idle http":            `{"status": 200, "body": "pong", "peers": 1}`,
	}
	for name, lit := range want {
		got, ok := steps[name]
		if !ok {
			t.Errorf("step %q: not reported by the Python client", name)
			continue
		}
		if exp := jsonValue(t, lit); !reflect.DeepEqual(any(got), exp) {
			gotJSON, _ := json.Marshal(got)
			expJSON, _ := json.Marshal(exp)
			t.Errorf("step %q:\n got  %s\n want %s", name, gotJSON, expJSON)
		}
	}

	// Refusals: the code is the contract, the text names the cause.
	for name, want := range map[string]struct {
		code float64
		text string
	}{
		"fast version skew":   {2, "greet-0"},
		"fast trailing bytes": {4, "1 trailing bytes after the message's last field"},
		"fast truncated":      {4, ""},
	} {
		pe, _ := steps[name]["protocol_error"].(map[string]any)
		if pe == nil || pe["code"] != want.code || !strings.Contains(fmt.Sprint(pe["text"]), want.text) {
			t.Errorf("step %q: got %v, want a protocol error with code %v naming %q", name, steps[name], want.code, want.text)
		}
	}

	// The deadline travels in nanoseconds: the 10s sleep ends at the
	// caller's 200ms, on the server, as context.DeadlineExceeded.
	late := steps["fast Sleep past deadline"]
	if re, _ := late["remote_error"].(map[string]any); re == nil || re["name"] != "context.DeadlineExceeded" {
		t.Errorf("fast Sleep past deadline: got %v, want the sentinel context.DeadlineExceeded", late)
	}
	if ms, _ := late["elapsed_ms"].(float64); ms < 150 || ms > 5000 {
		t.Errorf("fast Sleep past deadline took %vms, want about 200ms", late["elapsed_ms"])
	}

	// A cancel frame ends the call's context on the server at once.
	cancelled := steps["fast Sleep cancelled"]
	if re, _ := cancelled["remote_error"].(map[string]any); re == nil || re["name"] != "context.Canceled" {
		t.Errorf("fast Sleep cancelled: got %v, want the sentinel context.Canceled", cancelled)
	}
	if ms, _ := cancelled["elapsed_ms"].(float64); ms > 5000 {
		t.Errorf("fast Sleep cancelled took %vms, want well under the 10s sleep", cancelled["elapsed_ms"])
	}

	// The idle period: pings came (every 200ms) and were answered, and the
	// session outlived three liveness timeouts.
	idle := steps["idle"]
	if idle["closed"] != false {
		t.Errorf("the node closed the Python client's session while it was idle: %v", idle)
	}
	if p, _ := idle["pings_answered"].(float64); p < 3 {
		t.Errorf("the Python client answered %v pings in %ss, want at least 3 (KeepAlive 200ms)", idle["pings_answered"], pythonIdle)
	}

	// Gossip: the node's own membership messages were acknowledged, read and
	// decoded.
	g := steps["gossip"]
	if m, _ := g["messages"].(float64); m < 1 || g["id"] != n.ID() ||
		!reflect.DeepEqual(g["services"], []any{greeterName, stockName}) {
		t.Errorf("gossip seen by the Python client: %v, want messages from %s listing both services", g, n.ID())
	}
	if c := impl.calls.Load(); c < 10 {
		t.Errorf("greeter ran %d calls, want at least 10", c)
	}
	return n
}

// TestPythonClientWithoutPongsIsDropped shows that the idle period of
// TestPythonClient proves something: the same client, answering no pings,
// is dropped by the node within KeepAlive + LivenessTimeout.
func TestPythonClientWithoutPongsIsDropped(t *testing.T) {
	pythonOrSkip(t)
	n, _ := serveGreeter(t, pythonTestConfig(), "py")
	steps := runScenario(t, 30*time.Second, "--addr", n.Addr(), "--no-pings", "10")
	got := steps["no pings"]
	if got["dropped"] != true {
		t.Fatalf("a client answering no pings was not dropped within 10s: %v", got)
	}
	if ms, _ := got["after_ms"].(float64); ms > 5000 {
		t.Errorf("dropped after %vms, want within about 1200ms (KeepAlive + LivenessTimeout)", ms)
	}
}
