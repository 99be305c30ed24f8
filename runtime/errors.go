package runtime

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
)

// This file holds the error side of the runtime: the errors a call can fail
// with (transport errors, *CallError), the registry of errors that keep their
// identity across the wire (ErrorDesc) and the error envelope that carries a
// method's error from the server to the caller.

// Transport and protocol failures. A call that fails for one of these reasons
// returns a *CallError whose Err wraps the sentinel, so errors.Is(err,
// ErrUnavailable) and friends work, and errors.As(err, new(*CallError))
// separates every transport failure from the method's own errors.
var (
	// ErrUnavailable means no node could take the call: none serves the
	// service, or the chosen ones failed before the request was sent. The
	// method did not run.
	ErrUnavailable = errors.New("meshrpc: service unavailable")
	// ErrConnLost means the connection to the node broke after the request
	// was sent: the method may or may not have run, so the call is not
	// retried.
	ErrConnLost = errors.New("meshrpc: connection lost after the request was sent")
	// ErrVersionSkew means the caller and the server disagree on a method's
	// signature fingerprint: they were built from different versions of the
	// interface.
	ErrVersionSkew = errors.New("meshrpc: version skew")
	// ErrUnknownService means the node does not serve the requested service.
	ErrUnknownService = errors.New("meshrpc: unknown service")
	// ErrTooLarge means a request or response body exceeds the body limit.
	ErrTooLarge = errors.New("meshrpc: body too large")
	// ErrMalformed means a request or response could not be decoded.
	ErrMalformed = errors.New("meshrpc: malformed message")
	// ErrHandlerPanic means the method panicked on the server; the server
	// keeps serving other calls.
	ErrHandlerPanic = errors.New("meshrpc: handler panicked")
	// ErrConfig means the mesh configuration (environment variables) is
	// invalid; every call of a client built from it fails with it.
	ErrConfig = errors.New("meshrpc: invalid configuration")
	// ErrNodeClosed means the local node was closed.
	ErrNodeClosed = errors.New("meshrpc: node closed")
)

// CallError is a failure of the mesh rather than of the called method: no
// node available, connection lost, version skew, body limit, malformed
// message, handler panic or configuration error. Err wraps one of the
// runtime's sentinels (ErrUnavailable, ErrConnLost, ...).
type CallError struct {
	Service string // full service name, "example.com/shop/inventory.Service"
	Method  string // method name, empty when the failure is not about one call
	Node    string // address (or id) of the node involved, empty when none was chosen
	Op      string // what failed: "route", "send", "receive", "decode", "remote", "config"
	Err     error  // the cause, wrapping one of the runtime's sentinels
}

// Error returns a one-line description naming the service, method and node.
func (e *CallError) Error() string {
	s := "meshrpc: " + e.Op + " " + e.Service
	if e.Method != "" {
		s += "." + e.Method
	}
	if e.Node != "" {
		s += " on node " + e.Node
	}
	// The runtime's sentinels start with "meshrpc: " too; say it once.
	return s + ": " + strings.TrimPrefix(e.Err.Error(), "meshrpc: ")
}

// Unwrap returns the cause.
func (e *CallError) Unwrap() error { return e.Err }

// RemoteError is a method's error that was not a registered sentinel or error
// type returned as is. Error returns the server's text unchanged; Unwrap
// yields every registered sentinel for which errors.Is held on the server and
// every registered error type that errors.As found there, so errors.Is and
// errors.As keep working on the caller's side.
type RemoteError struct {
	// Message is the server-side err.Error().
	Message string
	// Wrapped holds the rebuilt registered errors found in the server-side
	// chain.
	Wrapped []error
}

// Error returns the server-side error text.
func (e *RemoteError) Error() string { return e.Message }

// Unwrap returns the registered errors found in the server-side chain.
func (e *RemoteError) Unwrap() []error { return e.Wrapped }

