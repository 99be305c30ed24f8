package runtime

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	stdruntime "runtime"
	"sync"
	"time"
)

// This file holds the call lane (docs/protocol.md, "The call lane"): the
// fast path's frames travel on the peer connection itself, between yamux's
// frames, instead of inside a yamux stream. A lane frame is the byte 'L'
// followed by a fast-path frame ([u32 length][u8 kind][u64 call id]
// [payload]); a yamux frame opens with yamux's version, 0. The lane
// removes yamux's goroutine hand-offs from a unary call: the caller writes
// its own request and, when the connection is otherwise idle, reads its
// own response; the goroutine of the previous call reads the next request
// and runs it; the handler writes its own response (laneConn's read role
// below). Everything else reaches yamux's receive loop as before.

// laneMark opens every lane frame.
const laneMark byte = 'L'

// yamux header layout (spec.md of hashicorp/yamux): version, type, flags
// (2 bytes), stream id (4), length (4). Only a data frame has a body, of
// length bytes.
const (
	yamuxHeaderSize = 12
	yamuxTypeData   = 0
)

// maxPending bounds the bytes queued in a laneConn, and those its sockConn
// holds for its flusher.
const maxPending = 4 << 20

// laneConn is the net.Conn yamux runs on. It reads the peer connection
// frame by frame: yamux's frames pass through to yamux, lane frames are
// handled on the spot (p.laneFrame). It writes as a combining writer:
// whoever writes while nobody else is writing does the write itself, then
// writes what others queued meanwhile; the others only queue. A lane frame
// never lands between a yamux data header and its body (yamux writes them
// with two Writes): it waits aside until the body is queued.
type laneConn struct {
	net.Conn // the peer connection: TLS over sock, or sock itself
	sock     *sockConn
	p        *peer
	ready    chan struct{} // closed once p is complete
	stall    time.Duration // longest wait for room before the connection is given up

	// Read side: whoever holds the read role (below), usually yamux's
	// receive loop.
	rb         []byte
	r, w       int
	rerr       error // a read error met while filling rb, returned once rb is used up
	pass       int64 // bytes of the current yamux frame not yet passed to yamux
	isReady    bool
	failed     error
	dispatched bool // the receive loop handled a lane frame since it last returned bytes
	bulk       bool // the last yamux frame was a data frame of laneReadBuf bytes or more

	// The read role: one goroutine at a time reads the connection. The
	// receive loop holds it by default; after it handled a lane frame with
	// nothing more buffered and no call of this node waiting, it gives the
	// role up for laneGrace, so that the goroutine about to wait for the
	// lane's next frame (a caller for its response, a handler goroutine for
	// the next request) takes it and reads the socket itself, with no
	// goroutine hand-off. Another holder gives the role back to the receive
	// loop at once when it meets a yamux frame, a frame too large for the
	// buffer or an error, and when it leaves with bytes buffered or with
	// other calls of this node waiting; otherwise it leaves it free. A
	// timer armed whenever the role is left free gives it back to the
	// receive loop if it is free when the timer fires, at most laneGrace
	// later.
	roleMu     sync.Mutex
	held       bool          // someone holds the role
	recvHolds  bool          // the receive loop holds it (read by the receive loop only)
	recvWant   bool          // the receive loop waits for the role
	recvCh     chan struct{} // the role was given to the receive loop
	graceArmed bool
	grace      *time.Timer
	leadGen    uint64 // counts the leads of callers, for their interruption
	intr       bool   // a caller's lead was interrupted by a past read deadline

	// Write side.
	mu        sync.Mutex
	idle      sync.Cond // signalled when writing turns false
	buf       []byte
	spare     []byte
	aside     []byte // lane frames queued while a yamux body is awaited
	midFrame  bool   // a yamux data header was queued, its body not yet
	writing   bool
	blocking  bool // the sock's mode, as the writer last set it (the writer's alone)
	err       error
	roomCh    chan struct{} // closed when the buffer was taken; nil when nobody waits
	closeOnce sync.Once
}

// laneReadBuf is the size of a laneConn's read buffer.
const laneReadBuf = 32 << 10

