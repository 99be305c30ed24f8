package gen

import (
	"fmt"
	"go/types"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/go/types/typeutil"

	"github.com/meshsplit/meshsplit/internal/wiretype"
)

// This file writes the statements that encode and decode one value with the
// runtime's Encoder (e) and Decoder (d), without reflection. Basic types are
// written inline with conversions; every other named type gets a pair of
// functions (a helper), written once per file, so that recursive types give
// recursive functions.

// expr is a Go expression denoting an addressable value. When ptr is set, s
// is a pointer and the value is *s.
type expr struct {
	s   string
	ptr bool
}

// val returns the expression of the value.
func (x expr) val() string {
	if x.ptr {
		return "*" + x.s
	}
	return x.s
}

// addr returns the expression of the value's address.
func (x expr) addr() string {
	if x.ptr {
		return x.s
	}
	return "&" + x.s
}

// operand returns s, in parentheses when it is itself a dereference.
func (x expr) operand() string {
	if strings.HasPrefix(x.s, "*") {
		return "(" + x.s + ")"
	}
	return x.s
}

// field returns the expression of field name of a struct value.
func (x expr) field(name string) expr { return expr{s: x.operand() + "." + name} }

// index returns the expression of element i of an array, slice or map value.
func (x expr) index(i string) expr {
	if x.ptr {
		return expr{s: "(*" + x.s + ")[" + i + "]"}
	}
	return expr{s: x.operand() + "[" + i + "]"}
}

// helper is the pair of functions that encode and decode one named type.
type helper struct {
	t        *types.Named
	enc, dec string
}

// codec writes encoding and decoding statements for one generated file.
type codec struct {
	typeString func(types.Type) string // spells a type in the generated file
	rt         string                  // the runtime's import name
	prefix     string                  // of helper names: the interface's name, lower first
	names      nameSet                 // taken helper names
	l          *locals                 // the generated bodies' local names
	helpers    typeutil.Map            // *types.Named -> *helper
	pending    []*helper               // helpers whose bodies are still to write
	all        []*helper               // every helper, in creation order
	// anyTypes is the type implementing the runtime's AnyTypes for the
	// file, named on the first interface value met ("" before).
	anyTypes string
}

// anyTable returns the expression of the file's AnyTypes value, naming its
// type on first use.
func (c *codec) anyTable() string {
	if c.anyTypes == "" {
		c.anyTypes = c.names.unique(c.prefix + "AnyTypes")
	}
	return c.anyTypes + "{}"
}

// helper returns the helper of n, creating it on first use.
func (c *codec) helper(n *types.Named) *helper {
	if h, ok := c.helpers.At(n).(*helper); ok {
		return h
	}
	base := typeLabel(n)
	h := &helper{t: n, enc: c.names.unique(c.prefix + "Encode" + base)}
	h.dec = c.prefix + "Decode" + strings.TrimPrefix(h.enc, c.prefix+"Encode")
	c.names[h.dec] = true
	c.helpers.Set(n, h)
	c.pending = append(c.pending, h)
	c.all = append(c.all, h)
	return h
}

// typeLabel turns a named type into an identifier fragment: Order,
// MoneyAmount for money.Amount in another package, PageItem for Page[Item].
func typeLabel(t types.Type) string {
	switch u := types.Unalias(t).(type) {
	case *types.Named:
		label := upperFirst(u.Obj().Name())
		if args := u.TypeArgs(); args != nil {
			for i := range args.Len() {
				label += typeLabel(args.At(i))
			}
		}
		return label
	case *types.Basic:
		return upperFirst(u.Name())
	case *types.Pointer:
		return "Ptr" + typeLabel(u.Elem())
	case *types.Slice:
		return "Slice" + typeLabel(u.Elem())
	case *types.Array:
		return "Array" + typeLabel(u.Elem())
	case *types.Map:
		return "Map" + typeLabel(u.Key()) + typeLabel(u.Elem())
	}
	return "T"
}

