package runtime

import (
	"encoding/binary"
	"fmt"
	"iter"
	"strings"
)

// This file holds call metadata (docs/protocol.md, "Metadata"): string keys
// and values a request and its response carry beside their messages, for
// trace context, baggage and the context values of RegisterContextValue.

// Bounds of the metadata of one request or response. A caller whose
// metadata exceeds them fails the call before sending it; a node refuses a
// request over them as malformed.
const (
	// MaxMetadataPairs bounds the number of keys.
	MaxMetadataPairs = 64
	// MaxMetadataKey bounds the length of one key in bytes.
	MaxMetadataKey = 128
	// MaxMetadataValue bounds the length of one value in bytes.
	MaxMetadataValue = 4096
	// MaxMetadataSize bounds the sum of the lengths of all keys and values.
	MaxMetadataSize = 16 << 10
)

// MetadataHeaderPrefix prefixes the HTTP header that carries a metadata key
// on the HTTP path: key "traceparent" travels as "Meshrpc-Md-Traceparent".
const MetadataHeaderPrefix = "Meshrpc-Md-"

// Metadata is the metadata of one request or response: keys of lower-case
// ASCII letters, digits, '-', '_' and '.', each with one value of printable
// ASCII (space and tab allowed), within the bounds above. Its methods make
// *Metadata an OpenTelemetry TextMapCarrier. The zero value is empty and
// ready to use; a nil *Metadata reads as empty.
type Metadata struct {
	kv []string // key, value, key, value... in insertion order
}

// Get returns the value of key ("" when absent). Keys are case-insensitive.
func (m *Metadata) Get(key string) string {
	if m == nil {
		return ""
	}
	key = lowerKey(key)
	for i := 0; i < len(m.kv); i += 2 {
		if m.kv[i] == key {
			return m.kv[i+1]
		}
	}
	return ""
}

// Lookup returns the value of key and whether it is present.
func (m *Metadata) Lookup(key string) (string, bool) {
	if m == nil {
		return "", false
	}
	key = lowerKey(key)
	for i := 0; i < len(m.kv); i += 2 {
		if m.kv[i] == key {
			return m.kv[i+1], true
		}
	}
	return "", false
}

// Set sets key to value, replacing a value it had. The key is stored in
// lower case. Bounds and characters are checked when the call is sent.
func (m *Metadata) Set(key, value string) {
	key = lowerKey(key)
	for i := 0; i < len(m.kv); i += 2 {
		if m.kv[i] == key {
			m.kv[i+1] = value
			return
		}
	}
	m.kv = append(m.kv, key, value)
}

// Delete removes key.
func (m *Metadata) Delete(key string) {
	key = lowerKey(key)
	for i := 0; i < len(m.kv); i += 2 {
		if m.kv[i] == key {
			m.kv = append(m.kv[:i], m.kv[i+2:]...)
			return
		}
	}
}

// Keys returns the keys in the order they were set.
func (m *Metadata) Keys() []string {
	if m == nil {
		return nil
	}
	keys := make([]string, 0, len(m.kv)/2)
	for i := 0; i < len(m.kv); i += 2 {
		keys = append(keys, m.kv[i])
	}
	return keys
}

// Len returns the number of keys.
func (m *Metadata) Len() int {
	if m == nil {
		return 0
	}
	return len(m.kv) / 2
}

// All iterates over the keys and values in the order they were set.
func (m *Metadata) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		if m == nil {
			return
		}
		for i := 0; i < len(m.kv); i += 2 {
			if !yield(m.kv[i], m.kv[i+1]) {
				return
			}
		}
	}
}

// lowerKey lower-cases key without allocating when it is lower case.
func lowerKey(key string) string {
	for i := 0; i < len(key); i++ {
		if c := key[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(key)
		}
	}
	return key
}

// check reports the first key or value outside the bounds, as a sentence
// naming it.
func (m *Metadata) check() error {
	if m == nil {
		return nil
	}
	if m.Len() > MaxMetadataPairs {
		return fmt.Errorf("%d metadata keys, over the limit of %d", m.Len(), MaxMetadataPairs)
	}
	size := 0
	for i := 0; i < len(m.kv); i += 2 {
		if err := checkMetadataPair(m.kv[i], m.kv[i+1]); err != nil {
			return err
		}
		size += len(m.kv[i]) + len(m.kv[i+1])
	}
	if size > MaxMetadataSize {
		return fmt.Errorf("metadata of %d bytes, over the limit of %d bytes", size, MaxMetadataSize)
	}
	return nil
}

// checkMetadataPair checks one key and its value.
func checkMetadataPair(k, v string) error {
	if k == "" || len(k) > MaxMetadataKey {
		return fmt.Errorf("metadata key %.40q: want 1 to %d bytes", k, MaxMetadataKey)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("metadata key %.40q: byte %q is not a lower-case letter, digit, '-', '_' or '.'", k, c)
		}
	}
	if len(v) > MaxMetadataValue {
		return fmt.Errorf("metadata value of key %q: %d bytes, over the limit of %d", k, len(v), MaxMetadataValue)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c > 0x7e {
			return fmt.Errorf("metadata value of key %q: byte %#x at %d is not printable ASCII (encode binary values, e.g. with base64)", k, c, i)
		}
	}
	return nil
}

// appendMetadata appends [uvarint count] then count (str key, str value).
func appendMetadata(b []byte, m *Metadata) []byte {
	if m == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(m.kv)/2))
	for _, s := range m.kv {
		b = appendString(b, s)
	}
	return b
}

// readMetadata reads what appendMetadata wrote and checks it against the
// bounds. It returns nil for no keys, allocating nothing; metadata of up
// to two keys (a traceparent, and baggage or a tracestate) takes one
// allocation with its pairs, and the keys OpenTelemetry propagates are
// not copied (internKey).
func (r *wireReader) metadata() (*Metadata, error) {
	n := r.uvarint()
	if r.err != nil {
		return nil, r.err
	}
	if n == 0 {
		return nil, nil
	}
	if n > MaxMetadataPairs {
		return nil, fmt.Errorf("%d metadata keys, over the limit of %d", n, MaxMetadataPairs)
	}
	m := newMetadata(int(n))
	size := 0
	for range n {
		k, v := r.bytes(), r.bytes()
		if r.err != nil {
			return nil, r.err
		}
		ks, vs := internKey(k), string(v)
		if err := checkMetadataPair(ks, vs); err != nil {
			return nil, err
		}
		if _, dup := m.Lookup(ks); dup {
			return nil, fmt.Errorf("metadata key %q appears twice", ks)
		}
		size += len(k) + len(v)
		if size > MaxMetadataSize {
			return nil, fmt.Errorf("metadata over the limit of %d bytes", MaxMetadataSize)
		}
		m.kv = append(m.kv, ks, vs)
	}
	return m, nil
}

// smallMetadata is a Metadata with room for two pairs, allocated at once.
type smallMetadata struct {
	m  Metadata
	kv [4]string
}

// newMetadata returns empty metadata with room for n pairs.
func newMetadata(n int) *Metadata {
	if n <= 2 {
		s := &smallMetadata{}
		s.m.kv = s.kv[:0:len(s.kv)]
		return &s.m
	}
	return &Metadata{kv: make([]string, 0, 2*n)}
}

// internKey returns k as a string, without copying it for the keys of
// OpenTelemetry's W3C propagators, which every instrumented call carries.
func internKey(k []byte) string {
	switch string(k) { // compared in place: no allocation
	case "traceparent":
		return "traceparent"
	case "tracestate":
		return "tracestate"
	case "baggage":
		return "baggage"
	}
	return string(k)
}
