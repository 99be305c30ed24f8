package runtime

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultPort is the mesh port a node listens on, and the port added to
// seed addresses that name none.
const DefaultPort = 11999

// DefaultMaxBody is the default limit of one request or response body.
const DefaultMaxBody = 16 << 20

// Default bounds of the work one peer may hand a node (Config's
// MaxCallsPerStream, MaxCallsPerPeer, MaxQueuedPerStream, MaxQueuedPerPeer).
const (
	DefaultMaxCallsPerStream  = 1024
	DefaultMaxCallsPerPeer    = 4096
	DefaultMaxQueuedPerStream = 4 << 20
	DefaultMaxQueuedPerPeer   = 16 << 20
)

// Config configures a Node. Start from DefaultConfig (or ConfigFromEnv) and
// change what you need; NewNode calls Validate.
type Config struct {
	// Listen is the TCP address the node accepts peers on (":11999",
	// "127.0.0.1:0"). Empty: the node only dials (a caller-only node).
	Listen string
	// Advertise is the address other nodes dial to reach this one. Empty:
	// the listener's address, with an unspecified host replaced by the
	// host's first non-loopback address (127.0.0.1 when there is none).
	Advertise string
	// Seeds are host:port addresses dialed at start and whenever the link
	// to them drops; names are re-resolved every ResolveInterval.
	Seeds []string
	// Resolver looks up the host names of Seeds. Nil: net.DefaultResolver.
	Resolver *net.Resolver
	// ClusterKey, when set, must be known to every peer, and protects every
	// mesh connection: TLS 1.3 with certificates derived from it (each node
	// derives the cluster CA from the key and signs certificates naming its
	// node id). At least 16 bytes, and random: whoever can reach a node can
	// test guesses of the key offline.
	ClusterKey []byte
	// TLS, when set, wraps every mesh connection: it is used as the server
	// config for accepted connections and as the client config for dialed
	// ones (set Certificates, RootCAs, ClientCAs and ClientAuth
	// tls.RequireAndVerifyClientCert; TLS 1.3 is required). With a
	// ClusterKey as well, each side also proves the key inside the TLS
	// session: a peer needs both.
	TLS *tls.Config
	// Insecure lets a node without ClusterKey or TLS listen on an address
	// other hosts can reach. Without it such a node refuses to start: an
	// open mesh port would serve every method to anyone (MESHRPC_INSECURE=1).
	Insecure bool
	// MaxBody limits one request or response body in bytes.
	MaxBody int
	// DialTimeout bounds one dial plus handshake.
	DialTimeout time.Duration
	// KeepAlive is the interval of the yamux keepalive ping.
	KeepAlive time.Duration
	// LivenessTimeout is how long a ping or a write may take before the peer
	// is declared dead and its connection closed. A peer that dies without
	// closing its connection is removed within KeepAlive+LivenessTimeout.
	LivenessTimeout time.Duration
	// GossipInterval is how often a node tells one peer what it knows.
	GossipInterval time.Duration
	// ResolveInterval is how often seed names are resolved again.
	ResolveInterval time.Duration
	// ReconnectMin and ReconnectMax bound the backoff between dials of a
	// lost peer.
	ReconnectMin, ReconnectMax time.Duration
	// RouteWait is how long after the node's start a call waits for a node
	// that serves its service when none is known (the mesh is still
	// forming), within the call's own deadline. After that, a call to a
	// service with no live node fails at once with ErrUnavailable.
	RouteWait time.Duration
	// StreamsPerPeer is the number of fast-path streams a caller opens to
	// each peer; calls are multiplexed over them.
	StreamsPerPeer int
	// MaxCallsPerStream bounds the calls this node runs at once for one
	// fast-path stream, and MaxCallsPerPeer for all the streams of one
	// peer. MaxQueuedPerStream and MaxQueuedPerPeer bound, in bytes, the
	// responses queued for a peer that yamux has not taken yet (the peer
	// reads them slower than they are made). A peer at any of them waits:
	// its streams are not read until calls end and responses leave, so
	// yamux's flow control holds its further requests on its side.
	MaxCallsPerStream, MaxCallsPerPeer   int
	MaxQueuedPerStream, MaxQueuedPerPeer int
	// Logger receives the node's logs. Nil: quiet (MESHRPC_DEBUG=1 makes
	// ConfigFromEnv set a debug logger on stderr).
	Logger *slog.Logger
	// TrafficDir, when set, is a directory where the node records every
	// call its clients make, one JSON line per call in a file of its own
	// (MESHRPC_TRAFFIC; meshsplit verify reads them). Empty: nothing is
	// recorded.
	TrafficDir string
	// ClientInterceptors wrap every call the node's clients make, and
	// ServerInterceptors every call it serves, the first outermost; those
	// registered with Instrument run inside them. None: the call path is
	// unchanged.
	ClientInterceptors []ClientInterceptor
	ServerInterceptors []ServerInterceptor
}

