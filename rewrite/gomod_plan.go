package rewrite

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// requireRuntime plans adding the runtime module to go.mod.
func (p *planner) requireRuntime() error {
	path := filepath.Join(p.prog.Root, "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading go.mod: %w", err)
	}
	out, changed, err := requireRuntime(path, data)
	if err != nil || !changed {
		return err
	}
	p.writes[path] = out
	p.plan.TidyNeeded = true
	then := "run 'go mod tidy' before building" + p.vendorStep()
	if requiredVersion(data) == "" && hasToolRequire(data) {
		p.action("go.mod", "go.mod", "drop the require of %s, which an older meshsplit added: the runtime is the module %s now", toolModule, RuntimeModule)
	}
	if hasReplace(path, data) {
		p.action("go.mod", "go.mod", "require %s (resolved by the replace directive); %s", RuntimeModule, then)
		return nil
	}
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", path, err)
	}
	version, known := runtimeVersion(f)
	p.action("go.mod", "go.mod", "require %s %s; %s", RuntimeModule, version, then)
	if !known {
		p.manual("go.mod", "this meshsplit binary does not know which runtime version it goes with: point the require of %s at a released version, or add 'replace %s => <the runtime directory of a meshsplit checkout>'", RuntimeModule, RuntimeModule)
	}
	return nil
}

// usesOTel reports whether the module requires go.opentelemetry.io/otel:
// the generated code then installs runtime/otelmesh.
func (p *planner) usesOTel() bool {
	data, err := os.ReadFile(filepath.Join(p.prog.Root, "go.mod"))
	return err == nil && usesOTel(data)
}

// requireOTel plans adding runtime/otelmesh's module to go.mod when the
// module uses OpenTelemetry.
func (p *planner) requireOTel() error {
	if !p.usesOTel() {
		return nil
	}
	path := filepath.Join(p.prog.Root, "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading go.mod: %w", err)
	}
	if w, ok := p.writes[path]; ok {
		data = w
	}
	out, changed, version, known, err := requireOTel(path, data)
	if err != nil || !changed {
		return err
	}
	p.writes[path] = out
	p.plan.TidyNeeded = true
	p.action("go.mod", "go.mod", "require %s %s (the module uses %s: the generated code installs it, so that traces, baggage and metrics cross the mesh); run 'go mod tidy' before building%s", OTelModule, version, otelAPI, p.vendorStep())
	if !known {
		p.manual("go.mod", "this meshsplit binary does not know which version of %s goes with it: point its require at the runtime's released version, or add 'replace %s => <the runtime/otelmesh directory of a meshsplit checkout>'", OTelModule, OTelModule)
	}
	return nil
}

// vendorStep is the step to add after 'go mod tidy' when the module vendors
// its dependencies: vendor/ must list the runtime too.
func (p *planner) vendorStep() string {
	if _, err := os.Stat(filepath.Join(p.prog.Root, "vendor", "modules.txt")); err == nil {
		return ", then 'go mod vendor' (this module vendors its dependencies)"
	}
	return ""
}

// dropRuntime plans removing the meshsplit module from go.mod when no
// extracted interface is left in the module.
func (p *planner) dropRuntime() error {
	left, err := p.otherExtractions()
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return nil
	}
	path := filepath.Join(p.prog.Root, "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading go.mod: %w", err)
	}
	out, changed, err := dropRuntime(path, data)
	if err != nil || !changed {
		return err
	}
	p.writes[path] = out
	p.plan.TidyNeeded = true
	p.action("go.mod", "go.mod", "no extracted interface is left: drop the require of %s; run 'go mod tidy' to drop its dependencies too%s", RuntimeModule, p.vendorStep())
	return nil
}

// otherExtractions lists the files meshsplit generated for other
// interfaces: the *_mesh.go files (see gen.FileName) the plan does not
// remove.
func (p *planner) otherExtractions() ([]string, error) {
	var out []string
	err := filepath.WalkDir(p.prog.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != p.prog.Root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			if path != p.prog.Root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, "_mesh.go") || p.removes[path] {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, ours := generatedBy(src); ours {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking for other extracted interfaces: %w", err)
	}
	return out, nil
}
