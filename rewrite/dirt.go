package rewrite

import (
	"bufio"
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
)

// This file decides which uncommitted changes the dirty check lets through
// because no work of the user's can be lost to the plan: meshsplit's own
// edits of go.mod and go.sum, and what an earlier uncommitted run of
// extract wrote that the plan takes back.

// harmlessDirt reports whether the uncommitted change of c's file is one the
// plan may overwrite. head is the file as the last commit has it (inHead
// false when the commit has no such file).
func harmlessDirt(c FileChange, head []byte, inHead bool) bool {
	switch {
	case c.New != nil && inHead && bytes.Equal(c.New, head):
		return true // the plan gives back the committed bytes (-revert)
	case c.New == nil && !inHead:
		_, ours := generatedBy(c.Old)
		return ours // an untracked file meshsplit generated, removed again
	case !inHead:
		return false
	}
	switch filepath.Base(c.Path) {
	case "go.mod":
		return sameModWithoutRuntime(c.Path, head, c.Old)
	case "go.sum":
		return sameSumWithoutRuntime(head, c.Old)
	}
	return false
}

// sameModWithoutRuntime reports whether two go.mod contents differ at most
// in meshsplit's requirement and replacement of the runtime module (or of
// the module meshsplit required before the runtime had one), and in the
// indirect requirements 'go mod tidy' adds for the runtime's own.
func sameModWithoutRuntime(path string, a, b []byte) bool {
	strip := func(data []byte) ([]byte, bool) {
		f, err := modfile.Parse(path, data, nil)
		if err != nil {
			return nil, false
		}
		for _, r := range slices.Clone(f.Require) {
			if r.Indirect && slices.Contains(runtimeSumModules, r.Mod.Path) && f.DropRequire(r.Mod.Path) != nil {
				return nil, false
			}
		}
		for _, mod := range []string{RuntimeModule, toolModule} {
			if f.DropRequire(mod) != nil {
				return nil, false
			}
			for _, r := range slices.Clone(f.Replace) {
				if r.Old.Path == mod && f.DropReplace(mod, r.Old.Version) != nil {
					return nil, false
				}
			}
		}
		f.Cleanup()
		out, err := f.Format()
		return out, err == nil
	}
	sa, okA := strip(a)
	sb, okB := strip(b)
	return okA && okB && bytes.Equal(sa, sb)
}

// runtimeSumModules are the modules whose go.sum lines the runtime's
// requirement brings in: the runtime and what it requires.
var runtimeSumModules = []string{RuntimeModule, toolModule, "github.com/hashicorp/yamux"}

// sameSumWithoutRuntime reports whether two go.sum contents differ at most
// in the lines of runtimeSumModules.
func sameSumWithoutRuntime(a, b []byte) bool {
	lines := func(data []byte) map[string]bool {
		out := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			mod, _, _ := strings.Cut(line, " ")
			if line != "" && !slices.Contains(runtimeSumModules, mod) {
				out[line] = true
			}
		}
		return out
	}
	la, lb := lines(a), lines(b)
	if len(la) != len(lb) {
		return false
	}
	for l := range la {
		if !lb[l] {
			return false
		}
	}
	return true
}

// headVersion returns the content of path (absolute, inside the git work
// tree of dir) at HEAD, and whether HEAD has it.
func headVersion(ctx context.Context, dir, path string) ([]byte, bool) {
	top, err := gitOutput(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, false
	}
	top = strings.TrimSpace(top)
	if real, err := filepath.EvalSymlinks(top); err == nil {
		top = real
	}
	real := path
	if r, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		real = filepath.Join(r, filepath.Base(path))
	}
	rel, err := filepath.Rel(top, real)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, false
	}
	out, err := gitOutput(ctx, dir, "show", "HEAD:"+filepath.ToSlash(rel))
	if err != nil {
		return nil, false
	}
	return []byte(out), true
}