// reaches reports whether the named type target is reachable from t
// (through elements, fields, type arguments and the underlying types of
// named types): whether a value of target can contain another one.
func reaches(t types.Type, target *types.Named, seen *typeutil.Map) bool {
	t = types.Unalias(t)
	if n, ok := t.(*types.Named); ok {
		if types.Identical(n, target) {
			return true
		}
		if seen.At(n) != nil || wiretype.IsTime(n) || wiretype.DefinedAsTime(n) != nil {
			return false
		}
		seen.Set(n, true)
		return reaches(n.Underlying(), target, seen)
	}
	switch u := t.(type) {
	case *types.Pointer:
		return reaches(u.Elem(), target, seen)
	case *types.Slice:
		return reaches(u.Elem(), target, seen)
	case *types.Array:
		return reaches(u.Elem(), target, seen)
	case *types.Map:
		return reaches(u.Key(), target, seen) || reaches(u.Elem(), target, seen)
	case *types.Struct:
		for i := range u.NumFields() {
			if !wiretype.Skipped(u, i) && reaches(u.Field(i).Type(), target, seen) {
				return true
			}
		}
	}
	return false
}

// basicCall returns the Encoder/Decoder method for a basic kind and the Go
// type that method takes or returns.
func basicCall(b *types.Basic) (method, goType string) {
	switch {
	case b.Kind() == types.Bool:
		return "Bool", "bool"
	case b.Info()&types.IsUnsigned != 0:
		return "Uint", "uint64"
	case b.Info()&types.IsInteger != 0:
		return "Int", "int64"
	case b.Info()&types.IsFloat != 0:
		return "Float64", "float64"
	case b.Info()&types.IsComplex != 0:
		return "Complex128", "complex128"
	case b.Kind() == types.String:
		return "String", "string"
	}
	panic(fmt.Sprintf("gen: basic type %s passed the checker", b))
}

// isByte reports whether t is byte (uint8) itself, so that a []t is a []byte.
func isByte(t types.Type) bool {
	b, ok := types.Unalias(t).(*types.Basic)
	return ok && b.Kind() == types.Uint8
}

// encode writes the statements that encode x of type t. path names x in
// the errors of interface values ("shipment.Extras", "Shipment.Tags[]");
// depth numbers the loop variables of nested loops.
func (c *codec) encode(w *strings.Builder, x expr, path string, t types.Type, depth int) {
	e := c.l.e
	t = types.Unalias(t)
	if wiretype.IsTime(t) {
		fmt.Fprintf(w, "%s.Time(%s)\n", e, x.val())
		return
	}
	if wiretype.IsAny(t) {
		fmt.Fprintf(w, "%s.Any(%q, %s, %s)\n", e, path, x.val(), c.anyTable())
		return
	}
	if n, ok := t.(*types.Named); ok {
		switch u := n.Underlying().(type) {
		case *types.Basic:
			method, goType := basicCall(u)
			fmt.Fprintf(w, "%s.%s(%s(%s))\n", e, method, goType, x.val())
			return
		}
		if tt := wiretype.DefinedAsTime(n); tt != nil {
			fmt.Fprintf(w, "%s.Time(%s(%s))\n", e, c.typeString(tt), x.val())
			return
		}
		fmt.Fprintf(w, "%s(%s, %s)\n", c.helper(n).enc, e, x.addr())
		return
	}
	i, k, v, _ := c.l.loop(depth)
	switch u := t.(type) {
	case *types.Basic:
		method, goType := basicCall(u)
		if u.Name() == goType {
			fmt.Fprintf(w, "%s.%s(%s)\n", e, method, x.val())
		} else {
			fmt.Fprintf(w, "%s.%s(%s(%s))\n", e, method, goType, x.val())
		}
	case *types.Pointer:
		fmt.Fprintf(w, "if %s == nil {\n%s.Present(false)\n} else {\n%s.Present(true)\n", x.val(), e, e)
		c.encode(w, expr{s: x.val(), ptr: true}, path, u.Elem(), depth)
		w.WriteString("}\n")
	case *types.Slice:
		if isByte(u.Elem()) {
			fmt.Fprintf(w, "%s.ByteSlice(%s)\n", e, x.val())
			return
		}
		fmt.Fprintf(w, "if %s == nil {\n%s.Len(-1)\n} else {\n%s.Len(len(%s))\n", x.val(), e, e, x.val())
		fmt.Fprintf(w, "for %s := range %s {\n", i, x.val())
		c.encode(w, x.index(i), path+"[]", u.Elem(), depth+1)
		w.WriteString("}\n}\n")
	case *types.Array:
		fmt.Fprintf(w, "for %s := range %s {\n", i, x.val())
		c.encode(w, x.index(i), path+"[]", u.Elem(), depth+1)
		w.WriteString("}\n")
	case *types.Map:
		fmt.Fprintf(w, "if %s == nil {\n%s.Len(-1)\n} else {\n%s.Len(len(%s))\n", x.val(), e, e, x.val())
		fmt.Fprintf(w, "for %s, %s := range %s {\n", k, v, x.val())
		c.encode(w, expr{s: k}, path+"{key}", u.Key(), depth+1)
		if kb, ok := u.Key().Underlying().(*types.Basic); ok && kb.Info()&types.IsString != 0 && wiretype.IsAny(u.Elem()) {
			// An error names the key: Shipment.Extras["hook"].
			key := k
			if !types.Identical(u.Key(), types.Typ[types.String]) {
				key = "string(" + k + ")"
			}
			fmt.Fprintf(w, "%s.AnyKey(%q, %s, %s, %s)\n", e, path, key, v, c.anyTable())
		} else {
			c.encode(w, expr{s: v}, path+"[]", u.Elem(), depth+1)
		}
		w.WriteString("}\n}\n")
	case *types.Struct:
		for i := range u.NumFields() {
			if f := u.Field(i); !wiretype.Skipped(u, i) {
				c.encode(w, x.field(f.Name()), path+"."+f.Name(), f.Type(), depth)
			}
		}
	default:
		panic(fmt.Sprintf("gen: type %s passed wiretype.Check", t))
	}
}

