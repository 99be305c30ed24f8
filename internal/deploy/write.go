package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Action is what Write did, or would do, with one file.
type Action struct {
	Path string // relative to the module's root, slash-separated
	Verb string // "create", "update", "unchanged", "keep" (the user's), "remove" (stale)
	What string
}

// Plan returns what writing files into the output directory outRel of root
// would do, or an error when a file deploy generates exists and is not
// generated (the user's: it is never overwritten). It writes nothing.
func Plan(root, outRel string, files []File) ([]Action, error) {
	var acts []Action
	want := map[string]bool{}
	for _, f := range files {
		rel := path.Join(outRel, f.Path)
		want[rel] = true
		old, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			acts = append(acts, Action{rel, "create", f.What})
		case err != nil:
			return nil, fmt.Errorf("reading %s: %w", rel, err)
		case f.Owned:
			acts = append(acts, Action{rel, "keep", f.What})
		case !generated(old):
			return nil, fmt.Errorf("%s exists and meshsplit did not generate it (its first line is not %q): move it away, or pass -o with another directory; nothing was written", rel, Header)
		case bytes.Equal(old, f.Data):
			acts = append(acts, Action{rel, "unchanged", f.What})
		default:
			acts = append(acts, Action{rel, "update", f.What})
		}
	}
	// Manifests of pieces that are gone (an interface reverted).
	entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(outRel), k8sDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		rel := path.Join(outRel, k8sDir, e.Name())
		if e.IsDir() || want[rel] || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		if startsWith(filepath.Join(root, filepath.FromSlash(rel)), Header) {
			acts = append(acts, Action{rel, "remove", "generated for a piece the module no longer has"})
		}
	}
	sort.SliceStable(acts, func(i, j int) bool { return acts[i].Path < acts[j].Path })
	return acts, nil
}

// Write carries out Plan: each file is written to a temporary file and
// renamed into place, so none is ever half-written; files the user owns
// that exist are left as they are; unchanged files are not touched.
func Write(root, outRel string, files []File) ([]Action, error) {
	acts, err := Plan(root, outRel, files)
	if err != nil {
		return nil, err
	}
	byPath := map[string]File{}
	for _, f := range files {
		byPath[path.Join(outRel, f.Path)] = f
	}
	for _, a := range acts {
		abs := filepath.Join(root, filepath.FromSlash(a.Path))
		switch a.Verb {
		case "create", "update":
			f := byPath[a.Path]
			if err := writeAtomic(abs, f.Data, fs.FileMode(f.Mode)); err != nil {
				return nil, err
			}
		case "remove":
			if err := os.Remove(abs); err != nil {
				return nil, err
			}
		}
	}
	return acts, nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory and a rename.
func writeAtomic(p string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), mode)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

// generated reports whether data starts with the Header line.
func generated(data []byte) bool {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return string(line) == Header
}

// startsWith reports whether the file's first line is line.
func startsWith(p, line string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	return sc.Scan() && sc.Text() == line
}