// ErrorDesc names an error value (Sentinel) or an error type (ErrorType) so
// that it keeps its identity across the wire. Generated code lists the
// package's sentinels and error types in ServiceDesc.Errors.
type ErrorDesc struct {
	name string
	// sentinel is the value of a Sentinel, nil for an ErrorType.
	sentinel error
	// exact reports whether err is itself of the type (returned as is).
	exact func(err error) bool
	// find looks for the type in err's chain (errors.As).
	find func(err error) (error, bool)
	// decode rebuilds a value of the type from its JSON.
	decode func(data []byte) (error, error)
}

// Name returns the registered name of the error.
func (d ErrorDesc) Name() string { return d.name }

// Sentinel registers an error value under a name such as
// "example.com/shop/inventory.ErrNotFound". A server that returns the value
// as is sends only its name and the caller gets the very same value (==
// holds); wrapped, it keeps errors.Is.
func Sentinel(name string, err error) ErrorDesc {
	return ErrorDesc{name: name, sentinel: err}
}

// ErrorType registers an error type under a name such as
// "example.com/shop/payments.*DeclinedError". Its exported fields cross the
// wire through encoding/json. Returned as is, the caller gets a value of
// type T; found deeper in the chain, errors.As(err, &t) holds on the caller.
func ErrorType[T error](name string) ErrorDesc {
	return ErrorDesc{
		name: name,
		exact: func(err error) bool {
			_, ok := err.(T)
			return ok
		},
		find: func(err error) (error, bool) {
			var t T
			if errors.As(err, &t) {
				return t, true
			}
			return nil, false
		},
		decode: func(data []byte) (error, error) {
			var t T
			if err := json.Unmarshal(data, &t); err != nil {
				return nil, fmt.Errorf("decoding error type %s: %w", name, err)
			}
			return t, nil
		},
	}
}

// stdSentinels are the standard library's sentinels that every service
// knows without registering them.
var stdSentinels = []ErrorDesc{
	Sentinel("io.EOF", io.EOF),
	Sentinel("io.ErrUnexpectedEOF", io.ErrUnexpectedEOF),
	Sentinel("io.ErrClosedPipe", io.ErrClosedPipe),
	Sentinel("io.ErrShortWrite", io.ErrShortWrite),
	Sentinel("database/sql.ErrNoRows", sql.ErrNoRows),
	Sentinel("database/sql.ErrTxDone", sql.ErrTxDone),
	Sentinel("database/sql.ErrConnDone", sql.ErrConnDone),
	Sentinel("context.Canceled", context.Canceled),
	Sentinel("context.DeadlineExceeded", context.DeadlineExceeded),
	Sentinel("io/fs.ErrNotExist", fs.ErrNotExist),
	Sentinel("io/fs.ErrExist", fs.ErrExist),
	Sentinel("io/fs.ErrPermission", fs.ErrPermission),
	Sentinel("io/fs.ErrInvalid", fs.ErrInvalid),
	Sentinel("io/fs.ErrClosed", fs.ErrClosed),
	Sentinel("os.ErrDeadlineExceeded", os.ErrDeadlineExceeded),
	Sentinel("net.ErrClosed", net.ErrClosed),
	Sentinel("errors.ErrUnsupported", errors.ErrUnsupported),
}

// errorRegistry holds the errors of one service plus the standard ones.
type errorRegistry struct {
	sentinels []ErrorDesc // registered order, standard library last
	types     []ErrorDesc
	byName    map[string]ErrorDesc
}

// newErrorRegistry indexes the errors of desc.
func newErrorRegistry(descs []ErrorDesc) *errorRegistry {
	r := &errorRegistry{byName: make(map[string]ErrorDesc, len(descs)+len(stdSentinels))}
	add := func(d ErrorDesc) {
		if _, dup := r.byName[d.name]; dup || d.name == "" {
			return
		}
		r.byName[d.name] = d
		if d.find != nil {
			r.types = append(r.types, d)
		} else if d.sentinel != nil {
			r.sentinels = append(r.sentinels, d)
		}
	}
	for _, d := range descs {
		add(d)
	}
	for _, d := range stdSentinels {
		add(d)
	}
	return r
}

