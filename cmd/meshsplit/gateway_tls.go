package main

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"
)

// gatewayCert is the gateway's HTTPS certificate (-tls-cert, -tls-key),
// read again on SIGHUP so that a renewed certificate is served without a
// restart. New handshakes get the certificate in use; open connections keep
// theirs.
type gatewayCert struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

// loadGatewayCert reads the certificate and its key.
func loadGatewayCert(certFile, keyFile string) (*gatewayCert, error) {
	c := &gatewayCert{certFile: certFile, keyFile: keyFile}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload reads the files again and puts the pair in use; when they do not
// load, it returns why and the pair in use stays.
func (c *gatewayCert) reload() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("-tls-cert %s -tls-key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert.Store(&pair)
	return nil
}

// tlsConfig returns the server's TLS configuration, which serves the
// certificate in use.
func (c *gatewayCert) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cert.Load(), nil
		},
	}
}