// decode writes the statements that decode into x, of type t and holding
// its zero value.
func (c *codec) decode(w *strings.Builder, x expr, t types.Type, depth int) {
	d := c.l.d
	t = types.Unalias(t)
	if wiretype.IsTime(t) {
		fmt.Fprintf(w, "%s = %s.Time()\n", x.val(), d)
		return
	}
	if wiretype.IsAny(t) {
		if _, ok := t.(*types.Named); ok {
			fmt.Fprintf(w, "%s = %s(%s.Any(%s))\n", x.val(), c.typeString(t), d, c.anyTable())
		} else {
			fmt.Fprintf(w, "%s = %s.Any(%s)\n", x.val(), d, c.anyTable())
		}
		return
	}
	if n, ok := t.(*types.Named); ok {
		switch u := n.Underlying().(type) {
		case *types.Basic:
			method, _ := basicCall(u)
			fmt.Fprintf(w, "%s = %s(%s.%s())\n", x.val(), c.typeString(n), d, method)
			return
		}
		if wiretype.DefinedAsTime(n) != nil {
			fmt.Fprintf(w, "%s = %s(%s.Time())\n", x.val(), c.typeString(n), d)
			return
		}
		fmt.Fprintf(w, "%s(%s, %s)\n", c.helper(n).dec, d, x.addr())
		return
	}
	i, k, v, n := c.l.loop(depth)
	switch u := t.(type) {
	case *types.Basic:
		method, goType := basicCall(u)
		if u.Name() == goType {
			fmt.Fprintf(w, "%s = %s.%s()\n", x.val(), d, method)
		} else {
			fmt.Fprintf(w, "%s = %s(%s.%s())\n", x.val(), u.Name(), d, method)
		}
	case *types.Pointer:
		fmt.Fprintf(w, "if %s.Present() {\n%s = new(%s)\n", d, x.val(), c.typeString(u.Elem()))
		c.decode(w, expr{s: x.val(), ptr: true}, u.Elem(), depth)
		w.WriteString("}\n")
	case *types.Slice:
		if isByte(u.Elem()) {
			fmt.Fprintf(w, "%s = %s.ByteSlice()\n", x.val(), d)
			return
		}
		fmt.Fprintf(w, "if %s := %s; %s >= 0 {\n%s = make(%s, %s)\n", n, lenCall(d, minWire(u.Elem())), n, x.val(), c.typeString(u), n)
		fmt.Fprintf(w, "for %s := range %s {\n", i, x.val())
		c.decode(w, x.index(i), u.Elem(), depth+1)
		w.WriteString("}\n}\n")
	case *types.Array:
		fmt.Fprintf(w, "for %s := range %s {\n", i, x.val())
		c.decode(w, x.index(i), u.Elem(), depth+1)
		w.WriteString("}\n")
	case *types.Map:
		fmt.Fprintf(w, "if %s := %s; %s >= 0 {\n%s = make(%s, %s)\n", n, lenCall(d, minWire(u.Key())+minWire(u.Elem())), n, x.val(), c.typeString(u), n)
		fmt.Fprintf(w, "for range %s {\n", n)
		fmt.Fprintf(w, "var %s %s\n", k, c.typeString(u.Key()))
		c.decode(w, expr{s: k}, u.Key(), depth+1)
		if wiretype.HoldsAny(u.Key()) {
			// A hostile message could send a key that cannot be one.
			fmt.Fprintf(w, "if !%s.MapKey(%s) {\nbreak\n}\n", d, k)
		}
		fmt.Fprintf(w, "var %s %s\n", v, c.typeString(u.Elem()))
		c.decode(w, expr{s: v}, u.Elem(), depth+1)
		fmt.Fprintf(w, "%s = %s\n", x.index(k).val(), v)
		w.WriteString("}\n}\n")
	case *types.Struct:
		for i := range u.NumFields() {
			if f := u.Field(i); !wiretype.Skipped(u, i) {
				c.decode(w, x.field(f.Name()), f.Type(), depth)
			}
		}
	default:
		panic(fmt.Sprintf("gen: type %s passed wiretype.Check", t))
	}
}

