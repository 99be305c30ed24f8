package wiretype

import (
	"go/types"
	"strconv"
)

// A Problem is one thing in a method signature that the wire cannot carry
// (Kind.Blocks) or carries with a caveat.
type Problem struct {
	// Kind says what the problem is.
	Kind Kind
	// Var is the parameter or result the problem sits under; Index is its
	// index among the parameters or results, and Result tells which.
	Var    *types.Var
	Index  int
	Result bool
	// Sub is the path from Var to Type: "" for Var's own type (or what it
	// points to), ".Items[].Price" for a field of an element, "{key}" for
	// a map's key, "[]" for an element or a map's value.
	Sub string
	// Type is the type the problem is about, as written.
	Type types.Type
	// Field is the struct field Type was reached through, if any, Owner
	// the named struct that declares it (nil for an unnamed struct) and Tag
	// its struct tag.
	Field *types.Var
	Owner *types.Named
	Tag   string
	// Via, for PointerKey, says where the key holds its pointer (see
	// KeyPointer).
	Via string
}

// Path returns the problem's path from root, the name the caller gives
// its parameter or result: root + Sub.
func (p Problem) Path(root string) string { return root + p.Sub }

// Check walks the types that a method with signature sig carries, as the
// codec generated in package home would, and returns every problem in walk
// order: parameters, then results, each depth first, fields in order, a
// map's key before its value.
//
// A context.Context parameter is not carried (the call's context travels
// beside the message) and the error as last result travels as the call's
// error: neither is walked. A streamed parameter or result (see Streams)
// is a Stream caveat; a streamed result's item type is walked under
// "{item}". Every other interface value is a problem: an
// empty interface (any) a caveat, AnyValue, a non-empty one a blocking
// Interface. A field tagged `meshsplit:"-"` is an Omitted caveat and is
// not entered: the codec leaves it off the wire.
// Named types are entered once per signature (so recursive types end);
// problems about a named type itself are reported where it is first met,
// except named interfaces, channels and functions, which are judged
// wherever they are met. time.Time, and types defined as time.Time, are
// carried whole and not entered; nor are channels, functions, interfaces
// and the unexported fields of another package's structs (reported, not
// entered: no codec reaches them). Blank fields carry nothing (the codec
// and encoding/json skip them) and are not walked. A generic interface's
// type parameters are not problems of the walk: a generic interface is not
// a service (see Generic).
func Check(sig *types.Signature, home *types.Package) []Problem {
	return walkSig(sig, home).out
}

// Carried returns the named types whose values a method with signature sig
// carries, in walk order: every named type the walk enters, time.Time and
// named interface, channel and function types aside. The values an any in
// the interface's signatures may hold are those of the named types its
// methods carry (and the built-in ones the runtime knows).
func Carried(sig *types.Signature, home *types.Package) []*types.Named {
	return walkSig(sig, home).named
}

// walkSig walks the types carried by a method with signature sig.
func walkSig(sig *types.Signature, home *types.Package) *walker {
	w := &walker{home: home, done: map[namedKey]bool{}, onStack: map[namedKey]bool{}, unnameable: map[namedKey]bool{}}
	streamParam, streamResult, _, elem := Streams(sig)
	params := sig.Params()
	for i := range params.Len() {
		v := params.At(i)
		if IsContext(v.Type()) {
			continue
		}
		w.root = Problem{Var: v, Index: i}
		if i == streamParam {
			w.add(Stream, site{t: v.Type()}, "")
			continue
		}
		w.walk(site{t: v.Type()})
	}
	results := sig.Results()
	for i := range results.Len() {
		v := results.At(i)
		if i == results.Len()-1 && IsError(v.Type()) {
			continue
		}
		w.root = Problem{Var: v, Index: i, Result: true}
		if i == streamResult {
			w.add(Stream, site{t: v.Type()}, "")
			if elem != nil {
				w.walk(site{t: elem, sub: "{item}"})
			}
			continue
		}
		w.walk(site{t: v.Type()})
	}
	return w
}

