package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/types"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/go/types/typeutil"

	"github.com/meshsplit/meshsplit/internal/wiretype"
)

// This file judges the types reachable from a method signature: whether
// generated code can carry them (check) and how they are spelled in a
// fingerprint (canon).

// isNamed reports whether t is the named type path.name.
func isNamed(t types.Type, path, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return false
	}
	return n.Obj().Pkg().Path() == path && n.Obj().Name() == name
}

// isTime reports whether t is time.Time.
func isTime(t types.Type) bool { return isNamed(t, "time", "Time") }

// isContext reports whether t is context.Context.
func isContext(t types.Type) bool { return isNamed(t, "context", "Context") }

// isError reports whether t is the predeclared error type.
func isError(t types.Type) bool {
	return types.Identical(types.Unalias(t), types.Universe.Lookup("error").Type())
}

// underlyingIsTime reports whether named (not time.Time itself) is defined
// as time.Time: its underlying type is time.Time's.
func underlyingIsTime(n *types.Named) bool {
	s, ok := n.Underlying().(*types.Struct)
	if !ok || s.NumFields() != 3 {
		return false
	}
	f := s.Field(2)
	p, ok := types.Unalias(f.Type()).(*types.Pointer)
	return ok && f.Name() == "loc" && f.Pkg() != nil && f.Pkg().Path() == "time" && isNamed(p.Elem(), "time", "Location")
}

// timeOf returns time.Time, found through the time package of the
// underlying struct of n, for which underlyingIsTime holds.
func timeOf(n *types.Named) types.Type {
	f := n.Underlying().(*types.Struct).Field(2)
	return f.Pkg().Scope().Lookup("Time").Type()
}

// checker walks the types reachable from a signature and reports the first
// one that cannot cross the network, with the path that reaches it.
type checker struct {
	self *types.Package
	seen typeutil.Map // named types already checked
}

// check returns an error naming what in t, reached through where, generated
// code cannot carry.
func (c *checker) check(t types.Type, where string) error {
	t = types.Unalias(t)
	if isTime(t) {
		return nil
	}
	if n, ok := t.(*types.Named); ok {
		if c.seen.At(n) != nil {
			return nil
		}
		c.seen.Set(n, true)
		obj := n.Obj()
		if obj.Pkg() != nil && obj.Pkg() != c.self && !obj.Exported() {
			return fmt.Errorf("%s: type %s is unexported in package %s, so generated code cannot name it", where, obj.Name(), obj.Pkg().Path())
		}
		if obj.Pkg() == c.self && isLocal(obj.Name()) {
			return fmt.Errorf("%s: type %s is named like a local variable of the generated code, which would shadow it; rename the type", where, obj.Name())
		}
		if types.IsInterface(n) && !isError(n) {
			return fmt.Errorf("%s: interface value %s has no fixed type to encode", where, c.spell(n))
		}
		if obj.Pkg() != nil && obj.Parent() != obj.Pkg().Scope() {
			return fmt.Errorf("%s: type %s is declared inside a function, so generated code cannot name it", where, obj.Name())
		}
		if n.TypeArgs() != nil {
			for i := range n.TypeArgs().Len() {
				if err := c.check(n.TypeArgs().At(i), where+" (type argument)"); err != nil {
					return err
				}
			}
		}
		if underlyingIsTime(n) {
			return nil
		}
		return c.check(n.Underlying(), where)
	}
	switch u := t.(type) {
	case *types.Basic:
		switch u.Kind() {
		case types.Uintptr:
			return fmt.Errorf("%s: uintptr is a memory address, meaningless in another process", where)
		case types.UnsafePointer:
			return fmt.Errorf("%s: unsafe.Pointer is a memory address, meaningless in another process", where)
		}
		if u.Info()&types.IsUntyped != 0 {
			return fmt.Errorf("%s: untyped value", where)
		}
		return nil
	case *types.Pointer:
		return c.check(u.Elem(), where)
	case *types.Slice:
		if wiretype.Empty(u.Elem()) {
			return fmt.Errorf("%s: slice of %s, which encodes to no bytes: the decoder could not bound its length", where, c.spell(u.Elem()))
		}
		return c.check(u.Elem(), where+"[]")
	case *types.Array:
		return c.check(u.Elem(), where+"[]")
	case *types.Map:
		if wiretype.Empty(u.Key()) && wiretype.Empty(u.Elem()) {
			return fmt.Errorf("%s: map of %s, whose entries encode to no bytes: the decoder could not bound its length", where, c.spell(u))
		}
		if via := wiretype.KeyPointer(u.Key()); via != "" {
			return fmt.Errorf("%s: map keyed by %s, which holds a pointer (%s): keys compare by address, and the receiver's keys would be new pointers equal to none of the caller's", where, c.spell(u.Key()), via)
		}
		if err := c.check(u.Key(), where+" (map key)"); err != nil {
			return err
		}
		return c.check(u.Elem(), where+" (map value)")
	case *types.Struct:
		for i := range u.NumFields() {
			f := u.Field(i)
			if f.Name() == "_" {
				continue
			}
			if !f.Exported() && f.Pkg() != c.self {
				return fmt.Errorf("%s.%s: unexported field of package %s, which the codec cannot reach", where, f.Name(), f.Pkg().Path())
			}
			if err := c.check(f.Type(), where+"."+f.Name()); err != nil {
				return err
			}
		}
		return nil
	case *types.Chan:
		return fmt.Errorf("%s: channel %s cannot cross the network", where, c.spell(u))
	case *types.Signature:
		return fmt.Errorf("%s: function value %s cannot cross the network", where, c.spell(u))
	case *types.Interface:
		return fmt.Errorf("%s: interface value %s has no fixed type to encode", where, c.spell(u))
	case *types.TypeParam:
		return fmt.Errorf("%s: type parameter %s", where, u)
	}
	return fmt.Errorf("%s: unsupported type %s", where, t)
}

