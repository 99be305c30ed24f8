package gen

import (
	"go/token"
	"go/types"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file decides every identifier of the generated file: the names
// derived from the interface's, the import names, the request and response
// field names and the client's parameter names.

// runtimePath is the import path of the runtime that generated code calls.
const runtimePath = "github.com/meshsplit/meshsplit/runtime"

// OTelPath is the import path of the runtime's OpenTelemetry
// instrumentation, which generated code installs when Input.Instrument is
// set. It is a module of its own, of the same path.
const OTelPath = "github.com/meshsplit/meshsplit/runtime/otelmesh"

// FileName returns the base name of the file generated for the interface
// named iface: its name in lower snake case and "_mesh.go"
// ("OrderStore" -> "order_store_mesh.go").
func FileName(iface string) string { return snake(iface) + "_mesh.go" }

// DescName returns the name of the generated ServiceDesc variable.
func DescName(iface string) string { return iface + "MeshDesc" }

// ClientName returns the name of the generated client type.
func ClientName(iface string) string { return iface + "MeshClient" }

// SwitchName returns the name of the generated function that the rewritten
// constructors call: func meshIface(local func() Iface) (Iface, bool).
func SwitchName(iface string) string { return "mesh" + upperFirst(iface) }

// snake turns a Go identifier into lower snake case, keeping initialisms
// together: "HTTPClient" -> "http_client", "OrderStore" -> "order_store".
func snake(name string) string {
	runes := []rune(name)
	var b strings.Builder
	for i, r := range runes {
		if unicode.IsUpper(r) && i > 0 {
			prevLower := unicode.IsLower(runes[i-1]) || unicode.IsDigit(runes[i-1])
			nextLower := i+1 < len(runes) && unicode.IsLower(runes[i+1])
			if prevLower || (nextLower && unicode.IsUpper(runes[i-1])) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// upperFirst returns s with its first letter in upper case.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// lowerFirst returns s with its leading upper-case run in lower case, as Go
// spells an unexported name: "Service" -> "service", "HTTPClient" ->
// "httpClient".
func lowerFirst(s string) string {
	runes := []rune(s)
	for i := range runes {
		if !unicode.IsUpper(runes[i]) {
			break
		}
		if i > 0 && i+1 < len(runes) && unicode.IsLower(runes[i+1]) {
			break
		}
		runes[i] = unicode.ToLower(runes[i])
	}
	return string(runes)
}

// FieldName returns the exported struct field name for a parameter or
// result name: the name with its first letter in upper case, whatever its
// script ("prix" -> "Prix", "été" -> "Été"), or "F" before it when that
// does not make it exported (a letter without case, "名", or "_x"). rewrite
// names the fields of the service commands' dependencies with it too.
func FieldName(name string) string {
	if up := upperFirst(name); token.IsExported(up) {
		return up
	}
	return "F" + name
}

// nameSet hands out identifiers that are unique within one scope.
type nameSet map[string]bool

// unique returns name, or name with the smallest numeric suffix from 2 that
// is not taken yet, and takes it.
func (s nameSet) unique(name string) string {
	got := name
	for i := 2; s[got]; i++ {
		got = name + strconv.Itoa(i)
	}
	s[got] = true
	return got
}

// locals are the identifiers that generated function bodies declare
// (receivers, parameters, variables, numbered loop variables). The bodies
// refer to the package's own types by their bare names, so a local must
// not be spelled like one of those (see spelledNames): each is its usual
// name unless such a type takes it, and then the same with the smallest
// free numeric suffix. A user's type is never refused for its name: the
// generated code steps aside.
type locals struct {
	c, ctx, d, e, err, impl, in, local, m, ok, out, req, resp, svc, v, before, after string
	// stream is the streamed result (handler) or the call's *Stream
	// (client); upload the io.Reader the handler passes on.
	stream, upload string
	// loopI, loopK, loopV and loopN prefix the loop variables of nesting
	// depth n: i0, k1, v2, n3.
	loopI, loopK, loopV, loopN string

	names nameSet // every local above
}

// newLocals chooses the locals of a file whose bodies may spell the
// package-scope names in scope.
func newLocals(scope nameSet) *locals {
	taken := nameSet{}
	for n := range scope {
		taken[n] = true
	}
	l := &locals{names: nameSet{}}
	for _, f := range []struct {
		dst  *string
		base string
	}{
		{&l.after, "after"}, {&l.before, "before"}, {&l.c, "c"}, {&l.ctx, "ctx"}, {&l.d, "d"}, {&l.e, "e"},
		{&l.err, "err"}, {&l.impl, "impl"}, {&l.in, "in"}, {&l.local, "local"}, {&l.m, "m"}, {&l.ok, "ok"},
		{&l.out, "out"}, {&l.req, "req"}, {&l.resp, "resp"}, {&l.svc, "svc"}, {&l.v, "v"},
		{&l.stream, "stream"}, {&l.upload, "upload"},
	} {
		*f.dst = taken.unique(f.base)
		l.names[*f.dst] = true
	}
	for _, f := range []struct {
		dst  *string
		base string
	}{{&l.loopI, "i"}, {&l.loopK, "k"}, {&l.loopV, "v"}, {&l.loopN, "n"}} {
		p := f.base
		for numbered(taken, p) || numbered(l.names, p) {
			p += "x"
		}
		*f.dst = p
		l.names[p] = true // no import takes the bare prefix either
	}
	return l
}

// numbered reports whether set holds prefix followed by digits only.
func numbered(set nameSet, prefix string) bool {
	for n := range set {
		if isNumbered(n, prefix) {
			return true
		}
	}
	return false
}

// isNumbered reports whether name is prefix followed by digits only.
func isNumbered(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	return ok && rest != "" && strings.Trim(rest, "0123456789") == ""
}

// loop returns the loop variables of nesting depth depth.
func (l *locals) loop(depth int) (i, k, v, n string) {
	d := strconv.Itoa(depth)
	return l.loopI + d, l.loopK + d, l.loopV + d, l.loopN + d
}

// has reports whether name is one of the locals or a loop variable, which
// an import must not take.
func (l *locals) has(name string) bool {
	if l.names[name] {
		return true
	}
	for _, p := range []string{l.loopI, l.loopK, l.loopV, l.loopN} {
		if isNumbered(name, p) {
			return true
		}
	}
	return false
}

// packageScope returns the names declared at pkg's scope, but for those
// declared in skipFile (the file being regenerated).
func packageScope(fset *token.FileSet, pkg *types.Package, skipFile string) nameSet {
	scope := nameSet{}
	for _, name := range pkg.Scope().Names() {
		obj := pkg.Scope().Lookup(name)
		if skipFile != "" && fset.Position(obj.Pos()).Filename == skipFile {
			continue
		}
		scope[name] = true
	}
	return scope
}

// spelledNames returns the names of the package's own that the generated
// bodies may spell: the interface's, and those of the package's named
// types reachable from its methods' signatures (through elements, fields,
// underlying types and type arguments). Other names of the package scope
// (its functions, variables, types the interface does not carry) a local
// may shadow harmlessly, so they keep the usual local names.
func spelledNames(iface *types.TypeName, methods *types.Interface) nameSet {
	out := nameSet{iface.Name(): true}
	seen := map[types.Type]bool{}
	var walk func(t types.Type)
	walk = func(t types.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		switch u := types.Unalias(t).(type) {
		case *types.Named:
			if u.Obj().Pkg() == iface.Pkg() {
				out[u.Obj().Name()] = true
			}
			if args := u.TypeArgs(); args != nil {
				for i := range args.Len() {
					walk(args.At(i))
				}
			}
			walk(u.Underlying())
		case *types.Pointer:
			walk(u.Elem())
		case *types.Slice:
			walk(u.Elem())
		case *types.Array:
			walk(u.Elem())
		case *types.Chan:
			walk(u.Elem())
		case *types.Map:
			walk(u.Key())
			walk(u.Elem())
		case *types.Struct:
			for i := range u.NumFields() {
				walk(u.Field(i).Type())
			}
		case *types.Signature:
			for _, tup := range []*types.Tuple{u.Params(), u.Results()} {
				for i := range tup.Len() {
					walk(tup.At(i).Type())
				}
			}
		}
	}
	for i := range methods.NumMethods() {
		walk(methods.Method(i).Type())
	}
	return out
}
