package rewrite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// exportFiles asks the go command for the export data of the packages
// patterns name and of everything they import, dependencies first (the
// order of 'go list -deps'). With background set, the go command runs at a
// lower scheduling priority: it is then fetching ahead beside the module's
// load (fetchExportAhead), which it must not slow down on a machine with
// few cores. With withSources set, it also returns the files, directories
// and go.mod files the export data was built from, as they are when it
// returns (see storeExportCache).
func exportFiles(ctx context.Context, root string, env []string, patterns []string, background, withSources bool) ([]exportFile, []sourceStat, error) {
	args := append([]string{"list", "-e", "-export", "-deps", "-json=ImportPath,Export,Error,Dir,GoFiles,CgoFiles,IgnoredGoFiles,HFiles,Module"}, patterns...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("go list -export %s: %w", strings.Join(patterns, " "), err)
	}
	if background {
		lowerPriority(cmd.Process.Pid)
	}
	if err := cmd.Wait(); err != nil {
		return nil, nil, fmt.Errorf("go list -export %s: %v: %s", strings.Join(patterns, " "), err, strings.TrimSpace(stderr.String()))
	}
	var files []exportFile
	var sources []sourceStat
	known := withSources // every source found so far could be read
	seen := map[string]bool{}
	source := func(name string) bool {
		if seen[name] {
			return true
		}
		seen[name] = true
		st, ok := statOf(name)
		sources = append(sources, st)
		return ok
	}
	for dec := json.NewDecoder(&stdout); dec.More(); {
		var p struct {
			ImportPath, Export, Dir                   string
			GoFiles, CgoFiles, IgnoredGoFiles, HFiles []string
			Module                                    *struct{ GoMod string }
			Error                                     *struct{ Err string }
		}
		if err := dec.Decode(&p); err != nil {
			return nil, nil, fmt.Errorf("go list -export %s: reading its output: %w", strings.Join(patterns, " "), err)
		}
		switch {
		case p.Error != nil:
			return nil, nil, fmt.Errorf("loading %s: %s", p.ImportPath, p.Error.Err)
		case p.ImportPath == "unsafe":
		case p.Export == "":
			return nil, nil, fmt.Errorf("no export data for %s", p.ImportPath)
		default:
			files = append(files, exportFile{p.ImportPath, p.Export})
		}
		if !known {
			continue
		}
		known = p.Dir != "" && source(p.Dir)
		for _, set := range [][]string{p.GoFiles, p.CgoFiles, p.IgnoredGoFiles, p.HFiles} {
			for _, f := range set {
				known = known && source(filepath.Join(p.Dir, f))
			}
		}
		if p.Module != nil && p.Module.GoMod != "" {
			known = known && source(p.Module.GoMod)
		}
	}
	if !known {
		sources = nil // not asked for, or not all of them could be read
	}
	return files, sources, nil
}
