package rewrite

import (
	"fmt"
	"runtime/debug"
	"slices"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// RuntimeModule is the module generated code imports the mesh runtime
// from; its one package has the module's path. It is a module of its own,
// apart from meshsplit's (the tool, with x/tools, dst and gin), so that a
// split module gains only it and yamux.
const RuntimeModule = "github.com/meshsplit/meshsplit/runtime"

// toolModule is meshsplit's own module. Before the runtime had a module of
// its own, extract required this one; such a requirement is replaced, as
// both modules would then provide the runtime package.
const toolModule = "github.com/meshsplit/meshsplit"

// OTelModule is the module of runtime/otelmesh, the runtime's OpenTelemetry
// instrumentation, which code generated in a module that uses OpenTelemetry
// installs. It is released with the runtime, at the same versions.
const OTelModule = "github.com/meshsplit/meshsplit/runtime/otelmesh"

// otelAPI is OpenTelemetry's API module: a module that requires it gets
// its mesh code instrumented.
const otelAPI = "go.opentelemetry.io/otel"

// zeroVersion is the version the go command writes for a module it knows
// only through a replace directive.
const zeroVersion = "v0.0.0-00010101000000-000000000000"

// requireRuntime returns go.mod's content with a requirement on the runtime
// module added, or data unchanged (and false) when it is already required.
// It changes nothing else: not the go or toolchain line (a go.mod without a
// go line keeps having none), not another requirement, except that a
// requirement on meshsplit's own module, which an older meshsplit added, is
// dropped. The new line goes into the first require block that lists a
// direct requirement, sorted there, else where modfile puts a new one. The
// version is the one a replace directive names, else the one this binary
// was built with, else the zero pseudo-version (see runtimeVersion).
func requireRuntime(path string, data []byte) ([]byte, bool, error) {
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return nil, false, fmt.Errorf("parsing %s: %w", path, err)
	}
	for _, r := range f.Require {
		if r.Mod.Path == RuntimeModule {
			return data, false, nil
		}
	}
	if err := f.DropRequire(toolModule); err != nil {
		return nil, false, fmt.Errorf("dropping %s from %s: %w", toolModule, path, err)
	}
	version, _ := runtimeVersion(f)
	addDirectRequire(f, RuntimeModule, version)
	removeDropped(f)
	out, err := f.Format()
	if err != nil {
		return nil, false, fmt.Errorf("formatting %s: %w", path, err)
	}
	return out, true, nil
}

// addDirectRequire adds "path version" to the first require block with a
// direct requirement, at its sorted place, or else as a require line of its
// own after the last require statement (or at the end), so that dropping it
// again gives the file back byte for byte.
func addDirectRequire(f *modfile.File, path, version string) {
	for _, stmt := range f.Syntax.Stmt {
		block, ok := stmt.(*modfile.LineBlock)
		if !ok || len(block.Token) != 1 || block.Token[0] != "require" {
			continue
		}
		direct := slices.ContainsFunc(f.Require, func(r *modfile.Require) bool {
			return !r.Indirect && slices.Contains(block.Line, r.Syntax)
		})
		if !direct {
			continue
		}
		line := &modfile.Line{Token: []string{modfile.AutoQuote(path), version}, InBlock: true}
		at := len(block.Line)
		for i, l := range block.Line {
			if len(l.Token) > 0 && modfile.AutoQuote(path) < l.Token[0] {
				at = i
				break
			}
		}
		block.Line = slices.Insert(block.Line, at, line)
		f.Require = append(f.Require, &modfile.Require{Mod: module.Version{Path: path, Version: version}, Syntax: line})
		return
	}
	line := &modfile.Line{Token: []string{"require", modfile.AutoQuote(path), version}}
	at := len(f.Syntax.Stmt)
	for i, stmt := range f.Syntax.Stmt {
		switch stmt := stmt.(type) {
		case *modfile.Line:
			if len(stmt.Token) > 0 && stmt.Token[0] == "require" {
				at = i + 1
			}
		case *modfile.LineBlock:
			if len(stmt.Token) > 0 && stmt.Token[0] == "require" {
				at = i + 1
			}
		}
	}
	f.Syntax.Stmt = slices.Insert(f.Syntax.Stmt, at, modfile.Expr(line))
	f.Require = append(f.Require, &modfile.Require{Mod: module.Version{Path: path, Version: version}, Syntax: line})
}

