package runtime

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"
)

// This file holds membership (docs/protocol.md, "Membership"): the targets a
// node keeps dialed (seeds, and members it heard of), and the gossip
// messages that tell each peer what a node serves and whom it knows.

// gossipMsg is the one JSON message of a gossip stream.
type gossipMsg struct {
	ID      string      `json:"id"`
	Addr    string      `json:"addr"`
	Leaving bool        `json:"leaving,omitempty"`
	Self    peerInfo    `json:"self"`
	Members []memberRef `json:"members"`
}

// memberRef names a live peer of the sender.
type memberRef struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
}

// maxGossip bounds one gossip message.
const maxGossip = 4 << 20

// memberTTL is how long a member heard of by gossip is dialed without being
// mentioned again; leftTTL how long a leaving node's id is ignored.
const (
	memberTTL = 10 * time.Second
	leftTTL   = time.Minute
)

// gossipLoop wakes every peer's gossip sender when something changed, and
// one random peer's every GossipInterval. Each peer has its own sender, so a
// stalled peer delays no one else.
func (n *Node) gossipLoop() {
	defer n.bg.Done()
	t := time.NewTicker(n.cfg.GossipInterval)
	defer t.Stop()
	for {
		all := false
		select {
		case <-n.closed:
			return
		case <-t.C:
		case <-n.pushCh:
			all = true
		}
		n.mu.Lock()
		peers := make([]*peer, 0, len(n.peers))
		for _, p := range n.peers {
			peers = append(peers, p)
		}
		for id, at := range n.left {
			if time.Since(at) > leftTTL {
				delete(n.left, id)
			}
		}
		n.mu.Unlock()
		if !all && len(peers) > 1 {
			i := rand.IntN(len(peers))
			peers = peers[i : i+1]
		}
		for _, p := range peers {
			p.wakeGossip()
		}
	}
}

// tellCallers tells the caller-only peers (those without an address) at
// once of a new peer. The others need not hear of it from this node: a
// new peer dials every member its first gossip names, so they learn of it
// from itself, and the random gossip of each interval fills in the rest.
// A caller-only peer is dialed by no one and learns only from the peers
// it dialed. Pushing to every peer on every connection, as nodes once
// did, cost a mesh of n nodes n² messages per join and kept 50 nodes on
// 2 cores from ever converging (BenchmarkMeshScale, docs/deploy.md).
func (n *Node) tellCallers(newPeer *peer) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, p := range n.peers {
		if p != newPeer && p.addr == "" {
			p.wakeGossip()
		}
	}
}

// pushGossip asks the gossip loop to tell every peer now.
func (n *Node) pushGossip() {
	select {
	case n.pushCh <- struct{}{}:
	default:
	}
}

// wakeGossip asks p's gossip sender to send the node's current view.
func (p *peer) wakeGossip() {
	select {
	case p.gossipWake <- struct{}{}:
	default:
	}
}

// gossipSender sends the node's view to p whenever woken, until the session
// or the node ends. It sends once at start.
func (p *peer) gossipSender() {
	defer p.n.bg.Done()
	for {
		p.n.sendGossip(p)
		select {
		case <-p.gossipWake:
		case <-p.sess.CloseChan():
			return
		case <-p.n.closed:
			return
		}
	}
}

// message builds this node's gossip message.
func (n *Node) message(leaving bool) gossipMsg {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := gossipMsg{ID: n.id, Addr: n.addr, Leaving: leaving, Self: n.selfInfoLocked()}
	for _, p := range n.peers {
		if !p.leaving.Load() && p.addr != "" {
			m.Members = append(m.Members, memberRef{ID: p.id, Addr: p.addr})
		}
	}
	return m
}

// sendGossip opens a gossip stream to p and writes the message.
func (n *Node) sendGossip(p *peer) { n.sendMessage(p, n.message(false)) }

// sendLeave tells p that this node is leaving.
func (n *Node) sendLeave(p *peer) { n.sendMessage(p, n.message(true)) }

func (n *Node) sendMessage(p *peer, m gossipMsg) {
	data, err := json.Marshal(m)
	if err != nil {
		n.log.Error("encoding gossip", "err", err)
		return
	}
	st, err := p.openStream(streamGossip)
	if err != nil {
		n.log.Debug("gossip: opening stream", "peer", p.id, "err", err)
		return
	}
	defer st.Close()
	st.SetWriteDeadline(time.Now().Add(n.cfg.LivenessTimeout))
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(data)), uint32(len(data)))
	if _, err := st.Write(append(b, data...)); err != nil {
		n.log.Debug("gossip: sending", "peer", p.id, "err", err)
	}
}

