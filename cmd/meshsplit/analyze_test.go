package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/meshsplit/meshsplit/internal/benchmod"
)

// writeTree creates files (path -> content) under a new temporary
// directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	benchmod.WriteModule(t, dir, files)
	return dir
}

const seamSrc = `package good

import "context"

// S is a seam.
type S interface{ Do(ctx context.Context) error }
`

func TestAnalyzeInputs(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string // module files; nil: no directory at all
		sub    string            // -C names this folder of the tree ("" = its root)
		args   []string          // after -C dir
		env    map[string]string
		code   int
		stdout string // regexp the output must match
		stderr string // regexp the errors must match ("" = no errors)
	}{
		{
			name:   "ok",
			files:  map[string]string{"go.mod": "module ex.com/m\n\ngo 1.26\n", "good/g.go": seamSrc},
			code:   0,
			stdout: `(?m)^1 +good\.S +remotable +1 +0 +0 +0 +\d+$`,
		},
		{
			name:   "json",
			files:  map[string]string{"go.mod": "module ex.com/m\n\ngo 1.26\n", "good/g.go": seamSrc},
			args:   []string{"-json"},
			code:   0,
			stdout: `"version": 1,\n  "module": "ex.com/m"[\s\S]*"pos": "good/g.go:6:6"`,
		},
		{
			name:   "details",
			files:  map[string]string{"go.mod": "module ex.com/m\n\ngo 1.26\n", "good/g.go": seamSrc},
			args:   []string{"-v"},
			code:   0,
			stdout: `(?m)^1\. good\.S \(good/g\.go:6:6\): remotable, score \d+\n   methods:\n     Do\(ctx context\.Context\) error: remotable, 0 calls \(0 in loops\)\n   implementations: none\n`,
		},
		{
			name:   "missing directory",
			files:  nil,
			code:   1,
			stderr: `^meshsplit analyze: directory .*nope does not exist: pass -C with the directory of a Go module\n$`,
		},
		{
			name:   "no go.mod",
			files:  map[string]string{"x/x.go": "package x\n"},
			code:   1,
			stderr: `^meshsplit analyze: no go.mod in .* or any parent: analyze works on a Go module; run 'go mod init' there or pass -C with a module's directory\n$`,
		},
		{
			name:   "malformed go.mod",
			files:  map[string]string{"go.mod": "module ex.com/m\n\ngo 1.26\n\nfoo bar\n", "good/g.go": seamSrc},
			code:   1,
			stderr: `^meshsplit analyze: loading \./\.\.\. in .*: go: errors parsing go.mod: .*go.mod:5: unknown directive: foo\n$`,
		},
		{
			name:   "empty module",
			files:  map[string]string{"go.mod": "module ex.com/empty\n\ngo 1.26\n"},
			code:   1,
			stderr: `^meshsplit analyze: module ex.com/empty \(.*\) has no Go packages: add Go files, or pass -C with another module\n$`,
		},
		{
			name:   "pattern matches nothing",
			files:  map[string]string{"go.mod": "module ex.com/m\n\ngo 1.26\n", "good/g.go": seamSrc},
			args:   []string{"./nope/..."},
			code:   1,
			stderr: `^meshsplit analyze: .*nope.*no such file or directory\n$`,
		},
		{
			name:   "pattern names the standard library",
			files:  map[string]string{"go.mod": "module ex.com/m\n\ngo 1.26\n", "good/g.go": seamSrc},
			args:   []string{"fmt"},
			code:   1,
			stderr: `^meshsplit analyze: pattern fmt matched no packages of module ex.com/m \(dependencies and the standard library are not analyzed\): check the patterns, relative to .*\n$`,
		},
		{
			name:   "pattern outside the module",
			files:  map[string]string{"m/go.mod": "module ex.com/m\n\ngo 1.26\n", "m/good/g.go": seamSrc, "other/o.go": "package other\n"},
			sub:    "m",
			args:   []string{"../other"},
			code:   1,
			stderr: `^meshsplit analyze: .*outside main module.*: analyze one module at a time; pass -C with that module's directory\n$`,
		},
		{
			name:   "pattern names a missing package",
			files:  map[string]string{"go.mod": "module ex.com/m\n\ngo 1.26\n", "good/g.go": seamSrc},
			args:   []string{"./nope"},
			code:   1,
			stderr: `^meshsplit analyze: .*nope.*directory not found\n$`,
		},
		{
			name: "type errors: reported at file:line, the rest analyzed",
			files: map[string]string{
				"go.mod":    "module ex.com/m\n\ngo 1.26\n",
				"good/g.go": seamSrc,
				"bad/b.go":  "package bad\n\nimport \"ex.com/m/good\"\n\ntype T interface{ Do(x undefinedType) error }\n\nvar _ good.S = 3\n",
			},
			code:   1,
			stdout: `(?m)^\d +good\.S +remotable [\s\S]*^\d +bad\.T `,
			stderr: `^bad/b.go:5:24: undefined: undefinedType\nbad/b.go:7:16: cannot use 3 .*\nmeshsplit analyze: 2 load or type errors \(above\); the report covers what could be analyzed; fix them and run again\n$`,
		},
		{
			name: "type errors inside implementation bodies",
			files: map[string]string{
				"go.mod": "module ex.com/m\n\ngo 1.26\n",
				"p/p.go": `package p

import "context"

type Order struct{ Items []string }

// Repo is a seam whose implementation does not type-check.
type Repo interface {
	Create(ctx context.Context, o *Order, m map[string]int) error
}

type repo struct{}

func NewRepo() Repo { return &repo{} }

func (r *repo) Create(ctx context.Context, o *Order, m map[string]int) error {
	o.Items[0] = undefinedValue
	o.Nope.X = 1
	nope[3] = o
	delete(missing, "k")
	m[undefinedKey]++
	copy(o.Nope, m)
	o.Missing()
	return nil
}
`,
			},
			code:   1,
			stdout: `(?m)^1 +p\.Repo +remotable with warnings[\s\S]*\[out-param\][\s\S]*\[param-write\]`,
			stderr: `p/p.go:17:15: undefined: undefinedValue[\s\S]*meshsplit analyze: \d+ load or type errors`,
		},
		{
			name: "syntax error",
			files: map[string]string{
				"go.mod":    "module ex.com/m\n\ngo 1.26\n",
				"good/g.go": seamSrc,
				"bad/b.go":  "package bad\n\ntype T interface{ Do() error\n",
			},
			code:   1,
			stdout: `good\.S`,
			stderr: `^bad/b.go:3:\d+: expected .*\n[\s\S]*meshsplit analyze: \d+ load or type errors`,
		},
		{
			name: "build-tagged files excluded",
			files: map[string]string{
				"go.mod": "module ex.com/m\n\ngo 1.26\n",
				"p/p.go": "//go:build special\n\n" + strings.Replace(seamSrc, "package good", "package p", 1),
			},
			code:   1,
			stderr: `^meshsplit analyze: no package of module ex.com/m matches the build constraints \(for example p/p.go\): pass -tags with the files' build tags\n$`,
		},
		{
			name: "build-tagged package named explicitly",
			files: map[string]string{
				"go.mod": "module ex.com/m\n\ngo 1.26\n",
				"p/p.go": "//go:build special\n\n" + strings.Replace(seamSrc, "package good", "package p", 1),
			},
			args:   []string{"./p"},
			code:   1,
			stderr: `^meshsplit analyze: package ex.com/m/p: build constraints exclude all Go files in .*: pass -tags with the package's build tags .*\n$`,
		},
		{
			name: "build tags given",
			files: map[string]string{
				"go.mod": "module ex.com/m\n\ngo 1.26\n",
				"p/p.go": "//go:build special\n\n" + strings.Replace(seamSrc, "package good", "package p", 1),
			},
			args:   []string{"-tags", "special,other"},
			code:   0,
			stdout: `(?m)^1 +p\.S +remotable`,
		},
		{
			name: "cgo disabled",
			files: map[string]string{
				"go.mod": "module ex.com/m\n\ngo 1.26\n",
				"c/c.go": "package c\n\n// int add(int a, int b) { return a + b; }\nimport \"C\"\n\n// S adds.\ntype S interface{ Add(a, b int) (int, error) }\n",
			},
			env:    map[string]string{"CGO_ENABLED": "0"},
			code:   1,
			stderr: `^meshsplit analyze: no package of module ex.com/m can be built: c/c.go uses cgo, which is disabled; set CGO_ENABLED=1 and install a C compiler .*\n$`,
		},
		{
			name: "test files only with -test",
			files: map[string]string{
				"go.mod":         "module ex.com/m\n\ngo 1.26\n",
				"good/g.go":      seamSrc,
				"good/g_test.go": "package good\n\nimport \"context\"\n\n// Fake is a test seam.\ntype Fake interface{ Fake(ctx context.Context) error }\n",
			},
			args:   []string{"-test"},
			code:   0,
			stdout: `(?m)^\d +good\.Fake +remotable[\s\S]*^\d +good\.S +remotable`,
		},
		{name: "unknown flag", args: []string{"-x"}, code: 2, stderr: `^meshsplit analyze: flag provided but not defined: -x; run 'meshsplit analyze -h' for usage\n$`},
		{name: "flag without value", args: []string{"-tags"}, code: 2, stderr: `^meshsplit analyze: flag needs an argument: -tags; run 'meshsplit analyze -h' for usage\n$`},
		{name: "flag after pattern", args: []string{"./...", "-json"}, code: 2, stderr: `^meshsplit analyze: flag -json after a pattern: put flags before the patterns\n$`},
		{name: "help", args: []string{"-h"}, code: 0, stdout: `^usage: meshsplit analyze`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			dir := filepath.Join(t.TempDir(), "nope")
			if tt.files != nil {
				dir = filepath.Join(writeTree(t, tt.files), tt.sub)
			}
			var stdout, stderr bytes.Buffer
			args := append([]string{"analyze", "-C", dir}, tt.args...)
			code := run(args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout.String(), stderr.String())
			}
			if tt.stdout != "" && !regexp.MustCompile(tt.stdout).MatchString(stdout.String()) {
				t.Errorf("stdout does not match %q:\n%s", tt.stdout, stdout.String())
			}
			errs := stderr.String()
			if tt.stderr == "" && errs != "" {
				t.Errorf("unexpected stderr:\n%s", errs)
			}
			if tt.stderr != "" && !regexp.MustCompile(tt.stderr).MatchString(errs) {
				t.Errorf("stderr does not match %q:\n%s", tt.stderr, errs)
			}
			if strings.Contains(errs, "goroutine ") || strings.Contains(errs, "panic") {
				t.Errorf("stderr shows a panic:\n%s", errs)
			}
		})
	}
}