// spell writes t as the interface's package would: other packages by name.
func (c *checker) spell(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string {
		if p == c.self {
			return ""
		}
		return p.Name()
	})
}

// canon spells types for fingerprints: full package paths, aliases
// resolved, struct tags left out (they do not change the wire), and the
// definition of every named type reached, so that a field added to a struct
// changes the fingerprint of every method that carries it.
type canon struct {
	defs map[string]string // "path.Name[args]" -> canonical underlying
	seen typeutil.Map
}

// typ returns the canonical spelling of t.
func (c *canon) typ(t types.Type) string {
	t = types.Unalias(t)
	switch u := t.(type) {
	case *types.Basic:
		return types.Typ[u.Kind()].Name()
	case *types.Named:
		name := u.Obj().Name()
		if p := u.Obj().Pkg(); p != nil {
			name = p.Path() + "." + name
		}
		if args := u.TypeArgs(); args != nil {
			parts := make([]string, args.Len())
			for i := range parts {
				parts[i] = c.typ(args.At(i))
			}
			name += "[" + strings.Join(parts, ",") + "]"
		}
		if u.Obj().Pkg() != nil && c.seen.At(u) == nil {
			c.seen.Set(u, true)
			if isTime(u) || isContext(u) {
				c.defs[name] = "builtin"
			} else {
				c.defs[name] = c.typ(u.Underlying())
			}
		}
		return name
	case *types.Pointer:
		return "*" + c.typ(u.Elem())
	case *types.Slice:
		return "[]" + c.typ(u.Elem())
	case *types.Array:
		return "[" + strconv.FormatInt(u.Len(), 10) + "]" + c.typ(u.Elem())
	case *types.Map:
		return "map[" + c.typ(u.Key()) + "]" + c.typ(u.Elem())
	case *types.Struct:
		var b strings.Builder
		b.WriteString("struct{")
		for i := range u.NumFields() {
			f := u.Field(i)
			if f.Embedded() {
				b.WriteString("embedded ")
			}
			b.WriteString(f.Name() + " " + c.typ(f.Type()) + ";")
		}
		b.WriteString("}")
		return b.String()
	case *types.Interface:
		if isError(u) {
			return "error"
		}
		return types.TypeString(u, (*types.Package).Path)
	}
	return types.TypeString(t, (*types.Package).Path)
}

// signature returns the canonical text of method name with signature sig,
// followed by the definitions of the named types it reaches, sorted.
func signatureText(name string, sig *types.Signature) string {
	c := &canon{defs: map[string]string{}}
	var b strings.Builder
	b.WriteString(name + "(")
	for i := range sig.Params().Len() {
		if i > 0 {
			b.WriteString(",")
		}
		if sig.Variadic() && i == sig.Params().Len()-1 {
			b.WriteString("...")
		}
		b.WriteString(c.typ(sig.Params().At(i).Type()))
	}
	b.WriteString(")(")
	for i := range sig.Results().Len() {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(c.typ(sig.Results().At(i).Type()))
	}
	b.WriteString(")")
	names := make([]string, 0, len(c.defs))
	for n := range c.defs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b.WriteString("\n" + n + " = " + c.defs[n])
	}
	return b.String()
}

// fingerprint hashes text to 16 hex digits.
func fingerprint(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:8])
}
