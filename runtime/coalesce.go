package runtime

import (
	"encoding/binary"
	"net"
)

// coalescingConn sits between yamux and the TCP (or TLS) connection.
// yamux v0.1.2's send loop writes every data frame as two writes, the
// 12-byte header and then the body, which costs two system calls (and often
// two TCP segments) per frame. coalescingConn holds back the header of a
// data frame that announces a body and writes it together with that body in
// one call. Nothing is ever delayed: the body is the very next write of the
// same goroutine, and every other frame goes out at once.
//
// Only yamux's send loop writes to the connection, so Write needs no lock.
type coalescingConn struct {
	net.Conn
	held []byte // a held-back data-frame header, or empty
	buf  []byte // reused for header+body
}

func newCoalescingConn(c net.Conn) *coalescingConn {
	return &coalescingConn{Conn: c, held: make([]byte, 0, yamuxHeaderSize)}
}

// yamux header layout (spec.md of hashicorp/yamux): version, type, flags
// (2 bytes), stream id (4), length (4).
const (
	yamuxHeaderSize = 12
	yamuxTypeData   = 0
)

// Write holds back a data-frame header announcing a body and sends it with
// the next write; everything else is written through.
func (c *coalescingConn) Write(p []byte) (int, error) {
	if len(c.held) == 0 {
		if len(p) == yamuxHeaderSize && p[1] == yamuxTypeData && binary.BigEndian.Uint32(p[8:12]) > 0 {
			c.held = append(c.held, p...)
			return len(p), nil
		}
		return c.Conn.Write(p)
	}
	c.buf = append(append(c.buf[:0], c.held...), p...)
	c.held = c.held[:0]
	n, err := c.Conn.Write(c.buf)
	if cap(c.buf) > 1<<20 {
		c.buf = nil
	}
	n -= yamuxHeaderSize
	if n < 0 {
		n = 0
	}
	return n, err
}
