package analyze

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// workspaceEnv decides whether loading the module at root uses a go.work,
// as the go command's users expect: a GOWORK the environment sets (a path,
// or "off") is obeyed; otherwise the go.work the go command would find (in
// root or a parent) is used when it lists root, and ignored (GOWORK=off)
// when it does not, where the go command would refuse to load the module
// at all. note says what was decided when a go.work was found, for -v.
func workspaceEnv(root string, env []string) (out []string, note string) {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOWORK="); ok && v != "" {
			return env, "" // the last assignment wins, as in the go command
		}
	}
	work := findWorkFile(root)
	if work == "" {
		return env, ""
	}
	off := append(env[:len(env):len(env)], "GOWORK=off")
	data, err := os.ReadFile(work)
	if err != nil {
		return off, fmt.Sprintf("%s cannot be read (%v): loading the module alone, with GOWORK=off", work, err)
	}
	wf, err := modfile.ParseWork(work, data, nil)
	if err != nil {
		return off, fmt.Sprintf("%v: loading the module alone, with GOWORK=off", err)
	}
	for _, u := range wf.Use {
		dir := u.Path
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(work), dir)
		}
		if filepath.Clean(dir) == filepath.Clean(root) {
			return env, fmt.Sprintf("using the workspace %s, which lists the module", work)
		}
	}
	return off, fmt.Sprintf("%s does not list %s: loading the module alone, with GOWORK=off (the go command there needs GOWORK=off too)", work, root)
}

// findWorkFile returns the go.work in dir or its nearest parent that has
// one, or "".
func findWorkFile(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "go.work")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}
