package runtime

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"
)

// This file holds the handshake both ends run on a fresh connection, before
// yamux starts (docs/protocol.md, "Handshake"): a cleartext preamble (magic,
// version, security mode), then for a keyed or TLS node a TLS 1.3
// handshake, then inside it a hello (node id, advertised address), for
// TLS-plus-key mode a proof of the key bound to the TLS session, and a
// verdict.

// handshakeMagic opens every mesh connection.
var handshakeMagic = [4]byte{'M', 'S', 'H', 'R'}

// protocolVersion is the version of the handshake and of everything after it.
const protocolVersion byte = 2

// maxIDLen and maxAddrLen bound the hello's fields.
const maxIDLen, maxAddrLen = 256, 1024

// Security modes, announced in the preamble. Both sides must use the same.
const (
	modePlain  byte = 0 // no key, no TLS: loopback, caller-only or Insecure nodes
	modeKey    byte = 1 // TLS 1.3 with certificates derived from the cluster key
	modeTLS    byte = 2 // TLS 1.3 with the operator's certificates (Config.TLS)
	modeTLSKey byte = 3 // modeTLS plus a proof of the cluster key bound to the TLS session
)

// modeName describes a security mode in errors.
func modeName(m byte) string {
	switch m {
	case modePlain:
		return "neither a cluster key nor TLS"
	case modeKey:
		return "a cluster key"
	case modeTLS:
		return "TLS certificates (MESHRPC_TLS_*) without a cluster key"
	case modeTLSKey:
		return "TLS certificates and a cluster key"
	}
	return fmt.Sprintf("unknown security mode %d", m)
}

// ErrHandshake means a peer connection was refused during the handshake:
// wrong magic or version, a security mismatch (cluster key, certificates),
// or a connection to itself.
var ErrHandshake = errors.New("meshrpc: handshake refused")

// errSelf is the handshake's reason when a node dialed itself.
var errSelf = fmt.Errorf("%w: connected to itself", ErrHandshake)

// errNotMesh is the reason when the peer does not speak the protocol.
var errNotMesh = fmt.Errorf("%w: not a meshsplit node", ErrHandshake)

// tlsExporterLabel and the proof labels of modeTLSKey (RFC 8446 7.5).
const (
	tlsExporterLabel = "EXPORTER-meshsplit-cluster-key"
	proofDialer      = "meshsplit v2 dialer proof"
	proofAcceptor    = "meshsplit v2 acceptor proof"
)

// security is what a node needs to run the handshake.
type security struct {
	mode     byte
	timeout  time.Duration
	server   *tls.Config // for accepted connections; nil in modePlain
	client   *tls.Config // for dialed connections (ServerName set per dial in modeTLS)
	certs    *nodeCerts  // modeKey: the node's certificates
	proofKey []byte      // modeTLSKey: the key of the session proof
	userTLS  bool        // client verifies the server's host name
}

// newSecurity prepares the handshake of node id under cfg: it derives the
// cluster CA and issues the node's certificates in key mode.
func newSecurity(cfg *Config, id string) (*security, error) {
	s := &security{timeout: cfg.DialTimeout}
	keyed := len(cfg.ClusterKey) > 0
	switch {
	case cfg.TLS != nil && keyed:
		s.mode = modeTLSKey
		s.proofKey = deriveKey(cfg.ClusterKey, tlsProofInfo)
	case cfg.TLS != nil:
		s.mode = modeTLS
	case keyed:
		s.mode = modeKey
	default:
		s.mode = modePlain
		return s, nil
	}
	if cfg.TLS != nil {
		t := cfg.TLS
		if t.MinVersion < tls.VersionTLS13 {
			t = t.Clone()
			t.MinVersion = tls.VersionTLS13
		}
		s.server, s.client, s.userTLS = t, t, true
		return s, nil
	}
	ca, err := newClusterCA(cfg.ClusterKey)
	if err != nil {
		return nil, err
	}
	if s.certs, err = newNodeCerts(ca, id); err != nil {
		return nil, err
	}
	s.server, s.client = keyedTLS(s.certs)
	return s, nil
}

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
	if theirs.id == id {
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

// secureChannel runs TLS 1.3 on conn unless the mode is plain. In key mode
// it returns the node id the peer's certificate names.
func (s *security) secureChannel(conn net.Conn, dialed bool) (net.Conn, string, error) {
	if s.mode == modePlain {
		return conn, "", nil
	}
	var tc *tls.Conn
	if dialed {
		cfg := s.client
		if s.userTLS && cfg.ServerName == "" {
			cfg = cfg.Clone()
			host, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
			cfg.ServerName = host
		}
		tc = tls.Client(conn, cfg)
	} else {
		tc = tls.Server(conn, s.server)
	}
	if err := tc.Handshake(); err != nil {
		return nil, "", fmt.Errorf("%w: %s", ErrHandshake, s.explainTLS(err))
	}
	if s.mode != modeKey {
		return tc, "", nil
	}
	// VerifyConnection checked the chain; read the id it names.
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, "", fmt.Errorf("%w: peer sent no certificate", ErrHandshake)
	}
	certID, err := certNodeID(certs[0])
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrHandshake, err)
	}
	return tc, certID, nil
}