func newLaneConn(c net.Conn, sock *sockConn, p *peer, stall time.Duration) *laneConn {
	lc := &laneConn{Conn: c, sock: sock, p: p, ready: make(chan struct{}), stall: stall, rb: make([]byte, laneReadBuf),
		held: true, recvHolds: true, recvCh: make(chan struct{}, 1)}
	lc.idle.L = &lc.mu
	lc.grace = time.AfterFunc(time.Hour, lc.graceOver)
	lc.grace.Stop()
	return lc
}

// laneGrace is how long the read role stays free before the receive loop
// takes it back.
const laneGrace = time.Millisecond

// bigBufs holds buffers over 1 MiB that idle connections gave back, for the
// next bulk transfer of any connection.
var bigBufs sync.Pool

func putBigBuf(b []byte) {
	b = b[:0]
	bigBufs.Put(&b)
}

// grow returns buf with room for n more bytes: a pooled large buffer when
// one is there and large enough, else a new one twice the size.
func grow(buf []byte, n int) []byte {
	if bp, ok := bigBufs.Get().(*[]byte); ok {
		if cap(*bp) >= len(buf)+n {
			return append(*bp, buf...)
		}
		bigBufs.Put(bp)
	}
	return append(make([]byte, 0, max(2*cap(buf), len(buf)+n, 4<<10)), buf...)
}

// errStalled is the error of a connection whose peer took no bytes for the
// liveness timeout while a writer waited for room.
var errStalled = errors.New("the peer took no bytes within the liveness timeout")

// waitRoomLocked waits, c.mu held, while more than maxPending bytes are
// queued: until ctx ends (its error is returned) or, for a nil ctx, for at
// most c.stall (then the connection is given up). It returns c.err.
func (c *laneConn) waitRoomLocked(ctx context.Context) error {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for c.err == nil && len(c.buf) > maxPending {
		if c.roomCh == nil {
			c.roomCh = make(chan struct{})
		}
		ch := c.roomCh
		c.mu.Unlock()
		var done <-chan struct{}
		var fired <-chan time.Time
		if ctx != nil {
			done = ctx.Done()
		} else {
			if timer == nil {
				timer = time.NewTimer(c.stall)
			}
			fired = timer.C
		}
		select {
		case <-ch:
		case <-done:
			c.mu.Lock()
			return ctx.Err()
		case <-fired:
			c.mu.Lock()
			c.failLocked(errStalled)
			return c.err
		}
		c.mu.Lock()
	}
	return c.err
}

// wakeRoomLocked wakes the writers waiting for room.
func (c *laneConn) wakeRoomLocked() {
	if c.roomCh != nil {
		close(c.roomCh)
		c.roomCh = nil
	}
}

// failLocked records a write failure and closes the connection (its reads
// fail too, which ends the session).
func (c *laneConn) failLocked(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	c.buf, c.aside = nil, nil
	c.wakeRoomLocked()
	go c.Conn.Close()
}

// isDataHeader reports whether p is a yamux data-frame header with a body.
func isDataHeader(p []byte) bool {
	return len(p) == yamuxHeaderSize && p[0] == 0 && p[1] == yamuxTypeData && binary.BigEndian.Uint32(p[8:12]) > 0
}

// Write is yamux's: it queues p and, unless a writer is at work, starts
// a writer goroutine, except after a data-frame header, whose body is
// yamux's very next Write. It returns before the bytes reach the socket; a
// write error is reported by a later Write.
func (c *laneConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if !c.midFrame {
		if err := c.waitRoomLocked(nil); err != nil {
			c.mu.Unlock()
			return 0, err
		}
	} else if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	if cap(c.buf)-len(c.buf) < len(p) {
		c.buf = grow(c.buf, len(p))
	}
	c.buf = append(c.buf, p...)
	switch {
	case c.midFrame:
		c.midFrame = false
		if len(c.aside) > 0 {
			c.buf = append(c.buf, c.aside...)
			c.aside = c.aside[:0]
		}
	case isDataHeader(p):
		c.midFrame = true
		c.mu.Unlock()
		return len(p), nil
	}
	c.startLocked(false)
	return len(p), nil
}