// Blocking returns the first problem of ps that blocks, and whether there
// is one.
func Blocking(ps []Problem) (Problem, bool) {
	for _, p := range ps {
		if p.Kind.Blocks() {
			return p, true
		}
	}
	return Problem{}, false
}

// Generic reports whether the interface named n has type parameters: it
// has no single wire format, so it is not a service.
func Generic(n *types.Named) bool { return n.TypeParams().Len() > 0 }

// A site is one type met by the walk.
type site struct {
	t     types.Type
	sub   string
	field *types.Var
	owner *types.Named
	tag   string
	cycle bool // a named type being walked: the type is recursive
	seen  bool // a named type walked before, from another path
}

// namedKey identifies a named type, instantiations apart.
type namedKey struct {
	obj  *types.TypeName
	args string
}

func keyOf(n *types.Named) namedKey {
	k := namedKey{obj: n.Obj()}
	if args := n.TypeArgs(); args != nil {
		for i := range args.Len() {
			k.args += types.TypeString(args.At(i), (*types.Package).Path) + ";"
		}
	}
	return k
}

// walker holds the state of one Check.
type walker struct {
	home    *types.Package
	root    Problem // Var, Index and Result of the parameter or result walked
	done    map[namedKey]bool
	onStack map[namedKey]bool
	out     []Problem
	named   []*types.Named // entered, in walk order

	unnameable map[namedKey]bool // named types reported as such, once each
}

// add records a problem of kind k at s.
func (w *walker) add(k Kind, s site, via string) {
	p := w.root
	p.Kind, p.Sub, p.Type, p.Field, p.Owner, p.Tag, p.Via = k, s.sub, s.t, s.field, s.owner, s.tag, via
	w.out = append(w.out, p)
}

// walk judges s and walks into its type.
func (w *walker) walk(s site) {
	t := types.Unalias(s.t)
	if _, ok := t.(*types.TypeParam); ok {
		return // only generic interfaces have them
	}
	n, ok := t.(*types.Named)
	if !ok {
		w.judge(s)
		w.walkUnder(s, t, nil)
		return
	}
	switch n.Underlying().(type) {
	case *types.Interface, *types.Chan, *types.Signature:
		w.judge(s) // not entered, so judged wherever met
		return
	}
	key := keyOf(n)
	switch {
	case w.onStack[key]:
		s.cycle = true
		w.judge(s)
		return
	case w.done[key]:
		s.seen = true
		w.judge(s)
		return
	}
	w.judge(s)
	if !IsTime(n) {
		w.named = append(w.named, n)
	}
	if IsTime(n) || DefinedAsTime(n) != nil {
		w.done[key] = true
		return
	}
	w.onStack[key] = true
	w.walkUnder(s, n.Underlying(), n)
	delete(w.onStack, key)
	w.done[key] = true
}

// foreignField reports whether s was reached through an unexported field
// of another package's struct.
func (w *walker) foreignField(s site) bool {
	return s.field != nil && !s.field.Exported() && s.field.Pkg() != w.home
}

// walkUnder walks into u, the underlying type of s.t; named is s.t when it
// is a named type.
func (w *walker) walkUnder(s site, u types.Type, named *types.Named) {
	next := func(t types.Type, sub string) site { return site{t: t, sub: sub} }
	switch u := u.(type) {
	case *types.Pointer:
		w.walk(next(u.Elem(), s.sub))
	case *types.Slice:
		w.walk(next(u.Elem(), s.sub+"[]"))
	case *types.Array:
		w.walk(next(u.Elem(), s.sub+"[]"))
	case *types.Map:
		w.walk(next(u.Key(), s.sub+"{key}"))
		w.walk(next(u.Elem(), s.sub+"[]"))
	case *types.Struct:
		for i := range u.NumFields() {
			f := u.Field(i)
			if f.Name() == "_" {
				continue // carries nothing
			}
			n := next(f.Type(), s.sub+"."+f.Name())
			n.field, n.owner, n.tag = f, named, u.Tag(i)
			if OmittedTag(n.tag) {
				w.add(Omitted, n, "") // left off the wire: not entered
				continue
			}
			if w.foreignField(n) {
				w.judge(n) // reported, not entered: no codec reaches it
				continue
			}
			w.walk(n)
		}
	}
}

