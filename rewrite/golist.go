package rewrite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
)

// exportFiles asks the go command for the export data of the packages
// patterns name and of everything they import, dependencies first (the
// order of 'go list -deps'). With background set, the go command runs at a
// lower scheduling priority: it is then fetching ahead beside the module's
// load (fetchExportAhead), which it must not slow down on a machine with
// few cores.
func exportFiles(ctx context.Context, root string, env []string, patterns []string, background bool) ([]exportFile, error) {
	args := append([]string{"list", "-e", "-export", "-deps", "-json=ImportPath,Export,Error"}, patterns...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("go list -export %s: %w", strings.Join(patterns, " "), err)
	}
	if background {
		lowerPriority(cmd.Process.Pid)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("go list -export %s: %v: %s", strings.Join(patterns, " "), err, strings.TrimSpace(stderr.String()))
	}
	var files []exportFile
	for dec := json.NewDecoder(&stdout); dec.More(); {
		var p struct {
			ImportPath, Export string
			Error              *struct{ Err string }
		}
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list -export %s: reading its output: %w", strings.Join(patterns, " "), err)
		}
		switch {
		case p.Error != nil:
			return nil, fmt.Errorf("loading %s: %s", p.ImportPath, p.Error.Err)
		case p.ImportPath == "unsafe":
		case p.Export == "":
			return nil, fmt.Errorf("no export data for %s", p.ImportPath)
		default:
			files = append(files, exportFile{p.ImportPath, p.Export})
		}
	}
	return files, nil
}