// writeLane queues one lane frame (laneMark, then parts) and, when inline
// and nobody is writing, writes it on the calling goroutine; otherwise a
// goroutine does. It waits while the queue is full: until ctx ends, or for
// a nil ctx at most the liveness timeout. On error nothing was queued.
func (c *laneConn) writeLane(ctx context.Context, inline bool, parts ...[]byte) error {
	c.mu.Lock()
	if err := c.waitRoomLocked(ctx); err != nil {
		c.mu.Unlock()
		return err
	}
	dst := &c.buf
	if c.midFrame {
		dst = &c.aside
	}
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	if cap(*dst)-len(*dst) < n {
		*dst = grow(*dst, n)
	}
	*dst = append(*dst, laneMark)
	for _, p := range parts {
		*dst = append(*dst, p...)
	}
	if c.midFrame {
		c.mu.Unlock()
		return nil
	}
	c.startLocked(inline)
	return nil
}

// startLocked (c.mu held, released on return) makes the caller the writer
// when nobody is writing: inline it writes itself (never waiting for the
// socket), else a goroutine does, which may wait for it. yamux's writes
// take the second way, as the coalescing flusher did before the lane: a
// bulk transfer then copies its next frame while the goroutine writes the
// last one, and its bytes go to the socket with no further copy.
func (c *laneConn) startLocked(inline bool) {
	if c.writing {
		c.mu.Unlock()
		return
	}
	c.writing = true
	c.mu.Unlock()
	if !inline {
		go c.drain(true)
		return
	}
	if c.p != nil && c.p.laneCli.inflight.Load()+c.p.load.calls.Load() > 1 {
		// Other calls are under way on the lane: their goroutines may be
		// about to queue frames too. Let them run first and write all the
		// frames in one system call.
		stdruntime.Gosched()
	}
	c.drain(false)
}

// drain is the writer, once c.writing is set: it writes the buffer until
// it is empty or writing failed. A writer that may not wait (a caller)
// leaves the rest to a goroutine when the socket stopped taking bytes.
func (c *laneConn) drain(mayWait bool) {
	c.mu.Lock()
	for c.err == nil && len(c.buf) > 0 {
		if !mayWait && c.sock.over() {
			c.mu.Unlock()
			go c.drain(true)
			return
		}
		out := c.buf
		c.buf = c.spare[:0]
		c.wakeRoomLocked()
		c.mu.Unlock()
		if c.blocking != mayWait {
			c.blocking = mayWait
			c.sock.setBlocking(mayWait)
		}
		_, err := c.Conn.Write(out)
		c.mu.Lock()
		// The buffer just written becomes the next spare (a large one is
		// given back below once the connection is idle); the old spare,
		// now c.buf, must never be handed out twice.
		c.spare = out[:0]
		if err != nil {
			c.failLocked(err)
		}
	}
	// Idle: a session that moved bulk data gives back the large buffers
	// it grew, to a pool the garbage collector empties; while busy it
	// keeps them, so that a long transfer does not allocate a new one
	// every write.
	if cap(c.buf) > 1<<20 && len(c.buf) == 0 {
		putBigBuf(c.buf)
		c.buf = nil
	}
	if cap(c.spare) > 1<<20 {
		putBigBuf(c.spare)
		c.spare = nil
	}
	c.writing = false
	c.idle.Broadcast()
	c.mu.Unlock()
}

// Close writes what is still queued (bounded by a one-second deadline) and
// closes the connection.
func (c *laneConn) Close() error {
	c.closeOnce.Do(func() {
		// A write stuck on a peer that stopped reading fails at the
		// deadline instead of holding Close.
		c.sock.SetWriteDeadline(time.Now().Add(time.Second))
		c.mu.Lock()
		for c.writing {
			c.idle.Wait()
		}
		rest := c.buf
		failed := c.err != nil
		if c.err == nil {
			c.err = net.ErrClosed
		}
		c.buf, c.aside = nil, nil
		c.wakeRoomLocked()
		c.mu.Unlock()
		if !failed && len(rest) > 0 {
			c.Conn.Write(rest)
		}
		c.sock.waitFlushed()
	})
	return c.Conn.Close()
}

