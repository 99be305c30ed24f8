//go:build unix

package runtime

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// tryWrite writes as much of p to the socket as it takes now, without
// waiting for room: a full socket buffer ends the write early (n < len(p),
// nil error) instead of parking the goroutine. s.mu is held.
func (s *sockConn) tryWrite(p []byte) (int, error) {
	return s.write(p, false)
}

// writeAll writes p, waiting for room in the socket as net.Conn's Write
// does (and within its write deadline). Only the writer that set
// s.flushing calls it, so that it never runs beside tryWrite.
func (s *sockConn) writeAll(p []byte) (int, error) {
	if s.rc == nil {
		return s.Conn.Write(p)
	}
	return s.write(p, true)
}

// write is tryWrite (wait false) and writeAll (wait true), with each
// system call under s.sys.
func (s *sockConn) write(p []byte, wait bool) (int, error) {
	if s.rawWriteFn == nil {
		s.rawWriteFn = s.rawWrite
	}
	s.wp, s.wn, s.werr, s.wwait = p, 0, nil, wait
	err := s.rc.Write(s.rawWriteFn)
	n, werr := s.wn, s.werr
	s.wp = nil
	if werr != nil {
		return n, werr
	}
	return n, err
}

// rawWrite is write's callback (allocated once per connection): false
// asks the poller to wait for room.
func (s *sockConn) rawWrite(fd uintptr) bool {
	for s.wn < len(s.wp) {
		s.sys.Lock()
		m, e := syscall.Write(int(fd), s.wp[s.wn:])
		s.sys.Unlock()
		if m > 0 {
			s.wn += m
		}
		switch {
		case e == syscall.EINTR:
			continue
		case errors.Is(e, syscall.EAGAIN):
			return !s.wwait
		case e != nil:
			s.werr = s.opError("write", e)
			return true
		case m <= 0:
			if s.wwait {
				s.werr = io.ErrUnexpectedEOF
			}
			return true
		}
	}
	return true
}

// Read reads as net.Conn's Read does (within its read deadline), once
// the connection is async with its system call under s.sys. One Read at
// a time.
func (s *sockConn) Read(p []byte) (int, error) {
	if s.rc == nil || len(p) == 0 || !s.async.Load() {
		return s.Conn.Read(p)
	}
	if s.rawReadFn == nil {
		s.rawReadFn = s.rawRead
	}
	s.rp, s.rn, s.rerr = p, 0, nil
	err := s.rc.Read(s.rawReadFn)
	n, rerr := s.rn, s.rerr
	s.rp = nil
	if rerr != nil {
		return n, rerr
	}
	return n, err
}

// rawRead is Read's callback: false asks the poller to wait for bytes.
func (s *sockConn) rawRead(fd uintptr) bool {
	for {
		s.sys.Lock()
		m, e := syscall.Read(int(fd), s.rp)
		s.sys.Unlock()
		switch {
		case e == syscall.EINTR:
			continue
		case errors.Is(e, syscall.EAGAIN):
			return false
		case e != nil:
			s.rerr = s.opError("read", e)
		case m == 0:
			s.rerr = io.EOF
		default:
			s.rn = m
		}
		return true
	}
}

// opError wraps a failed system call as net.Conn's methods report it.
func (s *sockConn) opError(op string, e error) error {
	return &net.OpError{Op: op, Net: s.LocalAddr().Network(), Source: s.LocalAddr(), Addr: s.RemoteAddr(), Err: os.NewSyscallError(op, e)}
}
