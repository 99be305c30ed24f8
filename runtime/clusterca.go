package runtime

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"sync"
	"time"
)

// This file turns a cluster key into TLS 1.3 credentials (docs/protocol.md,
// "Cluster key"): every node derives the same Ed25519 CA key from the
// cluster key with HKDF-SHA256 and builds the CA certificate itself (it is
// never taken from the wire); at start it makes an ephemeral Ed25519 key and
// two certificates signed by that CA that name its node id, one for each
// role (server when it accepts, client when it dials). A peer is accepted
// when its certificate chains to the derived CA for the role it plays.

// Labels of the derivations; a new version of the scheme changes them.
const (
	keySalt        = "meshsplit cluster key v2"
	caKeyInfo      = "ed25519 cluster CA"
	tlsProofInfo   = "TLS session proof key"
	nodeURIScheme  = "meshsplit"
	nodeURIHost    = "node"
	minClusterKey  = 16
	certValidity   = 24 * time.Hour
	certClockSlack = time.Hour
)

// errWrongClusterKey is the reason when a peer's certificate does not chain
// to this cluster's CA.
var errWrongClusterKey = errors.New("peer's certificate is not signed by this cluster's key (the peer has a different cluster key)")

// deriveKey returns 32 bytes derived from the cluster key for one use.
func deriveKey(clusterKey []byte, info string) []byte {
	k, err := hkdf.Key(sha256.New, clusterKey, []byte(keySalt), info, 32)
	if err != nil {
		// Only a length over 255*32 bytes fails.
		panic("meshrpc: hkdf: " + err.Error())
	}
	return k
}

// clusterCA is the certificate authority every node derives from the key.
type clusterCA struct {
	cert *x509.Certificate
	key  ed25519.PrivateKey
	pool *x509.CertPool
}

// caEpoch bounds the CA certificate's validity; fixed so that every node
// builds the same certificate.
var caNotBefore, caNotAfter = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// newClusterCA derives the cluster CA from the cluster key.
func newClusterCA(clusterKey []byte) (*clusterCA, error) {
	key := ed25519.NewKeyFromSeed(deriveKey(clusterKey, caKeyInfo))
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "meshsplit cluster CA"},
		NotBefore:             caNotBefore,
		NotAfter:              caNotAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("cluster CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("cluster CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &clusterCA{cert: cert, key: key, pool: pool}, nil
}

// nodeURI is the URI SAN that names a node id in its certificate.
func nodeURI(id string) *url.URL {
	return &url.URL{Scheme: nodeURIScheme, Host: nodeURIHost, Path: "/" + id}
}

// issue signs a certificate for id, usable in one role (ServerAuth or
// ClientAuth), valid from now-certClockSlack to now+certValidity.
func (ca *clusterCA) issue(id string, role x509.ExtKeyUsage, now time.Time) (*tls.Certificate, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "meshsplit node " + id},
		NotBefore:    now.Add(-certClockSlack),
		NotAfter:     now.Add(certValidity),
		URIs:         []*url.URL{nodeURI(id)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{role},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		return nil, fmt.Errorf("node certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("node certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: leaf}, nil
}

// verifyPeer checks a peer's leaf certificate: it chains to the cluster CA
// for the role the peer plays, and names exactly one node id, which it
// returns. Intermediates the peer sends are ignored.
func (ca *clusterCA) verifyPeer(certs []*x509.Certificate, role x509.ExtKeyUsage, now time.Time) (string, error) {
	if len(certs) == 0 {
		return "", errors.New("peer sent no certificate")
	}
	leaf := certs[0]
	_, err := leaf.Verify(x509.VerifyOptions{Roots: ca.pool, KeyUsages: []x509.ExtKeyUsage{role}, CurrentTime: now})
	if err != nil {
		var inv x509.CertificateInvalidError
		switch {
		case errors.As(err, &inv) && inv.Reason == x509.Expired:
			return "", fmt.Errorf("peer's certificate is outside its validity (%s to %s, clock here %s; clocks more than %s apart?): %w",
				leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339), now.UTC().Format(time.RFC3339), certClockSlack, err)
		case errors.As(err, &inv) && inv.Reason == x509.IncompatibleUsage:
			return "", fmt.Errorf("peer's certificate is not for the %s role: %w", roleName(role), err)
		}
		return "", fmt.Errorf("%w: %v", errWrongClusterKey, err)
	}
	return certNodeID(leaf)
}

