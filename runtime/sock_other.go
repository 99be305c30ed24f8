//go:build !unix

package runtime

// tryWrite writes nothing where non-blocking socket writes are not wired
// up: every byte goes to the sockConn's flusher goroutine.
func (s *sockConn) tryWrite(p []byte) (int, error) { return 0, nil }

// writeAll writes p with the connection's own Write.
func (s *sockConn) writeAll(p []byte) (int, error) { return s.Conn.Write(p) }