// DefaultConfig returns the defaults: listen on :11999, 16 MiB bodies,
// keepalive every second and a dead peer removed within about 4 seconds.
func DefaultConfig() Config {
	return Config{
		Listen:          ":" + strconv.Itoa(DefaultPort),
		MaxBody:         DefaultMaxBody,
		DialTimeout:     5 * time.Second,
		KeepAlive:       time.Second,
		LivenessTimeout: 3 * time.Second,
		GossipInterval:  500 * time.Millisecond,
		ResolveInterval: 10 * time.Second,
		ReconnectMin:    50 * time.Millisecond,
		ReconnectMax:    5 * time.Second,
		RouteWait:       5 * time.Second,
		StreamsPerPeer:  2,

		MaxCallsPerStream:  DefaultMaxCallsPerStream,
		MaxCallsPerPeer:    DefaultMaxCallsPerPeer,
		MaxQueuedPerStream: DefaultMaxQueuedPerStream,
		MaxQueuedPerPeer:   DefaultMaxQueuedPerPeer,
	}
}

// Validate reports the first unusable value, naming it.
func (c *Config) Validate() error {
	if err := c.validateValues(); err != nil {
		return err
	}
	if c.Listen != "" && len(c.ClusterKey) == 0 && c.TLS == nil && !c.Insecure && !LoopbackOnly(c.Listen) {
		return fmt.Errorf("listen address %q accepts peers from other hosts, but neither a cluster key nor TLS is set: set %s (or %s, %s and %s), listen on 127.0.0.1, or set %s=1 to serve anyone who connects",
			c.Listen, EnvClusterKey, EnvTLSCert, EnvTLSKey, EnvTLSCA, EnvInsecure)
	}
	return nil
}

// validateValues reports the first value that is unusable on its own;
// Validate adds the checks that combine several (an open port needs a key).
func (c *Config) validateValues() error {
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			return fmt.Errorf("listen address %q: %w", c.Listen, err)
		}
	}
	for _, s := range c.Seeds {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return fmt.Errorf("seed %q: want host:port: %w", s, err)
		}
	}
	if t := c.TLS; t != nil && t.ClientAuth != tls.RequireAndVerifyClientCert && t.VerifyPeerCertificate == nil && t.VerifyConnection == nil && t.GetConfigForClient == nil {
		return fmt.Errorf("config: TLS.ClientAuth is %v: set tls.RequireAndVerifyClientCert (and ClientCAs), or a node would accept peers without a certificate", t.ClientAuth)
	}
	if n := len(c.ClusterKey); n > 0 && n < minClusterKey {
		return fmt.Errorf("cluster key (%s) is %d bytes: use at least %d random bytes, such as the output of `openssl rand -hex 32`, since anyone who can reach a node can test guesses of the key offline",
			EnvClusterKey, n, minClusterKey)
	}
	checks := []struct {
		name string
		bad  bool
	}{
		{"MaxBody must be between 1 byte and 1 GiB", c.MaxBody <= 0 || c.MaxBody > 1<<30},
		{"DialTimeout must be positive", c.DialTimeout <= 0},
		{"KeepAlive must be positive", c.KeepAlive <= 0},
		{"LivenessTimeout must be positive", c.LivenessTimeout <= 0},
		{"GossipInterval must be positive", c.GossipInterval <= 0},
		{"ResolveInterval must be positive", c.ResolveInterval <= 0},
		{"ReconnectMin must be positive and at most ReconnectMax", c.ReconnectMin <= 0 || c.ReconnectMin > c.ReconnectMax},
		{"RouteWait must not be negative", c.RouteWait < 0},
		{"StreamsPerPeer must be between 1 and 64", c.StreamsPerPeer < 1 || c.StreamsPerPeer > 64},
		{"MaxCallsPerStream must be positive and at most MaxCallsPerPeer", c.MaxCallsPerStream < 1 || c.MaxCallsPerStream > c.MaxCallsPerPeer},
		{"MaxQueuedPerStream must be positive and at most MaxQueuedPerPeer", c.MaxQueuedPerStream < 1 || c.MaxQueuedPerStream > c.MaxQueuedPerPeer},
	}
	for _, ch := range checks {
		if ch.bad {
			return errors.New("config: " + ch.name)
		}
	}
	return nil
}

