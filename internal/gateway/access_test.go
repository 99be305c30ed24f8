package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tokens of the access tests, by name.
const (
	invToken    = "inv-secret-0123456789"
	legacyToken = "legacy-secret-0123456"
	allToken    = "all-secret-0123456789"
	newToken    = "new-secret-0123456789"
	oldToken    = "old-secret-0123456789"
)

// accessTokens is the token file of the access tests.
const accessTokens = `# the inventory's Reserve only
inv     ` + invToken + `    inventory.Service/Reserve
legacy  ` + legacyToken + `    legacy.API/orders
all     ` + allToken + `    *
`

// logBuffer collects log lines from the gateway's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the complete lines written so far.
func (l *logBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.TrimSuffix(l.b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// waitLines waits until the log has n lines. The gateway writes a line once
// its handler returned, which can be after the client read the answer.
func (l *logBuffer) waitLines(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		lines := l.lines()
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log has %d line(s), want %d:\n%s", len(lines), n, strings.Join(lines, "\n"))
		}
		time.Sleep(time.Millisecond) // poll within the deadline above
	}
}

// post calls url with body and a bearer token, for goroutines other than
// the test's.
func post(url, body, token string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// writeTokens writes a token file in the test's directory.
func writeTokens(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// bearer returns the header map carrying token.
func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

func TestGatewayAccessStatuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.txt")
	writeTokens(t, path, accessTokens)
	tokens, err := LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	gw, _ := startMeshConfig(t, Config{Tokens: tokens, Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	tests := []struct {
		name         string
		method, path string
		body         string
		header       map[string]string
		wantStatus   int
		want         []string // substrings of the body
		absent       []string // what the body must not show
		challenge    string   // WWW-Authenticate wanted
		wantLog      []string // substrings of the call's log line
	}{
		{name: "no token", method: "POST", path: "/inventory.Service/Reserve", body: `{"sku":"A","qty":1}`,
			wantStatus: 401, want: []string{`"code": "unauthorized"`, `"status": 401`, "Authorization: Bearer <token>"},
			challenge: `Bearer realm="meshsplit gateway"`,
			wantLog:   []string{`token=""`, `service=""`, "status=401", `http="POST /inventory.Service/Reserve"`}},
		{name: "listing needs a token", method: "GET", path: "/",
			wantStatus: 401, want: []string{`"status": 401`}, absent: []string{inventoryName},
			challenge: `Bearer realm="meshsplit gateway"`, wantLog: []string{"status=401"}},
		{name: "unknown token", method: "POST", path: "/inventory.Service/Reserve", body: `{}`, header: bearer("not-a-token-of-this-gateway"),
			wantStatus: 401, want: []string{"none of this gateway's tokens", `"status": 401`},
			challenge: `Bearer realm="meshsplit gateway", error="invalid_token"`, wantLog: []string{`token=""`, "status=401"}},
		{name: "basic auth is no bearer token", method: "GET", path: "/", header: map[string]string{"Authorization": "Basic " + allToken},
			wantStatus: 401, challenge: `Bearer realm="meshsplit gateway"`, wantLog: []string{"status=401"}},
		{name: "allowed method", method: "POST", path: "/inventory.Service/Reserve", body: `{"sku":"A1","qty":2}`, header: bearer(invToken),
			wantStatus: 200, want: []string{`"id":"inv/A1"`},
			wantLog: []string{"token=inv", "service=" + inventoryName, "method=Reserve", "status=200", "duration="}},
		{name: "allowed method, full name, lower-case scheme", method: "POST", path: "/" + inventoryName + "/Reserve", body: `{"sku":"A2","qty":1}`,
			header: map[string]string{"Authorization": "bearer " + invToken}, wantStatus: 200, want: []string{`"id":"inv/A2"`},
			wantLog: []string{"token=inv", "method=Reserve", "status=200"}},
		{name: "method outside the allowlist", method: "POST", path: "/inventory.Service/Slow", body: `{"d":1}`, header: bearer(invToken),
			wantStatus: 403, want: []string{`"code": "forbidden"`, `"status": 403`, "token inv may not call " + inventoryName + "/Slow; its patterns: inventory.Service/Reserve"},
			wantLog: []string{"token=inv", "service=" + inventoryName, "method=Slow", "status=403"}},
		{name: "service outside the allowlist", method: "POST", path: "/warehouse/catalog.Service/Reserve", body: `{}`, header: bearer(invToken),
			wantStatus: 403, want: []string{"token inv may not call " + whCatalog + "/Reserve"},
			wantLog: []string{"token=inv", "service=" + whCatalog, "status=403"}},
		{name: "unknown service lists only what the token may call", method: "POST", path: "/nothing.Here/Reserve", body: `{}`, header: bearer(invToken),
			wantStatus: 404, want: []string{`"code": "unknown_service"`, "services this token may call: " + inventoryName},
			absent: []string{"catalog", legacyName}, wantLog: []string{"token=inv", `service=""`, "status=404"}},
		{name: "ambiguous name hides services the token may not call", method: "POST", path: "/catalog.Service/Reserve", body: `{}`, header: bearer(invToken),
			wantStatus: 400, want: []string{"names several services; use the full name"}, absent: []string{"catalog.Service,"},
			wantLog: []string{"status=400"}},
		{name: "unknown method", method: "POST", path: "/inventory.Service/Nope", body: `{}`, header: bearer(allToken),
			wantStatus: 404, want: []string{`"code": "unknown_method"`, "it has Reserve, Slow"},
			wantLog: []string{"token=all", "method=Nope", "status=404"}},
		{name: "handler path allowed, header not forwarded", method: "GET", path: "/legacy.API/orders/7", header: bearer(legacyToken),
			wantStatus: 200, want: []string{`"path":"/orders/7"`, `"auth":""`},
			wantLog: []string{"token=legacy", "service=" + legacyName, "method=orders", "status=200"}},
		{name: "handler path outside the allowlist", method: "GET", path: "/legacy.API/customers/7", header: bearer(legacyToken),
			wantStatus: 403, want: []string{"token legacy may not call " + legacyName + "/customers"},
			wantLog: []string{"token=legacy", "method=customers", "status=403"}},
		{name: "dot segments cannot leave the allowed path", method: "GET", path: "/legacy.API/orders/../customers/7", header: bearer(legacyToken),
			wantStatus: 400, want: []string{`"code": "malformed"`, `has a \".\" or \"..\" segment`},
			wantLog: []string{"token=legacy", `service=""`, "status=400"}},
		{name: "listing shows what the token may call", method: "GET", path: "/", header: bearer(invToken),
			wantStatus: 200, want: []string{`"call": "POST /inventory.Service/Reserve"`},
			absent: []string{"Slow", "catalog", legacyName}, wantLog: []string{"token=inv", "status=200", `http="GET /"`}},
		{name: "listing for a token of everything", method: "GET", path: "/", header: bearer(allToken),
			wantStatus: 200, want: []string{"Slow", shopCatalog, whCatalog, legacyName}, wantLog: []string{"token=all", "status=200"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := do(t, gw, tt.method, tt.path, tt.body, tt.header)
			if status != tt.wantStatus {
				t.Errorf("%s %s: status %d, want %d; body %s", tt.method, tt.path, status, tt.wantStatus, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s %s: body %s\nlacks %s", tt.method, tt.path, body, w)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(body, a) {
					t.Errorf("%s %s: body %s\nshows %s", tt.method, tt.path, body, a)
				}
			}
			if got := header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("%s %s: WWW-Authenticate %q, want %q", tt.method, tt.path, got, tt.challenge)
			}
			if status == 401 || status == 403 {
				var e struct {
					Error  string
					Status int
				}
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Status != status || e.Error == "" {
					t.Errorf("%s %s: body %s is not a JSON error with status %d (%v)", tt.method, tt.path, body, status, err)
				}
			}
			line := logs.waitLines(t, i+1)[i]
			for _, w := range append(tt.wantLog, `msg="gateway call"`) {
				if !strings.Contains(line, w) {
					t.Errorf("%s %s: log line %s\nlacks %s", tt.method, tt.path, line, w)
				}
			}
		})
	}
	lines := logs.waitLines(t, len(tests))
	if len(lines) != len(tests) {
		t.Errorf("%d log lines for %d requests:\n%s", len(lines), len(tests), strings.Join(lines, "\n"))
	}
	for _, secret := range []string{invToken, legacyToken, allToken, "not-a-token-of-this-gateway", "secret"} {
		for _, l := range lines {
			if strings.Contains(l, secret) {
				t.Errorf("the log shows a token: %s", l)
			}
		}
	}
}

// TestGatewayTokenReloadUnderLoad reloads the token file, well-formed and
// malformed in turn, while clients call with a token every version holds:
// none of their calls may fail, a malformed file keeps the tokens in use,
// and the last good file decides who is let in.
func TestGatewayTokenReloadUnderLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.txt")
	v1 := accessTokens + "old " + oldToken + " *\n"
	v2 := accessTokens + "new " + newToken + " *\n"
	writeTokens(t, path, v1)
	tokens, err := LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	gw, _ := startMeshConfig(t, Config{Tokens: tokens})

	// The clients call until the reloads are done; each reload waits for
	// calls made since the last one, however the machine shares its time
	// between the clients and the reloads. maxCalls and the deadline only
	// bound the loops should the test fail.
	const (
		clients  = 4
		reloads  = 20
		maxCalls = 20000
	)
	var (
		wg       sync.WaitGroup
		started  sync.WaitGroup
		stop     = make(chan struct{})
		stopOnce = sync.OnceFunc(func() { close(stop) })
		deadline = time.Now().Add(3 * testTimeout)
		mu       sync.Mutex
		calls    int
		failed   []string
	)
	defer func() { stopOnce(); wg.Wait() }() // when the test fails early
	started.Add(clients)
	for c := range clients {
		wg.Go(func() {
			first := true
			for i := 0; i < maxCalls && time.Now().Before(deadline); i++ {
				status, body, err := post(gw.URL+"/inventory.Service/Reserve", fmt.Sprintf(`{"sku":"c%d-%d","qty":1}`, c, i), allToken)
				mu.Lock()
				calls++
				if err != nil || status != 200 {
					failed = append(failed, fmt.Sprintf("client %d call %d: status %d, body %s, error %v", c, i, status, body, err))
				}
				mu.Unlock()
				if first {
					started.Done()
					first = false
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		})
	}
	started.Wait() // every client is calling
	// waitCalls waits until the clients made n more calls, so that calls
	// fall between the reloads.
	waitCalls := func(n int) {
		t.Helper()
		mu.Lock()
		target := calls + n
		mu.Unlock()
		until := time.Now().Add(testTimeout)
		for {
			mu.Lock()
			done := calls
			mu.Unlock()
			if done >= target {
				return
			}
			if time.Now().After(until) {
				t.Fatalf("the clients made %d calls, want %d", done, target)
			}
			time.Sleep(time.Millisecond) // poll within the deadline above
		}
	}
	for i := range reloads {
		waitCalls(clients)
		content := v2
		if i%2 == 1 {
			content = v1
		}
		writeTokens(t, path, content)
		if err := tokens.Reload(); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		writeTokens(t, path, content+"broken line\n")
		if err := tokens.Reload(); err == nil || !strings.Contains(err.Error(), path+":") {
			t.Fatalf("reload %d of a malformed file: %v, want an error naming %s and the line", i, err, path)
		}
	}
	stopOnce()
	wg.Wait()
	if len(failed) > 0 {
		t.Errorf("%d of %d calls failed during the reloads, first: %s", len(failed), calls, failed[0])
	}
	// The last good file was v1; the broken one after it left it in use.
	for _, tc := range []struct {
		token string
		want  int
	}{{oldToken, 200}, {newToken, 401}, {allToken, 200}} {
		if status, _, body := do(t, gw, "GET", "/", "", bearer(tc.token)); status != tc.want {
			t.Errorf("after the reloads, token %.3s...: status %d, want %d; body %s", tc.token, status, tc.want, body)
		}
	}
	writeTokens(t, path, v2)
	if err := tokens.Reload(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		token string
		want  int
	}{{oldToken, 401}, {newToken, 200}} {
		if status, _, body := do(t, gw, "GET", "/", "", bearer(tc.token)); status != tc.want {
			t.Errorf("after loading v2, token %.3s...: status %d, want %d; body %s", tc.token, status, tc.want, body)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := tokens.Reload(); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("reloading a removed file: %v, want an error saying it does not exist", err)
	}
	if status, _, _ := do(t, gw, "GET", "/", "", bearer(newToken)); status != 200 {
		t.Errorf("after a failed reload of a removed file: status %d, want the tokens kept (200)", status)
	}
}
