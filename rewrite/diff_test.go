package rewrite

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		nilOld   bool
		nilNew   bool
		want     string
	}{
		{name: "equal", old: "a\nb\n", new: "a\nb\n", want: ""},
		{
			name: "one line changed in the middle",
			old:  "1\n2\n3\n4\n5\n6\n7\n8\n9\n",
			new:  "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			want: "--- a/f.go\n+++ b/f.go\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n",
		},
		{
			name:   "created file",
			nilOld: true,
			new:    "x\ny\n",
			want:   "--- /dev/null\n+++ b/f.go\n@@ -0,0 +1,2 @@\n+x\n+y\n",
		},
		{
			name:   "removed file",
			old:    "x\n",
			nilNew: true,
			want:   "--- a/f.go\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n",
		},
		{
			name: "missing final newline",
			old:  "a\nb",
			new:  "a\nc",
			want: "--- a/f.go\n+++ b/f.go\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n",
		},
		{
			name: "two distant changes make two hunks",
			old:  "a\n1\n2\n3\n4\n5\n6\n7\n8\nb\n",
			new:  "A\n1\n2\n3\n4\n5\n6\n7\n8\nB\n",
			want: "--- a/f.go\n+++ b/f.go\n@@ -1,4 +1,4 @@\n-a\n+A\n 1\n 2\n 3\n@@ -7,4 +7,4 @@\n 6\n 7\n 8\n-b\n+B\n",
		},
		{
			name: "close changes share a hunk",
			old:  "a\n1\n2\n3\n4\n5\n6\nb\n",
			new:  "A\n1\n2\n3\n4\n5\n6\nB\n",
			want: "--- a/f.go\n+++ b/f.go\n@@ -1,8 +1,8 @@\n-a\n+A\n 1\n 2\n 3\n 4\n 5\n 6\n-b\n+B\n",
		},
		{
			name: "insertion into an empty region",
			old:  "a\nb\n",
			new:  "a\nx\nb\n",
			want: "--- a/f.go\n+++ b/f.go\n@@ -1,2 +1,3 @@\n a\n+x\n b\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, new := []byte(tt.old), []byte(tt.new)
			if tt.nilOld {
				old = nil
			}
			if tt.nilNew {
				new = nil
			}
			got := UnifiedDiff("f.go", old, new, false)
			if got != tt.want {
				t.Errorf("diff:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestUnifiedDiffColour(t *testing.T) {
	got := UnifiedDiff("f.go", []byte("a\n"), []byte("b\n"), true)
	for _, want := range []string{colourRed + "-a" + colourReset, colourGreen + "+b" + colourReset, colourCyan + "@@ -1 +1 @@" + colourReset} {
		if !strings.Contains(got, want) {
			t.Errorf("coloured diff %q lacks %q", got, want)
		}
	}
}

// TestUnifiedDiffApplies checks on random edits that applying the diff's
// hunks to the old text gives the new text, and that the script is minimal
// in length compared with a plain LCS.
func TestUnifiedDiffApplies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		old := randomLines(rng, rng.IntN(30))
		new := mutate(rng, old)
		d := UnifiedDiff("f", []byte(strings.Join(old, "")), []byte(strings.Join(new, "")), false)
		got, err := applyUnified(old, d)
		if err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, d)
		}
		if strings.Join(got, "") != strings.Join(new, "") {
			t.Fatalf("case %d: applying the diff gives\n%q\nwant\n%q\ndiff:\n%s", i, got, new, d)
		}
		if changes, want := countChanges(diffLines(old, new)), len(old)+len(new)-2*lcs(old, new); changes != want {
			t.Fatalf("case %d: %d changed lines, the shortest script has %d", i, changes, want)
		}
	}
}

func randomLines(rng *rand.Rand, n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = strconv.Itoa(rng.IntN(6)) + "\n"
	}
	return lines
}

func mutate(rng *rand.Rand, lines []string) []string {
	out := append([]string(nil), lines...)
	for range rng.IntN(6) {
		switch pos := rng.IntN(len(out) + 1); {
		case rng.IntN(2) == 0 && pos < len(out):
			out = append(out[:pos], out[pos+1:]...)
		default:
			out = append(out[:pos], append([]string{strconv.Itoa(rng.IntN(9)) + "\n"}, out[pos:]...)...)
		}
	}
	return out
}

func countChanges(ops []edit) int {
	n := 0
	for _, op := range ops {
		if op.kind != opEqual {
			n++
		}
	}
	return n
}

func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// applyUnified applies a unified diff (as UnifiedDiff writes it, without
// "no newline" markers) to lines, checking every context and removed line.
func applyUnified(lines []string, diff string) ([]string, error) {
	if diff == "" {
		return lines, nil
	}
	var out []string
	next := 0 // next line of lines not yet copied
	body := strings.SplitAfter(diff, "\n")
	for i := 2; i < len(body) && body[i] != ""; {
		var aStart, aLen, bStart, bLen int
		if _, err := fmt.Sscanf(normaliseHeader(body[i]), "@@ -%d,%d +%d,%d @@", &aStart, &aLen, &bStart, &bLen); err != nil {
			return nil, fmt.Errorf("hunk header %q: %v", body[i], err)
		}
		if aLen > 0 {
			aStart--
		}
		out = append(out, lines[next:aStart]...)
		next = aStart
		for i++; i < len(body) && body[i] != "" && !strings.HasPrefix(body[i], "@@"); i++ {
			text := body[i][1:]
			switch body[i][0] {
			case ' ', '-':
				if next >= len(lines) || lines[next] != text {
					return nil, fmt.Errorf("line %d: have %q, diff says %q", next+1, lines[next], text)
				}
				next++
				if body[i][0] == ' ' {
					out = append(out, text)
				}
			case '+':
				out = append(out, text)
			}
		}
	}
	return append(out, lines[next:]...), nil
}

// normaliseHeader writes the short forms "-3" and "+3" of a hunk header as
// "-3,1" and "+3,1".
func normaliseHeader(h string) string {
	f := strings.Fields(h)
	for i := 1; i <= 2; i++ {
		if !strings.Contains(f[i], ",") {
			f[i] += ",1"
		}
	}
	return strings.Join(f, " ")
}
