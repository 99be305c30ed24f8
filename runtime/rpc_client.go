package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/yamux"
)

// rpcConn is the caller's side of one fast-path stream, or of the peer's
// call lane (lane.go): many calls in flight, told apart by call id. The
// caller's goroutine queues its request and waits for its response; one
// reader goroutine per stream hands the responses out (for the lane, the
// connection's reader).
type rpcConn struct {
	p  *peer
	st *yamux.Stream // nil for the lane
	fw frameSink

	mu      sync.Mutex
	pending map[uint64]*pendingCall
	nextID  uint64
	err     error // set once the stream failed

	// On the lane, limit is the peer's bound on the calls it runs for this
	// node (MaxCallsPerPeer, from its gossip; 0: none). A call waits before
	// sending while limit calls have no response yet, so that the peer
	// never has to refuse one: inflight counts the requests sent whose
	// response (even one of a cancelled call) has not come.
	limit    atomic.Int64
	inflight atomic.Int64
	waiting  atomic.Int32
	room     chan struct{} // closed when a response came; nil when nobody waits

	// registered, when set (tests only), runs in start between registering
	// a call and queueing its request: the moment a failing stream can
	// take the call over.
	registered func(id uint64, pc *pendingCall)
}

// pendingCall is one call waiting for its response.
type pendingCall struct {
	done chan struct{} // receives one value when resp or err is set
	resp frame
	err  error
}

var pendingPool = sync.Pool{New: func() any { return &pendingCall{done: make(chan struct{}, 1)} }}

// newLaneClient returns the caller's side of p's call lane on lc.
func newLaneClient(p *peer, lc *laneConn) *rpcConn {
	return &rpcConn{p: p, fw: frameSink{lane: lc}, pending: map[uint64]*pendingCall{}}
}

func newRPCConn(p *peer, st *yamux.Stream) *rpcConn {
	c := &rpcConn{p: p, st: st, fw: frameSink{fw: newFrameWriter(st, nil)}, pending: map[uint64]*pendingCall{}}
	go c.readLoop()
	return c
}

// errNotSent marks a send failure that happened before any byte of the
// request left: the call may safely go to another node.
type errNotSent struct{ err error }

func (e *errNotSent) Error() string { return e.err.Error() }
func (e *errNotSent) Unwrap() error { return e.err }

// start registers a call and queues its request frame (header, then the
// request header, then the message bytes). On error the call is not
// registered and nothing was sent. It returns when ctx ends even if it was
// writing for a peer that stopped reading.
func (c *rpcConn) start(ctx context.Context, reqHdr, body []byte) (uint64, *pendingCall, error) {
	limited := c.limit.Load() > 0
	if limited {
		if err := c.acquireSlot(ctx); err != nil {
			return 0, nil, &errNotSent{err}
		}
	}
	pc := pendingPool.Get().(*pendingCall)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		pendingPool.Put(pc)
		if limited {
			c.releaseSlot()
		}
		return 0, nil, &errNotSent{err}
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = pc
	c.mu.Unlock()
	if c.registered != nil {
		c.registered(id, pc)
	}

	var hdr [frameHeaderLen]byte
	appendFrameHeader(hdr[:0], frameRequest, id, len(reqHdr)+len(body))
	if err := c.fw.queueCtx(ctx, hdr[:], reqHdr, body); err != nil {
		c.release(id, pc)
		if limited {
			c.releaseSlot()
		}
		return 0, nil, &errNotSent{err}
	}
	return id, pc, nil
}

