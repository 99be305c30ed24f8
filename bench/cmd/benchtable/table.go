package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Summary is the medians of one cell over every round.
type Summary struct {
	Cell                                         string
	Runs                                         int
	NsPerOp, BytesPerOp, AllocsPerOp, CPUNsPerOp float64
	// Spread is half the range of ns/op over the runs, relative to the
	// median: how far apart the rounds were.
	Spread float64
}

// Summarize groups results by cell and takes medians, keeping the order in
// which cells first appear.
func Summarize(results []Result) []Summary {
	var order []string
	byCell := map[string][]Result{}
	for _, r := range results {
		if _, ok := byCell[r.Cell]; !ok {
			order = append(order, r.Cell)
		}
		byCell[r.Cell] = append(byCell[r.Cell], r)
	}
	sums := make([]Summary, 0, len(order))
	for _, cell := range order {
		rs := byCell[cell]
		ns := collect(rs, func(r Result) float64 { return r.NsPerOp })
		s := Summary{
			Cell:        cell,
			Runs:        len(rs),
			NsPerOp:     median(ns),
			BytesPerOp:  median(collect(rs, func(r Result) float64 { return r.BytesPerOp })),
			AllocsPerOp: median(collect(rs, func(r Result) float64 { return r.AllocsPerOp })),
			CPUNsPerOp:  median(collect(rs, func(r Result) float64 { return r.CPUNsPerOp })),
		}
		if s.NsPerOp > 0 {
			s.Spread = (slices.Max(ns) - slices.Min(ns)) / 2 / s.NsPerOp
		}
		sums = append(sums, s)
	}
	return sums
}

func collect(rs []Result, f func(Result) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

// median returns the middle value of vs (the mean of the two middle ones
// for an even count); vs must not be empty.
func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Render writes markdown tables: time per call with the ratio against the
// baseline stack of the same payload and mode and the spread over the runs,
// CPU time per call (when the benchmarks report cpu-ns/op) with the same
// ratios, then allocations. Rows are payload/mode, columns stacks, the
// baseline first. When floor names another stack that was measured, a last
// table gives every other stack's time and CPU per call divided by the
// floor's (floor "" leaves it out).
func Render(w io.Writer, sums []Summary, baseline, floor string) error {
	return render(w, sums, baseline, floor, "call")
}

// render is Render with the word for one op: "call", or "op" for streams.
func render(w io.Writer, sums []Summary, baseline, floor, op string) error {
	var stacks, rows []string
	cell := map[string]Summary{}
	for _, s := range sums {
		r := Result{Cell: s.Cell}
		if !slices.Contains(stacks, r.Stack()) {
			stacks = append(stacks, r.Stack())
		}
		row := r.Row()
		if !slices.Contains(rows, row) {
			rows = append(rows, row)
		}
		cell[s.Cell] = s
	}
	if i := slices.Index(stacks, baseline); i > 0 {
		stacks = append([]string{baseline}, slices.Delete(stacks, i, i+1)...)
	}

	var b strings.Builder
	header := func(title string) {
		fmt.Fprintf(&b, "| %s | %s |\n", title, strings.Join(stacks, " | "))
		fmt.Fprintf(&b, "|---|%s\n", strings.Repeat("---|", len(stacks)))
	}
	// timeTable writes one table of a per-op time with ratios against the
	// baseline; spread adds each cell's spread over the runs.
	timeTable := func(title string, get func(Summary) float64, spread bool) {
		header(title)
		for _, row := range rows {
			base, hasBase := cell[baseline+"/"+row]
			fmt.Fprintf(&b, "| %s |", row)
			for _, st := range stacks {
				s, ok := cell[st+"/"+row]
				if !ok || get(s) < 0 {
					b.WriteString(" – |")
					continue
				}
				fmt.Fprintf(&b, " %s", formatNs(get(s)))
				if spread {
					fmt.Fprintf(&b, " ±%.0f%%", s.Spread*100)
				}
				if st != baseline && hasBase && get(base) > 0 {
					fmt.Fprintf(&b, " (**%s×**)", formatRatio(get(s)/get(base)))
				}
				b.WriteString(" |")
			}
			b.WriteString("\n")
		}
	}
	timeTable("time per "+op, func(s Summary) float64 { return s.NsPerOp }, true)
	if slices.ContainsFunc(sums, func(s Summary) bool { return s.CPUNsPerOp >= 0 }) {
		b.WriteString("\n")
		timeTable("CPU per "+op, func(s Summary) float64 { return s.CPUNsPerOp }, false)
	}
	b.WriteString("\n")
	header("allocs/op, B/op")
	for _, row := range rows {
		fmt.Fprintf(&b, "| %s |", row)
		for _, st := range stacks {
			s, ok := cell[st+"/"+row]
			if !ok {
				b.WriteString(" – |")
				continue
			}
			fmt.Fprintf(&b, " %.0f, %s |", s.AllocsPerOp, formatBytes(s.BytesPerOp))
		}
		b.WriteString("\n")
	}
	if floor != "" && floor != baseline && slices.Contains(stacks, floor) {
		b.WriteString("\n")
		floorTable(&b, stacks, rows, cell, floor)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// floorTable writes each stack's time per call divided by the floor
// stack's in the same run, with the same ratio of CPU per call in
// brackets when both were measured.
func floorTable(b *strings.Builder, stacks, rows []string, cell map[string]Summary, floor string) {
	var others []string
	for _, st := range stacks {
		if st != floor {
			others = append(others, st)
		}
	}
	fmt.Fprintf(b, "| ÷ %s: time (CPU) | %s |\n", floor, strings.Join(others, " | "))
	fmt.Fprintf(b, "|---|%s\n", strings.Repeat("---|", len(others)))
	for _, row := range rows {
		fmt.Fprintf(b, "| %s |", row)
		f, hasFloor := cell[floor+"/"+row]
		for _, st := range others {
			s, ok := cell[st+"/"+row]
			if !ok || !hasFloor || s.NsPerOp < 0 || f.NsPerOp <= 0 {
				b.WriteString(" – |")
				continue
			}
			fmt.Fprintf(b, " **%s×**", formatRatio(s.NsPerOp/f.NsPerOp))
			if s.CPUNsPerOp >= 0 && f.CPUNsPerOp > 0 {
				fmt.Fprintf(b, " (%s×)", formatRatio(s.CPUNsPerOp/f.CPUNsPerOp))
			}
			b.WriteString(" |")
		}
		b.WriteString("\n")
	}
}

// formatNs prints a duration in nanoseconds with three significant digits.
func formatNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	default:
		return fmt.Sprintf("%.3g ns", ns)
	}
}

// formatRatio prints a ratio with two decimals, or two significant digits
// when it is far below one (the direct call).
func formatRatio(r float64) string {
	if r < 0.01 {
		return fmt.Sprintf("%.2g", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// formatBytes prints a byte count as B or KB.
func formatBytes(n float64) string {
	if n >= 1024 {
		return fmt.Sprintf("%.1f KB", n/1024)
	}
	return fmt.Sprintf("%.0f B", n)
}
