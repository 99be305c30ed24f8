package rewrite

import (
	"bytes"
	"fmt"
	"strings"
)

// contextLines is the number of unchanged lines a unified diff shows around
// each change, as diff -u and git do.
const contextLines = 3

// Colours used by UnifiedDiff when asked to colour its output.
const (
	colourBold  = "\x1b[1m"
	colourRed   = "\x1b[31m"
	colourGreen = "\x1b[32m"
	colourCyan  = "\x1b[36m"
	colourReset = "\x1b[0m"
)

// UnifiedDiff returns the unified diff that turns old into new, with
// `--- a/path` and `+++ b/path` headers (or /dev/null for a created or removed
// file: old or new nil) and three lines of context. It returns "" when the two
// are equal. With colour, removed lines are red, added lines green and hunk
// headers cyan, for a terminal.
func UnifiedDiff(path string, old, new []byte, colour bool) string {
	if bytes.Equal(old, new) && (old == nil) == (new == nil) {
		return ""
	}
	a, b := splitLines(old), splitLines(new)
	ops := diffLines(a, b)

	var out strings.Builder
	paint := func(c, s string) {
		if colour {
			out.WriteString(c + s + colourReset + "\n")
		} else {
			out.WriteString(s + "\n")
		}
	}
	from, to := "a/"+path, "b/"+path
	if old == nil {
		from = "/dev/null"
	}
	if new == nil {
		to = "/dev/null"
	}
	paint(colourBold, "--- "+from)
	paint(colourBold, "+++ "+to)

	for _, h := range hunks(ops) {
		paint(colourCyan, fmt.Sprintf("@@ -%s +%s @@", hunkRange(h.aStart, h.aLen), hunkRange(h.bStart, h.bLen)))
		for _, op := range ops[h.first:h.last] {
			var prefix, text, c string
			switch op.kind {
			case opEqual:
				prefix, text = " ", a[op.a]
			case opDelete:
				prefix, text, c = "-", a[op.a], colourRed
			case opInsert:
				prefix, text, c = "+", b[op.b], colourGreen
			}
			line, complete := strings.CutSuffix(text, "\n")
			if c == "" {
				out.WriteString(prefix + line + "\n")
			} else {
				paint(c, prefix+line)
			}
			if !complete {
				out.WriteString("\\ No newline at end of file\n")
			}
		}
	}
	return out.String()
}

// splitLines splits b after each newline; the last line keeps no newline
// when b does not end with one.
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// hunkRange formats one side of a hunk header: "start,len", with the
// conventions of diff -u for empty ranges (the line before) and single lines.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

type opKind int

const (
	opEqual opKind = iota
	opDelete
	opInsert
)

// An edit is one line of the edit script: a line kept (a and b set), removed
// from a (a set) or inserted from b (b set).
type edit struct {
	kind opKind
	a, b int
}

// A hunk is a run of edits [first, last) with its line ranges (0-based
// starts) on both sides.
type hunk struct {
	first, last  int
	aStart, aLen int
	bStart, bLen int
}

// hunks groups the changes of ops into hunks with contextLines of context
// on each side, merging changes separated by at most 2*contextLines
// unchanged lines.
func hunks(ops []edit) []hunk {
	var out []hunk
	for i := 0; i < len(ops); {
		if ops[i].kind == opEqual {
			i++
			continue
		}
		end := i // one past the last change of the group
		for j := i; j < len(ops); {
			if ops[j].kind != opEqual {
				j++
				end = j
				continue
			}
			run := 0
			for j+run < len(ops) && ops[j+run].kind == opEqual {
				run++
			}
			if j+run == len(ops) || run > 2*contextLines {
				break
			}
			j += run
		}
		h := hunk{first: max(i-contextLines, 0), last: min(end+contextLines, len(ops))}
		for _, op := range ops[:h.first] {
			if op.kind != opInsert {
				h.aStart++
			}
			if op.kind != opDelete {
				h.bStart++
			}
		}
		for _, op := range ops[h.first:h.last] {
			if op.kind != opInsert {
				h.aLen++
			}
			if op.kind != opDelete {
				h.bLen++
			}
		}
		out = append(out, h)
		i = end
	}
	return out
}

// diffLines computes a shortest edit script from a to b with Myers'
// O((N+M)D) algorithm.
func diffLines(a, b []string) []edit {
	n, m := len(a), len(b)
	maxD := n + m
	offset := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	var d int
search:
	for d = 0; d <= maxD; d++ {
		snapshot := make([]int, len(v))
		copy(snapshot, v)
		trace = append(trace, snapshot)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1] // down: insert
			} else {
				x = v[offset+k-1] + 1 // right: delete
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[offset+k] = x
			if x >= n && y >= m {
				break search
			}
		}
	}

	// Walk the trace back from (n, m) to (0, 0).
	var rev []edit
	x, y := n, m
	for ; d > 0; d-- {
		vPrev := trace[d]
		k := x - y
		var prevK int
		if k == -d || (k != d && vPrev[offset+k-1] < vPrev[offset+k+1]) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := vPrev[offset+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
			rev = append(rev, edit{opEqual, x, y})
		}
		if x == prevX {
			y--
			rev = append(rev, edit{kind: opInsert, a: -1, b: y})
		} else {
			x--
			rev = append(rev, edit{kind: opDelete, a: x, b: -1})
		}
	}
	for x > 0 && y > 0 {
		x, y = x-1, y-1
		rev = append(rev, edit{opEqual, x, y})
	}
	ops := make([]edit, len(rev))
	for i, e := range rev {
		ops[len(rev)-1-i] = e
	}
	return ops
}
