package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/yamux"
)

// peer is one live yamux session to another node.
type peer struct {
	n      *Node
	id     string
	addr   string
	dialer string // id of the node that dialed this connection
	sess   *yamux.Session
	remote string // the connection's remote address, for CallInfo.Peer

	info    atomic.Pointer[peerInfo] // what the peer serves, from its gossip
	leaving atomic.Bool              // announced Close: no new calls
	retired atomic.Bool              // replaced by a duplicate connection

	gossipWake chan struct{} // wakes gossipSender

	openMu  sync.Mutex // held while opening a fast-path stream
	mu      sync.Mutex
	conns   []*rpcConn // fast-path streams this side opened
	next    atomic.Uint32
	pending callCounter // client calls in flight on this peer
	load    peerLoad    // fast-path work the peer gave this node (server side)

	laneCli *rpcConn   // this node's calls on the call lane (lane.go)
	laneSrv *rpcStream // the peer's calls on the call lane
}

// peerInfo is what a peer announces about itself.
type peerInfo struct {
	Version  uint64        `json:"version"`
	Services []ServiceInfo `json:"services"`
	HTTP     []string      `json:"http,omitempty"`
	// Lane, when not 0, says that the node reads lane frames (lane.go) and
	// runs at most that many of one peer's calls at once (its
	// MaxCallsPerPeer). A node that does not announce it gets its calls on
	// 'R' streams.
	Lane int `json:"lane,omitempty"`
}

// newPeer returns the peer of a connection whose remote address is
// remote; its session is set once yamux runs on the connection.
func newPeer(n *Node, id, addr, dialer, remote string) *peer {
	return &peer{n: n, id: id, addr: addr, dialer: dialer, remote: remote, gossipWake: make(chan struct{}, 1)}
}

// name identifies the peer in errors: its address, or its id when it has none.
func (p *peer) name() string {
	if p.addr != "" {
		return p.addr
	}
	return p.id
}

// watch removes the peer from routing as soon as its session ends.
func (p *peer) watch() {
	defer p.n.bg.Done()
	select {
	case <-p.sess.CloseChan():
	case <-p.n.closed:
		<-p.sess.CloseChan()
	}
	p.n.removePeer(p)
	p.n.log.Debug("peer gone", "peer", p.id, "peer_addr", p.addr)
}

// retire stops routing to a duplicate session and closes it once the calls
// on it are done (bounded by the liveness timeout).
func (p *peer) retire() {
	if p.retired.Swap(true) {
		return
	}
	go func() {
		done := make(chan struct{})
		go func() { p.waitClientIdle(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * p.n.cfg.LivenessTimeout):
		}
		p.sess.Close()
	}()
}

// waitClientIdle returns once no client call is in flight on the peer.
func (p *peer) waitClientIdle() { p.pending.wait() }

// acceptStreams serves the streams the peer opens until the session ends.
func (p *peer) acceptStreams() {
	defer p.n.bg.Done()
	for {
		st, err := p.sess.AcceptStream()
		if err != nil {
			return
		}
		go p.serveStream(st)
	}
}

// serveStream reads a stream's kind byte and hands it to its server.
func (p *peer) serveStream(st *yamux.Stream) {
	st.SetReadDeadline(time.Now().Add(p.n.cfg.LivenessTimeout))
	var kind [1]byte
	if _, err := io.ReadFull(st, kind[:]); err != nil {
		st.Close()
		return
	}
	st.SetReadDeadline(time.Time{})
	switch kind[0] {
	case streamRPC:
		p.n.serveRPC(p, st)
	case streamHTTP:
		p.n.http.serveConn(st)
	case streamGossip:
		p.n.receiveGossip(p, st)
	case streamCall:
		p.n.serveStreamCall(p, st)
	default:
		p.n.log.Debug("unknown stream kind; closing", "peer", p.id, "kind", kind[0])
		st.Close()
	}
}

