package runtime

import "context"

// Message is the request or response body of one method. Generated code
// implements it for the per-method request and response structs, which are
// also plain JSON structs (fields tagged with the parameter and result names)
// for the HTTP path. Decoding errors are sticky in the Decoder, so
// UnmarshalMesh reports them through d.Err rather than a result.
type Message interface {
	MarshalMesh(e *Encoder)
	UnmarshalMesh(d *Decoder)
}

// ServiceDesc describes one published interface. Generated code declares one
// per extracted interface; the same value serves both the client and the
// handler side.
type ServiceDesc struct {
	// Name is the package path, a dot and the interface name:
	// "example.com/shop/inventory.Service".
	Name string
	// Package is the name of the interface's package when it is not the
	// last element of the package's path ("cargo" for a module-root package
	// at example.com/fleet, "store" at example.com/store/v2), so that
	// MESHRPC_REMOTE selects the service by the name analyze prints
	// ("cargo.Tracker"); empty otherwise.
	Package string
	// Fingerprint is a hash over the method fingerprints. A caller and a
	// server that disagree on it disagree on some method's signature.
	Fingerprint string
	// Methods is sorted by name; a call names its method by index into this
	// slice and carries the method's fingerprint.
	Methods []MethodDesc
	// Errors lists the error values and types that keep their identity
	// across the wire, beside the standard library's that the runtime knows.
	Errors []ErrorDesc
}

// MethodDesc describes one method of a service.
type MethodDesc struct {
	// Name is the Go method name.
	Name string
	// Fingerprint is a hash of the method's canonical signature, with types
	// spelled with their full package paths.
	Fingerprint string
	// Params are the JSON names of the request fields, in order.
	Params []string
	// NewRequest and NewResponse return empty messages to decode into.
	NewRequest  func() Message
	NewResponse func() Message
	// Invoke calls the method of impl, a value of the interface type, with
	// the decoded request. It returns the response (the non-error results,
	// including the final values of pointer parameters the method may write
	// through) and the method's error result; both cross the wire.
	Invoke func(ctx context.Context, impl any, req Message) (Message, error)
	// Stream, for a method that takes an io.Reader or has a streamed
	// result, says how it streams; such a method is called on a stream of
	// its own and Invoke is unused (nil).
	Stream *StreamDesc
}
