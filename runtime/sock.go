package runtime

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// sockConn is the bottom of a peer connection, under TLS when there is
// TLS: once the handshake is over (setAsync), Write never waits for the
// socket. It writes what the kernel takes at once on the calling
// goroutine; whatever is left goes to a flusher goroutine, started only
// then, which writes it (and every later byte, in order) with ordinary
// blocking writes until it has caught up. A caller of the lane can thus
// write its own frame, with no goroutine hand-off, and still never be
// held by a peer that stopped reading (laneConn checks backlog first).
type sockConn struct {
	net.Conn
	rc syscall.RawConn // nil: every byte goes through the flusher

	mu       sync.Mutex
	cond     sync.Cond   // signalled when the flusher took or wrote bytes
	async    atomic.Bool // the handshake is over (setAsync); read without mu by Read
	blocking bool        // writes wait for the socket (setBlocking)
	backlog  []byte      // bytes the flusher still has to write
	spare    []byte
	flushing bool
	err      error

	// The state of tryWrite (under mu) and writeAll (by the writer that set
	// flushing; the two never overlap), sock_unix.go.
	rawWriteFn func(fd uintptr) bool
	wp         []byte
	wn         int
	werr       error
	wwait      bool

	// sys is held for the length of each read and write system call on the
	// socket once it is async (sock_unix.go), so that a reader and a writer
	// that meet wait for each other in Go, their goroutine parked and its
	// thread free for others, rather than in the kernel: Linux serializes
	// the system calls of one TCP socket with a lock that its waiters sleep
	// on, and a thread asleep in a system call holds its Go scheduler slot
	// (P) until the runtime's monitor takes it back, tens of microseconds
	// later. With one connection carrying a node's calls both ways, readers
	// met writers a thousand times a second under parallel load.
	sys sync.Mutex
	// Read's state (sock_unix.go): one reader at a time (the holder of
	// the lane's read role, or TLS under it).
	rawReadFn func(fd uintptr) bool
	rp        []byte
	rn        int
	rerr      error
}

func newSockConn(c net.Conn) *sockConn {
	s := &sockConn{Conn: c}
	s.cond.L = &s.mu
	if sc, ok := c.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			s.rc = rc
		}
	}
	return s
}

// setAsync switches to non-blocking writes (after the handshake, which
// writes and reads in lock step under a deadline).
func (s *sockConn) setAsync() {
	s.async.Store(true)
}

// Write writes p or queues what the socket did not take. It waits only
// while the flusher holds more than maxPending bytes, except in blocking
// mode (setBlocking), where it writes p itself, waiting for the socket,
// once the flusher caught up: bulk bytes then skip the flusher's copy.
func (s *sockConn) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.async.Load() {
		return s.Conn.Write(p)
	}
	if s.blocking {
		for s.flushing && s.err == nil {
			s.cond.Wait()
		}
		if s.err != nil {
			return 0, s.err
		}
		s.flushing = true // the socket is this writer's; others queue
		s.mu.Unlock()
		n, err := s.writeAll(p)
		s.mu.Lock()
		if err != nil && s.err == nil {
			s.err = err
		}
		if len(s.backlog) > 0 && s.err == nil {
			go s.flush()
		} else {
			s.flushing = false
			s.cond.Broadcast()
		}
		return n, err
	}
	for s.flushing && s.err == nil && len(s.backlog) > maxPending {
		s.cond.Wait()
	}
	if s.err != nil {
		return 0, s.err
	}
	if s.flushing {
		s.backlog = append(s.backlog, p...)
		return len(p), nil
	}
	n := 0
	if s.rc != nil {
		var err error
		if n, err = s.tryWrite(p); err != nil {
			s.err = err
			return n, err
		}
	}
	if n < len(p) {
		s.backlog = append(s.backlog[:0], p[n:]...)
		s.flushing = true
		go s.flush()
	}
	return len(p), nil
}

// setBlocking switches Write between never waiting for the socket (a
// caller's write) and waiting for it (yamux's send loop, bulk data).
func (s *sockConn) setBlocking(b bool) {
	s.mu.Lock()
	s.blocking = b
	s.mu.Unlock()
}

// over reports whether the flusher holds more than maxPending bytes: a
// write would then wait.
func (s *sockConn) over() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushing && len(s.backlog) > maxPending
}

// flush writes the backlog until it is empty or a write failed.
func (s *sockConn) flush() {
	s.mu.Lock()
	for len(s.backlog) > 0 && s.err == nil {
		out := s.backlog
		s.backlog = s.spare[:0]
		s.cond.Broadcast()
		s.mu.Unlock()
		_, err := s.writeAll(out)
		s.mu.Lock()
		if cap(out) <= 1<<20 {
			s.spare = out[:0]
		} else {
			s.spare = nil
		}
		if err != nil && s.err == nil {
			s.err = err
		}
	}
	failed := s.err != nil
	if failed {
		s.backlog = nil
	}
	if cap(s.backlog) > 1<<20 {
		s.backlog = nil
	}
	s.flushing = false
	s.cond.Broadcast()
	s.mu.Unlock()
	if failed {
		// The session ends: its reads fail too.
		s.Conn.Close()
	}
}

// waitFlushed returns once the flusher is idle: it wrote everything, or
// a write failed (a write deadline bounds the wait).
func (s *sockConn) waitFlushed() {
	s.mu.Lock()
	for s.flushing {
		s.cond.Wait()
	}
	s.mu.Unlock()
}
