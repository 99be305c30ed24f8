package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// ProbeResult is what a node told Probe about itself: its id, the address
// it advertises, how many peers it is connected to and the services it
// publishes (their full names).
type ProbeResult struct {
	ID       string
	Addr     string
	Peers    int
	Services []string
}

// Probe checks that the node listening at addr is alive and answers: it
// connects to it as a caller-only node with cfg's security (cluster key,
// TLS; cfg.Listen and cfg.Seeds are ignored), so a node that refuses the
// key fails the probe too, and asks GET /__heartbeat__ over the mesh's HTTP
// path. It is what a container's health check runs, with no shell and no
// curl (the meshprobe command, runtime/cmd/meshprobe). The probe's own node
// is not announced to the mesh (it has no address) and is closed before
// Probe returns.
func Probe(ctx context.Context, cfg Config, addr string) (ProbeResult, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return ProbeResult{}, fmt.Errorf("meshrpc: probe %q: want host:port: %w", addr, err)
	}
	cfg.Listen, cfg.Advertise, cfg.Seeds, cfg.TrafficDir = "", "", nil, ""
	n, err := NewNode(cfg)
	if err != nil {
		return ProbeResult{}, err
	}
	defer func() {
		shut, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n.Close(shut)
	}()
	p, err := n.dial(ctx, addr)
	if err != nil {
		return ProbeResult{}, fmt.Errorf("meshrpc: probe: %w", err)
	}
	tr := &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			return p.openStream(streamHTTP)
		},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.id+meshHostSuffix+"/__heartbeat__", nil)
	if err != nil {
		return ProbeResult{}, fmt.Errorf("meshrpc: probe %s: %w", addr, err)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return ProbeResult{}, fmt.Errorf("meshrpc: probe %s: heartbeat: %w", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return ProbeResult{}, fmt.Errorf("meshrpc: probe %s: reading the heartbeat: %w", addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		return ProbeResult{}, fmt.Errorf("meshrpc: probe %s: heartbeat answered %s", addr, resp.Status)
	}
	var hb heartbeatAnswer
	if err := json.Unmarshal(body, &hb); err != nil {
		return ProbeResult{}, fmt.Errorf("meshrpc: probe %s: undecodable heartbeat: %w", addr, err)
	}
	res := ProbeResult{ID: hb.ID, Addr: hb.Addr, Peers: hb.Peers}
	for _, s := range hb.Services {
		res.Services = append(res.Services, s.Name)
	}
	return res, nil
}

// ProbeAddr returns the address a probe in the same host or container dials
// to reach a node listening on listen: the loopback address for an
// unspecified host (":11999", "0.0.0.0:11999", "[::]:11999"), listen itself
// otherwise. It fails for a caller-only node (empty listen), which has
// nothing to probe.
func ProbeAddr(listen string) (string, error) {
	if listen == "" {
		return "", fmt.Errorf("meshrpc: a caller-only node (%s=none) listens nowhere: nothing to probe", EnvListen)
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("meshrpc: %s=%q: want host:port: %w", EnvListen, listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}
