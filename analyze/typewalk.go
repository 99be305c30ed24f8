package analyze

import (
	"go/token"
	"go/types"
	"reflect"
	"strconv"
)

// A reached type is one type met while walking a method's signature: a
// parameter or result type, or a type inside one (a field, an element, a
// pointee, a map key or value).
type reached struct {
	// Type is the type as written (it may be named).
	Type types.Type
	// Pos is the position of the parameter or result the walk started from.
	Pos token.Pos
	// Path spells the way from the parameter or result to Type, for
	// example "order.Items[].Price".
	Path string
	// Top reports whether Type is the parameter's or result's own type.
	Top bool
	// Result reports whether the walk started from a result.
	Result bool
	// Field is the struct field Type was reached through, if any, and Owner
	// the named struct type that declares it (nil for an unnamed struct).
	Field *types.Var
	Owner *types.Named
	// Tag is the field's struct tag.
	Tag string
	// Cycle reports that Type is a named type already being walked: the
	// type is recursive. The walk does not go further.
	Cycle bool
	// Seen reports that Type is a named type walked completely before,
	// from another path: the entry is kept for its field, but rules about
	// the type itself have reported it already.
	Seen bool
}

// fresh reports whether r is the first meeting with its type, so that
// rules about the type itself should look at it.
func (r reached) fresh() bool { return !r.Cycle && !r.Seen }

// walkSignature returns every type reachable from sig's parameters and
// results, each named type entered once (so recursive types terminate;
// named interfaces, channels and functions, never entered, are returned
// wherever they are met).
// Channels, functions and interfaces are reported but not entered; nor are
// time.Time (which the codec carries whole) and the unexported fields of
// another package's types (which no codec outside that package can reach).
func walkSignature(sig *types.Signature, iface *types.Named) []reached {
	w := &typeWalker{done: map[*types.Named]bool{}, onStack: map[*types.Named]bool{}}
	if iface != nil {
		w.home = iface.Obj().Pkg()
	}
	for i := range sig.Params().Len() {
		v := sig.Params().At(i)
		w.walk(reached{Type: v.Type(), Pos: v.Pos(), Path: varLabel(v, "parameter", i), Top: true})
	}
	for i := range sig.Results().Len() {
		v := sig.Results().At(i)
		w.walk(reached{Type: v.Type(), Pos: v.Pos(), Path: varLabel(v, "result", i), Top: true, Result: true})
	}
	return w.out
}

// varLabel names a parameter or result: its name, or "result#1".
func varLabel(v *types.Var, kind string, i int) string {
	if v.Name() != "" && v.Name() != "_" {
		return v.Name()
	}
	return kind + "#" + strconv.Itoa(i+1)
}

// typeWalker holds the state of one walkSignature.
type typeWalker struct {
	home    *types.Package        // the package of the interface
	done    map[*types.Named]bool // named types walked completely
	onStack map[*types.Named]bool // named types being walked
	out     []reached
}

// walk records r and walks into r.Type.
func (w *typeWalker) walk(r reached) {
	t := types.Unalias(r.Type)
	if _, ok := t.(*types.TypeParam); ok {
		return // only generic interfaces have them; the generic rule reports those
	}
	if n, ok := t.(*types.Named); ok {
		switch n.Underlying().(type) {
		case *types.Interface, *types.Chan, *types.Signature:
			// Not entered, so never a cycle; judged at every place it is
			// met, since it is fine in some (a context.Context parameter)
			// and not in others (a context.Context field).
			w.out = append(w.out, r)
			return
		}
		if w.onStack[n] {
			r.Cycle = true
			w.out = append(w.out, r)
			return
		}
		if w.done[n] {
			r.Seen = true // walked already, from another parameter or field
			w.out = append(w.out, r)
			return
		}
		w.out = append(w.out, r)
		if isTime(n) {
			w.done[n] = true
			return
		}
		w.onStack[n] = true
		w.walkUnder(r, n.Underlying(), n)
		delete(w.onStack, n)
		w.done[n] = true
		return
	}
	w.out = append(w.out, r)
	w.walkUnder(r, t, nil)
}

// walkUnder walks into the parts of u, the underlying type of r.Type;
// named is r.Type when it is a named type.
func (w *typeWalker) walkUnder(r reached, u types.Type, named *types.Named) {
	next := func(t types.Type, path string) reached {
		return reached{Type: t, Pos: r.Pos, Path: path, Result: r.Result}
	}
	switch u := u.(type) {
	case *types.Pointer:
		w.walk(next(u.Elem(), r.Path))
	case *types.Slice:
		w.walk(next(u.Elem(), r.Path+"[]"))
	case *types.Array:
		w.walk(next(u.Elem(), r.Path+"[]"))
	case *types.Map:
		w.walk(next(u.Key(), r.Path+"{key}"))
		w.walk(next(u.Elem(), r.Path+"[]"))
	case *types.Struct:
		for i := range u.NumFields() {
			f := u.Field(i)
			n := next(f.Type(), r.Path+"."+f.Name())
			n.Field, n.Owner, n.Tag = f, named, u.Tag(i)
			if !f.Exported() && f.Pkg() != w.home {
				w.out = append(w.out, n) // reported, not entered: no codec reaches it
				continue
			}
			w.walk(n)
		}
	}
}

// isTime reports whether n is time.Time.
func isTime(n *types.Named) bool {
	return n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" && n.Obj().Name() == "Time"
}

// isContext reports whether t is context.Context.
func isContext(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "context" && n.Obj().Name() == "Context"
}

// isError reports whether t is the predeclared error type.
func isError(t types.Type) bool {
	return types.Identical(t, types.Universe.Lookup("error").Type())
}

// jsonDropped reports whether a struct tag drops the field from JSON
// (`json:"-"`; `json:"-,"` names the field "-" instead).
func jsonDropped(tag string) bool {
	v, ok := reflect.StructTag(tag).Lookup("json")
	return ok && v == "-"
}
