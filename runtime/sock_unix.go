//go:build unix

package runtime

import (
	"errors"
	"syscall"
)

// tryWrite writes as much of p to the socket as it takes now, without
// waiting for room: a full socket buffer ends the write early (n < len(p),
// nil error) instead of parking the goroutine.
func tryWrite(rc syscall.RawConn, p []byte) (int, error) {
	n := 0
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, e := syscall.Write(int(fd), p[n:])
			if m > 0 {
				n += m
			}
			switch {
			case e == syscall.EINTR:
				continue
			case errors.Is(e, syscall.EAGAIN):
				return true
			case e != nil:
				werr = e
				return true
			case m <= 0:
				return true
			}
		}
		return true
	})
	if werr != nil {
		return n, werr
	}
	return n, err
}
