package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// shopSeams are the remotable interfaces of testdata/shop, in an order where
// each service's dependencies are extracted before it, so that its service
// main calls them through the mesh from the start.
var shopSeams = []string{
	"inventory.Service",
	"catalog.Catalog",
	"payments.Journal",
	"payments.Gateway",
	"orders.Recorder",
	"notify.Notifier",
	"orders.Service",
}

// TestExtractShopEndToEnd extracts every remotable interface of the shop,
// checks idempotence, builds, vets and runs the shop's own tests locally and
// with every interface remote over loopback, then reverts everything and
// expects the original bytes.
func TestExtractShopEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: builds and tests the example shop several times")
	}
	offlineEnv(t)
	begin := time.Now()
	shop := copyShop(t)
	original := snapshot(t, shop)

	// The non-remotable interface is refused, every reason at file:line,
	// nothing written.
	code, _, stderr := meshsplit("extract", "-C", shop, "-iface", "notify.Bus", "-w")
	if code != exitFailure || !strings.Contains(stderr, "notify/notify.go:") || !strings.Contains(stderr, "refused") {
		t.Fatalf("extract notify.Bus: exit %d, stderr:\n%s", code, stderr)
	}
	sameTree(t, original, snapshot(t, shop))

	for _, seam := range shopSeams {
		code, stdout, stderr := meshsplit("extract", "-C", shop, "-iface", seam, "-w")
		if code != exitOK {
			t.Fatalf("extract -w %s: exit %d\n%s%s", seam, code, stdout, stderr)
		}
		if !strings.Contains(stdout, "wrote ") {
			t.Errorf("extract -w %s wrote nothing:\n%s", seam, stdout)
		}
		// The first extraction adds the runtime to go.mod and says that
		// 'go mod tidy' is due; the later ones leave go.mod alone.
		if tidy := strings.Contains(stdout, "go.mod changed: run 'go mod tidy' in "+shop); tidy != (seam == shopSeams[0]) {
			t.Errorf("extract -w %s: tidy message %v, want %v:\n%s", seam, tidy, seam == shopSeams[0], stdout)
		}
		// Idempotent: a second run has nothing to do and no diff.
		code, stdout, stderr = meshsplit("extract", "-C", shop, "-iface", seam)
		if code != exitOK || !strings.Contains(stdout, "nothing to do") || strings.Contains(stdout, "--- a/") {
			t.Fatalf("second extract %s: exit %d\n%s%s", seam, code, stdout, stderr)
		}
	}
	t.Logf("extract -w of %d interfaces, each checked idempotent: %v", len(shopSeams), time.Since(begin).Round(time.Second))

	// orders.Service, extracted last, reaches the extracted interfaces its
	// constructor takes through mesh clients; only its config is left to
	// the user's deps.go.
	extracted := snapshot(t, shop)
	ordersMain, ordersDeps := extracted["cmd/orders-svc/main.go"], extracted["cmd/orders-svc/deps.go"]
	for _, want := range []string{
		"catalog.NewCatalogMeshClient(node.Client(&catalog.CatalogMeshDesc))",
		"inventory.NewServiceMeshClient(node.Client(&inventory.ServiceMeshDesc))",
		"payments.NewGatewayMeshClient(node.Client(&payments.GatewayMeshDesc))",
		"notify.NewNotifierMeshClient(node.Client(&notify.NotifierMeshDesc))",
	} {
		if !strings.Contains(ordersMain, want) {
			t.Errorf("cmd/orders-svc/main.go lacks %s:\n%s", want, ordersMain)
		}
	}
	if !strings.Contains(ordersDeps, "does not build Cfg (orders.Config) yet: fill in deps") {
		t.Errorf("cmd/orders-svc/deps.go should leave only Cfg to the user:\n%s", ordersDeps)
	}

	// Build, vet and test a copy (the go command edits go.mod and go.sum),
	// while the reverts run on the original: they share nothing.
	built := filepath.Join(t.TempDir(), "shop")
	copyTree(t, shop, built)
	t.Run("split", func(t *testing.T) {
		t.Run("build, vet and test local and remote", func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			// Every command, the seven generated service mains with the
			// deps.go extract created included, built once: the
			// multi-process run below uses the shop's binary.
			bin := t.TempDir()
			// First what a user sees after 'go mod tidy' (issue 9): the
			// shop gains the runtime module and yamux, nothing else.
			goCmd(t, built, []string{"GOFLAGS=-mod=mod"}, "mod", "tidy")
			checkGainsOnlyTheRuntime(t, []byte(original["go.mod"]), built, "./cmd/shop")
			goCmd(t, built, nil, "build", "-o", bin+string(filepath.Separator), "./...")
			goCmd(t, built, nil, "vet", "./...")
			local := goCmd(t, built, nil, "test", "-count=1", "./...")
			remote := goCmd(t, built, []string{"MESHRPC_REMOTE=*", "MESHRPC_LOOPBACK=1"}, "test", "-count=1", "./...")
			for _, out := range []string{local, remote} {
				if strings.Contains(out, "FAIL") || !strings.Contains(out, "ok  \texample.com/shop/orders") {
					t.Fatalf("shop tests:\n%s", out)
				}
			}
			t.Logf("build, vet, tests local and remote: %v", time.Since(start).Round(time.Second))
			runMultiProcess(t, built, bin)
		})
		t.Run("revert", func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			// Revert in the reverse order: the tree is byte for byte the
			// original.
			for i := len(shopSeams) - 1; i >= 0; i-- {
				code, stdout, stderr := meshsplit("extract", "-C", shop, "-iface", shopSeams[i], "-revert", "-w")
				if code != exitOK {
					t.Fatalf("extract -revert -w %s: exit %d\n%s%s", shopSeams[i], code, stdout, stderr)
				}
			}
			sameTree(t, original, snapshot(t, shop))
			t.Logf("revert of %d interfaces: %v", len(shopSeams), time.Since(start).Round(time.Second))
		})
	})
}

