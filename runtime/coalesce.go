package runtime

import (
	"encoding/binary"
	"net"
	"sync"
	"time"
)

// coalescingConn sits between yamux and the TCP (or TLS) connection.
// yamux v0.1.2's send loop writes every frame with its own write(2), and a
// data frame with two (header, then body). coalescingConn instead appends
// what yamux writes to a buffer and lets one flusher goroutine write the
// buffer out: frames that arrive while a write is in progress go out
// together in the next one, so a busy session makes one system call for
// many frames. A lone frame is never delayed: the flusher is woken at once
// (a data-frame header is held back only until its body, the very next
// write of yamux's send loop).
//
// Write returns before the bytes reach the socket; a write error is
// reported by the next Write and closes the connection, which ends the
// yamux session. Pending bytes are bounded: Write waits while more than
// maxPending bytes are queued.
type coalescingConn struct {
	net.Conn

	mu      sync.Mutex
	room    *sync.Cond // signalled when the flusher took the buffer
	buf     []byte
	spare   []byte
	err     error
	wake    chan struct{}
	stopped chan struct{}
	exited  chan struct{} // closed when the flusher returned
	stop    sync.Once
}

// bigBufs holds buffers over 1 MiB that idle connections gave back (see
// flush), for the next bulk transfer of any connection.
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

// maxPending bounds the bytes queued in a coalescingConn.
const maxPending = 4 << 20

func newCoalescingConn(c net.Conn) *coalescingConn {
	cc := &coalescingConn{Conn: c, wake: make(chan struct{}, 1), stopped: make(chan struct{}), exited: make(chan struct{})}
	cc.room = sync.NewCond(&cc.mu)
	go cc.flush()
	return cc
}

// yamux header layout (spec.md of hashicorp/yamux): version, type, flags
// (2 bytes), stream id (4), length (4).
const (
	yamuxHeaderSize = 12
	yamuxTypeData   = 0
)

// Write queues p and wakes the flusher, except after a data-frame header
// whose body is the next write.
func (c *coalescingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	for c.err == nil && len(c.buf) > maxPending {
		c.room.Wait()
	}
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
	if cap(c.buf)-len(c.buf) < len(p) {
		c.buf = grow(c.buf, len(p))
	}
	c.buf = append(c.buf, p...)
	c.mu.Unlock()
	if len(p) == yamuxHeaderSize && p[1] == yamuxTypeData && binary.BigEndian.Uint32(p[8:12]) > 0 {
		return len(p), nil
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

// flush writes the buffer out whenever woken, until a write fails or the
// connection closes.
func (c *coalescingConn) flush() {
	defer close(c.exited)
	for {
		select {
		case <-c.wake:
		case <-c.stopped:
			return
		}
		for {
			c.mu.Lock()
			out := c.buf
			if len(out) == 0 || c.err != nil {
				// Idle: a session that moved bulk data gives back the
				// large buffers it grew, to a pool the garbage collector
				// empties; while busy it keeps them, so that a long
				// transfer does not allocate a new one every write.
				if cap(c.buf) > 1<<20 {
					putBigBuf(c.buf)
					c.buf = nil
				}
				if cap(c.spare) > 1<<20 {
					putBigBuf(c.spare)
					c.spare = nil
				}
				c.mu.Unlock()
				break
			}
			c.buf = c.spare[:0]
			c.room.Broadcast()
			c.mu.Unlock()
			_, err := c.Conn.Write(out)
			c.mu.Lock()
			// The buffer being written becomes the next spare (one grown
			// past 1 MiB is dropped once the connection is idle, above).
			// The old spare, now c.buf, must never be handed out twice.
			c.spare = out[:0]
			if err != nil {
				c.err = err
				c.room.Broadcast()
			}
			c.mu.Unlock()
			if err != nil {
				c.Conn.Close()
				return
			}
		}
	}
}

// Close stops the flusher, writes what is still queued (bounded by a
// one-second deadline) and closes the connection.
func (c *coalescingConn) Close() error {
	c.stop.Do(func() {
		// A write stuck on a peer that stopped reading fails at the
		// deadline instead of holding Close.
		c.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		close(c.stopped)
		<-c.exited
		c.mu.Lock()
		rest := c.buf
		failed := c.err != nil
		c.buf = nil
		if c.err == nil {
			c.err = net.ErrClosed
		}
		c.room.Broadcast()
		c.mu.Unlock()
		if !failed && len(rest) > 0 {
			c.Conn.Write(rest)
		}
	})
	return c.Conn.Close()
}