// certNodeID returns the node id a certificate names.
func certNodeID(leaf *x509.Certificate) (string, error) {
	if len(leaf.URIs) != 1 {
		return "", fmt.Errorf("peer's certificate names %d URIs, want one node id", len(leaf.URIs))
	}
	u := leaf.URIs[0]
	id := ""
	if u.Scheme == nodeURIScheme && u.Host == nodeURIHost && len(u.Path) > 1 {
		id = u.Path[1:]
	}
	if id == "" || len(id) > maxIDLen {
		return "", fmt.Errorf("peer's certificate names %q, not a node id", u.String())
	}
	return id, nil
}

// certRefusal is this node's refusal of the peer's certificate, as the TLS
// handshake returns it.
type certRefusal struct{ err error }

func (r certRefusal) Error() string { return r.err.Error() }
func (r certRefusal) Unwrap() error { return r.err }

// roleName names a certificate role in errors.
func roleName(role x509.ExtKeyUsage) string {
	if role == x509.ExtKeyUsageServerAuth {
		return "accepting (server)"
	}
	return "dialing (client)"
}

// nodeCerts holds a node's two certificates and renews each when half of
// its validity has passed.
type nodeCerts struct {
	ca  *clusterCA
	id  string
	now func() time.Time

	mu     sync.Mutex
	server *tls.Certificate
	client *tls.Certificate
}

// newNodeCerts issues the certificates of node id.
func newNodeCerts(ca *clusterCA, id string) (*nodeCerts, error) {
	nc := &nodeCerts{ca: ca, id: id, now: time.Now}
	for _, role := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := nc.get(role); err != nil {
			return nil, err
		}
	}
	return nc, nil
}

// get returns the current certificate for role, issuing a new one when
// none is left with more than half of its validity.
func (nc *nodeCerts) get(role x509.ExtKeyUsage) (*tls.Certificate, error) {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	slot := &nc.client
	if role == x509.ExtKeyUsageServerAuth {
		slot = &nc.server
	}
	now := nc.now()
	if c := *slot; c != nil && now.Before(c.Leaf.NotAfter.Add(-certValidity/2)) {
		return c, nil
	}
	c, err := nc.ca.issue(nc.id, role, now)
	if err != nil {
		return nil, err
	}
	*slot = c
	return c, nil
}

// keyedTLS returns the server and client configs of key mode: TLS 1.3 only,
// both sides present a certificate of the cluster CA, and both verify the
// other's against the derived CA (not against system roots or a host name).
func keyedTLS(nc *nodeCerts) (server, client *tls.Config) {
	verify := func(role x509.ExtKeyUsage) func(tls.ConnectionState) error {
		return func(cs tls.ConnectionState) error {
			if _, err := nc.ca.verifyPeer(cs.PeerCertificates, role, nc.now()); err != nil {
				return certRefusal{err}
			}
			return nil
		}
	}
	server = &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return nc.get(x509.ExtKeyUsageServerAuth)
		},
		// The chain is checked by VerifyConnection against the derived
		// CA, which names the failure (wrong key, expired, wrong role).
		ClientAuth:             tls.RequireAnyClientCert,
		VerifyConnection:       verify(x509.ExtKeyUsageClientAuth),
		SessionTicketsDisabled: true,
	}
	client = &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return nc.get(x509.ExtKeyUsageClientAuth)
		},
		// Not skipped: replaced. VerifyConnection checks the server's
		// chain against the derived CA instead of a host name.
		InsecureSkipVerify: true,
		VerifyConnection:   verify(x509.ExtKeyUsageServerAuth),
	}
	return server, client
}
