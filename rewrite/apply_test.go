package rewrite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshsplit/meshsplit/analyze"
)

// TestApplyAllOrNothing fails the n-th rename and checks that every file is
// as before: changed files keep their old bytes, created files and
// directories are gone, removed files are still there.
func TestApplyAllOrNothing(t *testing.T) {
	for failAt := 1; failAt <= 3; failAt++ {
		t.Run("rename "+string(rune('0'+failAt))+" fails", func(t *testing.T) {
			dir := t.TempDir()
			a := filepath.Join(dir, "a.go")
			b := filepath.Join(dir, "b.go")
			gone := filepath.Join(dir, "gone.go")
			created := filepath.Join(dir, "cmd", "svc", "main.go")
			writeFiles(t, map[string]string{a: "package a\n", b: "package b\n", gone: "package gone\n"})
			changes := []FileChange{
				{Path: a, Old: []byte("package a\n"), New: []byte("package a // changed\n")},
				{Path: gone, Old: []byte("package gone\n")},
				{Path: created, New: []byte("package main\n")},
				{Path: b, Old: []byte("package b\n"), New: []byte("package b // changed\n")},
			}
			renames := 0
			w := Writer{Rename: func(oldpath, newpath string) error {
				renames++
				if renames == failAt {
					return errors.New("injected failure")
				}
				return os.Rename(oldpath, newpath)
			}}
			err := w.Apply(changes)
			if err == nil || !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("Apply = %v, want the injected failure", err)
			}
			wantFiles(t, map[string]string{a: "package a\n", b: "package b\n", gone: "package gone\n"})
			if _, err := os.Stat(filepath.Join(dir, "cmd")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("created directory left behind: %v", err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 3 {
				t.Errorf("directory holds %d entries after the rollback, want 3 (temporary files left?)", len(entries))
			}
		})
	}
}

func TestApply(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.go")
	created := filepath.Join(dir, "cmd", "svc", "main.go")
	writeFiles(t, map[string]string{a: "package a\n"})
	if err := os.Chmod(a, 0o600); err != nil {
		t.Fatal(err)
	}
	err := Writer{}.Apply([]FileChange{
		{Path: a, Old: []byte("package a\n"), New: []byte("package a // changed\n")},
		{Path: created, New: []byte("package main\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantFiles(t, map[string]string{a: "package a // changed\n", created: "package main\n"})
	if fi, _ := os.Stat(a); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode of a changed file: %v, want 0600", fi.Mode().Perm())
	}
}

func TestApplyRefusesStalePlan(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.go")
	b := filepath.Join(dir, "b.go")
	writeFiles(t, map[string]string{a: "package a\n", b: "package b // edited meanwhile\n"})
	err := Writer{}.Apply([]FileChange{
		{Path: a, Old: []byte("package a\n"), New: []byte("package a // changed\n")},
		{Path: b, Old: []byte("package b\n"), New: []byte("package b // changed\n")},
	})
	if err == nil || !strings.Contains(err.Error(), "changed after the plan") {
		t.Fatalf("Apply = %v, want a stale-plan error", err)
	}
	wantFiles(t, map[string]string{a: "package a\n", b: "package b // edited meanwhile\n"})
}

func writeFiles(t testing.TB, files map[string]string) {
	t.Helper()
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func wantFiles(t *testing.T, files map[string]string) {
	t.Helper()
	for path, want := range files {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if string(got) != want {
			t.Errorf("%s holds %q, want %q", path, got, want)
		}
	}
}

func TestApplyRemovesEmptiedDirectories(t *testing.T) {
	root := t.TempDir()
	main := filepath.Join(root, "cmd", "svc", "main.go")
	keep := filepath.Join(root, "cmd", "shop", "main.go")
	writeFiles(t, map[string]string{main: "package main\n", keep: "package main\n"})
	if err := (Writer{Root: root}).Apply([]FileChange{{Path: main, Old: []byte("package main\n")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(main)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("emptied directory kept: %v", err)
	}
	wantFiles(t, map[string]string{keep: "package main\n"})
}

// TestApplyTypeChecksFirst gives Plan.Apply a change that breaks another
// package of the module (it removes a function a caller uses) and expects
// the type errors, at file:line:col, and no file touched.
func TestApplyTypeChecksFirst(t *testing.T) {
	for _, inProcess := range []bool{false, true} {
		t.Run(map[bool]string{false: "go command", true: "in process"}[inProcess], func(t *testing.T) {
			dir := t.TempDir()
			gomod := filepath.Join(dir, "go.mod")
			lib := filepath.Join(dir, "lib", "lib.go")
			user := filepath.Join(dir, "user", "user.go")
			created := filepath.Join(dir, "lib", "more.go")
			files := map[string]string{
				gomod: "module example.com/m\n\ngo 1.26\n",
				lib:   "package lib\n\n// Hello greets.\nfunc Hello() string { return \"hi\" }\n",
				user:  "package user\n\nimport \"example.com/m/lib\"\n\n// Greet greets.\nfunc Greet() string { return lib.Hello() }\n",
			}
			writeFiles(t, files)
			p := &Plan{Root: dir, Changes: []FileChange{
				{Path: lib, Old: []byte(files[lib]), New: []byte("package lib\n\n// Hi greets.\nfunc Hi() string { return \"hi\" }\n")},
				{Path: created, New: []byte("package lib\n")},
			}}
			if inProcess {
				prog, err := analyze.Load(context.Background(), analyze.Config{Dir: dir, Tests: true})
				if err != nil {
					t.Fatal(err)
				}
				p.prog = prog
				errs, err := checkInProcess(context.Background(), prog, p.Changes, nil, nil, nil)
				if err != nil || len(errs) == 0 || !strings.HasPrefix(errs[0], "user/user.go:6:") {
					t.Fatalf("checkInProcess = %q, %v; want the type error in user/user.go", errs, err)
				}
			}
			err := p.Apply(context.Background(), Writer{})
			if err == nil || !strings.Contains(err.Error(), "would not type-check, nothing written") || !strings.Contains(err.Error(), "user/user.go:6:") {
				t.Fatalf("Apply = %v, want the type error in user/user.go", err)
			}
			wantFiles(t, files)
			if _, err := os.Stat(created); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s created by a plan that does not type-check", created)
			}
			// The same plan without the breaking edit applies.
			p.Changes = p.Changes[1:]
			if err := p.Apply(context.Background(), Writer{}); err != nil {
				t.Fatal(err)
			}
			wantFiles(t, map[string]string{created: "package lib\n"})
		})
	}
}
