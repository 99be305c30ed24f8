package analyze

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"sort"
	"strings"
)

// This file draws the seam map as one self-contained HTML page: the graph
// of WriteDOT laid out here, in Go, as SVG (packages as boxes in columns,
// importers left of the seams they use; seams coloured by verdict; arrows
// from importing packages and implementations), the rank table beside it,
// and the JSON report embedded for the details a click shows. The page's
// script only restacks the boxes when packages are folded or verdicts
// filtered; nothing is fetched at view time.

// Measured is the traffic that 'meshsplit verify' recorded for a seam,
// shown on the seam map beside the static signals.
type Measured struct {
	// Calls counts the calls that crossed the mesh in the remote run.
	Calls int `json:"calls"`
	// Bytes totals the encoded requests and responses.
	Bytes int64 `json:"bytes"`
	// Tests counts the tests that made calls across the seam.
	Tests int `json:"tests"`
	// Sites counts the distinct call sites.
	Sites int `json:"sites"`
	// InLoops counts the calls made from call sites inside a loop.
	InLoops int `json:"inLoops"`
	// Taken is when the report was recorded (RFC 3339).
	Taken string `json:"taken"`
}

// HTMLOptions add to the HTML seam map what analyze alone does not know.
type HTMLOptions struct {
	// Measured holds, by Seam.Name, the traffic of seams with a verify
	// report.
	Measured map[string]Measured
}

// The geometry of the map, in SVG user units; the page's script reads the
// same numbers from the svg element's data attributes.
const (
	mapMargin  = 16  // around the drawing
	mapBoxW    = 250 // a package box's width
	mapColGap  = 120 // between columns, where edges run
	mapHeader  = 24  // a package box's title band
	mapPad     = 8   // inside a box, around its nodes
	mapSeamH   = 36  // a seam node's height
	mapImplH   = 22  // an implementation node's height
	mapNodeGap = 6   // between nodes of a box
	mapPkgGap  = 18  // between boxes of a column
	mapLoop    = 70  // right of the last column, for edges that loop back
)

// mapNode is a seam or implementation drawn in a package box.
type mapNode struct {
	id      string // "s3" (seam index) or "i5"
	seam    int    // index in Report.Seams, -1 for an implementation
	label   string // what the node says
	sub     string // a seam's second line
	title   string // tooltip
	verdict string
	pkg     int // index in seamMap.pkgs
	y       int // offset in its box
}

// mapPkg is one package box.
type mapPkg struct {
	path    string
	label   string
	id      string
	nodes   []*mapNode
	col     int
	x, y, h int
}

// mapEdge is one arrow: from a package box's title (an importer) or an
// implementation node, to a seam node.
type mapEdge struct {
	from, to *mapNode
	fromPkg  *mapPkg // the importer, when from is nil
	kind     string  // "imports" or "implements"
	title    string
}

// seamMap is the laid-out graph.
type seamMap struct {
	pkgs   []*mapPkg
	edges  []*mapEdge
	cols   [][]*mapPkg
	width  int
	height int
}

