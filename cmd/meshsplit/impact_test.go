package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshsplit/meshsplit/verify"
)

// keepTraffic writes a kept traffic file for seam in the module at root,
// as verify would, taken at taken.
func keepTraffic(t *testing.T, root, seam string, taken time.Time, calls []verify.CallGroup) {
	t.Helper()
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	name, err := verify.TrafficFile(abs, seam)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(verify.KeptTraffic{Version: verify.TrafficVersion, Module: "example.com/shop", Root: abs, Seam: seam, Taken: taken, Calls: calls})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestImpactBadInput: every input impact cannot price gets one line that
// says what to do, and the exit code analyze uses (1; 2 for usage).
func TestImpactBadInput(t *testing.T) {
	t.Setenv("MESHSPLIT_TRAFFIC_DIR", t.TempDir())
	shop := filepath.Join("..", "..", "testdata", "shop")
	const inv, pay = "example.com/shop/inventory.Service", "example.com/shop/payments.Gateway"
	// The shop's files are older than now: a report from the future is
	// fresh, one from 2000 is stale.
	keepTraffic(t, shop, inv, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), []verify.CallGroup{{Method: "Reserve", Site: "orders/service.go:77", Calls: 1}})
	keepTraffic(t, shop, pay, time.Now().Add(time.Hour), []verify.CallGroup{{Method: "Charge", Site: "orders/service.go:80", Calls: 2, Transport: 2}})
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no iface", []string{"-C", shop}, exitUsage, "-iface is required"},
		{"stray argument", []string{"-C", shop, "-iface", "inventory.Service", "./..."}, exitUsage, "impact takes flags only"},
		{"no module", []string{"-C", t.TempDir(), "-iface", "inventory.Service"}, exitFailure, "go.mod"},
		{"unknown iface", []string{"-C", shop, "-iface", "inventory.Nope"}, exitFailure, "Nope"},
		{"no report", []string{"-C", shop, "-iface", "catalog.Catalog"}, exitFailure, "no verify report for catalog.Catalog"},
		{"stale report", []string{"-C", shop, "-iface", "inventory.Service"}, exitFailure, "is older than"},
		{"no traffic", []string{"-C", shop, "-iface", "payments.Gateway"}, exitFailure, "no call of payments.Gateway crossed the mesh"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := meshsplit(append([]string{"impact"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if tt.code == exitFailure && len(lines) != 1 {
				t.Errorf("want one line on stderr, got %d:\n%s", len(lines), stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
			if tt.code == exitFailure && stdout != "" {
				t.Errorf("stdout not empty: %q", stdout)
			}
		})
	}
	// What to run, named in the line.
	_, _, stderr := meshsplit("impact", "-C", shop, "-iface", "catalog.Catalog")
	if !strings.Contains(stderr, "run 'meshsplit verify -C "+shop+" -iface catalog.Catalog' first") {
		t.Errorf("the missing report's line does not say what to run: %s", stderr)
	}
	_, _, stderr = meshsplit("impact", "-C", shop, "-iface", "inventory.Service")
	if !strings.Contains(stderr, "again") {
		t.Errorf("the stale report's line does not say to verify again: %s", stderr)
	}
}

// testImpactShop extracts the shop's inventory.Service, verifies it (which
// keeps the traffic), and prices it: the Restock in the cancel loop is
// named as an N+1, tests are listed with their calls, the HTML page and
// the seam map show the traffic. It runs as a parallel subtest of
// TestVerifyVerdicts (which sets the offline environment and skips in
// -short mode).
func testImpactShop(t *testing.T) {
	mod := copyShop(t)
	if code, stdout, stderr := meshsplit("extract", "-C", mod, "-iface", "inventory.Service", "-w"); code != exitOK {
		t.Fatalf("extract: exit %d\n%s%s", code, stdout, stderr)
	}
	// The packages whose tests call inventory.Service, not the whole shop:
	// the README's walkthrough verifies all of it.
	if code, stdout, stderr := meshsplit("verify", "-C", mod, "-iface", "inventory.Service", "./inventory/...", "./orders/..."); code != exitOK || !strings.Contains(stdout, "traffic kept in ") {
		t.Fatalf("verify: exit %d\n%s%s", code, stdout, stderr)
	}
	page := filepath.Join(t.TempDir(), "impact.html")
	code, stdout, stderr := meshsplit("impact", "-C", mod, "-iface", "inventory.Service", "-html", page)
	if code != exitOK {
		t.Fatalf("impact: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"a call across the mesh on this machine: ",
		"calibrated against a loopback node",
		"orders_test.TestCancel makes ",
		"orders/service.go:267 calls Restock inside a loop (N+1): batch it",
		" calls crossed inventory.Service (",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("impact output lacks %q:\n%s", want, stdout)
		}
	}
	if data, err := os.ReadFile(page); err != nil || !strings.Contains(string(data), "orders/service.go:267") {
		t.Errorf("impact -html: %v\n%s", err, data)
	}
	code, stdout, stderr = meshsplit("impact", "-C", mod, "-iface", "inventory.Service", "-json")
	var rep struct {
		Calls int `json:"calls"`
		Sites []struct {
			Site   string `json:"site"`
			InLoop bool   `json:"in_loop"`
		} `json:"sites"`
	}
	if code != exitOK || json.Unmarshal([]byte(stdout), &rep) != nil || rep.Calls == 0 || len(rep.Sites) == 0 {
		t.Fatalf("impact -json: exit %d\n%s%s", code, stdout, stderr)
	}
	seamMap := filepath.Join(t.TempDir(), "map.html")
	if code, stdout, stderr := meshsplit("analyze", "-C", mod, "-html", seamMap); code != exitOK {
		t.Fatalf("analyze -html: exit %d\n%s%s", code, stdout, stderr)
	}
	if data, err := os.ReadFile(seamMap); err != nil || !strings.Contains(string(data), `class="measured" text-anchor="end">`) {
		t.Errorf("the seam map shows no measured traffic (%v)", err)
	}
}
