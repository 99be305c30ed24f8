package analyze

import (
	"fmt"
	"go/types"
	"strings"

	"github.com/meshsplit/meshsplit/internal/wiretype"
)

// The rules about what a signature can carry: one per kind of problem that
// internal/wiretype finds (typewalk.go), each saying it for people. The
// generator refuses a method for the same problems, so a method these
// rules pass is one extract can generate.

// ChanRule reports channels reachable from a signature.
var ChanRule = typeRule(wiretype.Chan,
	"a channel cannot cross the network: its two ends would live in different processes",
	"types", Error,
	func(p *Pass, pr wiretype.Problem, path string) string {
		return fmt.Sprintf("%s is a channel (%s): a channel cannot cross the network; return a slice or poll", path, p.typeString(pr.Type))
	})

// FuncRule reports functions (callbacks) reachable from a signature.
var FuncRule = typeRule(wiretype.Func,
	"a function value (callback) cannot cross the network: its code and closure stay in the caller's process",
	"types", Error,
	func(p *Pass, pr wiretype.Problem, path string) string {
		return fmt.Sprintf("%s is a function (%s): a callback cannot cross the network; pass data, or split the callback into its own interface", path, p.typeString(pr.Type))
	})

// InterfaceRule reports values of non-empty interface types (io.Writer,
// an option interface, error) reachable from a signature; the error as
// last result and context.Context parameters are fine, and empty
// interfaces (any) are AnyRule's.
var InterfaceRule = typeRule(wiretype.Interface,
	"a value of a non-empty interface type (io.Writer, an option interface, error) cannot cross: the codec cannot know its dynamic types nor carry their methods' code; only the last result (error) and context.Context parameters may be such interfaces",
	"types", Error,
	func(p *Pass, pr wiretype.Problem, path string) string {
		msg := fmt.Sprintf("%s is a value of the interface %s: the codec cannot know its dynamic types nor carry their methods' code; use a concrete type", path, p.typeString(pr.Type))
		if underField(pr) {
			msg += `, or tag the field meshsplit:"-" to leave it off the wire`
		}
		return msg
	})

// underField reports whether pr sits in or under a struct field, which
// meshsplit:"-" can leave off the wire.
func underField(pr wiretype.Problem) bool {
	return pr.Field != nil || strings.Contains(pr.Sub, ".")
}

// AnyRule warns of empty interface values (any, interface{}): the mesh
// codec carries a fixed set of dynamic types and fails the call on any
// other, and the JSON path carries them as encoding/json does.
var AnyRule = typeRule(wiretype.AnyValue,
	"an any value crosses when its dynamic type is nil, bool, a number, string, []byte, time.Time, []any, map[string]any or a named type of the interface's signatures; any other fails the call; JSON callers get numbers back as float64",
	"types", Warning,
	func(p *Pass, pr wiretype.Problem, path string) string {
		msg := fmt.Sprintf("%s is an interface value (%s): generated clients carry nil, bool, numbers, string, []byte, time.Time, []any, map[string]any and the named types of %s's signatures in it, each with its type, and fail the call naming the path and type for any other (a pointer, a []string...); JSON callers (gateway, curl) get numbers back as float64", path, p.typeString(pr.Type), p.Seam.Obj.Name())
		if underField(pr) {
			msg += `; if the far side does not need it, tag the field meshsplit:"-" to leave it off the wire`
		}
		return msg
	})

// OmittedRule notes fields tagged meshsplit:"-": the mesh codec leaves
// them off the wire, and the far side sees their zero value.
var OmittedRule = typeRule(wiretype.Omitted,
	`fields tagged meshsplit:"-" are left off the mesh wire: the far side sees their zero value`,
	"semantics", Note,
	func(p *Pass, pr wiretype.Problem, path string) string {
		msg := fmt.Sprintf(`%s is tagged meshsplit:"-": generated clients and servers leave it off the wire, so the far side sees its zero value`, path)
		if !wiretype.JSONDropped(pr.Tag) && pr.Field.Exported() {
			msg += `; JSON callers (gateway, curl) still send and see it unless it is also tagged json:"-"`
		}
		return msg
	})