// Read is called by yamux's receive loop (through its bufio.Reader). It
// returns the bytes of yamux frames only; the lane frames between them are
// read and handled here. In the body of a large data frame with its own
// buffer empty it reads straight into p: bulk bytes are not copied twice.
func (c *laneConn) Read(p []byte) (int, error) {
	for {
		if !c.recvHolds {
			<-c.recvCh
			c.recvHolds = true
		}
		if c.failed != nil {
			return 0, c.failed
		}
		if c.pass > 0 {
			want := int(min(int64(len(p)), c.pass))
			if c.r < c.w {
				n := copy(p[:want], c.rb[c.r:c.w])
				c.r += n
				c.pass -= int64(n)
				return n, nil
			}
			if c.rerr != nil {
				return 0, c.readFailed(c.rerr)
			}
			n, err := c.Conn.Read(p[:want])
			c.pass -= int64(n)
			if err != nil {
				if n > 0 {
					c.rerr = err
					return n, nil
				}
				return 0, c.readFailed(err)
			}
			return n, nil
		}
		if c.dispatched && c.r == c.w && c.quiet() {
			// A lane frame was handled, nothing else is buffered and the
			// lane is quiet: the role goes to whoever waits for the lane's
			// next frame.
			c.dispatched = false
			c.roleMu.Lock()
			c.held, c.recvWant, c.recvHolds = false, true, false
			c.armGraceLocked()
			c.roleMu.Unlock()
			continue
		}
		if c.r == c.w && c.bulk {
			// After a large data frame another one is likely: read its
			// header alone, so that its body goes straight to yamux
			// instead of through c.rb.
			if err := c.fillAtMost(yamuxHeaderSize); err != nil {
				return 0, c.readFailed(err)
			}
		}
		if err := c.fill(1); err != nil {
			return 0, c.readFailed(err)
		}
		switch c.rb[c.r] {
		case 0: // yamux's version
			if err := c.fill(yamuxHeaderSize); err != nil {
				return 0, c.readFailed(err)
			}
			c.pass = yamuxHeaderSize
			c.bulk = false
			if c.rb[c.r+1] == yamuxTypeData {
				n := int64(binary.BigEndian.Uint32(c.rb[c.r+8:]))
				c.pass += n
				c.bulk = n >= laneReadBuf
			}
		case laneMark:
			if err := c.readLane(); err != nil {
				return 0, c.readFailed(err)
			}
			c.dispatched = true
		default:
			return 0, c.readFailed(fmt.Errorf("%w: byte 0x%02x at a frame boundary, neither a yamux frame (0) nor a lane frame (%q)", ErrMalformed, c.rb[c.r], laneMark))
		}
	}
}

// fillAtMost reads once, at most n bytes, into the empty buffer.
func (c *laneConn) fillAtMost(n int) error {
	if c.rerr != nil {
		return c.rerr
	}
	c.r, c.w = 0, 0
	m, err := c.Conn.Read(c.rb[:n])
	c.w = m
	if err != nil {
		c.rerr = err
		if m == 0 {
			return err
		}
	}
	return nil
}

// fill reads until at least n bytes are buffered (n ≤ len(c.rb)).
func (c *laneConn) fill(n int) error {
	for c.w-c.r < n {
		if c.rerr != nil {
			return c.rerr
		}
		if c.r == c.w {
			c.r, c.w = 0, 0
		} else if len(c.rb)-c.r < n {
			c.w = copy(c.rb, c.rb[c.r:c.w])
			c.r = 0
		}
		m, err := c.Conn.Read(c.rb[c.w:])
		c.w += m
		if err != nil {
			c.rerr = err
		}
	}
	return nil
}

// readFull reads len(p) bytes, first from the buffer.
func (c *laneConn) readFull(p []byte) error {
	k := copy(p, c.rb[c.r:c.w])
	c.r += k
	if k == len(p) {
		return nil
	}
	if c.rerr != nil {
		return c.rerr
	}
	_, err := io.ReadFull(c.Conn, p[k:])
	return err
}

// skip discards n bytes, first from the buffer.
func (c *laneConn) skip(n int64) error {
	k := min(n, int64(c.w-c.r))
	c.r += int(k)
	if k == n {
		return nil
	}
	if c.rerr != nil {
		return c.rerr
	}
	_, err := io.CopyN(io.Discard, c.Conn, n-k)
	return err
}