// removeDropped takes the lines DropRequire cleared out of the syntax, and
// blocks left empty, without modfile's Cleanup, which would also turn every
// block of one line into a line and so change what the user wrote.
func removeDropped(f *modfile.File) {
	f.Require = slices.DeleteFunc(f.Require, func(r *modfile.Require) bool { return r.Mod.Path == "" })
	stmts := f.Syntax.Stmt[:0]
	for _, stmt := range f.Syntax.Stmt {
		switch st := stmt.(type) {
		case *modfile.Line:
			if st.Token == nil {
				continue
			}
		case *modfile.LineBlock:
			st.Line = slices.DeleteFunc(st.Line, func(l *modfile.Line) bool { return l.Token == nil })
			if len(st.Line) == 0 {
				continue
			}
		}
		stmts = append(stmts, stmt)
	}
	f.Syntax.Stmt = stmts
}

// usesOTel reports whether go.mod requires go.opentelemetry.io/otel.
func usesOTel(data []byte) bool {
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(f.Require, func(r *modfile.Require) bool { return r.Mod.Path == otelAPI })
}

// requireOTel returns go.mod's content with a requirement on OTelModule
// added, or data unchanged (and false) when it is already required. The
// version is the one a replace directive of OTelModule names, else the
// runtime's (runtimeVersion: they are released together); known is false
// when neither says.
func requireOTel(path string, data []byte) (out []byte, changed bool, version string, known bool, err error) {
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return nil, false, "", false, fmt.Errorf("parsing %s: %w", path, err)
	}
	for _, r := range f.Require {
		if r.Mod.Path == OTelModule {
			return data, false, r.Mod.Version, true, nil
		}
	}
	version, known = "", false
	for _, r := range f.Replace {
		if r.Old.Path == OTelModule {
			version, known = r.Old.Version, true
			if version == "" {
				version = zeroVersion
			}
		}
	}
	if !known {
		version, known = runtimeVersion(f)
		if known && version == zeroVersion {
			// A replace of the runtime alone resolves the zero version of
			// the runtime, not of OTelModule.
			known = false
		}
	}
	addDirectRequire(f, OTelModule, version)
	if out, err = f.Format(); err != nil {
		return nil, false, "", false, fmt.Errorf("formatting %s: %w", path, err)
	}
	return out, true, version, known, nil
}

// dropRuntime returns go.mod's content without the requirement on the
// runtime module (nor one on meshsplit's own module, nor OTelModule), or
// data unchanged (and false) when there is none.
func dropRuntime(path string, data []byte) ([]byte, bool, error) {
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return nil, false, fmt.Errorf("parsing %s: %w", path, err)
	}
	found := false
	for _, r := range f.Require {
		found = found || r.Mod.Path == RuntimeModule || r.Mod.Path == toolModule || r.Mod.Path == OTelModule
	}
	if !found {
		return data, false, nil
	}
	for _, m := range []string{RuntimeModule, toolModule, OTelModule} {
		if err := f.DropRequire(m); err != nil {
			return nil, false, fmt.Errorf("dropping %s from %s: %w", m, path, err)
		}
	}
	removeDropped(f)
	out, err := f.Format()
	if err != nil {
		return nil, false, fmt.Errorf("formatting %s: %w", path, err)
	}
	return out, true, nil
}

// hasReplace reports whether go.mod replaces the runtime module.
func hasReplace(path string, data []byte) bool {
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return false
	}
	for _, r := range f.Replace {
		if r.Old.Path == RuntimeModule {
			return true
		}
	}
	return false
}

// hasToolRequire reports whether go.mod requires meshsplit's own module.
func hasToolRequire(data []byte) bool {
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(f.Require, func(r *modfile.Require) bool { return r.Mod.Path == toolModule })
}

// requiredVersion returns the version of the runtime module go.mod
// requires, or "".
func requiredVersion(data []byte) string {
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return ""
	}
	for _, r := range f.Require {
		if r.Mod.Path == RuntimeModule {
			return r.Mod.Version
		}
	}
	return ""
}

// runtimeVersion picks the version of the runtime module to require: the
// version a replace directive of go.mod names; else the zero pseudo-version
// when a replace covers every version; else the version of the runtime
// module this binary was built with (a 'go install ...@v1.2.3' of meshsplit
// records the runtime version it requires). known is false when none of
// these gives a version: the zero pseudo-version is returned then, which
// only a replace directive (or a go.work) resolves.
func runtimeVersion(f *modfile.File) (version string, known bool) {
	for _, r := range f.Replace {
		if r.Old.Path == RuntimeModule {
			if r.Old.Version != "" {
				return r.Old.Version, true
			}
			return zeroVersion, true
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == RuntimeModule && d.Replace == nil && d.Version != zeroVersion && module.Check(RuntimeModule, d.Version) == nil {
				return d.Version, true
			}
		}
	}
	return zeroVersion, false
}
