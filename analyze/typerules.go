package analyze

import (
	"fmt"
	"go/types"
	"strings"

	"github.com/meshsplit/meshsplit/internal/wiretype"
)

// The rules about what a signature can carry. Each walks the types
// reachable from a method's parameters and results (typewalk.go).

// ChanRule reports channels reachable from a signature.
var ChanRule = typeRule("chan",
	"a channel cannot cross the network: its two ends would live in different processes",
	"types", Error,
	func(p *Pass, r reached) string {
		if _, ok := r.Type.Underlying().(*types.Chan); ok && r.fresh() {
			return fmt.Sprintf("%s is a channel (%s): a channel cannot cross the network; return a slice or poll", r.Path, p.typeString(r.Type))
		}
		return ""
	})

// FuncRule reports functions (callbacks) reachable from a signature.
var FuncRule = typeRule("func",
	"a function value (callback) cannot cross the network: its code and closure stay in the caller's process",
	"types", Error,
	func(p *Pass, r reached) string {
		if _, ok := r.Type.Underlying().(*types.Signature); ok && r.fresh() {
			return fmt.Sprintf("%s is a function (%s): a callback cannot cross the network; pass data, or split the callback into its own interface", r.Path, p.typeString(r.Type))
		}
		return ""
	})

// InterfaceRule reports interface values (any included) reachable from a
// signature; an error result and a context.Context parameter are fine.
var InterfaceRule = typeRule("interface",
	"an interface value's dynamic type is unknown to the codec; only error results and context.Context parameters may be interfaces",
	"types", Error,
	func(p *Pass, r reached) string {
		if !types.IsInterface(r.Type) || !r.fresh() {
			return ""
		}
		if r.Top && r.Result && isError(r.Type) {
			return ""
		}
		if r.Top && !r.Result && isContext(r.Type) {
			return ""
		}
		return fmt.Sprintf("%s is an interface value (%s): the codec cannot know its dynamic type; use a concrete type", r.Path, p.typeString(r.Type))
	})

// UnsafeRule reports unsafe.Pointer and uintptr values.
var UnsafeRule = typeRule("unsafe",
	"unsafe.Pointer and uintptr hold addresses that mean nothing in another process",
	"types", Error,
	func(p *Pass, r reached) string {
		if b, ok := r.Type.Underlying().(*types.Basic); ok && r.fresh() && (b.Kind() == types.UnsafePointer || b.Kind() == types.Uintptr) {
			return fmt.Sprintf("%s is %s: an address means nothing in another process", r.Path, p.typeString(r.Type))
		}
		return ""
	})

// UnexportedFieldRule reports unexported struct fields of another package.
// The generated codec lives in the interface's package, so it carries that
// package's unexported fields (no finding); another package's are out of
// its reach and would be dropped (an error).
var UnexportedFieldRule = &Rule{
	Name:     "unexported-field",
	Doc:      "unexported fields of another package's types cannot be carried by the codec generated in the interface's package",
	Category: "types",
	Severity: Error,
	run: func(p *Pass) {
		// One finding per struct value, naming all its unreachable fields.
		type group struct {
			at     reached
			fields []string
		}
		var order []string
		groups := map[string]*group{}
		var c rootCounter
		for _, r := range p.reached() {
			if r.Field == nil || r.Field.Exported() || r.Field.Name() == "_" || r.Field.Pkg() == p.Seam.Obj.Pkg() {
				continue // blank fields carry nothing
			}
			parent := strings.TrimSuffix(r.Path, "."+r.Field.Name())
			g := groups[parent]
			if g == nil {
				if !c.take(r) {
					continue
				}
				g = &group{at: r}
				groups[parent] = g
				order = append(order, parent)
			}
			g.fields = append(g.fields, r.Field.Name())
		}
		for _, parent := range order {
			g := groups[parent]
			p.Reportf(g.at.Pos, "%s is a %s, whose unexported fields (%s) the codec generated in package %s cannot reach: they would be dropped; pass a type with exported fields", parent, ownerName(g.at), strings.Join(g.fields, ", "), p.Seam.Obj.Pkg().Name())
		}
		c.reportRest(p)
	},
}

