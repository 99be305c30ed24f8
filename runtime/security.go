package runtime

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"
)

// This file holds the security of a mesh connection (docs/protocol.md,
// section 2): the mode a node's settings give, the TLS 1.3 channel of the
// key and TLS modes, the session proof of TLS-plus-key mode, and the
// logging of refusals and of sessions that TLS breaks.

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
	certs, err := newNodeCerts(ca, id)
	if err != nil {
		return nil, err
	}
	s.server, s.client = keyedTLS(certs)
	return s, nil
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