// acquireSlot waits until fewer than c.limit calls await their response,
// and counts this one. It returns ctx's error when ctx ends first, and the
// lane's when it failed.
//
// A waiter counts itself in waiting before it checks inflight again, and
// releaseSlot lowers inflight before it reads waiting (sequentially
// consistent atomics): either the waiter sees the room, or the releaser
// sees the waiter and closes the channel it holds.
func (c *rpcConn) acquireSlot(ctx context.Context) error {
	for {
		if c.inflight.Add(1) <= c.limit.Load() {
			return nil
		}
		c.inflight.Add(-1)
		c.mu.Lock()
		c.waiting.Add(1)
		if c.room == nil {
			c.room = make(chan struct{})
		}
		ch, err := c.room, c.err
		c.mu.Unlock()
		if err == nil && c.inflight.Load() >= c.limit.Load() {
			select {
			case <-ch:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		c.waiting.Add(-1)
		if err != nil {
			return err
		}
	}
}

// releaseSlot ends the count of a call acquireSlot counted: its response
// came, or its request was never sent.
func (c *rpcConn) releaseSlot() {
	// Never below zero, whatever responses a peer sends.
	for {
		n := c.inflight.Load()
		if n <= 0 {
			return
		}
		if c.inflight.CompareAndSwap(n, n-1) {
			break
		}
	}
	if c.inflight.Load() < c.limit.Load() && c.waiting.Load() > 0 {
		c.mu.Lock()
		if c.room != nil {
			close(c.room)
			c.room = nil
		}
		c.mu.Unlock()
	}
}

// release takes call id back from the stream and returns its record to the
// pool. When the read loop took the call over first (the stream failed, or
// a response came), it completes the record exactly once: release waits for
// that completion, so that the record never reaches the pool still to be
// completed, handing a stale result to the next call that draws it.
func (c *rpcConn) release(id uint64, pc *pendingCall) {
	if !c.forget(id) {
		<-pc.done
		putBuf(pc.resp.buf)
	}
	*pc = pendingCall{done: pc.done}
	pendingPool.Put(pc)
}

// forget removes a call; it reports whether the call was still pending
// (false: the reader already delivered its response or failure).
func (c *rpcConn) forget(id uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pending[id]; !ok {
		return false
	}
	delete(c.pending, id)
	return true
}

// cancel abandons a call whose context ended: the server is told to cancel
// it, and a late response will be dropped.
func (c *rpcConn) cancel(id uint64, pc *pendingCall) {
	c.release(id, pc)
	var f [frameHeaderLen]byte
	appendFrameHeader(f[:0], frameCancel, id, 0)
	// The caller is returning: never make it write.
	c.fw.queueAsync(f[:])
}

// readLoop hands responses to their calls until the stream fails, then
// fails every pending call with ErrConnLost.
func (c *rpcConn) readLoop() {
	r := newFrameReader(c.st)
	var err error
	for {
		var f frame
		f, err = r.read(c.p.n.cfg.MaxBody + 64<<10)
		if err != nil {
			var big *errFrameTooLarge
			if errors.As(err, &big) {
				c.deliver(big.id, frame{}, fmt.Errorf("%w: response of %d bytes over the %d-byte limit", ErrTooLarge, big.size, c.p.n.cfg.MaxBody))
				continue
			}
			break
		}
		if f.kind != frameResponse {
			putBuf(f.buf)
			err = fmt.Errorf("%w: unexpected frame kind %d from the server", ErrMalformed, f.kind)
			break
		}
		c.deliver(f.id, f, nil)
	}
	c.fail(err)
}

// fail ends the stream or lane after its reading failed with err: later
// calls are not sent, every pending call fails with ErrConnLost.
func (c *rpcConn) fail(err error) {
	what := "stream"
	if c.st == nil {
		what = "connection"
	}
	c.mu.Lock()
	c.err = fmt.Errorf("%s to %s failed: %v", what, c.p.name(), err)
	pending := c.pending
	c.pending = map[uint64]*pendingCall{}
	if c.room != nil {
		close(c.room)
		c.room = nil
	}
	c.mu.Unlock()
	c.fw.close(c.err)
	if c.st != nil {
		c.st.Close()
		c.p.dropConn(c)
	}
	for _, pc := range pending {
		pc.err = fmt.Errorf("%w: %v", ErrConnLost, err)
		pc.done <- struct{}{}
	}
}

// deliver completes call id with f or err; unknown ids (cancelled calls)
// are dropped.
func (c *rpcConn) deliver(id uint64, f frame, err error) {
	c.mu.Lock()
	pc := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if pc == nil {
		putBuf(f.buf)
		return
	}
	pc.resp, pc.err = f, err
	pc.done <- struct{}{}
}
