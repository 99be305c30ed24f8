package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serviceDeps is the deps.go a user writes for the generated inventory
// service: a stock the shop's own seed does not have, so that an answer
// shows which process served it.
const serviceDeps = `package main

import (
	"context"

	"example.com/shop/inventory"
)

func deps(ctx context.Context) (svcDeps, error) {
	return svcDeps{Cfg: inventory.Config{Stock: map[string]int{"mug-blue": 7}}}, nil
}
`

// runMultiProcess starts the generated inventory service as its own
// process, runs the shop with inventory.Service remote and pointed at it,
// checks that the shop's stock comes from the service, then kills the
// service and expects a prompt, clear error from the shop instead of a hang.
// bin holds the binaries of built's commands (go build -o bin/ ./...):
// the shop's is used as is, inventory-svc is rebuilt with its deps.go filled
// in.
func runMultiProcess(t *testing.T, built, bin string) {
	t.Helper()
	// As extract created it, deps.go compiles, and the service says at run
	// time what is missing instead of serving half-built.
	firstCtx, firstCancel := context.WithTimeout(context.Background(), time.Minute)
	defer firstCancel()
	first := exec.CommandContext(firstCtx, filepath.Join(bin, "inventory-svc"))
	first.Env = append(os.Environ(), "MESHRPC_LISTEN="+freeAddr(t), "MESHRPC_REMOTE=", "MESHRPC_LOOPBACK=")
	out, err := first.CombinedOutput()
	const missing = "cmd/inventory-svc/deps.go does not build Cfg (inventory.Config) yet: fill in deps"
	if err == nil || !strings.Contains(string(out), missing) {
		t.Fatalf("inventory-svc with the deps.go extract created: %v, output:\n%s\nwant an exit status and %q", err, out, missing)
	}
	if err := os.WriteFile(filepath.Join(built, "cmd", "inventory-svc", "deps.go"), []byte(serviceDeps), 0o644); err != nil {
		t.Fatal(err)
	}
	goCmd(t, built, nil, "build", "-o", filepath.Join(bin, "inventory-svc"), "./cmd/inventory-svc")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	meshAddr := freeAddr(t)
	svc := exec.CommandContext(ctx, filepath.Join(bin, "inventory-svc"))
	svc.Env = append(os.Environ(), "MESHRPC_LISTEN="+meshAddr, "MESHRPC_REMOTE=", "MESHRPC_LOOPBACK=")
	ready := startAndWaitFor(t, svc, "serving example.com/shop/inventory.Service")
	defer svc.Process.Kill()
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatal("inventory-svc did not say it serves within the deadline")
	}

	httpAddr := freeAddr(t)
	shop := exec.CommandContext(ctx, filepath.Join(bin, "shop"))
	shop.Env = append(os.Environ(), "SHOP_HTTP="+httpAddr, "MESHRPC_REMOTE=inventory.Service",
		"MESHRPC_CLUSTER_NODES="+meshAddr, "MESHRPC_LISTEN=none", "MESHRPC_LOOPBACK=")
	shopReady := startAndWaitFor(t, shop, "shop listening")
	defer shop.Process.Kill()
	select {
	case <-shopReady:
	case <-ctx.Done():
		t.Fatal("shop did not start listening within the deadline")
	}

	client := &http.Client{Timeout: 30 * time.Second}
	stock := func() (int, string) {
		resp, err := client.Get("http://" + httpAddr + "/stock?sku=mug-blue")
		if err != nil {
			t.Fatalf("GET /stock: %v (the shop must answer, not hang)", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, body := stock()
	var levels map[string]int
	if code != http.StatusOK || json.Unmarshal([]byte(body), &levels) != nil || levels["mug-blue"] != 7 {
		t.Fatalf("GET /stock = %d %s; want mug-blue: 7, the service process's stock", code, body)
	}

	// Kill the service: the shop answers with an error, promptly.
	if err := svc.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	svc.Wait()
	start := time.Now()
	code, body = stock()
	if code == http.StatusOK {
		t.Fatalf("GET /stock with the service dead = %d %s; want an error", code, body)
	}
	if !strings.Contains(body, "error") {
		t.Errorf("GET /stock with the service dead: body %q says no error", body)
	}
	t.Logf("with the service killed, the shop answered %d %s in %v", code, strings.TrimSpace(body), time.Since(start).Round(time.Millisecond))
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startAndWaitFor starts cmd and returns a channel closed once its stderr
// shows a line containing want; the rest of stderr goes to the test log.
func startAndWaitFor(t *testing.T, cmd *exec.Cmd, want string) <-chan struct{} {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	name := filepath.Base(cmd.Path)
	go func() {
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			line := sc.Text()
			if !seen && strings.Contains(line, want) {
				seen = true
				close(ready)
			}
			fmt.Fprintf(io.Discard, "%s: %s\n", name, line) // drained so the process never blocks
		}
	}()
	return ready
}