// layoutMap lays the report's seam graph out: packages in columns by the
// longest path of importer and implementation edges (sources left), each
// column ordered by the mean row of its packages' predecessors, nodes in a
// box by rank then name.
func (r *Report) layoutMap() *seamMap {
	m := &seamMap{}
	byPath := map[string]*mapPkg{}
	pkg := func(path string) *mapPkg {
		p := byPath[path]
		if p == nil {
			p = &mapPkg{path: path, label: r.relPkg(path)}
			byPath[path] = p
		}
		return p
	}
	impls := map[string]*mapNode{}
	seamNodes := make([]*mapNode, len(r.Seams))
	for i, s := range r.Seams {
		p := pkg(s.Obj.Pkg().Path())
		sub := fmt.Sprintf("#%d %s · %s", s.Rank, s.Verdict, plural(len(s.Methods), "method"))
		n := &mapNode{id: fmt.Sprintf("s%d", i), seam: i, label: s.Obj.Name(), sub: sub, verdict: s.Verdict.String(),
			title: r.ShortName(s) + ": " + s.Verdict.String() + ", " + findingSummary(s)}
		seamNodes[i] = n
		p.nodes = append(p.nodes, n)
	}
	for i, s := range r.Seams {
		for _, impl := range s.Impls {
			key := typeKey(impl.Named.Obj())
			n := impls[key]
			if n == nil {
				p := pkg(impl.Named.Obj().Pkg().Path())
				label := impl.Named.Obj().Name()
				if impl.Pointer {
					label = "*" + label
				}
				n = &mapNode{seam: -1, label: label, title: "implementation " + impl.Named.Obj().Pkg().Name() + "." + label}
				impls[key] = n
				p.nodes = append(p.nodes, n)
			}
			m.edges = append(m.edges, &mapEdge{from: n, to: seamNodes[i], kind: "implements", title: n.label + " implements " + r.ShortName(s)})
		}
		for _, imp := range s.Importers {
			m.edges = append(m.edges, &mapEdge{fromPkg: pkg(imp.Pkg.PkgPath), to: seamNodes[i], kind: "imports",
				title: fmt.Sprintf("%s uses %s: %s, %s", r.relPkg(imp.Pkg.PkgPath), r.ShortName(s), plural(imp.Refs, "reference"), plural(imp.Calls, "method call"))})
		}
	}
	for _, p := range byPath {
		m.pkgs = append(m.pkgs, p)
		sort.SliceStable(p.nodes, func(i, j int) bool {
			a, b := p.nodes[i], p.nodes[j]
			if (a.seam >= 0) != (b.seam >= 0) {
				return a.seam >= 0
			}
			if a.seam >= 0 {
				return a.seam < b.seam
			}
			return a.title < b.title
		})
	}
	sort.Slice(m.pkgs, func(i, j int) bool { return m.pkgs[i].path < m.pkgs[j].path })
	implN := 0
	for i, p := range m.pkgs {
		p.id = fmt.Sprintf("p%d", i)
		for _, n := range p.nodes {
			n.pkg = i
			if n.seam < 0 {
				n.id = fmt.Sprintf("i%d", implN)
				implN++
			}
		}
	}
	pkgOf := func(n *mapNode) *mapPkg { return m.pkgs[n.pkg] }
	sort.SliceStable(m.edges, func(i, j int) bool { return m.edges[i].key(pkgOf) < m.edges[j].key(pkgOf) })

	// Columns: the longest path from a package no edge enters.
	preds := map[*mapPkg][]*mapPkg{}
	for _, e := range m.edges {
		from := e.fromPkg
		if from == nil {
			from = pkgOf(e.from)
		}
		to := pkgOf(e.to)
		if from != to {
			preds[to] = append(preds[to], from)
		}
	}
	const visiting = -1
	col := map[*mapPkg]int{}
	var depth func(p *mapPkg) int
	depth = func(p *mapPkg) int {
		if c, ok := col[p]; ok {
			return max(c, 0) // a cycle ends at a package being visited
		}
		col[p] = visiting
		c := 0
		for _, q := range preds[p] {
			c = max(c, depth(q)+1)
		}
		col[p] = c
		return c
	}
	for _, p := range m.pkgs {
		p.col = depth(p)
		for len(m.cols) <= p.col {
			m.cols = append(m.cols, nil)
		}
		m.cols[p.col] = append(m.cols[p.col], p)
	}
	// One sweep left to right: order each column by the mean row of the
	// predecessors already placed, then by path.
	row := map[*mapPkg]float64{}
	for c, ps := range m.cols {
		bary := map[*mapPkg]float64{}
		for _, p := range ps {
			sum, n := 0.0, 0
			for _, q := range preds[p] {
				if q.col < c {
					sum += row[q]
					n++
				}
			}
			bary[p] = -1
			if n > 0 {
				bary[p] = sum / float64(n)
			}
		}
		sort.SliceStable(ps, func(i, j int) bool { return bary[ps[i]] < bary[ps[j]] })
		for i, p := range ps {
			row[p] = float64(i)
		}
	}
	// Geometry.
	for c, ps := range m.cols {
		y := mapMargin
		for _, p := range ps {
			p.x = mapMargin + c*(mapBoxW+mapColGap)
			p.y = y
			ny := mapHeader
			for _, n := range p.nodes {
				n.y = ny
				ny += n.height() + mapNodeGap
			}
			p.h = ny - mapNodeGap + mapPad
			if len(p.nodes) == 0 {
				p.h = mapHeader
			}
			y += p.h + mapPkgGap
		}
		m.height = max(m.height, y-mapPkgGap+mapMargin)
	}
	m.width = 2*mapMargin + len(m.cols)*mapBoxW + max(len(m.cols)-1, 0)*mapColGap + mapLoop
	return m
}