// Error envelope forms (see docs/protocol.md, "Error envelope").
const (
	envSentinel byte = 1 // a registered sentinel returned as is
	envTyped    byte = 2 // a registered error type returned as is
	envGeneral  byte = 3 // any other error: message plus what it wraps
)

// appendString appends a uvarint length and the bytes of s.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendBytes appends a uvarint length and p.
func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// encodeError appends the envelope of err to b.
//
//	sentinel: [1][message][name]
//	typed:    [2][message][name][json]
//	general:  [3][message][n][name]...[m]([name][json])...
func (r *errorRegistry) encodeError(b []byte, err error) []byte {
	msg := err.Error()
	for _, d := range r.sentinels {
		if err == d.sentinel { //nolint:errorlint // identity is the point
			b = append(b, envSentinel)
			b = appendString(b, msg)
			return appendString(b, d.name)
		}
	}
	for _, d := range r.types {
		if d.exact(err) {
			if data, jerr := json.Marshal(err); jerr == nil {
				b = append(b, envTyped)
				b = appendString(b, msg)
				b = appendString(b, d.name)
				return appendBytes(b, data)
			}
		}
	}
	b = append(b, envGeneral)
	b = appendString(b, msg)
	var names []string
	for _, d := range r.sentinels {
		if errors.Is(err, d.sentinel) {
			names = append(names, d.name)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, n := range names {
		b = appendString(b, n)
	}
	type found struct {
		name string
		data []byte
	}
	var typed []found
	for _, d := range r.types {
		if v, ok := d.find(err); ok {
			if data, jerr := json.Marshal(v); jerr == nil {
				typed = append(typed, found{d.name, data})
			}
		}
	}
	b = binary.AppendUvarint(b, uint64(len(typed)))
	for _, t := range typed {
		b = appendString(b, t.name)
		b = appendBytes(b, t.data)
	}
	return b
}

// decodeError rebuilds the error of an envelope. Names the caller does not
// know are skipped: the message still arrives.
func (r *errorRegistry) decodeError(env []byte) (error, error) {
	rd := wireReader{b: env}
	form := rd.byte()
	msg := rd.string()
	switch form {
	case envSentinel:
		name := rd.string()
		if rd.err != nil {
			break
		}
		if d, ok := r.byName[name]; ok && d.sentinel != nil {
			return d.sentinel, nil
		}
		return &RemoteError{Message: msg}, nil
	case envTyped:
		name := rd.string()
		data := rd.bytes()
		if rd.err != nil {
			break
		}
		if d, ok := r.byName[name]; ok && d.decode != nil {
			if v, err := d.decode(data); err == nil {
				return v, nil
			}
		}
		return &RemoteError{Message: msg}, nil
	case envGeneral:
		re := &RemoteError{Message: msg}
		n := rd.uvarint()
		for i := uint64(0); i < n && rd.err == nil; i++ {
			if d, ok := r.byName[rd.string()]; ok && d.sentinel != nil {
				re.Wrapped = append(re.Wrapped, d.sentinel)
			}
		}
		m := rd.uvarint()
		for i := uint64(0); i < m && rd.err == nil; i++ {
			name, data := rd.string(), rd.bytes()
			if d, ok := r.byName[name]; ok && d.decode != nil {
				if v, err := d.decode(data); err == nil {
					re.Wrapped = append(re.Wrapped, v)
				}
			}
		}
		if rd.err == nil {
			return re, nil
		}
	default:
		if rd.err == nil {
			return nil, fmt.Errorf("%w: unknown error envelope form %d", ErrMalformed, form)
		}
	}
	return nil, fmt.Errorf("%w: error envelope: %v", ErrMalformed, rd.err)
}
