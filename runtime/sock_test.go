package runtime

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// tcpPair returns the two ends of a TCP connection on 127.0.0.1, the
// first wrapped in an async sockConn, as a node's connection is after its
// handshake.
func tcpPair(t *testing.T) (*sockConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	other, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	s := newSockConn(c)
	s.setAsync()
	t.Cleanup(func() { c.Close(); other.Close() })
	return s, other
}

// TestSockConnReadWrite checks the async sockConn's own system calls
// (Read, and writes that wait for room) against net.Conn's contract: bytes
// in order both ways while a reader and a writer meet, io.EOF when the peer
// closes, a timeout error at the read deadline.
func TestSockConnReadWrite(t *testing.T) {
	t.Run("both ways at once", func(t *testing.T) {
		s, other := tcpPair(t)
		const size = 8 << 20 // more than both socket buffers: writes wait for room
		out := bytes.Repeat([]byte("0123456789abcdef"), size/16)
		echoed := make(chan error, 1)
		go func() { // the peer echoes everything
			_, err := io.Copy(other, other)
			echoed <- err
		}()
		s.setBlocking(true)
		wrote := make(chan error, 1)
		go func() {
			_, err := s.Write(out)
			wrote <- err
		}()
		in := make([]byte, 0, size)
		buf := make([]byte, 32<<10)
		for len(in) < size {
			n, err := s.Read(buf)
			if err != nil {
				t.Fatalf("read after %d bytes: %v", len(in), err)
			}
			in = append(in, buf[:n]...)
		}
		if err := <-wrote; err != nil {
			t.Fatalf("write: %v", err)
		}
		if !bytes.Equal(in, out) {
			t.Fatal("the echoed bytes differ from those written")
		}
		other.(*net.TCPConn).CloseWrite()
		if n, err := s.Read(buf); n != 0 || err != io.EOF {
			t.Fatalf("read after the peer closed = %d, %v; want 0, io.EOF", n, err)
		}
		s.Close()
		if err := <-echoed; err != nil && !errors.Is(err, net.ErrClosed) {
			t.Logf("echo: %v", err)
		}
	})
	t.Run("reset by the peer", func(t *testing.T) {
		s, other := tcpPair(t)
		other.(*net.TCPConn).SetLinger(0) // close with a reset
		other.Close()
		n, err := s.Read(make([]byte, 16))
		var op *net.OpError
		if n != 0 || !errors.As(err, &op) || op.Op != "read" || !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("read after a reset = %d, %v; want 0 and a read *net.OpError for ECONNRESET", n, err)
		}
	})
	t.Run("read deadline", func(t *testing.T) {
		s, _ := tcpPair(t)
		s.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		n, err := s.Read(make([]byte, 16))
		var ne net.Error
		if n != 0 || !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read past the deadline = %d, %v; want 0 and a timeout", n, err)
		}
	})
}