// readLane reads the lane frame at c.rb[c.r] and hands it to the peer.
func (c *laneConn) readLane() error {
	const hdrLen = 1 + frameHeaderLen
	if err := c.fill(1 + 4); err != nil {
		return err
	}
	// The length is checked before the rest of the header is awaited: a
	// length under 9 is refused at once.
	n := int64(binary.BigEndian.Uint32(c.rb[c.r+1:]))
	if n < 9 {
		return fmt.Errorf("%w: lane frame length %d shorter than its header (at least 9: kind and call id)", ErrMalformed, n)
	}
	if err := c.fill(hdrLen); err != nil {
		return err
	}
	f := frame{kind: c.rb[c.r+5], id: binary.BigEndian.Uint64(c.rb[c.r+6:])}
	c.r += hdrLen
	if !c.isReady {
		<-c.ready
		c.isReady = true
	}
	size := n - 9
	if limit := int64(c.p.n.cfg.MaxBody + 64<<10); size > limit {
		if err := c.skip(size); err != nil {
			return err
		}
		return c.p.laneTooLarge(f.kind, f.id, size)
	}
	// The buffer grows as the bytes arrive, so a header announcing a large
	// frame costs memory only once the frame is really there.
	f.buf = getBuf(int(min(size, 64<<10)))
	b := (*f.buf)[:0]
	for int64(len(b)) < size {
		if len(b) == cap(b) {
			b = append(b, make([]byte, min(cap(b), int(size)-len(b)))...)[:len(b)]
		}
		chunk := b[len(b):min(cap(b), int(size))]
		if err := c.readFull(chunk); err != nil {
			*f.buf = b
			putBuf(f.buf)
			return err
		}
		b = b[:len(b)+len(chunk)]
	}
	*f.buf = b
	f.payload = b
	return c.p.laneFrame(f)
}

// readFailed ends the lane once the connection's reading failed: the
// peer's pending lane calls fail, its running ones are cancelled. A
// malformed frame is logged (the session then ends).
func (c *laneConn) readFailed(err error) error {
	if c.failed == nil {
		c.failed = err
		if errors.Is(err, ErrMalformed) {
			c.p.n.log.Warn("closing the connection to a peer that sent a malformed frame", "peer", c.p.id, "err", err)
		}
		if !c.isReady {
			<-c.ready
			c.isReady = true
		}
		c.p.laneLost(err)
	}
	return err
}

// armGraceLocked makes sure the grace timer runs while the role is free.
// A timer still pending from an earlier release is kept (it may give the
// role back early; that costs one hand-off), so that a busy lane does not
// reset a timer, and wake the network poller, on every call.
func (c *laneConn) armGraceLocked() {
	if !c.graceArmed {
		c.graceArmed = true
		c.grace.Reset(laneGrace)
	}
}

// graceOver gives the role, if it is free, back to the receive loop.
func (c *laneConn) graceOver() {
	c.roleMu.Lock()
	if c.graceArmed {
		c.graceArmed = false
		if !c.held && c.recvWant {
			c.held, c.recvWant = true, false
			c.recvCh <- struct{}{}
		}
	}
	c.roleMu.Unlock()
}

// take takes the free read role; it reports whether it did.
func (c *laneConn) take() bool {
	c.roleMu.Lock()
	defer c.roleMu.Unlock()
	if c.held {
		return false
	}
	c.held = true
	return true
}

// handOn gives the role, held by a goroutine other than the receive loop,
// to the receive loop (which then waits for it: it gave it up).
func (c *laneConn) handOn() {
	c.roleMu.Lock()
	c.recvWant = false
	c.recvCh <- struct{}{}
	c.roleMu.Unlock()
}

// quiet reports whether the lane carries at most one call: no call of
// this node waits for a response and at most one of the peer's runs here.
// Only then is the read role left free for the goroutine that waits for
// the lane's next frame. A busier lane keeps the receive loop as its
// reader: its goroutines queue behind one another for the two ends' cores
// anyway, and a reader that never gives the role away reads each burst of
// frames at once and hands every call to a goroutine of its own, to run
// on whichever core is free.
func (c *laneConn) quiet() bool {
	return c.p.laneCli.inflight.Load() == 0 && c.p.load.calls.Load() <= 1
}

