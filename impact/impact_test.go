package impact

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshsplit/meshsplit/analyze"
	"github.com/meshsplit/meshsplit/verify"
)

// shop loads testdata/shop with its tests and returns its report and
// inventory.Service.
func shop(t *testing.T) (*analyze.Report, *analyze.Seam) {
	t.Helper()
	prog, err := analyze.Load(context.Background(), analyze.Config{Dir: filepath.Join("..", "testdata", "shop"), Tests: true})
	if err != nil {
		t.Fatal(err)
	}
	rep := analyze.Run(prog)
	seam, err := rep.Lookup("inventory.Service")
	if err != nil {
		t.Fatal(err)
	}
	return rep, seam
}

// TestSummarize prices hand-made traffic of the shop's inventory.Service
// at a pinned cost: per site (the Restock in orders' cancel loop is an
// N+1, the Reserve of Place is not), per test, and in total.
func TestSummarize(t *testing.T) {
	rep, seam := shop(t)
	kept := &verify.KeptTraffic{Seam: seam.Name, Taken: time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC), Calls: []verify.CallGroup{
		{Method: "Reserve", Site: "orders/service.go:77", Test: "example.com/shop/orders_test.TestPlace", Calls: 2, ReqBytes: 60, RespBytes: 40},
		{Method: "Restock", Site: "orders/service.go:267", Test: "example.com/shop/orders_test.TestCancel", Calls: 5, Errors: 1, ReqBytes: 50, RespBytes: 0},
		{Method: "Restock", Site: "orders/service.go:267", Test: "example.com/shop/orders_test.TestPlace", Calls: 1, ReqBytes: 10},
		{Method: "Levels", Site: "cmd/shop/handlers.go:71", Test: "", Calls: 3, Transport: 1, ReqBytes: 30, RespBytes: 30},
	}}
	cost := Cost{PerCall: 50 * time.Microsecond, PerByte: 1}
	r := Summarize(rep, seam, kept, cost)

	if r.Calls != 10 || r.Transport != 1 || r.Bytes != 220 {
		t.Errorf("totals: %d calls, %d transport, %d bytes; want 10, 1, 220", r.Calls, r.Transport, r.Bytes)
	}
	if want := 10*50*time.Microsecond + 220*time.Nanosecond; r.Added != want {
		t.Errorf("added %v, want %v", r.Added, want)
	}
	sites := map[string]Site{}
	for _, s := range r.Sites {
		sites[s.Site] = s
	}
	for _, tt := range []struct {
		site                 string
		calls, tests, maxPer int
		inLoop               bool
		methods              string
	}{
		{"orders/service.go:267", 6, 2, 5, true, "Restock"},
		{"orders/service.go:77", 2, 1, 2, false, "Reserve"},
		{"cmd/shop/handlers.go:71", 2, 0, 2, false, "Levels"},
	} {
		s, ok := sites[tt.site]
		if !ok {
			t.Errorf("site %s missing", tt.site)
			continue
		}
		if s.Calls != tt.calls || s.Tests != tt.tests || s.MaxPerTest != tt.maxPer || s.InLoop != tt.inLoop || strings.Join(s.Methods, ",") != tt.methods {
			t.Errorf("site %s = %+v, want calls %d tests %d max %d loop %v methods %s", tt.site, s, tt.calls, tt.tests, tt.maxPer, tt.inLoop, tt.methods)
		}
	}
	if r.Sites[0].Site != "orders/service.go:267" {
		t.Errorf("most expensive site first: got %s", r.Sites[0].Site)
	}
	if loops := r.Loops(); len(loops) != 1 || loops[0].Site != "orders/service.go:267" {
		t.Errorf("loops = %+v, want orders/service.go:267 only", loops)
	}
	tests := map[string]Test{}
	for _, tt := range r.Tests {
		tests[tt.Test] = tt
	}
	if got := tests["orders_test.TestCancel"]; got.Calls != 5 || got.Sites != 1 {
		t.Errorf("TestCancel = %+v, want 5 calls from 1 site", got)
	}
	if got := tests["orders_test.TestPlace"]; got.Calls != 3 || got.Sites != 2 {
		t.Errorf("TestPlace = %+v, want 3 calls from 2 sites", got)
	}
	if got := tests[""]; got.Calls != 2 {
		t.Errorf("goroutine calls = %+v, want 2", got)
	}

	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"orders_test.TestCancel makes 5 calls across inventory.Service from 1 call site: about 0.3ms more\n",
		"goroutines the tests started make 2 calls across inventory.Service",
		"orders/service.go:267 calls Restock inside a loop (N+1): batch it into one call that takes the whole list (up to 5 calls in one test)\n",
		"10 calls crossed inventory.Service (220 bytes): about 0.5ms more over the test run; 1 call failed in the mesh (not priced)\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	var page bytes.Buffer
	if err := r.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), `<tr class="loop"><td><code>orders/service.go:267</code>`) || strings.Contains(page.String(), "src=") {
		t.Errorf("the HTML page does not mark the loop or is not self-contained:\n%s", page.String())
	}

	m := Measured(rep, seam, kept)
	if m.Calls != 10 || m.Tests != 2 || m.Sites != 3 || m.InLoops != 6 || m.Taken != "2026-12-02T04:00:00Z" {
		t.Errorf("Measured = %+v", m)
	}
}

// TestTestLabel spells recorded test names relative to the module.
func TestTestLabel(t *testing.T) {
	rep, _ := shop(t)
	for _, tt := range []struct{ in, want string }{
		{"example.com/shop/orders.TestPlace", "orders.TestPlace"},
		{"example.com/shop/orders_test.TestPlace", "orders_test.TestPlace"},
		{"example.com/shop.TestRoot", "shop.TestRoot"},
		{"example.com/shop_test.TestRoot", "shop_test.TestRoot"},
		{"example.com/other/x.TestY", "example.com/other/x.TestY"},
		{"", ""},
	} {
		if got := testLabel(rep, tt.in); got != tt.want {
			t.Errorf("testLabel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCalibrate measures a call across a real loopback node pair.
func TestCalibrate(t *testing.T) {
	c, err := Calibrate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.PerCall <= 0 || c.PerCall > time.Second || c.Calls < 3*10 || c.PerByte < 0 {
		t.Errorf("implausible calibration %+v", c)
	}
	if c.Of(10, 0) != 10*c.PerCall {
		t.Errorf("Of(10, 0) = %v, want 10 × %v", c.Of(10, 0), c.PerCall)
	}
	if !strings.Contains(c.String(), "calibrated against a loopback node") {
		t.Errorf("String() = %q", c.String())
	}
}