// openStream opens a stream of the given kind.
func (p *peer) openStream(kind byte) (*yamux.Stream, error) {
	st, err := p.sess.OpenStream()
	if err != nil {
		return nil, err
	}
	if _, err := st.Write([]byte{kind}); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// caller returns what a call to the peer goes through: the call lane when
// the peer announced it, else a fast-path stream.
func (p *peer) caller() (*rpcConn, error) {
	if c := p.laneCli; c != nil {
		if info := p.info.Load(); info != nil && info.Lane > 0 {
			if l := int64(info.Lane); c.limit.Load() != l {
				c.limit.Store(l)
			}
			return c, nil
		}
	}
	return p.rpcConn()
}

// rpcConn returns a fast-path stream to the peer, opening one when fewer
// than StreamsPerPeer are open. Streams are picked round robin.
func (p *peer) rpcConn() (*rpcConn, error) {
	if c := p.pickConn(); c != nil {
		return c, nil
	}
	// One opener at a time, so that concurrent first calls open
	// StreamsPerPeer streams, not one each.
	p.openMu.Lock()
	defer p.openMu.Unlock()
	if c := p.pickConn(); c != nil {
		return c, nil
	}
	st, err := p.openStream(streamRPC)
	if err != nil {
		return nil, fmt.Errorf("%w: opening a stream to %s: %v", ErrUnavailable, p.name(), err)
	}
	c := newRPCConn(p, st)
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
	return c, nil
}

// pickConn returns the next open stream round robin, or nil when fewer than
// StreamsPerPeer are open.
func (p *peer) pickConn() *rpcConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.conns) < p.n.cfg.StreamsPerPeer {
		return nil
	}
	// Reduce the counter before converting it: on 32-bit platforms int of
	// a uint32 past math.MaxInt32 is negative.
	return p.conns[p.next.Add(1)%uint32(len(p.conns))]
}

// dropConn forgets a broken fast-path stream.
func (p *peer) dropConn(c *rpcConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.conns {
		if x == c {
			p.conns = append(p.conns[:i], p.conns[i+1:]...)
			return
		}
	}
}

// frameWriter writes the frames of one stream. A goroutine that queues a
// frame while nobody is writing writes it itself, together with whatever
// other goroutines queue meanwhile (they return at once): no goroutine
// hand-off for a lone frame, one write for a burst of them.
//
// A caller must still return when its context ends, even while it writes
// for a peer that stopped reading (yamux then waits for flow-control
// window): queueCtx interrupts such a write with a past write deadline and
// leaves the rest of the buffer to a new goroutine, so the stream stays
// whole and the caller is free.
type frameWriter struct {
	w       net.Conn
	mu      sync.Mutex
	buf     []byte
	frames  int // frames in buf
	spare   []byte
	writing bool
	err     error
	// written, when set, is told how many queued frames, of how many bytes
	// in all, left the writer (handed to yamux, or dropped because the
	// stream failed).
	written func(frames, bytes int)
	// interruptFn (fw.interrupt, allocated once) runs when the context of
	// the goroutine writing ends; it sends on interrupted once the write
	// deadline is set.
	interruptFn func()
	interrupted chan struct{}
}

func newFrameWriter(w net.Conn, written func(frames, bytes int)) *frameWriter {
	fw := &frameWriter{w: w, written: written, interrupted: make(chan struct{}, 1)}
	fw.interruptFn = fw.interrupt
	return fw
}

// interrupt cuts the write in progress short.
func (fw *frameWriter) interrupt() {
	fw.w.SetWriteDeadline(pastDeadline)
	fw.interrupted <- struct{}{}
}

// errWriterClosed is returned for frames queued after the writer stopped.
var errWriterClosed = errors.New("stream writer closed")

// queue appends the parts of one frame and writes the buffer unless another
// goroutine is writing it. It fails only when the stream had already
// failed, in which case nothing of the frame was sent.
func (fw *frameWriter) queue(parts ...[]byte) error { return fw.enqueue(nil, false, parts) }

// queueCtx is queue for a caller that must return when ctx ends: a write
// this goroutine makes is interrupted then, and finished by another one.
func (fw *frameWriter) queueCtx(ctx context.Context, parts ...[]byte) error {
	return fw.enqueue(ctx, false, parts)
}

