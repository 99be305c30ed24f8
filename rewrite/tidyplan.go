package rewrite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// This file shows, before anything is written, what 'go mod tidy' will
// change in go.mod once the plan is applied: a raised go line or an
// upgraded requirement must be seen in the review, not found afterwards.

// tidyPreview runs 'go mod tidy' on a copy of the plan's go.mod, with the
// plan's Go files laid over the module, and adds what it would change to
// the plan: added requirements as actions, a raised go line, a changed or
// dropped toolchain line and changed requirements as manual steps. When the
// go command cannot tell (no network for a missing module, say), a manual
// step says so and why.
func (p *planner) tidyPreview(ctx context.Context, changes []FileChange) {
	before, after, ok := p.tidyAhead.result(p.prog, changes)
	var err error
	if !ok {
		before, after, err = tidied(ctx, p.prog.Root, changes, p.plan.env)
	}
	if err != nil {
		p.manual("go.mod", "cannot tell what 'go mod tidy' will change: %s; run it after -w and review go.mod", strings.Join(strings.Fields(err.Error()), " "))
		return
	}
	for _, line := range tidyChanges(before, after) {
		if line.review {
			p.manual("go.mod", "'go mod tidy' will %s", line.text)
		} else {
			p.action("go.mod", "go.mod", "'go mod tidy' will %s", line.text)
		}
	}
}

// tidyLine is one change 'go mod tidy' makes to go.mod; review is set for
// those a reviewer must see (a raised go line, a changed requirement).
type tidyLine struct {
	text   string
	review bool
}

// tidyChanges compares go.mod before and after 'go mod tidy'.
func tidyChanges(before, after *modfile.File) []tidyLine {
	var out []tidyLine
	goOf := func(f *modfile.File) string {
		if f.Go == nil {
			return ""
		}
		return f.Go.Version
	}
	if b, a := goOf(before), goOf(after); b != a {
		switch {
		case b == "":
			out = append(out, tidyLine{fmt.Sprintf("add a go line (go %s) where go.mod has none", a), true})
		default:
			out = append(out, tidyLine{fmt.Sprintf("raise the go line from %s to %s", b, a), true})
		}
	}
	tcOf := func(f *modfile.File) string {
		if f.Toolchain == nil {
			return ""
		}
		return f.Toolchain.Name
	}
	if b, a := tcOf(before), tcOf(after); b != a {
		switch {
		case a == "":
			out = append(out, tidyLine{fmt.Sprintf("drop the toolchain line (%s)", b), true})
		case b == "":
			out = append(out, tidyLine{fmt.Sprintf("add a toolchain line (%s)", a), true})
		default:
			out = append(out, tidyLine{fmt.Sprintf("change the toolchain line from %s to %s", b, a), true})
		}
	}
	old := map[string]*modfile.Require{}
	for _, r := range before.Require {
		old[r.Mod.Path] = r
	}
	for _, r := range after.Require {
		o, ok := old[r.Mod.Path]
		delete(old, r.Mod.Path)
		indirect := ""
		if r.Indirect {
			indirect = " (indirect)"
		}
		switch {
		case !ok:
			out = append(out, tidyLine{fmt.Sprintf("add %s %s%s", r.Mod.Path, r.Mod.Version, indirect), false})
		case o.Mod.Version != r.Mod.Version:
			verb := "change"
			if semver.Compare(r.Mod.Version, o.Mod.Version) > 0 {
				verb = "upgrade"
			}
			out = append(out, tidyLine{fmt.Sprintf("%s %s from %s to %s", verb, r.Mod.Path, o.Mod.Version, r.Mod.Version), true})
		}
	}
	var dropped []string
	for path := range old {
		dropped = append(dropped, path)
	}
	sort.Strings(dropped)
	for _, path := range dropped {
		out = append(out, tidyLine{fmt.Sprintf("drop the requirement on %s (nothing imports it)", path), false})
	}
	return out
}

// tidied returns the plan's go.mod and the same after 'go mod tidy' (see
// tidyRun), with the plan's Go files overlaid.
func tidied(ctx context.Context, root string, changes []FileChange, env []string) (before, after *modfile.File, err error) {
	gomod, overlay, err := planned(root, changes)
	if err != nil {
		return nil, nil, err
	}
	return tidyRun(ctx, root, gomod, overlay, env, false)
}

// tidyRun returns gomod and the same after 'go mod tidy', run on copies in
// a temporary directory (-modfile) with overlay (Go files by absolute path)
// laid over the module: the module's own go.mod and go.sum are never
// written. With background set, the go command runs at a lower scheduling
// priority (see lowerPriority).
func tidyRun(ctx context.Context, root string, gomod []byte, overlay map[string][]byte, env []string, background bool) (before, after *modfile.File, err error) {
	before, err = modfile.Parse("go.mod", gomod, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("the planned go.mod: %w", err)
	}
	env, tmp, cleanup, err := modEnv(root, gomod, env, false)
	if err != nil {
		return nil, nil, err
	}
	defer cleanup()
	modPath := filepath.Join(tmp, "go.mod")
	replace := map[string]string{}
	for path, src := range overlay {
		f := filepath.Join(tmp, fmt.Sprintf("overlay%d.go", len(replace)))
		if err := os.WriteFile(f, src, 0o644); err != nil {
			return nil, nil, err
		}
		replace[path] = f
	}
	ov, err := json.Marshal(struct{ Replace map[string]string }{replace})
	if err != nil {
		return nil, nil, err
	}
	ovPath := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovPath, ov, 0o644); err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, "go", "mod", "tidy", "-overlay="+ovPath)
	cmd.Dir = root
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("go mod tidy: %w", err)
	}
	if background {
		lowerPriority(cmd.Process.Pid)
	}
	if err := cmd.Wait(); err != nil {
		return nil, nil, fmt.Errorf("go mod tidy: %v: %s", err, strings.TrimSpace(out.String()))
	}
	data, err := os.ReadFile(modPath)
	if err != nil {
		return nil, nil, err
	}
	after, err = modfile.Parse("go.mod", data, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("go.mod after go mod tidy: %w", err)
	}
	return before, after, nil
}
