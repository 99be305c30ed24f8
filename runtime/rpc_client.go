package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/yamux"
)

// rpcConn is the caller's side of one fast-path stream: many calls in
// flight, told apart by call id. The caller's goroutine queues its request
// and waits for its response; one reader goroutine per stream hands the
// responses out.
type rpcConn struct {
	p  *peer
	st *yamux.Stream
	fw *frameWriter

	mu      sync.Mutex
	pending map[uint64]*pendingCall
	nextID  uint64
	err     error // set once the stream failed

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

func newRPCConn(p *peer, st *yamux.Stream) *rpcConn {
	c := &rpcConn{p: p, st: st, fw: newFrameWriter(st, nil), pending: map[uint64]*pendingCall{}}
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
	pc := pendingPool.Get().(*pendingCall)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		pendingPool.Put(pc)
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
		return 0, nil, &errNotSent{err}
	}
	return id, pc, nil
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
	c.mu.Lock()
	c.err = fmt.Errorf("stream to %s failed: %v", c.p.name(), err)
	pending := c.pending
	c.pending = map[uint64]*pendingCall{}
	c.mu.Unlock()
	c.fw.close(c.err)
	c.st.Close()
	c.p.dropConn(c)
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
