package rewrite

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/meshsplit/meshsplit/rewrite/gen"
)

// generatedRE matches the line the Go convention reserves for generated
// files (https://go.dev/s/generatedcode).
var generatedRE = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)

// generatedBy reports whether src is a generated Go file and whether
// meshsplit generated it. Only the comment lines before the package clause
// count, as in the convention.
func generatedBy(src []byte) (generated, ours bool) {
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "package ") {
			break
		}
		if generatedRE.MatchString(line) {
			return true, line == gen.Header
		}
	}
	return false, false
}

// dirtyFiles returns the files among paths (absolute) that git reports as
// modified, added, deleted or untracked in the work tree of dir. Outside a
// git work tree, or without git, it returns nothing: there is nothing to lose.
func dirtyFiles(ctx context.Context, dir string, paths []string) ([]string, error) {
	top, err := gitOutput(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, nil // not a repository, or no git
	}
	top = strings.TrimSpace(top)
	if real, err := filepath.EvalSymlinks(top); err == nil {
		top = real
	}
	status, err := gitOutput(ctx, dir, "status", "--porcelain", "-z", "--untracked-files=all", "--", ".")
	if err != nil {
		return nil, fmt.Errorf("git status in %s: %w", dir, err)
	}
	dirty := map[string]bool{}
	entries := strings.Split(status, "\x00")
	for i := 0; i < len(entries); i++ {
		e := entries[i]
		if len(e) < 4 {
			continue
		}
		dirty[filepath.Join(top, filepath.FromSlash(e[3:]))] = true
		if e[0] == 'R' || e[0] == 'C' {
			i++ // the next entry is the rename's source
		}
	}
	var out []string
	for _, p := range paths {
		real := p
		if r, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
			real = filepath.Join(r, filepath.Base(p))
		}
		if dirty[real] {
			out = append(out, p)
		}
	}
	return out, nil
}

// gitOutput runs git in dir and returns its standard output.
func gitOutput(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), strings.TrimSpace(stderr.String()))
		}
		return "", err
	}
	return string(out), nil
}