// leave ends a lead of a goroutine other than the receive loop: the role
// goes back to the receive loop at once when bytes are buffered or the
// lane is not quiet, else after laneGrace.
func (c *laneConn) leave() {
	if c.r != c.w || !c.quiet() {
		c.handOn()
		return
	}
	c.roleMu.Lock()
	c.held = false
	c.armGraceLocked()
	c.roleMu.Unlock()
}

// await is a caller's wait for its response on the lane: when the read
// role is free, the caller takes it and reads the connection itself until
// its response came (or ctx ended, or it had to hand the role on). It
// returns with the role given up; the caller then waits on pc.done.
func (c *laneConn) await(ctx context.Context, pc *pendingCall) {
	if len(pc.done) > 0 || !c.take() {
		return
	}
	var stop func() bool
	if ctx.Done() != nil {
		c.roleMu.Lock()
		c.leadGen++
		gen := c.leadGen
		c.roleMu.Unlock()
		stop = context.AfterFunc(ctx, func() {
			c.roleMu.Lock()
			if c.leadGen == gen {
				c.intr = true
				c.Conn.SetReadDeadline(pastDeadline)
			}
			c.roleMu.Unlock()
		})
	}
	c.lead(pc)
	if stop != nil {
		stop()
	}
}

// endLead ends a caller's lead: a later interruption does nothing, and
// one that happened is undone, before the role moves on.
func (c *laneConn) endLead() {
	c.roleMu.Lock()
	c.leadGen++
	if c.intr {
		c.intr = false
		c.Conn.SetReadDeadline(time.Time{})
	}
	c.roleMu.Unlock()
}

// lead reads the connection as the holder of the read role, for a caller
// waiting for pc's response or for a handler goroutine (pc nil). It
// handles the lane frames it reads, and returns once pc's response came,
// or (pc nil) with a request to run on the calling goroutine, the role
// then left; or with the role handed on to the receive loop (ok false)
// at a yamux frame, a frame too large for the buffer, an error or an
// interruption.
func (c *laneConn) lead(pc *pendingCall) (_ readyCall, ok bool) {
	const hdrLen = 1 + frameHeaderLen
	for {
		if pc != nil && len(pc.done) > 0 {
			c.endLead()
			c.leave()
			return readyCall{}, false
		}
		if c.failed != nil {
			c.endLead()
			c.handOn()
			return readyCall{}, false
		}
		if c.r == c.w || c.rb[c.r] != laneMark {
			if c.r != c.w {
				// A yamux frame or garbage: the receive loop's.
				c.endLead()
				c.handOn()
				return readyCall{}, false
			}
			if err := c.leadFill(1); err != nil {
				return readyCall{}, false
			}
			continue
		}
		if c.w-c.r < 5 {
			if err := c.leadFill(5); err != nil {
				return readyCall{}, false
			}
			continue
		}
		n := int64(binary.BigEndian.Uint32(c.rb[c.r+1:]))
		if n < 9 || 1+4+n > int64(len(c.rb)) || n-9 > int64(c.p.n.cfg.MaxBody+64<<10) {
			// Malformed or large: the receive loop's.
			c.endLead()
			c.handOn()
			return readyCall{}, false
		}
		total := int(1 + 4 + n)
		if c.w-c.r < total {
			if err := c.leadFill(total); err != nil {
				return readyCall{}, false
			}
			continue
		}
		f := frame{kind: c.rb[c.r+5], id: binary.BigEndian.Uint64(c.rb[c.r+6:])}
		size := total - hdrLen
		f.buf = getBuf(size)
		f.payload = append((*f.buf)[:0], c.rb[c.r+hdrLen:c.r+total]...)
		*f.buf = f.payload
		c.r += total
		if c.r == c.w {
			c.r, c.w = 0, 0
		}
		if f.kind != frameRequest {
			if err := c.p.laneFrame(f); err != nil {
				c.readFailed(err)
			}
			continue
		}
		rc, ok := c.p.laneSrv.prepareLane(f)
		if !ok {
			continue
		}
		if pc == nil && c.r == c.w {
			c.leave()
			return rc, true
		}
		go c.p.laneSrv.runLane(rc)
	}
}

