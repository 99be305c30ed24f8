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

// This file says why a method is refused, from the problem that
// internal/wiretype (which analyze asks too) finds in its signature, and
// spells types in fingerprints (canon).

// refusal says what in method where (Iface.Method) generated code cannot
// carry: the first blocking problem pr, at its parameter or result as the
// generated code names it (p0, r1 when unnamed).
func refusal(where string, pr wiretype.Problem) string {
	spell := func(t types.Type) string {
		return types.TypeString(t, func(p *types.Package) string {
			if p == pr.Var.Pkg() {
				return ""
			}
			return p.Name()
		})
	}
	name := pr.Var.Name()
	kind := "parameter"
	if pr.Result {
		kind = "result"
	}
	if name == "" || name == "_" {
		name = kind[:1] + strconv.Itoa(pr.Index)
	}
	at := fmt.Sprintf("%s: %s %s", where, kind, pr.Path(name))
	switch pr.Kind {
	case wiretype.Chan:
		return fmt.Sprintf("%s: channel %s cannot cross the network", at, spell(pr.Type))
	case wiretype.Func:
		return fmt.Sprintf("%s: function value %s cannot cross the network", at, spell(pr.Type))
	case wiretype.Interface:
		return fmt.Sprintf("%s: value of the non-empty interface %s: the codec cannot know which dynamic types to expect, nor carry their methods' code (only any, the error as last result and context.Context parameters cross)", at, spell(pr.Type))
	case wiretype.Unsafe:
		return fmt.Sprintf("%s: %s is a memory address, meaningless in another process", at, spell(pr.Type))
	case wiretype.UnexportedField:
		return fmt.Sprintf("%s: unexported field of package %s, which the codec cannot reach", at, pr.Field.Pkg().Path())
	case wiretype.UnexportedType:
		obj := pr.Type.(*types.Named).Obj()
		return fmt.Sprintf("%s: type %s is unexported in package %s, so generated code cannot name it", at, obj.Name(), obj.Pkg().Path())
	case wiretype.LocalType:
		return fmt.Sprintf("%s: type %s is declared inside a function, so generated code cannot name it", at, pr.Type.(*types.Named).Obj().Name())
	case wiretype.ZeroSize:
		if sl, ok := pr.Type.Underlying().(*types.Slice); ok {
			return fmt.Sprintf("%s: slice of %s, which encodes to no bytes: the decoder could not bound its length", at, spell(sl.Elem()))
		}
		return fmt.Sprintf("%s: map of %s, whose entries encode to no bytes: the decoder could not bound its length", at, spell(pr.Type))
	case wiretype.PointerKey:
		k := pr.Type.Underlying().(*types.Map).Key()
		return fmt.Sprintf("%s: map keyed by %s, which holds a pointer (%s): keys compare by address, and the receiver's keys would be new pointers equal to none of the caller's", at, spell(k), pr.Via)
	}
	return fmt.Sprintf("%s: %s cannot cross the network (%s)", at, spell(pr.Type), pr.Kind)
}

// canon spells types for fingerprints: full package paths, aliases
// resolved, struct tags left out (they do not change the wire) but for
// `meshsplit:"-"` (which does: the field is spelled "Name -"), and the
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
			if wiretype.IsTime(u) || wiretype.IsContext(u) {
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
	case *types.Chan:
		// Only a streamed <-chan T result gets here; its element's
		// definition counts, as a slice's does.
		dir := map[types.ChanDir]string{types.SendRecv: "chan ", types.SendOnly: "chan<- ", types.RecvOnly: "<-chan "}[u.Dir()]
		return dir + c.typ(u.Elem())
	case *types.Struct:
		var b strings.Builder
		b.WriteString("struct{")
		for i := range u.NumFields() {
			f := u.Field(i)
			if f.Embedded() {
				b.WriteString("embedded ")
			}
			if wiretype.OmittedTag(u.Tag(i)) {
				// Off the wire: its type does not matter, its omission does.
				b.WriteString(f.Name() + " -;")
				continue
			}
			b.WriteString(f.Name() + " " + c.typ(f.Type()) + ";")
		}
		b.WriteString("}")
		return b.String()
	case *types.Interface:
		if wiretype.IsError(u) {
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