// UnexportedTypeRule reports unexported named types of another package:
// the code generated in the interface's package cannot name them.
var UnexportedTypeRule = typeRule("unexported-type",
	"an unexported type of another package cannot be named by the code generated in the interface's package",
	"types", Error,
	func(p *Pass, r reached) string {
		n, ok := types.Unalias(r.Type).(*types.Named)
		if !ok || !r.fresh() || n.Obj().Exported() || n.Obj().Pkg() == nil || n.Obj().Pkg() == p.Seam.Obj.Pkg() {
			return ""
		}
		if r.Field != nil && !r.Field.Exported() && r.Field.Pkg() != p.Seam.Obj.Pkg() {
			return "" // an unexported field of another package: unexported-field reports it
		}
		return fmt.Sprintf("%s is of type %s, unexported in package %s: generated code cannot name it; export the type", r.Path, n.Obj().Name(), n.Obj().Pkg().Path())
	})

// ZeroSizeRule reports slices and maps of values that encode to no bytes
// (struct{}, [0]T): a decoder could not bound their length.
var ZeroSizeRule = typeRule("zero-size",
	"slices of values that encode to no bytes (struct{}, [0]T) cannot be bounded by the decoder",
	"types", Error,
	func(p *Pass, r reached) string {
		if !r.fresh() {
			return ""
		}
		switch u := r.Type.Underlying().(type) {
		case *types.Slice:
			if wiretype.Empty(u.Elem()) {
				return fmt.Sprintf("%s is a slice of %s, whose values encode to no bytes: the decoder could not bound its length; send a count instead", r.Path, p.typeString(u.Elem()))
			}
		case *types.Map:
			if wiretype.Empty(u.Key()) && wiretype.Empty(u.Elem()) {
				return fmt.Sprintf("%s is a map whose entries encode to no bytes: the decoder could not bound its length", r.Path)
			}
		}
		return ""
	})

// ownerName spells the struct type that declares r.Field.
func ownerName(r reached) string {
	if r.Owner != nil {
		return types.TypeString(r.Owner, nil)
	}
	return "an unnamed struct"
}

// JSONDashRule notes exported fields tagged json:"-": the mesh codec
// carries them, the JSON path (gateway, curl) does not.
var JSONDashRule = typeRule("json-dash",
	`fields tagged json:"-" are carried by the mesh codec but not by the JSON path (gateway, curl)`,
	"semantics", Note,
	func(p *Pass, r reached) string {
		if r.Field == nil || !r.Field.Exported() || !jsonDropped(r.Tag) {
			return ""
		}
		return fmt.Sprintf(`%s is tagged json:"-": generated clients carry it, but JSON callers (gateway, curl) neither send nor see it`, r.Path)
	})

// RecursiveRule reports recursive types: the codec encodes trees, not
// cycles or shared pointers.
var RecursiveRule = typeRule("recursive",
	"a recursive type is encoded as a tree: a cyclic value fails the call and shared pointers arrive as copies",
	"types", Warning,
	func(p *Pass, r reached) string {
		if !r.Cycle {
			return ""
		}
		return fmt.Sprintf("%s refers back to %s: values are encoded as trees, so a cyclic value fails the call (past the codec's depth limit) and shared pointers arrive as separate copies", r.Path, p.typeString(r.Type))
	})