// StreamRule notes streamed parameters and results: they are remotable, on
// a stream of their own, with semantics a local value does not have.
var StreamRule = typeRule(wiretype.Stream,
	"io.Reader parameters and iter.Seq, iter.Seq2[T, error], <-chan T, io.Reader and io.ReadCloser results stream on a yamux stream of their own: flow-controlled, cancelled both ways, consumed once",
	"semantics", Note,
	func(p *Pass, pr wiretype.Problem, path string) string {
		if !pr.Result {
			return fmt.Sprintf("%s is an io.Reader: its bytes stream to the server as the method reads them (a slow reader holds the caller back); once the method returns, the reader is closed", path)
		}
		shape, _ := wiretype.StreamOf(pr.Type)
		common := "a consumer that stops early, or whose context ends, cancels the server's context"
		switch shape {
		case wiretype.Seq:
			return fmt.Sprintf("%s is an %s: its items stream from the server as the caller ranges (breaking out stops the server's yield); it can be ranged once, and has no error to give: a failure ends the range", path, p.typeString(pr.Type))
		case wiretype.Seq2:
			return fmt.Sprintf("%s is an %s: its items and their errors stream from the server as the caller ranges (breaking out stops the server's yield); it can be ranged once, and a failure of the call or the stream is the error of a last pair", path, p.typeString(pr.Type))
		case wiretype.RecvChan:
			return fmt.Sprintf("%s is a %s: its values stream from the server into an unbuffered channel (the server's capacity does not carry over), closed when the server's channel closes, the call fails or its context ends; %s, and values sent after that are not received (the server should select on its context)", path, p.typeString(pr.Type), common)
		default:
			return fmt.Sprintf("%s is an %s: its bytes stream from the server as the caller reads, and Read returns the server's error; %s (an io.ReadCloser's Close does it too)", path, p.typeString(pr.Type), common)
		}
	})

// UnsafeRule reports unsafe.Pointer and uintptr values.
var UnsafeRule = typeRule(wiretype.Unsafe,
	"unsafe.Pointer and uintptr hold addresses that mean nothing in another process",
	"types", Error,
	func(p *Pass, pr wiretype.Problem, path string) string {
		return fmt.Sprintf("%s is %s: an address means nothing in another process", path, p.typeString(pr.Type))
	})

// UnexportedFieldRule reports unexported struct fields of another package.
// The generated codec lives in the interface's package, so it carries that
// package's unexported fields (no finding); another package's are out of
// its reach and would be dropped (an error).
var UnexportedFieldRule = &Rule{
	Name:     wiretype.UnexportedField.String(),
	Doc:      "unexported fields of another package's types cannot be carried by the codec generated in the interface's package",
	Category: "types",
	Severity: Error,
	Kind:     wiretype.UnexportedField,
	run: func(p *Pass) {
		// One finding per struct value, naming all its unreachable fields.
		type group struct {
			at     wiretype.Problem
			fields []string
		}
		var order []string
		groups := map[string]*group{}
		var c rootCounter
		for _, pr := range p.problems() {
			if pr.Kind != wiretype.UnexportedField {
				continue
			}
			parent := strings.TrimSuffix(problemPath(pr), "."+pr.Field.Name())
			g := groups[parent]
			if g == nil {
				if !c.take(pr) {
					continue
				}
				g = &group{at: pr}
				groups[parent] = g
				order = append(order, parent)
			}
			g.fields = append(g.fields, pr.Field.Name())
		}
		for _, parent := range order {
			g := groups[parent]
			p.Reportf(g.at.Var.Pos(), "%s is a %s, whose unexported fields (%s) the codec generated in package %s cannot reach: they would be dropped; pass a type with exported fields", parent, ownerName(g.at), strings.Join(g.fields, ", "), p.Seam.Obj.Pkg().Name())
		}
		c.reportRest(p)
	},
}

// UnexportedTypeRule reports unexported named types of another package:
// the code generated in the interface's package cannot name them.
var UnexportedTypeRule = typeRule(wiretype.UnexportedType,
	"an unexported type of another package cannot be named by the code generated in the interface's package",
	"types", Error,
	func(p *Pass, pr wiretype.Problem, path string) string {
		obj := pr.Type.(*types.Named).Obj()
		return fmt.Sprintf("%s is of type %s, unexported in package %s: generated code cannot name it; export the type", path, obj.Name(), obj.Pkg().Path())
	})

// LocalTypeRule reports types declared inside a function: the code
// generated at package level cannot name them.
var LocalTypeRule = typeRule(wiretype.LocalType,
	"a type declared inside a function cannot be named by the code generated at package level",
	"types", Error,
	func(p *Pass, pr wiretype.Problem, path string) string {
		return fmt.Sprintf("%s is of type %s, declared inside a function: generated code cannot name it; declare the type at package level", path, pr.Type.(*types.Named).Obj().Name())
	})

// ZeroSizeRule reports slices and maps of values that encode to no bytes
// (struct{}, [0]T): a decoder could not bound their length.
var ZeroSizeRule = typeRule(wiretype.ZeroSize,
	"slices of values that encode to no bytes (struct{}, [0]T) cannot be bounded by the decoder",
	"types", Error,
	func(p *Pass, pr wiretype.Problem, path string) string {
		if s, ok := pr.Type.Underlying().(*types.Slice); ok {
			return fmt.Sprintf("%s is a slice of %s, whose values encode to no bytes: the decoder could not bound its length; send a count instead", path, p.typeString(s.Elem()))
		}
		return fmt.Sprintf("%s is a map whose entries encode to no bytes: the decoder could not bound its length", path)
	})

