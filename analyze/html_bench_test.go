package analyze

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/meshsplit/meshsplit/internal/benchmod"
)

// BenchmarkHTMLMap writes the seam map of golang.org/x/tools (from the
// module cache, as BenchmarkAnalyze copies it) against the JSON report of
// the same analysis, in the same run, and, when Chromium is installed,
// opens the page in headless Chromium and times what a reader waits for:
//
//	go test ./analyze -run '^$' -bench BenchmarkHTMLMap -benchtime 5x
//
// Reported: html-ms and json-ms (mean per write), html/json (the ratio of
// the means), page-KB; with Chromium, open-ms (navigation until the
// page's script has laid the map out), fold-ms and unfold-ms (folding and
// unfolding every package, restack and redraw of every arrow included),
// search-ms (typing a query that matches one seam).
func BenchmarkHTMLMap(b *testing.B) {
	dir := benchmod.XToolsCopy(b)
	env := append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOSUMDB=off", "GOFLAGS=-mod=mod")
	prog, err := Load(context.Background(), Config{Dir: dir, Patterns: []string{"./..."}, Env: env})
	if err != nil {
		b.Fatal(err)
	}
	rep := Run(prog)
	var page bytes.Buffer
	if err := rep.WriteHTML(&page, HTMLOptions{}); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d seams, page of %d KB", len(rep.Seams), page.Len()/1024)

	var htmlT, jsonT time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if err := rep.WriteHTML(io.Discard, HTMLOptions{}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := rep.WriteJSON(io.Discard); err != nil {
			b.Fatal(err)
		}
		htmlT += t1.Sub(t0)
		jsonT += time.Since(t1)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(htmlT.Milliseconds())/n, "html-ms")
	b.ReportMetric(float64(jsonT.Milliseconds())/n, "json-ms")
	b.ReportMetric(float64(htmlT)/float64(jsonT), "html/json")
	b.ReportMetric(float64(page.Len())/1024, "page-KB")

	chromium := ""
	for _, name := range []string{os.Getenv("MESHSPLIT_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); name != "" && err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		b.Log("no Chromium: the browser timings are left out")
		return
	}
	file := filepath.Join(b.TempDir(), "xtools.html")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1500, 900), chromedp.UserDataDir(b.TempDir()))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`))); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(t0).Milliseconds()), "open-ms")
	for _, step := range []struct{ metric, js string }{
		{"fold-ms", `document.getElementById('fold-all').click()`},
		{"unfold-ms", `document.getElementById('unfold-all').click()`},
		{"search-ms", `(function () { var s = document.getElementById('search'); s.value = 'jsonrpc2.Conn'; s.dispatchEvent(new Event('input')); })()`},
	} {
		ms, err := chromedp.Run(bctx, chromedp.Evaluate[float64](`(function () { var t = performance.now(); `+step.js+`; return performance.now() - t; })()`))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(ms, step.metric)
	}
}