// lenCall returns the decoder call that reads the length of a slice or map
// whose elements take at least size bytes on the wire: Elems bounds the
// length by the bytes left, so that a malformed message cannot make the
// receiver allocate more than a real one of its size would.
func lenCall(d string, size int64) string {
	if size <= 1 {
		return d + ".Len()"
	}
	return d + ".Elems(" + strconv.FormatInt(size, 10) + ")"
}

// maxMinWire caps minWire: beyond it the bound is loose but still linear.
const maxMinWire = 1 << 20

// minWire returns the fewest bytes a value of t takes on the wire, capped
// at maxMinWire.
func minWire(t types.Type) int64 {
	t = types.Unalias(t)
	if wiretype.IsTime(t) || wiretype.DefinedAsTime(t) != nil {
		return 3 // seconds, nanoseconds, zone kind
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsFloat != 0:
			return 8
		case u.Info()&types.IsComplex != 0:
			return 16
		}
		return 1
	case *types.Array:
		return min(u.Len()*minWire(u.Elem()), maxMinWire)
	case *types.Struct:
		var sum int64
		for i := range u.NumFields() {
			if !wiretype.Skipped(u, i) {
				sum = min(sum+minWire(u.Field(i).Type()), maxMinWire)
			}
		}
		return sum
	}
	return 1 // pointers, slices, maps: their presence or length
}

// typeLabelPath names a value of the named type n at the start of the
// paths of its helper's errors: Shipment, money.Amount, Page[Item].
func typeLabelPath(n *types.Named) string {
	return types.TypeString(n, func(p *types.Package) string { return p.Name() })
}

// writeHelpers writes the functions of every helper created so far and of
// those their bodies create, in creation order.
func (c *codec) writeHelpers(w *strings.Builder) {
	for len(c.pending) > 0 {
		h := c.pending[0]
		c.pending = c.pending[1:]
		name := c.typeString(h.t)
		// A recursive type may nest without bound (or, on the sending side,
		// be cyclic): Enter and Leave hold it to meshrt.MaxDepth levels.
		recursive := reaches(h.t.Underlying(), h.t, &typeutil.Map{})
		comment := ""
		enter := func(v string) {
			if recursive {
				fmt.Fprintf(w, "if !%s.Enter() {\nreturn\n}\n", v)
			}
		}
		leave := func(v string) {
			if recursive {
				fmt.Fprintf(w, "%s.Leave()\n", v)
			}
		}
		if recursive {
			comment = fmt.Sprintf("\n// %s is recursive: values nested deeper than %s.MaxDepth\n// levels are refused.", name, c.rt)
		}
		e, d, v := c.l.e, c.l.d, c.l.v
		fmt.Fprintf(w, "\n// %s encodes a value of type %s.%s\nfunc %s(%s *%s.Encoder, %s *%s) {\n", h.enc, name, comment, h.enc, e, c.rt, v, name)
		enter(e)
		c.encode(w, expr{s: v, ptr: true}, typeLabelPath(h.t), h.t.Underlying(), 0)
		leave(e)
		fmt.Fprintf(w, "}\n\n// %s decodes a value of type %s.%s\nfunc %s(%s *%s.Decoder, %s *%s) {\n", h.dec, name, comment, h.dec, d, c.rt, v, name)
		enter(d)
		c.decode(w, expr{s: v, ptr: true}, h.t.Underlying(), 0)
		leave(d)
		w.WriteString("}\n")
	}
}

