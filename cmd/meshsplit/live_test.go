package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshsplit/meshsplit/internal/deploy"
	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// The live test runs what 'meshsplit deploy' writes on a real Docker
// Engine: the shop split into three containers (the monolith, inventory-svc
// and payments-gateway-svc), then scaled, killed, partitioned and
// restarted with a changed interface. It is slow (a minute or two), so it
// runs only with MESHSPLIT_LIVE set: "1" runs it when an engine answers
// and skips it otherwise; "require" (what .ci/run sets when 'docker info'
// works) fails instead of skipping.
//
//	MESHSPLIT_LIVE=1 go test -run TestLiveCompose -v ./cmd/meshsplit

// liveEnv is the variable that turns the live test on.
const liveEnv = "MESHSPLIT_LIVE"

// Detection bound of the containers' nodes (runtime defaults, which the
// generated files keep): KeepAlive + LivenessTimeout.
const detectBound = time.Second + 3*time.Second

func TestLiveCompose(t *testing.T) {
	mode := os.Getenv(liveEnv)
	if mode == "" {
		t.Skipf("%s is not set: the live Docker test is skipped (MESHSPLIT_LIVE=1 runs it)", liveEnv)
	}
	skip := func(format string, args ...any) {
		t.Helper()
		if mode == "require" {
			t.Fatalf(format+" (%s=require)", append(args, liveEnv)...)
		}
		t.Skipf(format, args...)
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		skip("no Docker Engine answers ('docker info': %v: %s)", err, bytes.TrimSpace(out))
	}
	compose := deploy.ComposeCommand()
	if compose == nil {
		skip("no 'docker compose' plugin and no docker-compose on PATH")
	}

	// The shop, split: inventory.Service and payments.Gateway extracted,
	// their deps.go filled in, the deployment written and built.
	offlineEnv(t)
	root := copyShop(t)
	for _, iface := range []string{"inventory.Service", "payments.Gateway"} {
		if code, stdout, stderr := meshsplit("extract", "-C", root, "-iface", iface, "-w"); code != exitOK {
			t.Fatalf("extract %s: exit %d\n%s%s", iface, code, stdout, stderr)
		}
	}
	goCmd(t, root, nil, "mod", "tidy")
	liveWrite(t, filepath.Join(root, "cmd", "inventory-svc", "deps.go"), liveInventoryDeps)
	liveWrite(t, filepath.Join(root, "cmd", "payments-gateway-svc", "deps.go"), livePaymentsDeps)
	if code, stdout, stderr := meshsplit("deploy", "-C", root, "-prebuilt"); code != exitOK {
		t.Fatalf("deploy -prebuilt: exit %d\n%s%s", code, stdout, stderr)
	}

	d := &liveDeployment{t: t, compose: compose, dir: filepath.Join(root, "deploy"), project: fmt.Sprintf("meshsplitlive%d", os.Getpid())}
	t.Cleanup(d.down)
	d.run(2*time.Minute, "up", "-d", "--build")
	d.noteImages()
	d.waitHealthy(90*time.Second, 3)

	key := readKey(t, filepath.Join(d.dir, "cluster.env"))
	shopIP := d.ip(d.containers("shop")[0])

	t.Run("order crosses containers", func(t *testing.T) {
		// The stock comes from inventory-svc (7 blue mugs, not the
		// monolith's 20); the charge id from the invoice gateway that
		// payments-gateway-svc serves (the monolith's own is the sandbox).
		body := liveHTTP(t, "GET", "http://"+shopIP+":8080/stock?sku=mug-blue", "", 200)
		if !strings.Contains(body, `"mug-blue":7`) {
			t.Fatalf("stock = %s, want 7 mugs from inventory-svc", body)
		}
		body = liveHTTP(t, "POST", "http://"+shopIP+":8080/orders", `{"customer":{"id":"c1","email":"ann@example.com"},"payment_token":"tok_visa","lines":[{"sku":"mug-blue","qty":2}]}`, 201)
		if !strings.Contains(body, `"status":"paid"`) || !strings.Contains(body, `"charge_id":"invoice_`) {
			t.Fatalf("order = %s, want paid through the invoice gateway", body)
		}
		if body := liveHTTP(t, "GET", "http://"+shopIP+":8080/stock?sku=mug-blue", "", 200); !strings.Contains(body, `"mug-blue":5`) {
			t.Fatalf("stock after the order = %s, want 5", body)
		}
	})

	// The test joins the mesh as a caller-only node with the cluster key.
	cfg := meshrt.DefaultConfig()
	cfg.Listen = ""
	cfg.ClusterKey = key
	node, err := meshrt.NewNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		node.Close(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := node.Join(ctx, shopIP+":11999"); err != nil {
		t.Fatalf("joining the deployment's mesh: %v", err)
	}
	const inv = "example.com/shop/inventory.Service"
	client := &http.Client{Transport: node.Transport()}

	t.Run("scale to 3: round robin and sticky keys", func(t *testing.T) {
		d.run(time.Minute, "up", "-d", "--no-recreate", "--scale", "inventory-svc=3")
		d.waitHealthy(60*time.Second, 5)
		waitNodes(t, node, inv, 3, 30*time.Second)
		counts := map[string]int{}
		for i := 0; i < 300; i++ {
			r, err := whoServes(context.Background(), client, "")
			if err != nil {
				t.Fatal(err)
			}
			counts[r]++
		}
		if len(counts) != 3 {
			t.Fatalf("300 calls reached %d replicas (%v), want 3", len(counts), counts)
		}
		for r, c := range counts {
			if c < 80 || c > 120 {
				t.Errorf("replica %s took %d of 300 calls, want 100±20 (round robin): %v", r, c, counts)
			}
		}
		for _, k := range []string{"cart-1", "cart-2", "cart-3", "cart-4"} {
			first, err := whoServes(context.Background(), client, k)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 20; i++ {
				if r, err := whoServes(context.Background(), client, k); err != nil || r != first {
					t.Fatalf("key %s went to %s then %s (%v)", k, first, r, err)
				}
			}
		}
		t.Logf("300 calls over 3 replicas: %v; 4 keys x 21 calls each stayed on one replica", counts)
	})

	t.Run("kill a replica under load", func(t *testing.T) {
		victim := d.containers("inventory-svc")[0]
		load := startLoad(client, 4, time.Second)
		time.Sleep(2 * time.Second) // load before the kill: no condition to wait on
		killed := time.Now()
		d.docker(30*time.Second, "kill", victim)
		waitNodesAtMost(t, node, inv, 2, 2*detectBound)
		detected := time.Since(killed)
		time.Sleep(3 * time.Second) // load after the kill
		st := load.stop()
		t.Logf("kill: removed from routing after %v; %d calls, %d failed, %d past their deadline, last failure %v after the kill (bound %v)",
			detected.Round(time.Millisecond), st.calls, st.failed, st.late, st.lastFailure.Sub(killed).Round(time.Millisecond), detectBound)
		if st.late > 0 {
			t.Errorf("%d calls outlived their 1s deadline", st.late)
		}
		if st.failed > 0 && st.lastFailure.Sub(killed) > detectBound {
			t.Errorf("calls still failed %v after the kill, past KeepAlive+LivenessTimeout = %v", st.lastFailure.Sub(killed), detectBound)
		}
		if st.calls-st.failed < 10 {
			t.Errorf("only %d calls succeeded", st.calls-st.failed)
		}
		d.docker(30*time.Second, "start", victim)
		waitNodes(t, node, inv, 3, 30*time.Second)
	})

	t.Run("partition a replica and heal it", func(t *testing.T) {
		victim := d.containers("inventory-svc")[1]
		ip := d.ip(victim)
		network := d.project + "_mesh"
		load := startLoad(client, 2, time.Second)
		cut := time.Now()
		d.docker(30*time.Second, "network", "disconnect", network, victim)
		waitGone(t, node, inv, ip, 3*detectBound)
		detected := time.Since(cut)
		time.Sleep(2 * time.Second)
		st := load.stop()
		t.Logf("partition: %s removed from routing after %v (bound %v); %d calls, %d failed, %d past their deadline",
			ip, detected.Round(time.Millisecond), detectBound, st.calls, st.failed, st.late)
		if detected > detectBound+2*time.Second {
			t.Errorf("a cut replica was detected after %v, want about KeepAlive+LivenessTimeout = %v", detected, detectBound)
		}
		if st.late > 0 {
			t.Errorf("%d calls outlived their 1s deadline", st.late)
		}
		healed := time.Now()
		d.docker(30*time.Second, "network", "connect", network, victim)
		if got := d.ip(victim); got != ip {
			t.Logf("the healed replica came back as %s, not %s", got, ip)
		}
		waitNodes(t, node, inv, 3, 45*time.Second)
		t.Logf("heal: the replica serves again after %v", time.Since(healed).Round(time.Millisecond))
	})

	t.Run("rolling restart with a changed interface reports version skew", func(t *testing.T) {
		// A method added to inventory.Service shifts the method indexes:
		// the monolith, built before, now calls Levels under the index of
		// another method of the new build.
		ifile := filepath.Join(root, "inventory", "inventory.go")
		src := liveRead(t, ifile)
		src = strings.Replace(src, "type Service interface {", "type Service interface {\n\t// Audit counts the SKUs on hand.\n\tAudit(ctx context.Context) (int, error)", 1)
		liveWrite(t, ifile, src)
		store := filepath.Join(root, "inventory", "store.go")
		liveWrite(t, store, liveRead(t, store)+"\n// Audit counts the SKUs on hand.\nfunc (s *Store) Audit(ctx context.Context) (int, error) {\n\ts.mu.Lock()\n\tdefer s.mu.Unlock()\n\treturn len(s.onHand), nil\n}\n")
		if code, stdout, stderr := meshsplit("extract", "-C", root, "-iface", "inventory.Service", "-w"); code != exitOK {
			t.Fatalf("extract again: exit %d\n%s%s", code, stdout, stderr)
		}
		goCmd(t, root, []string{"CGO_ENABLED=0", "GOOS=linux"}, "build", "-trimpath", "-o", filepath.Join(d.dir, "bin")+"/", "./cmd/inventory-svc")
		d.run(2*time.Minute, "up", "-d", "--build", "--no-deps", "--scale", "inventory-svc=3", "inventory-svc")
		d.noteImages()
		d.waitHealthy(90*time.Second, 5)
		// The monolith's call: an error that says version skew, at once.
		deadline := time.Now().Add(30 * time.Second)
		var body string
		for time.Now().Before(deadline) {
			start := time.Now()
			body = liveHTTP(t, "GET", "http://"+shopIP+":8080/stock?sku=mug-blue", "", 0)
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("a call to the changed service took %v", took)
			}
			if strings.Contains(body, "version skew") {
				break
			}
			time.Sleep(200 * time.Millisecond) // old replicas may still answer while the new ones start
		}
		if !strings.Contains(body, "version skew") || !strings.Contains(body, "Levels") {
			t.Fatalf("the monolith's call of the changed service answered %s, want a version skew naming Levels", body)
		}
		t.Logf("skew: %s", strings.TrimSpace(body))
	})
}

