package wiretype

import "go/types"

// A Shape is how a parameter or result streams: on a stream of its own
// beside the call's message, instead of inside it (docs/protocol.md,
// "Streaming calls").
type Shape int

// The shapes a method's parameter or result may stream in.
const (
	// NotStreamed is a value carried in the call's message.
	NotStreamed Shape = iota
	// Seq is an iter.Seq[T] result: items of T.
	Seq
	// Seq2 is an iter.Seq2[T, error] result: items of T, each with its
	// error.
	Seq2
	// RecvChan is a <-chan T result: items of T until the channel closes.
	RecvChan
	// Reader is an io.Reader result or parameter: bytes.
	Reader
	// ReadCloser is an io.ReadCloser result: bytes, and a Close that stops
	// the server's copy.
	ReadCloser
)

var shapeNames = [...]string{NotStreamed: "not streamed", Seq: "iter.Seq", Seq2: "iter.Seq2", RecvChan: "<-chan", Reader: "io.Reader", ReadCloser: "io.ReadCloser"}

// String names the shape as Go spells it.
func (s Shape) String() string { return shapeNames[s] }

// Items reports whether the shape carries items (of the Elem StreamOf
// returns) rather than bytes.
func (s Shape) Items() bool { return s == Seq || s == Seq2 || s == RecvChan }

// StreamOf returns how a result of type t streams, and for the shapes that
// carry items, the item type. Only these exact types stream: iter.Seq[T],
// iter.Seq2[T, error], <-chan T (receive-only), io.Reader and
// io.ReadCloser (through aliases; a type defined as one of them does not).
// Anything else is NotStreamed and judged as a value (a channel, function
// or interface then blocks).
func StreamOf(t types.Type) (Shape, types.Type) {
	t = types.Unalias(t)
	switch {
	case IsNamed(t, "io", "Reader"):
		return Reader, nil
	case IsNamed(t, "io", "ReadCloser"):
		return ReadCloser, nil
	}
	if c, ok := t.(*types.Chan); ok && c.Dir() == types.RecvOnly {
		return RecvChan, c.Elem()
	}
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != "iter" || n.TypeArgs() == nil {
		return NotStreamed, nil
	}
	args := n.TypeArgs()
	switch {
	case n.Obj().Name() == "Seq" && args.Len() == 1:
		return Seq, args.At(0)
	case n.Obj().Name() == "Seq2" && args.Len() == 2 && IsError(args.At(1)):
		return Seq2, args.At(0)
	}
	return NotStreamed, nil
}

// StreamParam reports whether a parameter of type t streams: io.Reader
// (through aliases) is the one parameter type that does.
func StreamParam(t types.Type) bool { return IsNamed(t, "io", "Reader") }

// Streams returns the index of sig's streamed parameter and of its streamed
// result, -1 for none, with the result's shape and item type. Only the
// first of each streams; another is judged as a value (and blocks).
func Streams(sig *types.Signature) (param, result int, shape Shape, elem types.Type) {
	param, result = -1, -1
	for i := range sig.Params().Len() {
		if StreamParam(sig.Params().At(i).Type()) {
			param = i
			break
		}
	}
	res := sig.Results()
	for i := range res.Len() {
		if i == res.Len()-1 && IsError(res.At(i).Type()) {
			break
		}
		if s, e := StreamOf(res.At(i).Type()); s != NotStreamed {
			return param, i, s, e
		}
	}
	return param, -1, NotStreamed, nil
}