func TestExtractUsage(t *testing.T) {
	shop := filepath.Join(repoRoot(t), "testdata", "shop")
	tests := []struct {
		args []string
		code int
		want string // in stderr
	}{
		{[]string{"extract"}, exitUsage, "-iface is required"},
		{[]string{"extract", "-iface", "a.B", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"extract", "-bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"extract", "-C", "/nonexistent/dir", "-iface", "a.B"}, exitFailure, "directory /nonexistent/dir does not exist"},
		{[]string{"extract", "-C", shop, "-iface", "Service"}, exitFailure, `"Service" is not of the form pkg.Iface`},
		{[]string{"extract", "-C", shop, "-iface", "inventory.Servic"}, exitFailure, "did you mean example.com/shop/inventory.Service?"},
		{[]string{"extract", "-C", shop, "-iface", "notify.Bus", "-force"}, exitFailure, "notify/notify.go:"},
	}
	for _, tt := range tests {
		code, stdout, stderr := meshsplit(tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("meshsplit %v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
		if strings.Count(stderr, "\n") > 1 && tt.code == exitUsage {
			t.Errorf("meshsplit %v: a usage error takes one line, got:\n%s", tt.args, stderr)
		}
		if strings.Contains(stderr, "goroutine ") || strings.Contains(stdout+stderr, "panic") {
			t.Errorf("meshsplit %v: a stack trace:\n%s", tt.args, stderr)
		}
	}
}

func TestExtractJSON(t *testing.T) {
	shop := filepath.Join(repoRoot(t), "testdata", "shop")
	code, stdout, stderr := meshsplit("extract", "-C", shop, "-iface", "inventory.Service", "-json", "-force")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var plan struct {
		Seam    string `json:"seam"`
		Refused bool   `json:"refused"`
		Written bool   `json:"written"`
		Actions []struct{ Kind, Pos, Message string }
		Files   []struct{ Path, Kind, Diff string }
	}
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if plan.Seam != "example.com/shop/inventory.Service" || plan.Refused || plan.Written || len(plan.Files) == 0 {
		t.Errorf("plan = %+v", plan)
	}
	for _, f := range plan.Files {
		if !strings.HasPrefix(f.Diff, "--- ") || strings.HasPrefix(f.Path, "/") {
			t.Errorf("file %s (%s): diff %.40q, want a relative path and a unified diff", f.Path, f.Kind, f.Diff)
		}
	}
	code, stdout, _ = meshsplit("extract", "-C", shop, "-iface", "notify.Bus", "-json", "-force")
	if code != exitFailure || !strings.Contains(stdout, `"refused": true`) {
		t.Errorf("refused plan as JSON: exit %d\n%s", code, stdout)
	}
}

// TestExtractDiffPlainWhenNotATerminal checks that the diff is coloured
// only on a terminal: a buffer, a file and a pipe get plain text, and so
// does a character device under NO_COLOR or TERM=dumb.
func TestExtractDiffPlainWhenNotATerminal(t *testing.T) {
	shop := filepath.Join(repoRoot(t), "testdata", "shop")
	code, stdout, stderr := meshsplit("extract", "-C", shop, "-iface", "inventory.Service", "-force")
	if code != exitOK || !strings.Contains(stdout, "--- a/inventory/store.go") {
		t.Fatalf("exit %d, no diff:\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "\x1b[") {
		t.Errorf("colour escapes in output that is not a terminal:\n%q", stdout[:min(len(stdout), 400)])
	}

	file, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	tests := []struct {
		name string
		w    io.Writer
		env  map[string]string
	}{
		{"buffer", &strings.Builder{}, nil},
		{"regular file", file, nil},
		{"pipe", w, nil},
		{"character device, NO_COLOR", devNull, map[string]string{"NO_COLOR": "1", "TERM": "xterm"}},
		{"character device, TERM=dumb", devNull, map[string]string{"NO_COLOR": "", "TERM": "dumb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if isTerminal(tt.w) {
				t.Errorf("isTerminal(%s) = true, want plain output", tt.name)
			}
		})
	}
}
