//go:build !unix

package runtime

import "syscall"

// tryWrite writes nothing where non-blocking socket writes are not wired
// up: every byte goes to the sockConn's flusher goroutine.
func tryWrite(rc syscall.RawConn, p []byte) (int, error) { return 0, nil }
