package runtime

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// This file holds the handshake both ends run on a fresh connection, before
// yamux starts (docs/protocol.md, "Handshake"): each side sends a hello
// (magic, version, flags, nonce, node id, advertised address), then a proof
// that it knows the cluster key (an HMAC over both nonces and its own id; the
// key never crosses the wire), then a verdict.

// handshakeMagic opens every mesh connection.
var handshakeMagic = [4]byte{'M', 'S', 'H', 'R'}

// protocolVersion is the version of the handshake and of everything after it.
const protocolVersion byte = 1

// Hello flags.
const flagKeyed byte = 1 // the sender has a cluster key and requires a proof

// proofLabel separates this HMAC from any other use of the key.
const proofLabel = "meshsplit-auth-v1"

// ErrHandshake means a peer connection was refused during the handshake:
// wrong magic or version, cluster key mismatch, or a connection to itself.
var ErrHandshake = errors.New("meshrpc: handshake refused")

// errSelf is the handshake's reason when a node dialed itself.
var errSelf = fmt.Errorf("%w: connected to itself", ErrHandshake)

// hello is what each side announces.
type hello struct {
	keyed bool
	nonce [16]byte
	id    string
	addr  string
}

// peerHello is the outcome of a successful handshake.
type peerHello struct {
	id   string
	addr string
}

// handshake runs the exchange on conn within timeout. It returns the peer's
// id and advertised address, or an error wrapping ErrHandshake when either
// side refused.
func handshake(conn net.Conn, id, addr string, key []byte, timeout time.Duration) (peerHello, error) {
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return peerHello{}, fmt.Errorf("handshake: %w", err)
	}
	defer conn.SetDeadline(time.Time{})

	mine := hello{keyed: len(key) > 0, id: id, addr: addr}
	if _, err := rand.Read(mine.nonce[:]); err != nil {
		return peerHello{}, fmt.Errorf("handshake: nonce: %w", err)
	}
	if _, err := conn.Write(appendHello(nil, mine)); err != nil {
		return peerHello{}, fmt.Errorf("handshake: sending hello: %w", err)
	}
	// An unbuffered reader: the peer may start yamux right after its
	// verdict, and those bytes belong to the session.
	r := exactReader{conn}
	theirs, err := readHello(r)
	if err != nil {
		return peerHello{}, err
	}

	// Proofs: 32 bytes each way, zeros when the sender has no key.
	var proof [32]byte
	if mine.keyed {
		copy(proof[:], proofMAC(key, theirs.nonce, mine.nonce, mine.id))
	}
	if _, err := conn.Write(proof[:]); err != nil {
		return peerHello{}, fmt.Errorf("handshake: sending proof: %w", err)
	}
	var got [32]byte
	if _, err := io.ReadFull(r, got[:]); err != nil {
		return peerHello{}, fmt.Errorf("handshake: reading proof: %w", err)
	}
	reason := ""
	switch {
	case theirs.id == id:
		reason = "connected to itself"
	case mine.keyed && !theirs.keyed:
		reason = "cluster key mismatch: the dialing side has no cluster key"
	case !mine.keyed && theirs.keyed:
		reason = "cluster key mismatch: this side has no cluster key"
	case mine.keyed && !hmac.Equal(got[:], proofMAC(key, mine.nonce, theirs.nonce, theirs.id)):
		reason = "cluster key mismatch"
	}

	// Verdicts: [0] accepted, or [1][reason].
	verdict := []byte{0}
	if reason != "" {
		verdict = appendString([]byte{1}, reason)
	}
	if _, err := conn.Write(verdict); err != nil {
		return peerHello{}, fmt.Errorf("handshake: sending verdict: %w", err)
	}
	if reason == "connected to itself" {
		return peerHello{}, errSelf
	}
	if reason != "" {
		return peerHello{}, fmt.Errorf("%w: %s (peer %s at %s)", ErrHandshake, reason, theirs.id, theirs.addr)
	}
	v, err := r.ReadByte()
	if err != nil {
		return peerHello{}, fmt.Errorf("handshake: reading verdict: %w", err)
	}
	if v != 0 {
		why, _ := readString(r, 1024)
		return peerHello{}, fmt.Errorf("%w by peer %s at %s: %s", ErrHandshake, theirs.id, theirs.addr, why)
	}
	return peerHello{id: theirs.id, addr: theirs.addr}, nil
}

// proofMAC is HMAC-SHA256(key, label | verifierNonce | proverNonce | proverID).
func proofMAC(key []byte, verifierNonce, proverNonce [16]byte, proverID string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(proofLabel))
	m.Write(verifierNonce[:])
	m.Write(proverNonce[:])
	m.Write([]byte(proverID))
	return m.Sum(nil)
}

// appendHello encodes h: magic, version, flags, nonce, id, addr.
func appendHello(b []byte, h hello) []byte {
	b = append(b, handshakeMagic[:]...)
	b = append(b, protocolVersion)
	var flags byte
	if h.keyed {
		flags |= flagKeyed
	}
	b = append(b, flags)
	b = append(b, h.nonce[:]...)
	b = appendString(b, h.id)
	return appendString(b, h.addr)
}

// readHello decodes a hello, refusing foreign protocols and versions.
func readHello(r exactReader) (hello, error) {
	var fixed [4 + 1 + 1 + 16]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return hello{}, fmt.Errorf("handshake: reading hello: %w", err)
	}
	if [4]byte(fixed[:4]) != handshakeMagic {
		return hello{}, fmt.Errorf("%w: not a meshsplit node (bad magic %q)", ErrHandshake, fixed[:4])
	}
	if fixed[4] != protocolVersion {
		return hello{}, fmt.Errorf("%w: protocol version %d, this node speaks %d", ErrHandshake, fixed[4], protocolVersion)
	}
	h := hello{keyed: fixed[5]&flagKeyed != 0}
	copy(h.nonce[:], fixed[6:])
	var err error
	if h.id, err = readString(r, 256); err != nil {
		return hello{}, fmt.Errorf("handshake: node id: %w", err)
	}
	if h.addr, err = readString(r, 1024); err != nil {
		return hello{}, fmt.Errorf("handshake: address: %w", err)
	}
	if h.id == "" {
		return hello{}, fmt.Errorf("%w: empty node id", ErrHandshake)
	}
	return h, nil
}

// exactReader reads from a connection without reading ahead.
type exactReader struct{ io.Reader }

// ReadByte reads one byte.
func (r exactReader) ReadByte() (byte, error) {
	var b [1]byte
	if _, err := io.ReadFull(r.Reader, b[:]); err != nil {
		return 0, err
	}
	return b[0], nil
}

// readString reads a uvarint length (at most max) and that many bytes.
func readString(r exactReader, max int) (string, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return "", err
	}
	if n > uint64(max) {
		return "", fmt.Errorf("%w: field of %d bytes over %d", ErrHandshake, n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}