// judge records the problems of s itself.
func (w *walker) judge(s site) {
	if s.cycle {
		w.add(Recursive, s, "")
	}
	if s.field != nil && s.field.Name() != "_" {
		if w.foreignField(s) {
			w.add(UnexportedField, s, "")
		} else if s.field.Exported() && JSONDropped(s.tag) {
			w.add(JSONDash, s, "")
		}
	}
	if s.cycle || s.seen {
		return // the type itself was judged where it was first met
	}
	t := s.t
	switch u := t.Underlying().(type) {
	case *types.Chan:
		w.add(Chan, s, "")
	case *types.Signature:
		w.add(Func, s, "")
	case *types.Interface:
		if u.Empty() {
			w.add(AnyValue, s, "")
		} else {
			w.add(Interface, s, "")
		}
	case *types.Basic:
		if u.Kind() == types.UnsafePointer || u.Kind() == types.Uintptr {
			w.add(Unsafe, s, "")
		}
	case *types.Slice:
		if Empty(u.Elem()) {
			w.add(ZeroSize, s, "")
		}
	case *types.Map:
		if Empty(u.Key()) && Empty(u.Elem()) {
			w.add(ZeroSize, s, "")
		}
		if via := KeyPointer(u.Key()); via != "" {
			w.add(PointerKey, s, via)
		} else if plainKey(u.Key()) && (HoldsTime(u.Key()) || !JSONKey(u.Key())) {
			w.add(MapKey, s, "")
		}
	}
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return
	}
	if !w.foreignField(s) {
		w.nameable(n, s)
	}
	if DefinedAsTime(n) != nil && !jsonMethods(n) {
		w.add(DefinedTime, s, "")
	}
}

// nameable records why generated code in the home package cannot spell
// the named type n, or a type argument of it: an unexported type of
// another package, or a type declared inside a function.
func (w *walker) nameable(n *types.Named, s site) {
	obj := n.Obj()
	if pkg := obj.Pkg(); pkg != nil && !w.unnameable[keyOf(n)] {
		w.unnameable[keyOf(n)] = !obj.Exported() && pkg != w.home || obj.Parent() != pkg.Scope()
		if !obj.Exported() && pkg != w.home {
			w.add(UnexportedType, site{t: n, sub: s.sub, field: s.field, owner: s.owner, tag: s.tag}, "")
		}
		if obj.Parent() != pkg.Scope() {
			w.add(LocalType, site{t: n, sub: s.sub, field: s.field, owner: s.owner, tag: s.tag}, "")
		}
	}
	if args := n.TypeArgs(); args != nil {
		for i := range args.Len() {
			w.argNameable(args.At(i), s.sub+" (type argument #"+strconv.Itoa(i+1)+")", map[types.Type]bool{})
		}
	}
}

// argNameable records the named types in t, a type argument at sub, that
// generated code cannot spell.
func (w *walker) argNameable(t types.Type, sub string, seen map[types.Type]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	switch u := types.Unalias(t).(type) {
	case *types.Named:
		w.nameable(u, site{t: u, sub: sub})
	case *types.Pointer:
		w.argNameable(u.Elem(), sub, seen)
	case *types.Slice:
		w.argNameable(u.Elem(), sub, seen)
	case *types.Array:
		w.argNameable(u.Elem(), sub, seen)
	case *types.Chan:
		w.argNameable(u.Elem(), sub, seen)
	case *types.Map:
		w.argNameable(u.Key(), sub, seen)
		w.argNameable(u.Elem(), sub, seen)
	case *types.Struct:
		for i := range u.NumFields() {
			w.argNameable(u.Field(i).Type(), sub, seen)
		}
	}
}
