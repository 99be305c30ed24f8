//go:build unix

package runtime

import (
	"errors"
	"syscall"
)

// tryWrite writes as much of p to the socket as it takes now, without
// waiting for room: a full socket buffer ends the write early (n < len(p),
// nil error) instead of parking the goroutine. s.mu is held.
func (s *sockConn) tryWrite(p []byte) (int, error) {
	if s.rawWriteFn == nil {
		s.rawWriteFn = s.rawWrite
	}
	s.wp, s.wn, s.werr = p, 0, nil
	err := s.rc.Write(s.rawWriteFn)
	n, werr := s.wn, s.werr
	s.wp = nil
	if werr != nil {
		return n, werr
	}
	return n, err
}

// rawWrite is tryWrite's callback (allocated once per connection).
func (s *sockConn) rawWrite(fd uintptr) bool {
	for s.wn < len(s.wp) {
		m, e := syscall.Write(int(fd), s.wp[s.wn:])
		if m > 0 {
			s.wn += m
		}
		switch {
		case e == syscall.EINTR:
			continue
		case errors.Is(e, syscall.EAGAIN):
			return true
		case e != nil:
			s.werr = e
			return true
		case m <= 0:
			return true
		}
	}
	return true
}