// liveInventoryDeps gives inventory-svc its stock, plus one SKU named after
// its container, so that a Levels call says which replica answered.
const liveInventoryDeps = `package main

import (
	"context"
	"os"

	"example.com/shop/inventory"
)

func deps(ctx context.Context) (svcDeps, error) {
	host, _ := os.Hostname()
	stock := map[string]int{"mug-blue": 7, "mug-red": 5, "poster-gopher": 3, "sticker-pack": 100, "tshirt-m": 10, "replica-" + host: 1}
	return svcDeps{Cfg: inventory.Config{Stock: stock}}, nil
}
`

// livePaymentsDeps gives payments-gateway-svc an invoice gateway.
const livePaymentsDeps = `package main

import (
	"context"

	"example.com/shop/audit"
	"example.com/shop/payments"
)

func deps(ctx context.Context) (svcDeps, error) {
	return svcDeps{Journal: &audit.Ledger{Name: "payments"}, Cfg: payments.InvoiceConfig{CreditLimit: 1_000_000}}, nil
}
`

// liveDeployment drives one Compose project.
type liveDeployment struct {
	t       *testing.T
	compose []string
	dir     string
	project string
	images  map[string]bool // ids of the images the project built
}

// noteImages records the ids of the project's images, so that down removes
// the ones a rebuild left untagged too.
func (d *liveDeployment) noteImages() {
	d.t.Helper()
	if d.images == nil {
		d.images = map[string]bool{}
	}
	out := d.docker(30*time.Second, "ps", "-aq", "--filter", "label=com.docker.compose.project="+d.project)
	for _, id := range strings.Fields(out) {
		d.images[strings.TrimSpace(d.docker(30*time.Second, "inspect", "-f", "{{.Image}}", id))] = true
	}
}