// MapKeyRule reports map keys that the mesh codec carries but that do not
// survive everywhere. encoding/json writes only string and integer keys and
// keys that are encoding.TextMarshaler (and reads them back through
// encoding.TextUnmarshaler), so a bool, float, complex, struct or array key
// works between generated clients and servers but fails every call through
// the JSON path (gateway, curl). A time.Time in a key compares its Location
// pointer too, so a decoded key equals the caller's only in UTC.
var MapKeyRule = typeRule("map-key",
	"map keys other than strings, integers and encoding.TextMarshaler types are carried by the mesh codec but not by the JSON path (gateway, curl); time.Time keys are equal on the receiver only in UTC",
	"types", Warning,
	func(p *Pass, r reached) string {
		m, ok := r.Type.Underlying().(*types.Map)
		if !ok || !r.fresh() || wiretype.KeyPointer(m.Key()) != "" || !plainKey(m.Key()) {
			return ""
		}
		jsonOK := jsonKey(m.Key())
		switch {
		case keyTime(m.Key(), map[types.Type]bool{}):
			key := p.typeString(m.Key())
			if n, ok := types.Unalias(m.Key()).(*types.Named); !ok || !isTime(n) {
				key += ", which holds a time.Time"
			}
			msg := fmt.Sprintf("%s is a map keyed by %s: a time compares its Location pointer too, so the receiver's keys equal the caller's only for UTC times; key it by t.UTC() or a Unix time", r.Path, key)
			if !jsonOK {
				msg += ", and note that JSON callers (gateway, curl) cannot send it at all"
			}
			return msg
		case !jsonOK:
			return fmt.Sprintf("%s is a map keyed by %s: generated clients carry it, but JSON callers (gateway, curl) cannot, since encoding/json encodes only string, integer and encoding.TextMarshaler keys; key it by a string to serve both", r.Path, p.typeString(m.Key()))
		}
		return ""
	})

// keyTime reports whether t is or holds a time.Time (in a field or array
// element, through named types).
func keyTime(t types.Type, seen map[types.Type]bool) bool {
	if n, ok := types.Unalias(t).(*types.Named); ok && isTime(n) {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch u := t.Underlying().(type) {
	case *types.Array:
		return keyTime(u.Elem(), seen)
	case *types.Struct:
		for i := range u.NumFields() {
			if keyTime(u.Field(i).Type(), seen) {
				return true
			}
		}
	}
	return false
}

// PointerKeyRule reports maps whose keys are or hold pointers. A pointer
// key is its address: the codec can only send the value it points to, so
// the receiver's keys are new pointers equal to none of the sender's, and
// lookups with the caller's pointers find nothing.
var PointerKeyRule = typeRule("pointer-key",
	"a map key that is or holds a pointer compares by address, which cannot cross the network: the receiver's keys would be new pointers",
	"types", Error,
	func(p *Pass, r reached) string {
		m, ok := r.Type.Underlying().(*types.Map)
		if !ok || !r.fresh() {
			return ""
		}
		if via := wiretype.KeyPointer(m.Key()); via != "" {
			return fmt.Sprintf("%s is a map keyed by %s, which holds a pointer (%s): keys compare by address, and the receiver's keys would be new pointers equal to none of the caller's; key it by a value (an ID)", r.Path, p.typeString(m.Key()), via)
		}
		return ""
	})

// jsonKey reports whether encoding/json can write and read map keys of
// type t: string and integer kinds (named ones too), or a type whose value
// has MarshalText and whose pointer has UnmarshalText.
func jsonKey(t types.Type) bool {
	if b, ok := t.Underlying().(*types.Basic); ok && b.Info()&(types.IsString|types.IsInteger) != 0 && b.Kind() != types.Uintptr {
		return true
	}
	return hasMethod(t, "MarshalText", 0, 2) && hasMethod(types.NewPointer(t), "UnmarshalText", 1, 1)
}

// hasMethod reports whether t's method set has a method name with the given
// numbers of parameters and results.
func hasMethod(t types.Type, name string, params, results int) bool {
	obj, _, _ := types.LookupFieldOrMethod(t, false, nil, name)
	fn, ok := obj.(*types.Func)
	if !ok {
		return false
	}
	sig := fn.Signature()
	return sig.Params().Len() == params && sig.Results().Len() == results
}

// plainKey reports whether t holds only what the codec can carry as a key
// (no channel, function, interface or address: other rules report those).
func plainKey(t types.Type) bool {
	if n, ok := types.Unalias(t).(*types.Named); ok && isTime(n) {
		return true
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Kind() != types.Uintptr && u.Kind() != types.UnsafePointer
	case *types.Array:
		return plainKey(u.Elem())
	case *types.Struct:
		for i := range u.NumFields() {
			if !plainKey(u.Field(i).Type()) {
				return false
			}
		}
		return true
	}
	return false
}