// queueAsync is queue that never writes in the calling goroutine.
func (fw *frameWriter) queueAsync(parts ...[]byte) error { return fw.enqueue(nil, true, parts) }

func (fw *frameWriter) enqueue(ctx context.Context, async bool, parts [][]byte) error {
	fw.mu.Lock()
	if fw.err != nil {
		err := fw.err
		fw.mu.Unlock()
		return err
	}
	for _, p := range parts {
		fw.buf = append(fw.buf, p...)
	}
	fw.frames++
	if fw.writing {
		fw.mu.Unlock()
		return nil
	}
	fw.writing = true
	fw.mu.Unlock()
	if async {
		go fw.drain(nil, nil, 0, 0)
	} else {
		fw.drain(ctx, nil, 0, 0)
	}
	return nil
}

// pastDeadline interrupts a write at once.
var pastDeadline = time.Unix(1, 0)

// drain is the writer, once fw.writing is set: it writes rest[off:] (the
// k frames an interrupted writer left), then the buffer, until nothing is
// left or the stream failed, and clears fw.writing. When ctx (nil: never)
// ends during a write, the write is cut short and a new goroutine writes
// what is left.
func (fw *frameWriter) drain(ctx context.Context, rest []byte, off, k int) {
	var stop func() bool // disarms the interruption; nil when not armed
	fired := false       // the interruption's signal was received
	disarm := func() {
		if stop != nil && !stop() {
			// The deadline was (or is being) set: clear it before anyone
			// else writes.
			if !fired {
				<-fw.interrupted
			}
			fw.w.SetWriteDeadline(time.Time{})
		}
		stop, fired = nil, false
	}
	fw.mu.Lock()
	for {
		if fw.err != nil || (rest == nil && len(fw.buf) == 0) {
			if stop == nil {
				break
			}
			fw.mu.Unlock()
			disarm()
			fw.mu.Lock()
			continue // frames may have been queued meanwhile
		}
		out, k2 := rest, k
		if out == nil {
			out, k2, off = fw.buf, fw.frames, 0
			fw.buf, fw.frames = fw.spare[:0], 0
		}
		rest = nil
		fw.mu.Unlock()
		if stop == nil && ctx != nil && ctx.Done() != nil {
			stop = context.AfterFunc(ctx, fw.interruptFn)
		}
		n, err := fw.w.Write(out[off:])
		if err != nil && stop != nil && off+n < len(out) {
			select {
			case <-fw.interrupted:
				fired = true
			default:
			}
		}
		if fired {
			// ctx ended: another goroutine writes the rest.
			disarm()
			go fw.drain(nil, out, off+n, k2)
			return
		}
		fw.report(k2, len(out))
		fw.mu.Lock()
		// The buffer just written becomes the next spare, unless it grew
		// too large to keep. Either way the old spare, now fw.buf, must
		// never be handed out twice.
		if cap(out) <= 1<<20 {
			fw.spare = out[:0]
		} else {
			fw.spare = nil
		}
		if err != nil && fw.err == nil {
			fw.err = err
			fw.w.Close()
		}
	}
	dropped, droppedBytes := 0, 0
	if fw.err != nil {
		dropped, droppedBytes = fw.frames, len(fw.buf)
		fw.buf, fw.frames = nil, 0
		if rest != nil {
			// Left by an interrupted writer, never written.
			dropped += k
			droppedBytes += len(rest)
		}
	}
	fw.writing = false
	fw.mu.Unlock()
	fw.report(dropped, droppedBytes)
}

// report tells written about k frames of n bytes that left the writer.
func (fw *frameWriter) report(k, n int) {
	if fw.written != nil && k > 0 {
		fw.written(k, n)
	}
}

// close fails later frames with err; frames still queued are dropped.
func (fw *frameWriter) close(err error) {
	fw.mu.Lock()
	if fw.err == nil {
		fw.err = err
	}
	dropped, droppedBytes := 0, 0
	if !fw.writing {
		dropped, droppedBytes = fw.frames, len(fw.buf)
		fw.buf, fw.frames = nil, 0
	}
	fw.mu.Unlock()
	fw.report(dropped, droppedBytes)
}