// ownerName spells the struct type that declares pr.Field.
func ownerName(pr wiretype.Problem) string {
	if pr.Owner != nil {
		return types.TypeString(pr.Owner, nil)
	}
	return "an unnamed struct"
}

// JSONDashRule notes exported fields tagged json:"-": the mesh codec
// carries them, the JSON path (gateway, curl) does not.
var JSONDashRule = typeRule(wiretype.JSONDash,
	`fields tagged json:"-" are carried by the mesh codec but not by the JSON path (gateway, curl)`,
	"semantics", Note,
	func(p *Pass, pr wiretype.Problem, path string) string {
		return fmt.Sprintf(`%s is tagged json:"-": generated clients carry it, but JSON callers (gateway, curl) neither send nor see it`, path)
	})

// DefinedTimeRule warns of types defined as time.Time without JSON methods
// of their own: the mesh codec carries them as times, encoding/json as
// structs without exported fields.
var DefinedTimeRule = typeRule(wiretype.DefinedTime,
	"a type defined as time.Time is carried by the mesh codec as a time, but encoding/json writes it as {} for the JSON path (gateway, curl)",
	"types", Warning,
	func(p *Pass, pr wiretype.Problem, path string) string {
		name := p.typeString(pr.Type)
		return fmt.Sprintf("%s is a %s, defined as time.Time: generated clients carry it as a time, but it has none of time.Time's methods, so encoding/json writes {} and JSON callers (gateway, curl) lose it; use time.Time, or give %s MarshalJSON and UnmarshalJSON methods", path, name, name)
	})

// RecursiveRule reports recursive types: the codec encodes trees, not
// cycles or shared pointers.
var RecursiveRule = typeRule(wiretype.Recursive,
	"a recursive type is encoded as a tree: a cyclic value fails the call and shared pointers arrive as copies",
	"types", Warning,
	func(p *Pass, pr wiretype.Problem, path string) string {
		return fmt.Sprintf("%s refers back to %s: values are encoded as trees, so a cyclic value fails the call (past the codec's depth limit) and shared pointers arrive as separate copies", path, p.typeString(pr.Type))
	})

// MapKeyRule reports map keys that the mesh codec carries but that do not
// survive everywhere. encoding/json writes only string and integer keys and
// keys that are encoding.TextMarshaler (and reads them back through
// encoding.TextUnmarshaler), so a bool, float, complex, struct or array key
// works between generated clients and servers but fails every call through
// the JSON path (gateway, curl). A time.Time in a key compares its Location
// pointer too, so a decoded key equals the caller's only in UTC.
var MapKeyRule = typeRule(wiretype.MapKey,
	"map keys other than strings, integers and encoding.TextMarshaler types are carried by the mesh codec but not by the JSON path (gateway, curl); time.Time keys are equal on the receiver only in UTC",
	"types", Warning,
	func(p *Pass, pr wiretype.Problem, path string) string {
		k := pr.Type.Underlying().(*types.Map).Key()
		jsonOK := wiretype.JSONKey(k)
		if wiretype.HoldsTime(k) {
			key := p.typeString(k)
			if !wiretype.IsTime(k) {
				key += ", which holds a time.Time"
			}
			msg := fmt.Sprintf("%s is a map keyed by %s: a time compares its Location pointer too, so the receiver's keys equal the caller's only for UTC times; key it by t.UTC() or a Unix time", path, key)
			if !jsonOK {
				msg += ", and note that JSON callers (gateway, curl) cannot send it at all"
			}
			return msg
		}
		return fmt.Sprintf("%s is a map keyed by %s: generated clients carry it, but JSON callers (gateway, curl) cannot, since encoding/json encodes only string, integer and encoding.TextMarshaler keys; key it by a string to serve both", path, p.typeString(k))
	})

// PointerKeyRule reports maps whose keys are or hold pointers. A pointer
// key is its address: the codec can only send the value it points to, so
// the receiver's keys are new pointers equal to none of the sender's, and
// lookups with the caller's pointers find nothing.
var PointerKeyRule = typeRule(wiretype.PointerKey,
	"a map key that is or holds a pointer compares by address, which cannot cross the network: the receiver's keys would be new pointers",
	"types", Error,
	func(p *Pass, pr wiretype.Problem, path string) string {
		k := pr.Type.Underlying().(*types.Map).Key()
		return fmt.Sprintf("%s is a map keyed by %s, which holds a pointer (%s): keys compare by address, and the receiver's keys would be new pointers equal to none of the caller's; key it by a value (an ID)", path, p.typeString(k), pr.Via)
	})
