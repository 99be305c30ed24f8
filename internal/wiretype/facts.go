package wiretype

import (
	"go/types"
	"reflect"
)

// The codec facts the walk rests on, and the type tests both sides need.

// IsNamed reports whether t is (through aliases) the named type path.name.
func IsNamed(t types.Type, path, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == path && n.Obj().Name() == name
}

// IsTime reports whether t is time.Time, which the codec carries whole:
// instant, wall offset and location name.
func IsTime(t types.Type) bool { return IsNamed(t, "time", "Time") }

// IsContext reports whether t is context.Context.
func IsContext(t types.Type) bool { return IsNamed(t, "context", "Context") }

// IsError reports whether t is the predeclared error type (through aliases).
func IsError(t types.Type) bool {
	return types.Identical(types.Unalias(t), types.Universe.Lookup("error").Type())
}

// DefinedAsTime returns time.Time when t is a type defined as time.Time, or
// as such a type (type Stamp time.Time), and nil otherwise (time.Time
// itself included). The codec carries such a value as the time.Time it
// converts to: a conversion keeps every field, the location included.
func DefinedAsTime(t types.Type) types.Type {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || IsTime(n) {
		return nil
	}
	s, ok := n.Underlying().(*types.Struct)
	if !ok || s.NumFields() == 0 {
		return nil
	}
	pkg := s.Field(0).Pkg()
	if pkg == nil || pkg.Path() != "time" {
		return nil
	}
	tn, ok := pkg.Scope().Lookup("Time").(*types.TypeName)
	if !ok || !types.Identical(s, tn.Type().Underlying()) {
		return nil
	}
	return tn.Type()
}

// Empty reports whether values of t encode to no bytes: structs without
// fields (blank ones aside) and arrays of length zero or of such values.
// A slice or map of them has a length the decoder could not bound.
func Empty(t types.Type) bool {
	if IsTime(t) || DefinedAsTime(t) != nil {
		return false
	}
	switch u := t.Underlying().(type) {
	case *types.Struct:
		for i := range u.NumFields() {
			if !Skipped(u, i) && !Empty(u.Field(i).Type()) {
				return false
			}
		}
		return true
	case *types.Array:
		return u.Len() == 0 || Empty(u.Elem())
	}
	return false
}

// KeyPointer returns where a map key of type t holds a pointer, as a path
// from the key's type: "*pkg.T" for a pointer key, "pkg.T.Field" or
// "[2]*pkg.T[]" for one inside it, through named types; "" when it holds
// none. Such keys compare by address, so the receiver's keys would be new
// pointers. time.Time's location pointer does not count: the codec carries
// the zone by name.
func KeyPointer(t types.Type) string {
	return findPointer(t, types.TypeString(t, (*types.Package).Name), map[types.Type]bool{})
}

func findPointer(t types.Type, path string, seen map[types.Type]bool) string {
	if IsTime(t) || DefinedAsTime(t) != nil || seen[t] {
		return ""
	}
	seen[t] = true
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		return path
	case *types.Array:
		return findPointer(u.Elem(), path+"[]", seen)
	case *types.Struct:
		for i := range u.NumFields() {
			if f := u.Field(i); f.Name() != "_" {
				if via := findPointer(f.Type(), path+"."+f.Name(), seen); via != "" {
					return via
				}
			}
		}
	}
	return ""
}

// JSONKey reports whether encoding/json can write and read map keys of
// type t: string and integer kinds (named ones too), or a type whose value
// has MarshalText and whose pointer has UnmarshalText.
func JSONKey(t types.Type) bool {
	if b, ok := t.Underlying().(*types.Basic); ok && b.Info()&(types.IsString|types.IsInteger) != 0 && b.Kind() != types.Uintptr {
		return true
	}
	return hasMethod(t, "MarshalText", 0, 2) && hasMethod(types.NewPointer(t), "UnmarshalText", 1, 1)
}