// receiveGossip reads one message from p and applies it.
func (n *Node) receiveGossip(p *peer, st net.Conn) {
	defer st.Close()
	st.SetReadDeadline(time.Now().Add(n.cfg.LivenessTimeout))
	var hdr [4]byte
	if _, err := io.ReadFull(st, hdr[:]); err != nil {
		return
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size > maxGossip {
		n.log.Warn("gossip message over the limit; ignored", "peer", p.id, "bytes", size)
		return
	}
	data, err := io.ReadAll(io.LimitReader(st, int64(size)))
	if err != nil || len(data) != int(size) {
		return
	}
	var m gossipMsg
	if err := json.Unmarshal(data, &m); err != nil || m.ID != p.id {
		n.log.Warn("malformed gossip; ignored", "peer", p.id, "err", err)
		return
	}
	n.apply(p, m)
}

// apply records what p says about itself and dials the members it knows.
func (n *Node) apply(p *peer, m gossipMsg) {
	n.mu.Lock()
	if n.closing {
		n.mu.Unlock()
		return
	}
	changed := false
	if cur := p.info.Load(); cur == nil || m.Self.Version > cur.Version || (m.Self.Version == cur.Version && cur.Services == nil && cur.HTTP == nil) {
		info := m.Self
		p.info.Store(&info)
		changed = true
	}
	if m.Leaving && !p.leaving.Swap(true) {
		n.left[p.id] = time.Now()
		changed = true
		n.log.Debug("peer leaving", "peer", p.id)
	}
	if changed {
		n.rebuildRoutesLocked()
	}
	var dial []string
	for _, mem := range m.Members {
		if mem.ID == n.id || mem.Addr == "" || mem.Addr == n.addr {
			continue
		}
		if _, left := n.left[mem.ID]; left {
			continue
		}
		if _, ok := n.peers[mem.ID]; ok {
			continue
		}
		dial = append(dial, mem.Addr)
	}
	n.mu.Unlock()
	for _, a := range dial {
		n.ensureTarget(a, targetGossip)
	}
}

// targetKind says why a node keeps an address dialed.
type targetKind int

const (
	targetGossip targetKind = iota // heard of by gossip: dropped when no longer mentioned
	targetSeed                     // a seed or Join address: dialed for the node's life
)

// target is an address a node keeps a connection to.
type target struct {
	addr      string
	kind      targetKind
	mentioned time.Time
	peerID    string        // id of the node reached there, once known
	connected chan struct{} // closed at the first connection
	err       error         // last dial error
	self      bool
}

// ensureTarget starts keeping addr dialed, or refreshes an existing target.
func (n *Node) ensureTarget(addr string, kind targetKind) *target {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.selfAddrs[addr] {
		t := &target{addr: addr, kind: kind, connected: make(chan struct{}), self: true}
		close(t.connected)
		return t
	}
	if t := n.targets[addr]; t != nil {
		t.mentioned = time.Now()
		if kind > t.kind {
			t.kind = kind
		}
		return t
	}
	t := &target{addr: addr, kind: kind, mentioned: time.Now(), connected: make(chan struct{})}
	if n.closing {
		t.err = ErrNodeClosed
		return t
	}
	n.targets[addr] = t
	n.bg.Add(1)
	go n.keepDialed(t)
	return t
}

// waitTarget returns once t has been connected (or found to be this node),
// or ctx ended: then the error names the last dial failure.
func (n *Node) waitTarget(ctx context.Context, t *target) error {
	select {
	case <-t.connected:
		return nil
	case <-n.closed:
		return ErrNodeClosed
	case <-ctx.Done():
		n.mu.Lock()
		last := t.err
		n.mu.Unlock()
		if last != nil {
			return fmt.Errorf("%w (last attempt: %v)", ctx.Err(), last)
		}
		return ctx.Err()
	}
}

// keepDialed dials t whenever no session to it is live, with exponential
// backoff between failures, until the node closes, t turns out to be this
// node, or (gossip targets) nobody mentioned it for memberTTL.
func (n *Node) keepDialed(t *target) {
	defer n.bg.Done()
	defer func() {
		n.mu.Lock()
		if n.targets[t.addr] == t {
			delete(n.targets, t.addr)
		}
		n.mu.Unlock()
	}()
	backoff := n.cfg.ReconnectMin
	for {
		ch, live, stop := n.targetState(t)
		if stop {
			return
		}
		if live {
			select {
			case <-ch:
				continue
			case <-n.closed:
				return
			}
		}
		p, err := n.dial(n.base, t.addr)
		if err == nil {
			n.mu.Lock()
			t.peerID = p.id
			t.markConnected()
			n.mu.Unlock()
			backoff = n.cfg.ReconnectMin
			continue
		}
		if errors.Is(err, errSelf) {
			n.log.Debug("target is this node", "target", t.addr)
			n.mu.Lock()
			n.selfAddrs[t.addr] = true
			t.self = true
			t.markConnected()
			n.mu.Unlock()
			return
		}
		n.log.Log(context.Background(), refusalLevel(err), "dial failed", "target", t.addr, "err", err, "retry_in", backoff)
		n.mu.Lock()
		t.err = err
		n.mu.Unlock()
		wait := backoff/2 + rand.N(backoff/2+1)
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-n.closed:
			timer.Stop()
			return
		}
		backoff = min(2*backoff, n.cfg.ReconnectMax)
	}
}