// leadFill reads from the socket until n bytes from c.r are buffered. On
// error the lead is over and the role handed on: an interruption leaves
// the connection as it was; any other error fails it.
func (c *laneConn) leadFill(n int) error {
	if c.r == c.w {
		c.r, c.w = 0, 0
	} else if len(c.rb)-c.r < n {
		c.w = copy(c.rb, c.rb[c.r:c.w])
		c.r = 0
	}
	for c.w-c.r < n {
		if c.rerr != nil {
			c.readFailed(c.rerr)
			c.endLead()
			c.handOn()
			return c.rerr
		}
		m, err := c.Conn.Read(c.rb[c.w:])
		c.w += m
		if err != nil {
			c.roleMu.Lock()
			interrupted := c.intr
			c.roleMu.Unlock()
			if ne, ok := err.(net.Error); ok && ne.Timeout() && interrupted {
				c.endLead()
				c.handOn()
				return err
			}
			c.rerr = err
		}
	}
	return nil
}

// frameSink writes the frames of a fast-path stream (through its
// frameWriter) or of the call lane (laneConn.writeLane, which adds the
// lane mark). It is a struct, not an interface, so that the frames' parts
// stay on the caller's stack.
type frameSink struct {
	fw   *frameWriter
	lane *laneConn
	// written, for the lane, is told of each frame queued (as frameWriter's).
	written func(frames, bytes int)
}

// queue queues one frame; see frameWriter.queue.
func (w *frameSink) queue(parts ...[]byte) error {
	if w.fw != nil {
		return w.fw.queue(parts...)
	}
	return w.laneQueue(nil, true, parts)
}

// queueCtx queues one frame for a caller that returns when ctx ends.
func (w *frameSink) queueCtx(ctx context.Context, parts ...[]byte) error {
	if w.fw != nil {
		return w.fw.queueCtx(ctx, parts...)
	}
	return w.laneQueue(ctx, true, parts)
}

// queueAsync queues one frame that the calling goroutine never writes.
func (w *frameSink) queueAsync(parts ...[]byte) error {
	if w.fw != nil {
		return w.fw.queueAsync(parts...)
	}
	return w.laneQueue(nil, false, parts)
}

func (w *frameSink) laneQueue(ctx context.Context, inline bool, parts [][]byte) error {
	if err := w.lane.writeLane(ctx, inline, parts...); err != nil {
		return err
	}
	if w.written != nil {
		n := 0
		for _, p := range parts {
			n += len(p)
		}
		w.written(1, n)
	}
	return nil
}

// close fails later frames of a stream with err; the lane fails with its
// connection.
func (w *frameSink) close(err error) {
	if w.fw != nil {
		w.fw.close(err)
	}
}

// laneFrame handles one lane frame read from the peer.
func (p *peer) laneFrame(f frame) error {
	switch f.kind {
	case frameResponse:
		p.laneCli.deliver(f.id, f, nil)
		p.laneCli.releaseSlot()
	case frameRequest:
		p.laneSrv.startLane(f)
	case frameCancel:
		putBuf(f.buf)
		p.laneSrv.cancel(f.id)
	default:
		putBuf(f.buf)
		return fmt.Errorf("%w: lane frame of unknown kind %d", ErrMalformed, f.kind)
	}
	return nil
}

// laneTooLarge answers a lane frame over the body limit, whose payload was
// skipped: a request is refused, a response fails its call.
func (p *peer) laneTooLarge(kind byte, id uint64, size int64) error {
	switch kind {
	case frameRequest:
		p.laneSrv.refuse(id, codeTooLarge, fmt.Sprintf("request body of %d bytes over this node's limit of %d bytes (MESHRPC_MAX_BODY)", size, p.n.cfg.MaxBody))
	case frameResponse:
		p.laneCli.deliver(id, frame{}, fmt.Errorf("%w: response of %d bytes over the %d-byte limit", ErrTooLarge, size, p.n.cfg.MaxBody))
		p.laneCli.releaseSlot()
	case frameCancel:
	default:
		return fmt.Errorf("%w: lane frame of unknown kind %d", ErrMalformed, kind)
	}
	return nil
}

// laneLost fails the lane's pending calls and cancels its running ones.
func (p *peer) laneLost(err error) {
	p.laneCli.fail(err)
	s := p.laneSrv
	s.mu.Lock()
	for _, c := range s.calls {
		c.cancel()
	}
	s.mu.Unlock()
}
