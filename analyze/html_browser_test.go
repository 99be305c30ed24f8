package analyze

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// envRequireBrowser makes a missing Chromium fail the browser test instead
// of skipping it; .ci/run sets it after installing Debian's chromium.
const envRequireBrowser = "MESHSPLIT_REQUIRE_BROWSER"

// findChromium returns the Chromium (or Chrome) binary to drive: the one
// MESHSPLIT_CHROMIUM names, else the first of the usual names on PATH.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MESHSPLIT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found on PATH (chromium, chromium-browser, google-chrome): install it ('apt-get install -y chromium' on Debian) or set MESHSPLIT_CHROMIUM; .ci/run does the former"
	if os.Getenv(envRequireBrowser) == "1" {
		t.Fatalf("%s, and %s=1 requires the browser test", msg, envRequireBrowser)
	}
	t.Skip(msg)
	return ""
}

// TestHTMLMapInBrowser opens the seam map of testdata/shop in headless
// Chromium: every seam is drawn with its verdict's colour, a click on a
// seam shows every finding with its file:line:col, folding a package hides
// its seams, the verdict filter hides theirs, and the search narrows the
// table. With -update it saves the screenshot in docs/img.
func TestHTMLMapInBrowser(t *testing.T) {
	chromium := findChromium(t)
	prog, err := Load(context.Background(), Config{Dir: filepath.Join("..", "testdata", "shop")})
	if err != nil {
		t.Fatalf("loading testdata/shop: %v", err)
	}
	rep := Run(prog)
	page := filepath.Join(t.TempDir(), "shop.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(f, HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1500, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`))); err != nil {
		t.Fatalf("opening the seam map in %s: %v", chromium, err)
	}

	// Every seam drawn once, with its verdict and its verdict's colour.
	type drawn struct {
		Name, Verdict, Fill string
		W, H                float64
	}
	nodes, err := chromedp.Run(bctx, chromedp.Evaluate[[]drawn](`Array.from(document.querySelectorAll('#map g.seam')).map(function (g) {
		var b = g.getBBox();
		return {Name: g.dataset.name, Verdict: g.dataset.verdict, Fill: getComputedStyle(g.querySelector('rect')).fill, W: b.width, H: b.height};
	})`))
	if err != nil {
		t.Fatal(err)
	}
	fills := map[Verdict]string{Remotable: "rgb(183, 225, 161)", RemotableWithWarnings: "rgb(255, 224, 138)", NotRemotable: "rgb(244, 166, 166)"}
	byName := map[string]drawn{}
	for _, n := range nodes {
		byName[n.Name] = n
	}
	if len(nodes) != len(rep.Seams) {
		t.Errorf("%d seams drawn, want %d", len(nodes), len(rep.Seams))
	}
	for _, s := range rep.Seams {
		n, ok := byName[s.Name]
		switch {
		case !ok:
			t.Errorf("%s is not drawn", s.Name)
		case n.Verdict != s.Verdict.String() || n.Fill != fills[s.Verdict]:
			t.Errorf("%s drawn as %q filled %s, want %q filled %s", s.Name, n.Verdict, n.Fill, s.Verdict, fills[s.Verdict])
		case n.W < 100 || n.H < 20:
			t.Errorf("%s drawn %gx%g: too small to see", s.Name, n.W, n.H)
		}
	}

	// A click on notify.Bus shows its findings, each with file:line:col.
	bus, err := rep.Lookup("notify.Bus")
	if err != nil {
		t.Fatal(err)
	}
	idx := bus.Rank - 1
	step, cancelStep := context.WithTimeout(bctx, 15*time.Second)
	defer cancelStep()
	if err := chromedp.Do(step,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#s%d`, idx))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#details[data-seam="%d"] li.finding`, idx))),
	); err != nil {
		t.Fatalf("clicking notify.Bus shows no findings within 15 s: %v", err)
	}
	heading, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#details h2`)))
	if err != nil {
		t.Fatal(err)
	}
	findings, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#details li.finding')).map(function (li) { return li.textContent; })`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(heading, "notify.Bus") {
		t.Errorf("details heading %q, want notify.Bus", heading)
	}
	if len(findings) != len(bus.Findings) {
		t.Errorf("%d findings shown, want %d: %q", len(findings), len(bus.Findings), findings)
	}
	for _, f := range bus.Findings {
		want := prog.Position(f.Pos) + " [" + f.Rule.Name + "] " + f.Rule.Severity.String()
		found := false
		for _, got := range findings {
			found = found || strings.HasPrefix(got, want) && strings.Contains(got, f.Message)
		}
		if !found {
			t.Errorf("finding %q ... %q not shown; shown: %q", want, f.Message, findings)
		}
	}
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.getElementById('map-pane').scrollTo(0, 0), true`)); err != nil {
		t.Fatal(err)
	}
	shot := screenshot(t, bctx)

	// Folding notify hides its seams; unfolding shows them again.
	countVisible := func(sel string) int {
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll('`+sel+`')).filter(function (e) { return e.style.display !== 'none'; }).length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	pkgSel := fmt.Sprintf(`g.pkg[data-path=%q] .pkgname`, bus.Obj.Pkg().Path())
	before := countVisible("#map g.seam")
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(pkgSel))); err != nil {
		t.Fatal(err)
	}
	if got := countVisible("#map g.seam"); got != before-2 {
		t.Errorf("folding notify: %d seams visible, want %d", got, before-2)
	}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(pkgSel))); err != nil {
		t.Fatal(err)
	}
	if got := countVisible("#map g.seam"); got != before {
		t.Errorf("unfolding notify: %d seams visible, want %d", got, before)
	}

	// The verdict filter hides the seam that is not remotable, on the map
	// and in the table.
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`input.verdict-filter[value="not remotable"]`))); err != nil {
		t.Fatal(err)
	}
	if got, rows := countVisible("#map g.seam"), countVisible("#ranks tbody tr"); got != before-1 || rows != len(rep.Seams)-1 {
		t.Errorf("filtering out not remotable: %d seams and %d rows visible, want %d and %d", got, rows, before-1, len(rep.Seams)-1)
	}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`input.verdict-filter[value="not remotable"]`))); err != nil {
		t.Fatal(err)
	}

	// The search finds inventory.Service by its method Reserve.
	if err := chromedp.Do(bctx, chromedp.SendKeys(chromedp.CSS(`#search`), "Reserve")); err != nil {
		t.Fatal(err)
	}
	rowText, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#ranks tbody tr')).filter(function (r) { return r.style.display !== 'none'; }).map(function (r) { return r.querySelector('.name').textContent; })`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rowText) != 1 || rowText[0] != "inventory.Service" {
		t.Errorf("searching Reserve leaves rows %q, want [inventory.Service]", rowText)
	}

	// A seam with a verify report shows its measured traffic when clicked.
	inv, err := rep.Lookup("inventory.Service")
	if err != nil {
		t.Fatal(err)
	}
	measuredPage := filepath.Join(t.TempDir(), "measured.html")
	var buf bytes.Buffer
	if err := rep.WriteHTML(&buf, HTMLOptions{Measured: map[string]Measured{inv.Name: {Calls: 145, Bytes: 3458, Tests: 16, Sites: 19, InLoops: 8, Taken: "2026-12-02T04:36:21Z"}}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(measuredPage, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	step2, cancelStep2 := context.WithTimeout(bctx, 15*time.Second)
	defer cancelStep2()
	if err := chromedp.Do(step2,
		chromedp.Navigate("file://"+measuredPage),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#s%d`, inv.Rank-1))),
		chromedp.WaitVisible(chromedp.CSS(`#details p.measured`)),
	); err != nil {
		t.Fatalf("clicking inventory.Service on a page with its traffic: %v", err)
	}
	measured, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#details p.measured`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(measured, "145 calls crossed in 16 tests, 3458 bytes, 19 call sites, 8 calls from inside loops") {
		t.Errorf("measured traffic shown as %q", measured)
	}

	if *update {
		out := filepath.Join("..", "docs", "img", "seam-map-shop-html.png")
		if err := os.WriteFile(out, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// screenshot returns a PNG of the browser's viewport.
func screenshot(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 1000 {
		t.Fatalf("screenshot of %d bytes", len(png))
	}
	return png
}