// key orders edges deterministically.
func (e *mapEdge) key(pkgOf func(*mapNode) *mapPkg) string {
	from := ""
	if e.from != nil {
		from = pkgOf(e.from).path + "\x00" + e.from.title
	} else {
		from = e.fromPkg.path
	}
	return fmt.Sprintf("%s\x00%s\x00%08d", e.kind, from, e.to.seam)
}

// height returns the node's height.
func (n *mapNode) height() int {
	if n.seam >= 0 {
		return mapSeamH
	}
	return mapImplH
}

// relPkg spells an import path relative to the module ("." for its root).
func (r *Report) relPkg(path string) string {
	mod := r.Program.Module
	switch {
	case path == mod:
		return "."
	case strings.HasPrefix(path, mod+"/"):
		return path[len(mod)+1:]
	}
	return path
}

// anchors returns the start and end of an edge in map coordinates.
func (m *seamMap) anchors(e *mapEdge) (sx, sy, tx, ty int) {
	if e.from != nil {
		p := m.pkgs[e.from.pkg]
		sx, sy = p.x+mapBoxW-mapPad, p.y+e.from.y+e.from.height()/2
	} else {
		sx, sy = e.fromPkg.x+mapBoxW, e.fromPkg.y+mapHeader/2
	}
	tp := m.pkgs[e.to.pkg]
	tx, ty = tp.x+mapPad, tp.y+e.to.y+mapSeamH/2
	return sx, sy, tx, ty
}

// edgePath returns the SVG path of an edge; the page's script draws the
// same curve after a restack.
func edgePath(sx, sy, tx, ty int) string {
	if tx > sx {
		dx := max(40, (tx-sx)/2)
		return fmt.Sprintf("M%d %dC%d %d %d %d %d %d", sx, sy, sx+dx, sy, tx-dx, ty, tx, ty)
	}
	// Back or same column: loop out to the right and into the node's right side.
	tx += mapBoxW - 2*mapPad
	return fmt.Sprintf("M%d %dC%d %d %d %d %d %d", sx, sy, sx+60, sy, tx+60, ty, tx, ty)
}

// truncate shortens s to n runes with an ellipsis, keeping the end when
// tail is set (package paths) and the start otherwise.
func truncate(s string, n int, tail bool) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	if tail {
		return "…" + string(rs[len(rs)-n+1:])
	}
	return string(rs[:n-1]) + "…"
}

