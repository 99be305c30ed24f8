package runtime

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestClusterCADerivedFromTheKeyAlone(t *testing.T) {
	a, err := newClusterCA(testKey)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newClusterCA(testKey)
	if err != nil {
		t.Fatal(err)
	}
	other, err := newClusterCA(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.cert.Raw, b.cert.Raw) {
		t.Fatal("two nodes with one key built different CA certificates")
	}
	if bytes.Equal(a.cert.RawSubjectPublicKeyInfo, other.cert.RawSubjectPublicKeyInfo) {
		t.Fatal("two keys gave one CA key")
	}
}

func TestVerifyPeerCertificate(t *testing.T) {
	ca, err := newClusterCA(testKey)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := newClusterCA(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	const id = "00112233aabbccdd"
	issue := func(ca *clusterCA, role x509.ExtKeyUsage, at time.Time) []*x509.Certificate {
		c, err := ca.issue(id, role, at)
		if err != nil {
			t.Fatal(err)
		}
		return []*x509.Certificate{c.Leaf}
	}
	server, client := x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth
	tests := []struct {
		name  string
		certs []*x509.Certificate
		role  x509.ExtKeyUsage
		want  string // "" accepted
	}{
		{"server certificate as server", issue(ca, server, now), server, ""},
		{"client certificate as client", issue(ca, client, now), client, ""},
		{"clock behind by less than the slack", issue(ca, client, now.Add(30*time.Minute)), client, ""},
		{"another cluster's key", issue(stranger, client, now), client, "not signed by this cluster's key"},
		{"client certificate used to accept", issue(ca, client, now), server, "not for the accepting (server) role"},
		{"server certificate used to dial", issue(ca, server, now), client, "not for the dialing (client) role"},
		{"expired", issue(ca, client, now.Add(-certValidity-time.Minute)), client, "outside its validity"},
		{"from the future", issue(ca, client, now.Add(2*certClockSlack)), client, "outside its validity"},
		{"no certificate", nil, client, "no certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ca.verifyPeer(tc.certs, tc.role, now)
			switch {
			case tc.want == "" && (err != nil || got != id):
				t.Fatalf("verifyPeer = %q, %v; want %q", got, err, id)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("verifyPeer = %q, %v; want an error containing %q", got, err, tc.want)
			}
		})
	}
	// The wrong-key case is the sentinel callers can test for.
	if _, err := ca.verifyPeer(issue(stranger, client, now), client, now); !errors.Is(err, errWrongClusterKey) {
		t.Fatalf("wrong key: %v, want errWrongClusterKey", err)
	}
}

func TestNodeCertificatesRenewedAtHalfLife(t *testing.T) {
	ca, err := newClusterCA(testKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	nc, err := newNodeCerts(ca, "00112233aabbccdd")
	if err != nil {
		t.Fatal(err)
	}
	nc.now = func() time.Time { return now }
	first, err := nc.get(x509.ExtKeyUsageServerAuth)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(certValidity/2 - time.Minute)
	if again, _ := nc.get(x509.ExtKeyUsageServerAuth); again != first {
		t.Fatal("a certificate was renewed before half of its validity passed")
	}
	now = now.Add(2 * time.Minute)
	renewed, err := nc.get(x509.ExtKeyUsageServerAuth)
	if err != nil {
		t.Fatal(err)
	}
	if renewed == first || !renewed.Leaf.NotAfter.After(first.Leaf.NotAfter) {
		t.Fatal("the certificate was not renewed after half of its validity")
	}
	if _, err := ca.verifyPeer([]*x509.Certificate{renewed.Leaf}, x509.ExtKeyUsageServerAuth, now); err != nil {
		t.Fatalf("the renewed certificate: %v", err)
	}
}
