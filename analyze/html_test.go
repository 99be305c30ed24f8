package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHTMLMapStructure checks what the golden file cannot say on its own:
// the page fetches nothing, every seam is drawn once with its verdict,
// every arrow joins drawn things and stands for an importer or an
// implementation, the SVG is well-formed, the embedded report is the JSON
// report, and measured traffic shows when given.
func TestHTMLMapStructure(t *testing.T) {
	prog, err := Load(context.Background(), Config{Dir: filepath.Join("..", "testdata", "shop")})
	if err != nil {
		t.Fatalf("loading testdata/shop: %v", err)
	}
	rep := Run(prog)
	inv, err := rep.Lookup("inventory.Service")
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := rep.WriteHTML(&page, HTMLOptions{Measured: map[string]Measured{inv.Name: {Calls: 14, Bytes: 900, Tests: 3, Sites: 2, InLoops: 5, Taken: "2026-12-02T04:00:00Z"}}}); err != nil {
		t.Fatal(err)
	}
	html := page.String()

	t.Run("self-contained", func(t *testing.T) {
		for _, bad := range []string{"<link", " src=", "@import", "http://", "https://", "fetch(", "XMLHttpRequest"} {
			text := strings.ReplaceAll(html, `xmlns="http://www.w3.org/2000/svg"`, "")
			if i := strings.Index(text, bad); i >= 0 {
				t.Errorf("the page refers to something outside it (%q): ...%s...", bad, text[max(0, i-60):min(len(text), i+60)])
			}
		}
		for _, u := range regexp.MustCompile(`url\(([^)]*)\)`).FindAllStringSubmatch(html, -1) {
			if !strings.HasPrefix(u[1], "#") {
				t.Errorf("url(%s) is not a fragment of the page", u[1])
			}
		}
	})

	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(html, -1) {
		if ids[m[1]] {
			t.Errorf("id %q twice", m[1])
		}
		ids[m[1]] = true
	}
	t.Run("seams", func(t *testing.T) {
		for i, s := range rep.Seams {
			re := regexp.MustCompile(fmt.Sprintf(`<g class="node seam v-[a-z]+" id="s%d" data-seam="%d" data-verdict="([^"]+)" data-name="([^"]+)"`, i, i))
			all := re.FindAllStringSubmatch(html, -1)
			if len(all) != 1 {
				t.Errorf("%s drawn %d times, want once", s.Name, len(all))
				continue
			}
			if all[0][1] != s.Verdict.String() || all[0][2] != s.Name {
				t.Errorf("node s%d says %q %q, want %q %q", i, all[0][2], all[0][1], s.Name, s.Verdict)
			}
			if !strings.Contains(html, fmt.Sprintf(`<tr data-seam="%d" data-verdict="%s"`, i, s.Verdict)) {
				t.Errorf("%s has no row in the rank table", s.Name)
			}
		}
	})
	t.Run("edges", func(t *testing.T) {
		want := 0
		for _, s := range rep.Seams {
			want += len(s.Impls) + len(s.Importers)
		}
		edges := regexp.MustCompile(`<path class="edge (imports|implements)" data-from="([^"]+)" data-to="([^"]+)"`).FindAllStringSubmatch(html, -1)
		if len(edges) != want {
			t.Errorf("%d arrows, want %d (one per implementation and importer of each seam)", len(edges), want)
		}
		for _, e := range edges {
			if !ids[e[2]] || !ids[e[3]] || !strings.HasPrefix(e[3], "s") {
				t.Errorf("arrow %s -> %s does not join drawn nodes", e[2], e[3])
			}
			if (e[1] == "imports") != strings.HasPrefix(e[2], "p") {
				t.Errorf("%s arrow from %s", e[1], e[2])
			}
		}
	})
	t.Run("svg well-formed", func(t *testing.T) {
		start, end := strings.Index(html, "<svg"), strings.Index(html, "</svg>")
		if start < 0 || end < 0 {
			t.Fatal("no svg element")
		}
		d := xml.NewDecoder(strings.NewReader(html[start : end+len("</svg>")]))
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("the SVG does not parse: %v", err)
				}
				break
			}
		}
	})
	t.Run("embedded report", func(t *testing.T) {
		m := regexp.MustCompile(`<script type="application/json" id="data">(.*)</script>`).FindStringSubmatch(html)
		if m == nil {
			t.Fatal("no embedded data")
		}
		var data struct {
			Report   json.RawMessage     `json:"report"`
			Measured map[string]Measured `json:"measured"`
		}
		if err := json.Unmarshal([]byte(m[1]), &data); err != nil {
			t.Fatal(err)
		}
		var fromPage, fromJSON any
		var buf bytes.Buffer
		if err := rep.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data.Report, &fromPage); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(buf.Bytes(), &fromJSON); err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(fromPage)
		b, _ := json.Marshal(fromJSON)
		if !bytes.Equal(a, b) {
			t.Error("the embedded report differs from analyze -json")
		}
		if data.Measured[inv.Name].Calls != 14 {
			t.Errorf("measured traffic of %s not embedded: %+v", inv.Name, data.Measured)
		}
	})
	t.Run("measured", func(t *testing.T) {
		node := regexp.MustCompile(`(?s)<g class="node seam [^>]*data-name="` + regexp.QuoteMeta(inv.Name) + `".*?</g>`).FindString(html)
		if !strings.Contains(node, ">14 calls<") {
			t.Errorf("the node of %s does not show its 14 measured calls: %s", inv.Name, node)
		}
		if !strings.Contains(html, `<th title="calls measured by meshsplit verify">calls</th>`) {
			t.Error("the rank table has no measured calls column")
		}
	})
}

// TestHTMLMapLayout checks the layout's invariants: importers sit in a
// column left of the seams they use unless a cycle forbids it, and no two
// boxes of a column overlap.
func TestHTMLMapLayout(t *testing.T) {
	prog, err := Load(context.Background(), Config{Dir: filepath.Join("..", "testdata", "shop")})
	if err != nil {
		t.Fatal(err)
	}
	rep := Run(prog)
	m := rep.layoutMap()
	for _, e := range m.edges {
		if e.fromPkg != nil && e.fromPkg.col >= m.pkgs[e.to.pkg].col {
			t.Errorf("importer %s (column %d) not left of %s (column %d)", e.fromPkg.path, e.fromPkg.col, m.pkgs[e.to.pkg].path, m.pkgs[e.to.pkg].col)
		}
	}
	for c, ps := range m.cols {
		for i := 1; i < len(ps); i++ {
			if ps[i].y < ps[i-1].y+ps[i-1].h {
				t.Errorf("column %d: %s overlaps %s", c, ps[i].path, ps[i-1].path)
			}
		}
	}
	if m.width <= 0 || m.height <= 0 {
		t.Errorf("empty drawing %dx%d", m.width, m.height)
	}
}