// markConnected releases Join's wait for t. n.mu must be held.
func (t *target) markConnected() {
	select {
	case <-t.connected:
	default:
		close(t.connected)
	}
}

// targetState reports whether t has a live session (and a channel closed at
// the next change), or whether the node should stop dialing it.
func (n *Node) targetState(t *target) (changes <-chan struct{}, live, stop bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closing {
		return nil, false, true
	}
	if t.peerID != "" {
		if _, ok := n.peers[t.peerID]; ok {
			t.markConnected()
			return n.changed, true, false
		}
		if _, left := n.left[t.peerID]; left && t.kind == targetGossip {
			return nil, false, true
		}
	}
	for _, p := range n.peers {
		if p.addr == t.addr {
			// The node at this address dialed us first: as good as a dial.
			t.peerID = p.id
			t.markConnected()
			return n.changed, true, false
		}
	}
	if t.kind == targetGossip && time.Since(t.mentioned) > memberTTL {
		return nil, false, true
	}
	return nil, false, false
}

// seedLoop resolves the seed names now and every ResolveInterval, and keeps
// every address they resolve to dialed (new replicas behind one DNS name are
// found this way).
func (n *Node) seedLoop(seeds []string) {
	defer n.bg.Done()
	t := time.NewTicker(n.cfg.ResolveInterval)
	defer t.Stop()
	resolved := map[string]bool{} // addresses the seeds stood for last time
	for {
		now := map[string]bool{}
		for _, s := range seeds {
			for _, a := range n.resolve(s) {
				now[a] = true
				n.ensureTarget(a, targetSeed)
			}
		}
		// An address a name no longer resolves to is kept only while
		// gossip mentions it.
		n.mu.Lock()
		for a := range resolved {
			if t := n.targets[a]; t != nil && !now[a] && t.kind == targetSeed && !n.joined[a] {
				t.kind, t.mentioned = targetGossip, time.Now()
			}
		}
		n.mu.Unlock()
		resolved = now
		select {
		case <-t.C:
		case <-n.closed:
			return
		}
	}
}

// resolve returns the addresses a seed stands for: one per IP of its host,
// or the seed itself when it is an IP or does not resolve.
func (n *Node) resolve(seed string) []string {
	host, port, err := net.SplitHostPort(seed)
	if err != nil || net.ParseIP(host) != nil {
		return []string{seed}
	}
	ctx, cancel := context.WithTimeout(n.base, n.cfg.DialTimeout)
	defer cancel()
	r := n.cfg.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ips, err := r.LookupHost(ctx, host)
	if err != nil || len(ips) == 0 {
		n.log.Debug("resolving seed failed", "seed", seed, "err", err)
		return []string{seed}
	}
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, net.JoinHostPort(ip, port))
	}
	return out
}

// String describes a target for logs.
func (t *target) String() string { return fmt.Sprintf("%s (%v)", t.addr, t.kind) }
