package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A FileChange is one file a plan creates, changes or removes.
type FileChange struct {
	// Path is the file's absolute path.
	Path string
	// Old is the content the plan was made from; nil when the file is created.
	Old []byte
	// New is the content to write; nil when the file is removed.
	New []byte
}

// Kind names what the change does to the file: "create", "change" or "remove".
func (c FileChange) Kind() string {
	switch {
	case c.Old == nil:
		return "create"
	case c.New == nil:
		return "remove"
	}
	return "change"
}

// Writer applies file changes all or nothing. Its zero value uses the
// operating system; tests set Rename to inject failures.
type Writer struct {
	// Rename moves a fully written temporary file over its target. Nil means
	// os.Rename.
	Rename func(oldpath, newpath string) error
	// Root, when set, lets Apply remove the directories that its removals
	// leave empty, up to but excluding Root.
	Root string
}

// Apply writes every change or none. Each file is first written to a
// temporary file in its own directory and then renamed over the target, so a
// reader never sees half a file. Before anything is written, every target must
// still hold the content the plan was made from. When a step fails, every
// file already written is restored (created files and directories removed,
// changed and removed files given their old bytes back) and the error says
// which file failed.
func (w Writer) Apply(changes []FileChange) error {
	for _, c := range changes {
		if err := checkUnchanged(c); err != nil {
			return err
		}
	}
	var done []FileChange // applied, in order
	var madeDirs []string // created, parents first
	rollback := func(cause error) error {
		var errs []error
		for i := len(done) - 1; i >= 0; i-- {
			c := done[i]
			if c.Old == nil {
				if err := os.Remove(c.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
					errs = append(errs, err)
				}
				continue
			}
			if err := w.writeFile(c.Path, c.Old); err != nil {
				errs = append(errs, err)
			}
		}
		for i := len(madeDirs) - 1; i >= 0; i-- {
			_ = os.Remove(madeDirs[i]) // only succeeds when empty, as it should
		}
		if len(errs) > 0 {
			return fmt.Errorf("%w; restoring the files written before the failure also failed: %w", cause, errors.Join(errs...))
		}
		return fmt.Errorf("%w (every file written before the failure was restored)", cause)
	}
	for _, c := range changes {
		if c.New == nil {
			if err := os.Remove(c.Path); err != nil {
				return rollback(fmt.Errorf("removing %s: %w", c.Path, err))
			}
			done = append(done, c)
			continue
		}
		dirs, err := mkdirAll(filepath.Dir(c.Path))
		madeDirs = append(madeDirs, dirs...)
		if err != nil {
			return rollback(fmt.Errorf("creating the directory of %s: %w", c.Path, err))
		}
		if err := w.writeFile(c.Path, c.New); err != nil {
			return rollback(err)
		}
		done = append(done, c)
	}
	if w.Root != "" {
		for _, c := range changes {
			if c.New == nil {
				removeEmptyDirs(filepath.Dir(c.Path), w.Root)
			}
		}
	}
	return nil
}

// removeEmptyDirs removes dir and its parents while they are empty, up to
// but excluding root (and never outside it).
func removeEmptyDirs(dir, root string) {
	for {
		rel, err := filepath.Rel(root, dir)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			return
		}
		if os.Remove(dir) != nil {
			return // not empty, or gone
		}
		dir = filepath.Dir(dir)
	}
}

// checkUnchanged reports an error when the file on disk no longer holds the
// content the change was planned from.
func checkUnchanged(c FileChange) error {
	cur, err := os.ReadFile(c.Path)
	switch {
	case c.Old == nil && err == nil:
		return fmt.Errorf("%s: the file appeared after the plan was made; run extract again", c.Path)
	case c.Old == nil && errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("reading %s: %w", c.Path, err)
	case !bytes.Equal(cur, c.Old):
		return fmt.Errorf("%s: the file changed after the plan was made; run extract again", c.Path)
	}
	return nil
}

// writeFile replaces path's content with data through a temporary file in
// the same directory and a rename, keeping the permissions of an existing
// file.
func (w Writer) writeFile(path string, data []byte) error {
	perm := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".meshsplit-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	rename := w.Rename
	if rename == nil {
		rename = os.Rename
	}
	if err := rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// mkdirAll creates dir and its missing parents, returning the directories it
// created, parents first, so that a rollback can remove them.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil {
			return made, err
		}
		made = append(made, missing[i])
	}
	return made, nil
}
