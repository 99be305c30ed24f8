package runtime

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// This file holds the handshake both ends run on a fresh connection, before
// yamux starts (docs/protocol.md, "Handshake"): a cleartext preamble (magic,
// version, security mode), then for a keyed or TLS node a TLS 1.3
// handshake (security.go), then inside it a hello (node id, advertised
// address), for TLS-plus-key mode a proof of the key bound to the TLS
// session, and a verdict.

// handshakeMagic opens every mesh connection.
var handshakeMagic = [4]byte{'M', 'S', 'H', 'R'}

// protocolVersion is the version of the handshake and of everything after it.
const protocolVersion byte = 3

// maxIDLen and maxAddrLen bound the hello's fields.
const maxIDLen, maxAddrLen = 256, 1024

// ErrHandshake means a peer connection was refused during the handshake:
// wrong magic or version, a security mismatch (cluster key, certificates),
// or a connection to itself.
var ErrHandshake = errors.New("meshrpc: handshake refused")

// reasonSelf and errSelf are the handshake's verdict and error when a node
// dialed itself.
const reasonSelf = "connected to itself"

var errSelf = fmt.Errorf("%w: %s", ErrHandshake, reasonSelf)

// errNotMesh is the reason when the peer does not speak the protocol.
var errNotMesh = fmt.Errorf("%w: not a meshsplit node", ErrHandshake)

// hello is what each side announces once the channel is set up.
type hello struct {
	id   string
	addr string
}

// peerHello is the outcome of a successful handshake.
type peerHello struct {
	id   string
	addr string
}

// handshake runs the exchange on conn within the dial timeout, as the
// dialer (dialed) or the acceptor. It returns the connection to run yamux
// on (conn, or TLS over it) and the peer's id and advertised address, or an
// error wrapping ErrHandshake that says why either side refused. It never
// closes conn.
func (s *security) handshake(conn net.Conn, dialed bool, id, addr string) (net.Conn, peerHello, error) {
	if err := conn.SetDeadline(time.Now().Add(s.timeout)); err != nil {
		return nil, peerHello{}, fmt.Errorf("handshake: %w", err)
	}
	defer conn.SetDeadline(time.Time{})

	if err := s.preamble(conn); err != nil {
		return nil, peerHello{}, err
	}
	c, certID, err := s.secureChannel(conn, dialed)
	if err != nil {
		return nil, peerHello{}, err
	}
	mine := hello{id: id, addr: addr}
	if _, err := c.Write(appendHello(nil, mine)); err != nil {
		return nil, peerHello{}, fmt.Errorf("handshake: sending hello: %w", err)
	}
	// An unbuffered reader: the peer may start yamux right after its
	// verdict, and those bytes belong to the session.
	r := exactReader{c}
	theirs, err := readHello(r)
	if err != nil {
		return nil, peerHello{}, err
	}
	reason, err := s.check(c, r, dialed, mine, theirs, certID)
	if err != nil {
		return nil, peerHello{}, err
	}

	// Verdicts: [0] accepted, or [1][reason].
	verdict := []byte{0}
	if reason != "" {
		verdict = appendString([]byte{1}, reason)
	}
	if _, err := c.Write(verdict); err != nil {
		return nil, peerHello{}, fmt.Errorf("handshake: sending verdict: %w", err)
	}
	if reason == reasonSelf {
		return nil, peerHello{}, errSelf
	}
	if reason != "" {
		return nil, peerHello{}, fmt.Errorf("%w: %s (peer %s at %s)", ErrHandshake, reason, theirs.id, theirs.addr)
	}
	v, err := r.ReadByte()
	if err != nil {
		return nil, peerHello{}, fmt.Errorf("handshake: reading verdict: %w", err)
	}
	if v != 0 {
		why, _ := readString(r, 1024)
		return nil, peerHello{}, fmt.Errorf("%w by peer %s at %s: %s", ErrHandshake, theirs.id, theirs.addr, why)
	}
	return c, peerHello{id: theirs.id, addr: theirs.addr}, nil
}

// preamble sends this node's preamble and checks the peer's: same magic,
// version and security mode. It is cleartext and only decides whether to go
// on: a peer that lies in it still has to pass the TLS handshake.
func (s *security) preamble(conn net.Conn) error {
	out := append(handshakeMagic[:len(handshakeMagic):len(handshakeMagic)], protocolVersion, s.mode)
	if _, err := conn.Write(out); err != nil {
		return fmt.Errorf("handshake: sending preamble: %w", err)
	}
	var in [6]byte
	if _, err := io.ReadFull(conn, in[:]); err != nil {
		return fmt.Errorf("handshake: reading preamble: %w", err)
	}
	if [4]byte(in[:4]) != handshakeMagic {
		return fmt.Errorf("%w (bad magic %q)", errNotMesh, in[:4])
	}
	if in[4] != protocolVersion {
		return fmt.Errorf("%w: protocol version %d, this node speaks %d (upgrade every node of the cluster)", ErrHandshake, in[4], protocolVersion)
	}
	if in[5] != s.mode {
		return fmt.Errorf("%w: security mismatch: this node uses %s, the peer says it uses %s (every node of a cluster needs the same %s and %s settings)",
			ErrHandshake, modeName(s.mode), modeName(in[5]), EnvClusterKey, "MESHRPC_TLS_*")
	}
	return nil
}

// check runs the checks after the hellos and returns the reason to refuse,
// "" to accept. In key mode the hello's id must be the certificate's; in
// TLS-plus-key mode both sides exchange the session proof first.
func (s *security) check(c net.Conn, r exactReader, dialed bool, mine, theirs hello, certID string) (string, error) {
	proofOK := true
	if s.mode == modeTLSKey {
		var err error
		if proofOK, err = s.exchangeProof(c, r, dialed); err != nil {
			return "", err
		}
	}
	switch {
	case s.mode == modeKey && theirs.id != certID:
		return fmt.Sprintf("the peer claims node id %q but its certificate is for %q", theirs.id, certID), nil
	case theirs.id == mine.id:
		return reasonSelf, nil
	case !proofOK:
		return "cluster key mismatch: the peer's proof of the cluster key is wrong (different " + EnvClusterKey + ")", nil
	}
	return "", nil
}

// appendHello encodes h: id, addr.
func appendHello(b []byte, h hello) []byte {
	b = appendString(b, h.id)
	return appendString(b, h.addr)
}

// readHello decodes a hello.
func readHello(r exactReader) (hello, error) {
	var h hello
	var err error
	if h.id, err = readString(r, maxIDLen); err != nil {
		return hello{}, fmt.Errorf("handshake: node id: %w", err)
	}
	if h.addr, err = readString(r, maxAddrLen); err != nil {
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