// jsonMethods reports whether t marshals itself to JSON and back: its value
// has MarshalJSON or MarshalText and its pointer the matching Unmarshal.
func jsonMethods(t types.Type) bool {
	p := types.NewPointer(t)
	return (hasMethod(t, "MarshalJSON", 0, 2) && hasMethod(p, "UnmarshalJSON", 1, 1)) ||
		(hasMethod(t, "MarshalText", 0, 2) && hasMethod(p, "UnmarshalText", 1, 1))
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

// HoldsTime reports whether t is or holds a time.Time (in a field or array
// element, through named types): as a map key it compares its Location
// pointer too, so the receiver's keys equal the caller's only in UTC.
func HoldsTime(t types.Type) bool { return holdsTime(t, map[types.Type]bool{}) }

func holdsTime(t types.Type, seen map[types.Type]bool) bool {
	if IsTime(t) || DefinedAsTime(t) != nil {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch u := t.Underlying().(type) {
	case *types.Array:
		return holdsTime(u.Elem(), seen)
	case *types.Struct:
		for i := range u.NumFields() {
			if f := u.Field(i); f.Name() != "_" && holdsTime(f.Type(), seen) {
				return true
			}
		}
	}
	return false
}

// HoldsAny reports whether a map key of type t is or holds an empty
// interface value (in a field or array element, through named types): a
// decoded key then needs a check that its dynamic value is comparable, or
// storing it would panic.
func HoldsAny(t types.Type) bool { return holdsAny(t, map[types.Type]bool{}) }

func holdsAny(t types.Type, seen map[types.Type]bool) bool {
	if IsAny(t) {
		return true
	}
	if seen[t] || IsTime(t) || DefinedAsTime(t) != nil {
		return false
	}
	seen[t] = true
	switch u := t.Underlying().(type) {
	case *types.Array:
		return holdsAny(u.Elem(), seen)
	case *types.Struct:
		for i := range u.NumFields() {
			if !Skipped(u, i) && holdsAny(u.Field(i).Type(), seen) {
				return true
			}
		}
	}
	return false
}

// plainKey reports whether t holds only what the codec can carry as a key
// (no channel, function, interface or address: those are problems of their
// own).
func plainKey(t types.Type) bool {
	if IsTime(t) || DefinedAsTime(t) != nil {
		return true
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Kind() != types.Uintptr && u.Kind() != types.UnsafePointer
	case *types.Interface:
		return u.Empty() // any: carried, but not a key encoding/json writes
	case *types.Array:
		return plainKey(u.Elem())
	case *types.Struct:
		for i := range u.NumFields() {
			if !Skipped(u, i) && !plainKey(u.Field(i).Type()) {
				return false
			}
		}
		return true
	}
	return false
}

// OmittedTag reports whether a struct tag leaves the field off the mesh wire
// (`meshsplit:"-"`): the codec neither writes nor reads it, so the far side
// sees its zero value.
func OmittedTag(tag string) bool {
	v, ok := reflect.StructTag(tag).Lookup("meshsplit")
	return ok && v == "-"
}

// Skipped reports whether field i of struct s carries nothing on the mesh
// wire: a blank field or one tagged `meshsplit:"-"`.
func Skipped(s *types.Struct, i int) bool {
	return s.Field(i).Name() == "_" || OmittedTag(s.Tag(i))
}

// IsAny reports whether t is an empty interface (any, interface{}, or a
// type defined as one), whose values the codec carries with a type tag.
func IsAny(t types.Type) bool {
	i, ok := t.Underlying().(*types.Interface)
	return ok && i.Empty()
}

// JSONDropped reports whether a struct tag drops the field from JSON
// (`json:"-"`; `json:"-,"` names the field "-" instead).
func JSONDropped(tag string) bool {
	v, ok := reflect.StructTag(tag).Lookup("json")
	return ok && v == "-"
}
