package rewrite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	if errs, err := typeCheck(ctx, p.Root, p.Changes, p.env); err != nil {
		return fmt.Errorf("type-checking the result: %w", err)
	} else if len(errs) > 0 {
		return fmt.Errorf("the result would not type-check, nothing written:\n  %s", strings.Join(errs, "\n  "))
	}
	if w.Root == "" {
		w.Root = p.Root
	}
	return w.Apply(p.Changes)
}

// typeCheck loads every package of the module as it would be after the
// changes, with full types, and returns the errors ("file:line:col: msg",
// relative to the module root). The changes cannot simply be laid over the
// module with go/packages' Overlay, since the go command refuses overlays
// of go.mod: the module is mirrored in a temporary directory instead (hard
// links for the files that do not change, copies of go.mod and go.sum, which
// the go command may rewrite) and loaded there with -mod=mod.
func typeCheck(ctx context.Context, root string, changes []FileChange, env []string) ([]string, error) {
	tmp, err := os.MkdirTemp("", "meshsplit-check-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	mirror := filepath.Join(tmp, filepath.Base(root))
	if err := mirrorTree(root, mirror); err != nil {
		return nil, fmt.Errorf("mirroring %s: %w", root, err)
	}
	for _, c := range changes {
		rel, err := filepath.Rel(root, c.Path)
		if err != nil || strings.HasPrefix(rel, "..") {
			return nil, fmt.Errorf("%s lies outside the module", c.Path)
		}
		dst := filepath.Join(mirror, rel)
		if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err // never write through a hard link
		}
		if c.New == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(dst, c.New, 0o644); err != nil {
			return nil, err
		}
	}
	if err := absoluteReplaces(filepath.Join(mirror, "go.mod"), root); err != nil {
		return nil, err
	}
	if env == nil {
		env = os.Environ()
	}
	env = append(env[:len(env):len(env)], "GOWORK=off", "GOFLAGS="+goflagsWith(env, "-mod=mod"))
	cfg := &packages.Config{
		Context: ctx,
		Mode:    packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo,
		Dir:     mirror,
		Env:     env,
		Tests:   true,
	}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var errs []string
	packages.Visit(pkgs, nil, func(pkg *packages.Package) {
		for _, e := range pkg.Errors {
			msg := strings.ReplaceAll(e.Error(), mirror+string(filepath.Separator), "")
			msg = strings.ReplaceAll(msg, mirror, ".")
			if !seen[msg] {
				seen[msg] = true
				errs = append(errs, msg)
			}
		}
	})
	sort.Strings(errs)
	return errs, nil
}

// goflagsWith returns the GOFLAGS of env with flag added.
func goflagsWith(env []string, flag string) string {
	flags := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			flags = v
		}
	}
	var out []string
	for _, f := range strings.Fields(flags) {
		if !strings.HasPrefix(f, "-mod=") {
			out = append(out, f)
		}
	}
	return strings.Join(append(out, flag), " ")
}

// mirrorTree recreates the tree at src under dst: directories are made,
// go.mod and go.sum files copied, every other file hard-linked (copied when
// linking fails). Version-control directories are left out.
func mirrorTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if name := d.Name(); path != src && (name == ".git" || name == ".hg" || name == ".svn") {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case !d.Type().IsRegular():
			return nil
		case d.Name() == "go.mod" || d.Name() == "go.sum":
			return copyFile(path, target)
		}
		if err := os.Link(path, target); err != nil {
			return copyFile(path, target)
		}
		return nil
	})
}

// copyFile copies one regular file.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// absoluteReplaces rewrites the relative directory replacements of a
// mirrored go.mod so that they still point where they did from root.
func absoluteReplaces(gomod, root string) error {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return err
	}
	f, err := modfile.Parse(gomod, data, nil)
	if err != nil {
		return err
	}
	changed := false
	for _, r := range f.Replace {
		if r.New.Version == "" && !filepath.IsAbs(r.New.Path) && (strings.HasPrefix(r.New.Path, "./") || strings.HasPrefix(r.New.Path, "../")) {
			abs := filepath.Join(root, filepath.FromSlash(r.New.Path))
			if err := f.AddReplace(r.Old.Path, r.Old.Version, abs, ""); err != nil {
				return err
			}
			changed = true
		}
	}
	if !changed {
		return nil
	}
	out, err := f.Format()
	if err != nil {
		return err
	}
	return os.WriteFile(gomod, out, 0o644)
}
