// Package kv stands for a client library of another module whose sentinel
// errors callers compare with ==.
package kv

import "errors"

// ErrGone is returned as is for a missing key.
var ErrGone = errors.New("kv: gone")

// errHidden is unexported: nobody outside can compare with it.
var errHidden = errors.New("kv: hidden")

// A BadKeyError is an error type of another module: not registered, since
// it would cross as JSON.
type BadKeyError struct{ Key string }

func (e *BadKeyError) Error() string { return "kv: bad key " + e.Key + errHidden.Error() }