func (d *liveDeployment) run(timeout time.Duration, args ...string) string {
	d.t.Helper()
	full := append(append([]string{}, d.compose[1:]...), append([]string{"-f", filepath.Join(d.dir, "compose.yaml"), "-p", d.project}, args...)...)
	return d.exec(timeout, d.compose[0], full...)
}

func (d *liveDeployment) docker(timeout time.Duration, args ...string) string {
	d.t.Helper()
	return d.exec(timeout, "docker", args...)
}

func (d *liveDeployment) exec(timeout time.Duration, name string, args ...string) string {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		d.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// down removes the project's containers, network and images.
func (d *liveDeployment) down() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if d.t.Failed() {
		logs, _ := exec.CommandContext(ctx, d.compose[0], append(append([]string{}, d.compose[1:]...), "-f", filepath.Join(d.dir, "compose.yaml"), "-p", d.project, "logs", "--tail", "30")...).CombinedOutput()
		d.t.Logf("logs:\n%s", logs)
	}
	args := append(append([]string{}, d.compose[1:]...), "-f", filepath.Join(d.dir, "compose.yaml"), "-p", d.project, "down", "--rmi", "all", "-v", "--remove-orphans", "-t", "2")
	if out, err := exec.CommandContext(ctx, d.compose[0], args...).CombinedOutput(); err != nil {
		d.t.Errorf("compose down: %v\n%s", err, out)
	}
	for id := range d.images {
		// Most are gone with down --rmi all; the ones a rebuild untagged are not.
		exec.CommandContext(ctx, "docker", "rmi", "-f", id).Run()
	}
}