// explainTLS turns a failed TLS handshake into a reason for the log.
func (s *security) explainTLS(err error) string {
	var refused certRefusal
	if errors.As(err, &refused) {
		return refused.Error() // this side's verdict on the peer's certificate
	}
	if strings.Contains(err.Error(), "tls: invalid signature by the") {
		return fmt.Sprintf("the peer does not hold the private key of the certificate it presented: a certificate taken from another node? (TLS: %v)", err)
	}
	var op *net.OpError
	if errors.As(err, &op) {
		switch {
		case s.mode == modeKey && op.Op == "remote error" && strings.Contains(op.Err.Error(), "bad certificate"):
			return fmt.Sprintf("the peer refused this node's certificate: it has a different cluster key, or a clock more than an hour off (TLS: %v)", err)
		case op.Op == "local error" && strings.Contains(op.Err.Error(), "bad record MAC"):
			return fmt.Sprintf("the peer's handshake messages do not decrypt under this connection's keys: a replayed or altered handshake (TLS: %v)", err)
		}
	}
	return "TLS: " + err.Error()
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
	case theirs.id == mine.id:
		return "connected to itself", nil
	case s.mode == modeKey && theirs.id != certID:
		return fmt.Sprintf("the peer claims node id %q but its certificate is for %q", theirs.id, certID), nil
	case !proofOK:
		return "cluster key mismatch: the peer's proof of the cluster key is wrong (different " + EnvClusterKey + ")", nil
	}
	return "", nil
}

// exchangeProof sends HMAC(proofKey, label of our role | exporter) and
// checks the peer's against the label of its role. The exporter is unique
// to this TLS session, so a proof is worth nothing on any other connection,
// and the role labels keep a proof from being reflected.
func (s *security) exchangeProof(c net.Conn, r exactReader, dialed bool) (bool, error) {
	cs := c.(*tls.Conn).ConnectionState()
	exp, err := cs.ExportKeyingMaterial(tlsExporterLabel, nil, 32)
	if err != nil {
		return false, fmt.Errorf("handshake: TLS exporter: %w", err)
	}
	mineLabel, theirLabel := proofAcceptor, proofDialer
	if dialed {
		mineLabel, theirLabel = proofDialer, proofAcceptor
	}
	if _, err := c.Write(sessionProof(s.proofKey, mineLabel, exp)); err != nil {
		return false, fmt.Errorf("handshake: sending proof: %w", err)
	}
	var got [sha256.Size]byte
	if _, err := io.ReadFull(r, got[:]); err != nil {
		return false, fmt.Errorf("handshake: reading proof: %w", err)
	}
	return hmac.Equal(got[:], sessionProof(s.proofKey, theirLabel, exp)), nil
}

// sessionProof is HMAC-SHA256(key, label | 0 | exporter).
func sessionProof(key []byte, label string, exporter []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write(exporter)
	return m.Sum(nil)
}

// refusalLevel is the log level of a refused inbound connection: Warn for
// a peer that speaks the protocol but fails a check (wrong key, wrong
// certificate, mismatched settings), Debug for the rest (scanners, a node
// connecting to itself, connections cut short).
func refusalLevel(err error) slog.Level {
	if errors.Is(err, ErrHandshake) && !errors.Is(err, errSelf) && !errors.Is(err, errNotMesh) {
		return slog.LevelWarn
	}
	return slog.LevelDebug
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

// brokenSessionConn logs the first TLS failure on a secured session: a
// record that fails authentication (tampered or corrupted bytes) or an
// alert from the peer. yamux then ends the session; this says why.
type brokenSessionConn struct {
	net.Conn
	log    *slog.Logger
	peer   string
	logged atomic.Bool
}

// watchSession wraps the connection of an established session with peer.
func (s *security) watchSession(c net.Conn, log *slog.Logger, peer string) net.Conn {
	if s.mode == modePlain {
		return c
	}
	return &brokenSessionConn{Conn: c, log: log, peer: peer}
}

// Read reads from the TLS connection and logs a TLS failure once.
func (c *brokenSessionConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && (op.Op == "local error" || op.Op == "remote error") && !c.logged.Swap(true) {
			c.log.Warn("mesh session broken by a TLS error (bytes altered on the way?); closing it", "peer", c.peer, "err", err)
		}
	}
	return n, err
}