// anyNamed returns the named types that the interface values of sigs may
// hold, beside the runtime's built-in ones: every named type the methods
// carry (wiretype.Carried), once each, sorted by full name, with that name.
func anyNamed(sigs []*types.Signature, home *types.Package) ([]*types.Named, []string) {
	var seen typeutil.Map
	byName := map[string]*types.Named{}
	for _, sig := range sigs {
		for _, n := range wiretype.Carried(sig, home) {
			if seen.At(n) != nil {
				continue
			}
			seen.Set(n, true)
			byName[(&canon{defs: map[string]string{}}).typ(n)] = n
		}
	}
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	ns := make([]*types.Named, len(names))
	for i, name := range names {
		ns[i] = byName[name]
	}
	return ns, names
}

// writeAnyTypes writes the type that implements the runtime's AnyTypes
// for the file, when an interface value needs it: the named types ns, with
// their full names, that its interface values may hold.
func (c *codec) writeAnyTypes(w *strings.Builder, iface string, ns []*types.Named, names []string) {
	if c.anyTypes == "" {
		return
	}
	t, rt, e, d, v := c.anyTypes, c.rt, c.l.e, c.l.d, c.l.v
	i, _, x, _ := c.l.loop(0)
	fmt.Fprintf(w, "\n// %s implements %s.AnyTypes: the named types of the signatures of\n// %s, which its interface values may hold beside the runtime's built-in ones.\ntype %s struct{}\n", t, rt, iface, t)
	fmt.Fprintf(w, "\n// AnyName implements %s.AnyTypes.\nfunc (%s) AnyName(%s int) string {\n", rt, t, i)
	if len(ns) > 0 {
		fmt.Fprintf(w, "switch %s {\n", i)
		for j, name := range names {
			fmt.Fprintf(w, "case %d:\nreturn %q\n", j, name)
		}
		w.WriteString("}\n")
	}
	w.WriteString("return \"\"\n}\n")
	fmt.Fprintf(w, "\n// AnyIndex implements %s.AnyTypes.\nfunc (%s) AnyIndex(%s any) int {\n", rt, t, v)
	if len(ns) > 0 {
		fmt.Fprintf(w, "switch %s.(type) {\n", v)
		for j, n := range ns {
			fmt.Fprintf(w, "case %s:\nreturn %d\n", c.typeString(n), j)
		}
		w.WriteString("}\n")
	}
	w.WriteString("return -1\n}\n")
	fmt.Fprintf(w, "\n// AnyEncode implements %s.AnyTypes.\nfunc (%s) AnyEncode(%s *%s.Encoder, %s int, %s any) {\n", rt, t, e, rt, i, v)
	if len(ns) > 0 {
		fmt.Fprintf(w, "switch %s {\n", i)
		for j, n := range ns {
			fmt.Fprintf(w, "case %d:\n%s := %s.(%s)\n", j, x, v, c.typeString(n))
			c.encode(w, expr{s: x}, typeLabelPath(n), n, 1)
		}
		w.WriteString("}\n")
	}
	w.WriteString("}\n")
	fmt.Fprintf(w, "\n// AnyDecode implements %s.AnyTypes.\nfunc (%s) AnyDecode(%s *%s.Decoder, %s int) any {\n", rt, t, d, rt, i)
	if len(ns) > 0 {
		fmt.Fprintf(w, "switch %s {\n", i)
		for j, n := range ns {
			fmt.Fprintf(w, "case %d:\nvar %s %s\n", j, x, c.typeString(n))
			c.decode(w, expr{s: x}, n, 1)
			fmt.Fprintf(w, "return %s\n", x)
		}
		w.WriteString("}\n")
	}
	w.WriteString("return nil\n}\n")
}
