package runtime

import (
	"reflect"
	"strconv"
	"strings"
)

// This file describes a method's parameters and results for the heartbeat
// and gossip (MethodInfo), read from the generated request and response
// structs: their fields are the parameters and results in order, tagged with
// the JSON names the HTTP path uses.

// messageFields returns the JSON names and Go types of the fields of the
// message newMsg returns (a pointer to a generated struct), in order; empty,
// not nil, when it has none, so that the JSON lists say "none" rather than
// "not known". Fields tagged json:"-" are left out, as the HTTP path leaves
// them out.
func messageFields(newMsg func() Message) (names, types []string) {
	names, types = []string{}, []string{}
	if newMsg == nil {
		return names, types
	}
	m := newMsg()
	if m == nil {
		return names, types
	}
	t := reflect.TypeOf(m)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return names, types
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			tag, _, _ = strings.Cut(tag, ",")
			if tag == "-" {
				continue
			}
			if tag != "" {
				name = tag
			}
		}
		names = append(names, name)
		types = append(types, typeName(f.Type))
	}
	return names, types
}

// typeName spells t as Go source would with every package written as its
// full path: "[]*example.com/shop/inventory.Item", "map[string]int",
// "time.Duration". Generic instances keep the spelling reflect gives their
// names ("example.com/x.Page[example.com/x.Item]").
func typeName(t reflect.Type) string {
	if t.Name() != "" {
		if t.PkgPath() == "" {
			return t.Name() // predeclared: int, string, error
		}
		return t.PkgPath() + "." + t.Name()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + typeName(t.Elem())
	case reflect.Slice:
		return "[]" + typeName(t.Elem())
	case reflect.Array:
		return "[" + strconv.Itoa(t.Len()) + "]" + typeName(t.Elem())
	case reflect.Map:
		return "map[" + typeName(t.Key()) + "]" + typeName(t.Elem())
	case reflect.Chan:
		return t.ChanDir().String() + " " + typeName(t.Elem())
	}
	// Unnamed structs, funcs and interfaces other than the empty one:
	// reflect's spelling, with package names rather than paths.
	return t.String()
}
