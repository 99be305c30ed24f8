package rewrite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/packages"
)

// Apply checks that the plan's result type-checks and then writes every
// change, all or nothing (see Writer.Apply), removing the directories that
// removed files leave empty. A refused plan is not applied.
func (p *Plan) Apply(ctx context.Context, w Writer) error {
	if p.Refused() {
		return errors.New("the plan is refused: nothing written")
	}
	if len(p.Changes) == 0 {
		return nil
	}
	done := Options{Progress: p.progress}.phase("type-checking the module as the plan leaves it")
	errs, err := p.check(ctx)
	done()
	if err != nil {
		return fmt.Errorf("type-checking the result: %w", err)
	} else if len(errs) > 0 {
		return fmt.Errorf("the result would not type-check, nothing written:\n  %s", strings.Join(errs, "\n  "))
	}
	if w.Root == "" {
		w.Root = p.Root
	}
	return w.Apply(p.Changes)
}

// check type-checks the module as the plan leaves it: in process from the
// dry run's load when it can (checkInProcess), else through the go command
// (typeCheck).
func (p *Plan) check(ctx context.Context) ([]string, error) {
	if p.prog != nil {
		gomod, _, err := planned(p.Root, p.Changes)
		if err != nil {
			return nil, err
		}
		env, _, cleanup, err := modEnv(p.Root, gomod, p.env, false)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		errs, err := checkInProcess(ctx, p.prog, p.Changes, env, gomod, p.ahead)
		if !errors.Is(err, errNotInProcess) {
			return errs, err
		}
	}
	return typeCheck(ctx, p.Root, p.Changes, p.env)
}

// typeCheck loads every package of the module as it would be after the
// changes, with full types, and returns the errors ("file:line:col: msg",
// relative to the module root). The Go files are laid over the module with
// go/packages' Overlay; go.mod cannot be (the go command refuses overlays of
// it), so the new go.mod goes in through -modfile (see modEnv).
func typeCheck(ctx context.Context, root string, changes []FileChange, env []string) ([]string, error) {
	gomod, overlay, err := planned(root, changes)
	if err != nil {
		return nil, err
	}
	env, _, cleanup, err := modEnv(root, gomod, env, false)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	cfg := &packages.Config{
		Context: ctx,
		Mode:    packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo,
		Dir:     root,
		Env:     env,
		Tests:   true,
		Overlay: overlay,
	}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var errs []string
	packages.Visit(pkgs, nil, func(pkg *packages.Package) {
		for _, e := range pkg.Errors {
			msg := strings.ReplaceAll(e.Error(), root+string(filepath.Separator), "")
			if !seen[msg] {
				seen[msg] = true
				errs = append(errs, msg)
			}
		}
	})
	sort.Strings(errs)
	return errs, nil
}

// planned returns the module's go.mod as it will be after changes, and its
// Go files as they will be, by path, for an overlay. go.mod cannot be
// overlaid (the go command refuses it): it goes in through -modfile (see
// modEnv). A removed Go file is overlaid with one whose build constraint is
// never satisfied, which keeps it out of every package.
func planned(root string, changes []FileChange) (gomod []byte, overlay map[string][]byte, err error) {
	gomodPath := filepath.Join(root, "go.mod")
	gomod, err = os.ReadFile(gomodPath)
	if err != nil {
		return nil, nil, err
	}
	overlay = map[string][]byte{}
	for _, c := range changes {
		switch {
		case c.Path == gomodPath:
			if c.New == nil {
				return nil, nil, errors.New("the plan removes go.mod")
			}
			gomod = c.New
		case strings.HasSuffix(c.Path, ".go") && c.New != nil:
			overlay[c.Path] = c.New
		case strings.HasSuffix(c.Path, ".go"):
			overlay[c.Path] = []byte("//go:build ignore\n\npackage ignored\n")
		}
	}
	return gomod, overlay, nil
}

// absoluteReplaces rewrites the relative directory replacements of go.mod
// content so that they still point where they did from root, for a copy of
// go.mod that lives elsewhere.
func absoluteReplaces(data []byte, root string) ([]byte, error) {
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return nil, err
	}
	changed := false
	for _, r := range f.Replace {
		if r.New.Version == "" && !filepath.IsAbs(r.New.Path) && (strings.HasPrefix(r.New.Path, "./") || strings.HasPrefix(r.New.Path, "../")) {
			abs := filepath.Join(root, filepath.FromSlash(r.New.Path))
			if err := f.AddReplace(r.Old.Path, r.Old.Version, abs, ""); err != nil {
				return nil, err
			}
			changed = true
		}
	}
	if !changed {
		return data, nil
	}
	return f.Format()
}
