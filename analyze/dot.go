package analyze

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// This file draws the seam map in Graphviz DOT: packages as clusters, seams
// as nodes coloured by verdict, and arrows from the packages that import a
// seam and from the types that implement it. 'meshsplit analyze -dot'
// prints it; 'dot -Tsvg' draws it.

// verdictColors fills a seam's node by its verdict.
var verdictColors = map[Verdict]string{
	Remotable:             "#b7e1a1",
	RemotableWithWarnings: "#ffe08a",
	NotRemotable:          "#f4a6a6",
}

// WriteDOT writes the seam map of the report in Graphviz DOT. The output
// is deterministic: packages, seams and edges in sorted order.
func (r *Report) WriteDOT(w io.Writer) error {
	var b strings.Builder
	b.WriteString("digraph seams {\n")
	b.WriteString("\tgraph [rankdir=LR, fontname=\"Helvetica\", fontsize=10, compound=true];\n")
	b.WriteString("\tnode [fontname=\"Helvetica\", fontsize=10];\n")
	b.WriteString("\tedge [color=\"#888888\", arrowsize=0.6];\n")

	// Nodes, grouped by package: the seams, and the implementations.
	type member struct{ id, label, attrs string }
	pkgs := map[string][]member{}
	impls := map[string]bool{}
	for _, s := range r.Seams {
		label := fmt.Sprintf("%s\n#%d %s\n%d methods, %d impls, %d ctors", s.Obj.Name(), s.Rank, s.Verdict, len(s.Methods), len(s.Impls), len(s.Ctors))
		attrs := fmt.Sprintf("shape=box, style=\"rounded,filled\", fillcolor=%q, tooltip=%q", verdictColors[s.Verdict], s.Name+": "+findingSummary(s))
		path := s.Obj.Pkg().Path()
		pkgs[path] = append(pkgs[path], member{dotID("seam", s.Name), label, attrs})
		for _, impl := range s.Impls {
			name := typeKey(impl.Named.Obj())
			if impls[name] {
				continue
			}
			impls[name] = true
			ipath := impl.Named.Obj().Pkg().Path()
			pkgs[ipath] = append(pkgs[ipath], member{dotID("impl", name), impl.Named.Obj().Name(), "shape=ellipse, style=filled, fillcolor=\"#eeeeee\""})
		}
	}
	// Importers that declare no seam or implementation still get a cluster.
	for _, s := range r.Seams {
		for _, imp := range s.Importers {
			if _, ok := pkgs[imp.Pkg.PkgPath]; !ok {
				pkgs[imp.Pkg.PkgPath] = nil
			}
		}
	}
	paths := make([]string, 0, len(pkgs))
	for p := range pkgs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for i, p := range paths {
		fmt.Fprintf(&b, "\tsubgraph cluster_%d {\n\t\tlabel=%q; style=rounded; color=\"#bbbbbb\";\n", i, p)
		fmt.Fprintf(&b, "\t\t%s [shape=point, style=invis];\n", dotID("pkg", p))
		ms := pkgs[p]
		sort.Slice(ms, func(i, j int) bool { return ms[i].id < ms[j].id })
		for _, m := range ms {
			fmt.Fprintf(&b, "\t\t%s [label=%s, %s];\n", m.id, dotString(m.label), m.attrs)
		}
		b.WriteString("\t}\n")
	}

	// Edges: implementation -> seam (dashed), importer package -> seam.
	var edges []string
	for _, s := range r.Seams {
		to := dotID("seam", s.Name)
		for _, impl := range s.Impls {
			edges = append(edges, fmt.Sprintf("\t%s -> %s [style=dashed, tooltip=\"implements\"];\n", dotID("impl", typeKey(impl.Named.Obj())), to))
		}
		for _, imp := range s.Importers {
			edges = append(edges, fmt.Sprintf("\t%s -> %s [ltail=cluster_%d, tooltip=%q];\n", dotID("pkg", imp.Pkg.PkgPath), to, sort.SearchStrings(paths, imp.Pkg.PkgPath),
				fmt.Sprintf("%d references, %d method calls", imp.Refs, imp.Calls)))
		}
	}
	sort.Strings(edges)
	for _, e := range edges {
		b.WriteString(e)
	}
	b.WriteString("}\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the seam map: %w", err)
	}
	return nil
}

// findingSummary counts a seam's findings by severity for a tooltip.
func findingSummary(s *Seam) string {
	counts := map[Severity]int{}
	for _, f := range s.Findings {
		counts[f.Rule.Severity]++
	}
	return fmt.Sprintf("%s, %s, %s", plural(counts[Error], "error"), plural(counts[Warning], "warning"), plural(counts[Note], "note"))
}

// dotID returns a quoted DOT identifier for a node of a kind.
func dotID(kind, name string) string { return strconv.Quote(kind + ":" + name) }

// dotString quotes a label for DOT, its line breaks as DOT's \n.
func dotString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