// Environment variables read by ConfigFromEnv, Remote and Connect.
const (
	EnvRemote     = "MESHRPC_REMOTE"        // services to call remotely: "inventory.Service,payments.Gateway" or "*"
	EnvLoopback   = "MESHRPC_LOOPBACK"      // "1": serve remote services in process over 127.0.0.1 (tests)
	EnvListen     = "MESHRPC_LISTEN"        // listen address, default ":11999"; "none" for a caller-only node
	EnvAdvertise  = "MESHRPC_ADVERTISE"     // address peers dial, default derived from the listener
	EnvNodes      = "MESHRPC_CLUSTER_NODES" // seeds: "host:port,host" (port 11999 added when missing)
	EnvClusterKey = "MESHRPC_CLUSTER_KEY"   // shared secret (≥ 16 random bytes): TLS 1.3 with certificates derived from it
	EnvTLSCert    = "MESHRPC_TLS_CERT"      // PEM certificate file of this node
	EnvTLSKey     = "MESHRPC_TLS_KEY"       // PEM key file of this node
	EnvTLSCA      = "MESHRPC_TLS_CA"        // PEM CA file that signs every node's certificate
	EnvInsecure   = "MESHRPC_INSECURE"      // "1": listen beyond loopback without a cluster key or TLS
	EnvDebug      = "MESHRPC_DEBUG"         // "1": debug logs on stderr
	EnvMaxBody    = "MESHRPC_MAX_BODY"      // body limit in bytes
	EnvDeadAfter  = "MESHRPC_DEAD_AFTER"    // liveness timeout, a Go duration ("3s")
)

// ConfigFromEnv returns DefaultConfig with the MESHRPC_* variables applied.
// An invalid value is an error naming the variable. Checks that combine
// several settings (a listener open to other hosts needs a cluster key or
// TLS) are left to Validate, which NewNode and CheckEnv call, so that a
// caller can still change the result (a caller-only node clears Listen).
func ConfigFromEnv() (Config, error) {
	return configFrom(os.Getenv)
}

// configFrom is ConfigFromEnv over any variable lookup (for tests).
func configFrom(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	if v := strings.TrimSpace(getenv(EnvListen)); v != "" {
		if v == "none" {
			c.Listen = ""
		} else {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return c, fmt.Errorf("%s=%q: want host:port, :port or none: %w", EnvListen, v, err)
			}
			c.Listen = v
		}
	}
	c.Advertise = strings.TrimSpace(getenv(EnvAdvertise))
	if v := getenv(EnvNodes); strings.TrimSpace(v) != "" {
		seeds, err := parseSeeds(v)
		if err != nil {
			return c, fmt.Errorf("%s=%q: %w", EnvNodes, v, err)
		}
		c.Seeds = seeds
	}
	if v := getenv(EnvClusterKey); v != "" {
		c.ClusterKey = []byte(v)
	}
	if v := strings.TrimSpace(getenv(EnvMaxBody)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("%s=%q: want a positive number of bytes", EnvMaxBody, v)
		}
		c.MaxBody = n
	}
	if v := strings.TrimSpace(getenv(EnvDeadAfter)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("%s=%q: want a positive Go duration such as 3s", EnvDeadAfter, v)
		}
		c.LivenessTimeout = d
	}
	cert, key, ca := getenv(EnvTLSCert), getenv(EnvTLSKey), getenv(EnvTLSCA)
	if cert != "" || key != "" || ca != "" {
		t, err := loadTLS(cert, key, ca)
		if err != nil {
			return c, err
		}
		c.TLS = t
	}
	if v := strings.TrimSpace(getenv(EnvInsecure)); v != "" && v != "0" && v != "false" {
		c.Insecure = true
	}
	if v := getenv(EnvDebug); v != "" && v != "0" {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c.TrafficDir = getenv(EnvTraffic)
	return c, c.validateValues()
}

// LoopbackOnly reports whether a listen address accepts connections from
// this host only: a loopback IP or "localhost". An empty host (":11999") or
// 0.0.0.0 listens on every interface. Nodes refuse to listen beyond loopback
// without a cluster key or TLS; meshsplit gateway without tokens, likewise.
func LoopbackOnly(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseSeeds splits a comma-separated seed list and adds the default port
// where an entry names none.
func parseSeeds(v string) ([]string, error) {
	var seeds []string
	for i, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(s); err != nil {
			if strings.Contains(s, ":") && !strings.HasPrefix(s, "[") {
				return nil, fmt.Errorf("entry %d %q: want host or host:port", i+1, s)
			}
			s = net.JoinHostPort(strings.Trim(s, "[]"), strconv.Itoa(DefaultPort))
		}
		seeds = append(seeds, s)
	}
	return seeds, nil
}

// loadTLS builds a mutual-TLS config from PEM files: every node presents
// cert/key and verifies its peer against ca.
func loadTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" || caFile == "" {
		return nil, fmt.Errorf("%s, %s and %s must be set together (got cert %q, key %q, ca %q)",
			EnvTLSCert, EnvTLSKey, EnvTLSCA, certFile, keyFile, caFile)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", EnvTLSCert, EnvTLSKey, err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvTLSCA, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s=%q: no PEM certificate found", EnvTLSCA, caFile)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}, nil
}

// quietLogger discards everything.
var quietLogger = slog.New(slog.DiscardHandler)
