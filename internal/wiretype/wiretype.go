// Package wiretype holds the facts about meshsplit's wire codec that the
// analyzer (which judges a seam) and the generator (which writes its codec)
// must agree on, so that analyze never calls remotable what extract then
// refuses, nor the other way round. It looks at go/types only.
package wiretype

import "go/types"

// Empty reports whether values of t encode to no bytes: structs without
// fields (blank ones aside) and arrays of length zero or of such values.
// A slice or map of them has a length the decoder could not bound.
func Empty(t types.Type) bool {
	if isTime(t) {
		return false
	}
	switch u := t.Underlying().(type) {
	case *types.Struct:
		for i := range u.NumFields() {
			if f := u.Field(i); f.Name() != "_" && !Empty(f.Type()) {
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
	if isTime(t) || seen[t] {
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
			if via := findPointer(u.Field(i).Type(), path+"."+u.Field(i).Name(), seen); via != "" {
				return via
			}
		}
	}
	return ""
}

// isTime reports whether t is time.Time (through aliases).
func isTime(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "time" && n.Obj().Name() == "Time"
}
