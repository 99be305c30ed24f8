package rewrite

import (
	"fmt"
	"runtime/debug"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// MeshsplitModule is the module generated code imports its runtime from.
const MeshsplitModule = "github.com/meshsplit/meshsplit"

// requireRuntime returns go.mod's content with a requirement on the
// meshsplit module added, or data unchanged (and false) when it is already
// required. The version is the one a replace directive names, else the one
// this binary was built from, else v0.0.0.
func requireRuntime(path string, data []byte) ([]byte, bool, error) {
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return nil, false, fmt.Errorf("parsing %s: %w", path, err)
	}
	for _, r := range f.Require {
		if r.Mod.Path == MeshsplitModule {
			return data, false, nil
		}
	}
	if err := f.AddRequire(MeshsplitModule, runtimeVersion(f)); err != nil {
		return nil, false, fmt.Errorf("adding %s to %s: %w", MeshsplitModule, path, err)
	}
	out, err := f.Format()
	if err != nil {
		return nil, false, fmt.Errorf("formatting %s: %w", path, err)
	}
	return out, true, nil
}

// dropRuntime returns go.mod's content without the requirement on the
// meshsplit module, or data unchanged (and false) when there is none.
func dropRuntime(path string, data []byte) ([]byte, bool, error) {
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return nil, false, fmt.Errorf("parsing %s: %w", path, err)
	}
	found := false
	for _, r := range f.Require {
		found = found || r.Mod.Path == MeshsplitModule
	}
	if !found {
		return data, false, nil
	}
	if err := f.DropRequire(MeshsplitModule); err != nil {
		return nil, false, fmt.Errorf("dropping %s from %s: %w", MeshsplitModule, path, err)
	}
	f.Cleanup()
	out, err := f.Format()
	if err != nil {
		return nil, false, fmt.Errorf("formatting %s: %w", path, err)
	}
	return out, true, nil
}

// hasReplace reports whether go.mod replaces the meshsplit module.
func hasReplace(path string, data []byte) bool {
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return false
	}
	for _, r := range f.Replace {
		if r.Old.Path == MeshsplitModule {
			return true
		}
	}
	return false
}

// requiredVersion returns the version of the meshsplit module go.mod
// requires, or "".
func requiredVersion(data []byte) string {
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return ""
	}
	for _, r := range f.Require {
		if r.Mod.Path == MeshsplitModule {
			return r.Mod.Version
		}
	}
	return ""
}

// runtimeVersion picks the version of the meshsplit module to require.
func runtimeVersion(f *modfile.File) string {
	for _, r := range f.Replace {
		if r.Old.Path == MeshsplitModule && r.Old.Version != "" {
			return r.Old.Version
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == MeshsplitModule && module.Check(MeshsplitModule, bi.Main.Version) == nil {
			return bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == MeshsplitModule && module.Check(MeshsplitModule, d.Version) == nil {
				return d.Version
			}
		}
	}
	return "v0.0.0"
}