// WriteHTML writes the seam map as one self-contained HTML page: no
// script, style or font is fetched at view time. The output is
// deterministic.
func (r *Report) WriteHTML(w io.Writer, opts HTMLOptions) error {
	m := r.layoutMap()
	esc := html.EscapeString
	var b strings.Builder
	title := "meshsplit seam map: " + r.Program.Module
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n<style>\n%s</style>\n</head>\n<body>\n", esc(title), mapCSS)
	fmt.Fprintf(&b, "<header><h1>%s</h1>\n", esc(title))
	b.WriteString("<input id=\"search\" type=\"search\" placeholder=\"search seams, packages, methods\" autocomplete=\"off\">\n")
	b.WriteString("<span class=\"filters\">")
	for _, v := range []Verdict{Remotable, RemotableWithWarnings, NotRemotable} {
		fmt.Fprintf(&b, "<label class=\"v-%s\"><input type=\"checkbox\" class=\"verdict-filter\" value=\"%s\" checked> %s</label>", verdictClass(v), esc(v.String()), esc(v.String()))
	}
	b.WriteString("<label><input type=\"checkbox\" id=\"show-impls\" checked> implementations</label>")
	b.WriteString("</span>\n<button id=\"fold-all\" type=\"button\">fold all</button> <button id=\"unfold-all\" type=\"button\">unfold all</button>\n")
	counts := map[Verdict]int{}
	for _, s := range r.Seams {
		counts[s.Verdict]++
	}
	fmt.Fprintf(&b, "<span id=\"summary\">%s in %s: %d remotable, %d with warnings, %d not remotable</span>\n</header>\n",
		plural(len(r.Seams), "seam"), plural(len(m.pkgs), "package"), counts[Remotable], counts[RemotableWithWarnings], counts[NotRemotable])

	// The map.
	fmt.Fprintf(&b, "<main>\n<div id=\"map-pane\">\n<svg id=\"map\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" data-margin=\"%d\" data-boxw=\"%d\" data-colgap=\"%d\" data-header=\"%d\" data-pad=\"%d\" data-seamh=\"%d\" data-implh=\"%d\" data-nodegap=\"%d\" data-pkggap=\"%d\" data-loop=\"%d\">\n",
		m.width, m.height, m.width, m.height, mapMargin, mapBoxW, mapColGap, mapHeader, mapPad, mapSeamH, mapImplH, mapNodeGap, mapPkgGap, mapLoop)
	b.WriteString("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"#888\"/></marker></defs>\n")
	b.WriteString("<g id=\"pkgs\">\n")
	for c, ps := range m.cols {
		for _, p := range ps {
			fmt.Fprintf(&b, "<g class=\"pkg\" id=\"%s\" data-col=\"%d\" data-path=\"%s\" transform=\"translate(%d %d)\">\n", p.id, c, esc(p.path), p.x, p.y)
			fmt.Fprintf(&b, "<rect class=\"box\" width=\"%d\" height=\"%d\" rx=\"6\"/>\n", mapBoxW, p.h)
			fold := "<tspan class=\"fold\">▾ </tspan>"
			if len(p.nodes) == 0 {
				fold = ""
			}
			fmt.Fprintf(&b, "<text class=\"pkgname\" x=\"8\" y=\"16\">%s%s<title>%s</title></text>\n", fold, esc(truncate(p.label, 36, true)), esc(p.path))
			for _, n := range p.nodes {
				if n.seam >= 0 {
					fmt.Fprintf(&b, "<g class=\"node seam v-%s\" id=\"%s\" data-seam=\"%d\" data-verdict=\"%s\" data-name=\"%s\" transform=\"translate(%d %d)\" tabindex=\"0\">",
						verdictClass(r.Seams[n.seam].Verdict), n.id, n.seam, esc(n.verdict), esc(r.Seams[n.seam].Name), mapPad, n.y)
					fmt.Fprintf(&b, "<rect width=\"%d\" height=\"%d\" rx=\"5\"/><text x=\"8\" y=\"15\" class=\"name\">%s</text><text x=\"8\" y=\"29\" class=\"sub\">%s</text>",
						mapBoxW-2*mapPad, mapSeamH, esc(truncate(n.label, 34, false)), esc(truncate(n.sub, 40, false)))
					if ms, ok := opts.Measured[r.Seams[n.seam].Name]; ok {
						fmt.Fprintf(&b, "<text x=\"%d\" y=\"15\" class=\"measured\" text-anchor=\"end\">%s</text>", mapBoxW-2*mapPad-6, esc(plural(ms.Calls, "call")))
					}
					fmt.Fprintf(&b, "<title>%s</title></g>\n", esc(n.title))
				} else {
					fmt.Fprintf(&b, "<g class=\"node impl\" id=\"%s\" transform=\"translate(%d %d)\"><rect width=\"%d\" height=\"%d\" rx=\"11\"/><text x=\"10\" y=\"15\">%s</text><title>%s</title></g>\n",
						n.id, mapPad, n.y, mapBoxW-2*mapPad, mapImplH, esc(truncate(n.label, 36, false)), esc(n.title))
				}
			}
			b.WriteString("</g>\n")
		}
	}
	b.WriteString("</g>\n")
	b.WriteString("<g id=\"edges\">\n")
	for _, e := range m.edges {
		from := ""
		if e.from != nil {
			from = e.from.id
		} else {
			from = e.fromPkg.id
		}
		sx, sy, tx, ty := m.anchors(e)
		fmt.Fprintf(&b, "<path class=\"edge %s\" data-from=\"%s\" data-to=\"%s\" d=\"%s\" marker-end=\"url(#arrow)\"><title>%s</title></path>\n",
			e.kind, from, e.to.id, edgePath(sx, sy, tx, ty), esc(e.title))
	}
	b.WriteString("</g>\n</svg>\n</div>\n")

	// The side: details of the selected seam, then the rank table.
	b.WriteString("<aside id=\"side\">\n<section id=\"details\"><p class=\"hint\">Click a seam (on the map or in the table) for its methods, findings, constructors, conversions and importers. Click a package's title to fold it.</p></section>\n")
	b.WriteString("<table id=\"ranks\">\n<thead><tr><th>#</th><th>seam</th><th>verdict</th><th title=\"methods\">meth</th><th title=\"implementations\">impl</th><th title=\"constructors\">ctor</th><th title=\"importing packages\">imp</th><th>score</th>")
	if len(opts.Measured) > 0 {
		b.WriteString("<th title=\"calls measured by meshsplit verify\">calls</th>")
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for i, s := range r.Seams {
		fmt.Fprintf(&b, "<tr data-seam=\"%d\" data-verdict=\"%s\" class=\"v-%s\"><td>%d</td><td class=\"name\">%s</td><td>%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td>",
			i, esc(s.Verdict.String()), verdictClass(s.Verdict), s.Rank, esc(r.ShortName(s)), esc(s.Verdict.String()), len(s.Methods), len(s.Impls), len(s.Ctors), len(s.Importers), s.Score)
		if len(opts.Measured) > 0 {
			if ms, ok := opts.Measured[s.Name]; ok {
				fmt.Fprintf(&b, "<td>%d</td>", ms.Calls)
			} else {
				b.WriteString("<td></td>")
			}
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n</aside>\n</main>\n")

	// The data the details come from, then the script.
	data := struct {
		Report   jsonReport          `json:"report"`
		Short    []string            `json:"short"`
		Measured map[string]Measured `json:"measured"`
	}{Report: r.jsonModel(), Measured: opts.Measured}
	if data.Measured == nil {
		data.Measured = map[string]Measured{}
	}
	for _, s := range r.Seams {
		data.Short = append(data.Short, r.ShortName(s))
	}
	js, err := json.Marshal(data) // escapes <, > and &: safe inside a script element
	if err != nil {
		return fmt.Errorf("writing the seam map: %w", err)
	}
	fmt.Fprintf(&b, "<script type=\"application/json\" id=\"data\">%s</script>\n<script>\n%s</script>\n</body>\n</html>\n", js, mapJS)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the seam map: %w", err)
	}
	return nil
}

// verdictClass returns the CSS class suffix of a verdict.
func verdictClass(v Verdict) string {
	switch v {
	case Remotable:
		return "ok"
	case RemotableWithWarnings:
		return "warn"
	}
	return "no"
}