// containers returns the ids of a Compose service's containers, sorted.
func (d *liveDeployment) containers(service string) []string {
	d.t.Helper()
	out := d.docker(30*time.Second, "ps", "-aq", "--filter", "label=com.docker.compose.project="+d.project, "--filter", "label=com.docker.compose.service="+service)
	ids := strings.Fields(out)
	sort.Strings(ids)
	if len(ids) == 0 {
		d.t.Fatalf("no container of %s", service)
	}
	return ids
}

// ip returns a container's address on the project's network.
func (d *liveDeployment) ip(id string) string {
	d.t.Helper()
	return strings.TrimSpace(d.docker(30*time.Second, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", id))
}

// waitHealthy waits until n running containers of the project report
// healthy (their /meshprobe health check).
func (d *liveDeployment) waitHealthy(timeout time.Duration, n int) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ids := strings.Fields(d.docker(30*time.Second, "ps", "-q", "--filter", "label=com.docker.compose.project="+d.project))
		if len(ids) >= n {
			out := d.docker(30*time.Second, append([]string{"inspect", "-f", "{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{end}}"}, ids...)...)
			last = out
			if strings.Count(out, " healthy") == len(ids) {
				return
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	d.t.Fatalf("containers not healthy within %v:\n%s", timeout, last)
}

// whoServes calls inventory.Service.Levels through the mesh's HTTP path
// (with an affinity key when key is set) and returns the replica that
// answered.
func whoServes(ctx context.Context, c *http.Client, key string) (string, error) {
	if key != "" {
		ctx = meshrt.WithAffinity(ctx, key)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", "http://mesh/example.com/shop/inventory.Service/Levels", strings.NewReader(`{}`))
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		R0    map[string]int `json:"r0"`
		Error string         `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("Levels: %s: %w", resp.Status, err)
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("Levels: %s: %s", resp.Status, out.Error)
	}
	for sku := range out.R0 {
		if strings.HasPrefix(sku, "replica-") {
			return strings.TrimPrefix(sku, "replica-"), nil
		}
	}
	return "", errors.New("Levels: no replica SKU in the answer")
}

// loadStats counts the calls of a bounded load.
type loadStats struct {
	calls, failed, late int
	lastFailure         time.Time
}

type load struct {
	mu   sync.Mutex
	st   loadStats
	done chan struct{}
	wg   sync.WaitGroup
}

// startLoad runs workers that call Levels back to back, each call with
// the given deadline, until stop.
func startLoad(c *http.Client, workers int, deadline time.Duration) *load {
	l := &load{done: make(chan struct{})}
	for i := 0; i < workers; i++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.done:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				start := time.Now()
				_, err := whoServes(ctx, c, "")
				took := time.Since(start)
				cancel()
				l.mu.Lock()
				l.st.calls++
				if err != nil {
					l.st.failed++
					l.st.lastFailure = time.Now()
				}
				if took > deadline+250*time.Millisecond {
					l.st.late++
				}
				l.mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond) // a failing call returns at once: do not spin
				}
			}
		}()
	}
	return l
}

func (l *load) stop() loadStats {
	close(l.done)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.st
}

// nodesOf returns the addresses of the live nodes serving service, as the
// test's node sees them.
func nodesOf(n *meshrt.Node, service string) []string {
	for _, s := range n.Services() {
		if s.Name == service {
			return s.Nodes
		}
	}
	return nil
}

func waitNodes(t *testing.T, n *meshrt.Node, service string, want int, timeout time.Duration) {
	t.Helper()
	liveWaitFor(t, timeout, fmt.Sprintf("%d nodes serving %s", want, service), func() bool { return len(nodesOf(n, service)) == want })
}

func waitNodesAtMost(t *testing.T, n *meshrt.Node, service string, want int, timeout time.Duration) {
	t.Helper()
	liveWaitFor(t, timeout, fmt.Sprintf("at most %d nodes serving %s", want, service), func() bool { return len(nodesOf(n, service)) <= want })
}

func waitGone(t *testing.T, n *meshrt.Node, service, ip string, timeout time.Duration) {
	t.Helper()
	liveWaitFor(t, timeout, ip+" to leave "+service, func() bool {
		for _, a := range nodesOf(n, service) {
			if strings.HasPrefix(a, ip+":") {
				return false
			}
		}
		return true
	})
}

// liveWaitFor polls cond every 20ms until it holds, or fails the test.
func liveWaitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// liveHTTP sends a request with a 10s deadline and returns the body; a
// non-zero status must match.
func liveHTTP(t *testing.T, method, url, body string, status int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if status != 0 && resp.StatusCode != status {
		t.Fatalf("%s %s: %s %s, want %d", method, url, resp.Status, b.String(), status)
	}
	return b.String()
}

// readKey reads MESHRPC_CLUSTER_KEY from an env file.
func readKey(t *testing.T, path string) []byte {
	t.Helper()
	for _, line := range strings.Split(liveRead(t, path), "\n") {
		if v, ok := strings.CutPrefix(line, "MESHRPC_CLUSTER_KEY="); ok {
			return []byte(strings.TrimSpace(v))
		}
	}
	t.Fatalf("%s: no MESHRPC_CLUSTER_KEY", path)
	return nil
}

func liveRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func liveWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
