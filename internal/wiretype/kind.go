package wiretype

import "strconv"

// A Kind is one reason a type cannot cross the wire (Blocks) or crosses it
// with a caveat. Its String is the name of the analyze rule that reports it.
type Kind int

// The kinds that block a method: no generated code can carry it.
const (
	// Chan is a channel: its two ends would live in different processes.
	Chan Kind = iota + 1
	// Func is a function value (a callback).
	Func
	// Interface is a value of a non-empty interface type (io.Writer, an
	// option interface, error) other than a context.Context parameter or
	// the error as last result: the codec cannot know which dynamic types
	// to expect, nor carry their behaviour. Empty interfaces are AnyValue.
	Interface
	// Unsafe is unsafe.Pointer or uintptr: an address.
	Unsafe
	// UnexportedField is an unexported field of another package's struct,
	// which the codec generated in the interface's package cannot reach.
	UnexportedField
	// UnexportedType is an unexported named type of another package, which
	// generated code cannot name.
	UnexportedType
	// LocalType is a type declared inside a function, which generated code
	// cannot name.
	LocalType
	// ZeroSize is a slice or map of values that encode to no bytes: the
	// decoder could not bound its length.
	ZeroSize
	// PointerKey is a map key that is or holds a pointer: keys compare by
	// address, and the receiver's would be new pointers.
	PointerKey

	firstCaveat
)

// The caveats: the generated codec carries the type, with a consequence the
// user should know about.
const (
	// Recursive is a named type met again inside itself: values travel as
	// trees (a cycle fails the call, shared pointers arrive as copies).
	Recursive Kind = firstCaveat + iota
	// MapKey is a map key the mesh codec carries but encoding/json does not
	// (see JSONKey), or one that holds a time.Time (see HoldsTime).
	MapKey
	// JSONDash is an exported field tagged json:"-": the mesh codec carries
	// it, the JSON path (gateway, curl) does not.
	JSONDash
	// DefinedTime is a type defined as time.Time (type Stamp time.Time)
	// without JSON methods of its own: the mesh codec carries it as a
	// time.Time, but encoding/json sees a struct without exported fields.
	DefinedTime
	// AnyValue is a value of an empty interface type (any, interface{}):
	// the mesh codec carries it when its dynamic type is nil, bool, a
	// number kind, string, []byte, time.Time, []any, map[string]any or a
	// named type of the interface's signatures, and fails the call naming
	// any other; the JSON path carries it as encoding/json does (numbers
	// come back as float64).
	AnyValue
	// Omitted is a struct field tagged `meshsplit:"-"`: the mesh codec
	// leaves it off the wire (the far side sees its zero value) and the
	// walk does not enter it.
	Omitted
	// Stream is a streamed parameter (io.Reader) or result (iter.Seq,
	// iter.Seq2[T, error], <-chan T, io.Reader, io.ReadCloser; see
	// StreamOf): it travels on a stream of its own, with flow control and
	// cancellation, and with semantics a local value does not have (once
	// only, unbuffered, cancelled when the caller stops).
	Stream

	endKinds
)

// Blocks reports whether a problem of kind k makes a method impossible to
// carry.
func (k Kind) Blocks() bool { return k >= Chan && k < firstCaveat }

var kindNames = map[Kind]string{
	Chan: "chan", Func: "func", Interface: "interface", Unsafe: "unsafe",
	UnexportedField: "unexported-field", UnexportedType: "unexported-type", LocalType: "local-type",
	ZeroSize: "zero-size", PointerKey: "pointer-key",
	Recursive: "recursive", MapKey: "map-key", JSONDash: "json-dash", DefinedTime: "defined-time",
	AnyValue: "any", Omitted: "omitted", Stream: "stream",
}

// String returns the kind's name, which is also the name of the analyze
// rule that reports it ("chan", "unexported-field"...).
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Kinds returns every kind, blocking ones first.
func Kinds() []Kind {
	var ks []Kind
	for k := Chan; k < endKinds; k++ {
		ks = append(ks, k)
	}
	return ks
}
