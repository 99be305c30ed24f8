package analyze

import (
	"context"
	"go/ast"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// This file is a small analysistest: it loads the fixture module in
// testdata/src, runs the analysis, and matches the findings against the
// `// want "regexp" ...` comments beside the offending lines, both ways:
// every finding must be expected by a want on its line, and every want
// regexp must match a finding on its line. A finding is matched as
// "rule: message".

// fixtures loads testdata/src once for all tests of the package.
var fixtures = sync.OnceValues(func() (*Report, error) {
	prog, err := Load(context.Background(), Config{Dir: filepath.Join("testdata", "src")})
	if err != nil {
		return nil, err
	}
	return Run(prog), nil
})

// loadFixtures returns the report on testdata/src or fails the test.
func loadFixtures(t *testing.T) *Report {
	t.Helper()
	rep, err := fixtures()
	if err != nil {
		t.Fatalf("loading fixtures: %v", err)
	}
	if len(rep.Program.Errors) > 0 {
		t.Fatalf("fixtures do not type-check: %v", rep.Program.Errors)
	}
	return rep
}

// A want is one expectation: a regexp that must match a finding at a line.
type want struct {
	line    string // "file:line", file relative to the module root
	re      *regexp.Regexp
	matched bool
}

// wantRE finds the want comments; wantArgRE their quoted regexps.
var (
	wantRE    = regexp.MustCompile(`^//\s*want\s+(.*)$`)
	wantArgRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

// parseWants collects the want comments of the package's files.
func parseWants(t *testing.T, rep *Report, files []*ast.File) []*want {
	t.Helper()
	var wants []*want
	for _, f := range files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				m := wantRE.FindStringSubmatch(c.Text)
				if m == nil {
					continue
				}
				line := lineOf(rep, c.Pos())
				for _, q := range wantArgRE.FindAllString(m[1], -1) {
					s, err := strconv.Unquote(q)
					if err != nil {
						t.Fatalf("%s: bad want %s: %v", line, q, err)
					}
					re, err := regexp.Compile(s)
					if err != nil {
						t.Fatalf("%s: bad want regexp %s: %v", line, q, err)
					}
					wants = append(wants, &want{line: line, re: re})
				}
			}
		}
	}
	return wants
}

// lineOf returns "file:line" of pos, the file relative to the module root.
func lineOf(rep *Report, pos token.Pos) string {
	p := rep.Program.Fset.Position(pos)
	return rep.Program.RelFile(p.Filename) + ":" + strconv.Itoa(p.Line)
}

func TestRuleFixtures(t *testing.T) {
	rep := loadFixtures(t)
	// Findings by the fixture directory of the file they point at.
	findings := map[string][]*Finding{}
	for _, s := range rep.Seams {
		for _, f := range s.Findings {
			line := lineOf(rep, f.Pos)
			dir, _, _ := strings.Cut(line, "/")
			findings[dir] = append(findings[dir], f)
		}
	}
	cases := map[string]bool{}
	for _, p := range rep.Program.Packages {
		cases[strings.SplitN(p.PkgPath, "/", 3)[1]] = true
	}
	var names []string
	for c := range cases {
		names = append(names, c)
	}
	sort.Strings(names)
	if len(names) < 10 {
		t.Fatalf("found %d fixture cases (%v), want at least 10", len(names), names)
	}
	for dir, fs := range findings {
		if !cases[dir] {
			for _, f := range fs {
				t.Errorf("%s: finding outside the fixture cases: %s: %s", rep.Program.Position(f.Pos), f.Rule.Name, f.Message)
			}
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			var wants []*want
			for _, p := range rep.Program.Packages {
				if p.PkgPath == "fixtures/"+name || strings.HasPrefix(p.PkgPath, "fixtures/"+name+"/") {
					wants = append(wants, parseWants(t, rep, p.Syntax)...)
				}
			}
			for _, f := range findings[name] {
				line := lineOf(rep, f.Pos)
				text := f.Rule.Name + ": " + f.Message
				ok := false
				for _, w := range wants {
					if w.line == line && w.re.MatchString(text) {
						w.matched, ok = true, true
					}
				}
				if !ok {
					t.Errorf("%s: unexpected finding %q", rep.Program.Position(f.Pos), text)
				}
			}
			for _, w := range wants {
				if !w.matched {
					t.Errorf("%s: no finding matches %q", w.line, w.re)
				}
			}
		})
	}
}