// TestAnalyzeDOT runs analyze -dot on the fleet fixture (a digraph on
// stdout, exit 0) and refuses -dot with -json as a usage error.
func TestAnalyzeDOT(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runAnalyze([]string{"-C", "../../testdata/fleet", "-dot"}, &stdout, &stderr); code != exitOK || !strings.HasPrefix(stdout.String(), "digraph seams {") {
		t.Fatalf("analyze -dot: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := runAnalyze([]string{"-C", "../../testdata/fleet", "-dot", "-json"}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "-json and -dot exclude each other") {
		t.Fatalf("analyze -dot -json: exit %d, stderr %q", code, stderr.String())
	}
}

// TestAnalyzeHTML writes the seam map of the fleet fixture (a page, exit 0,
// nothing on stdout) and fails with one line, leaving no file, when the
// page cannot be written.
func TestAnalyzeHTML(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "map.html")
	var stdout, stderr bytes.Buffer
	if code := runAnalyze([]string{"-C", "../../testdata/fleet", "-html", page}, &stdout, &stderr); code != exitOK {
		t.Fatalf("analyze -html: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(page)
	if err != nil || !bytes.HasPrefix(data, []byte("<!DOCTYPE html>")) || !bytes.Contains(data, []byte(`<g class="node seam`)) {
		t.Fatalf("analyze -html wrote %d bytes (%v): not a seam map", len(data), err)
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "wrote the seam map") {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}

	stdout.Reset()
	stderr.Reset()
	bad := filepath.Join(dir, "missing", "map.html")
	if code := runAnalyze([]string{"-C", "../../testdata/fleet", "-html", bad}, &stdout, &stderr); code != exitFailure {
		t.Fatalf("analyze -html into a missing directory: exit %d, want %d", code, exitFailure)
	}
	if lines := strings.Split(strings.TrimSpace(stderr.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], bad) {
		t.Errorf("want one line naming %s, got %q", bad, stderr.String())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the failed write left files behind: %v", entries)
	}
}
