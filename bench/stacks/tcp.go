package stacks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/meshsplit/meshsplit/bench/greeter"
)

// StartTCP serves greeter.New over raw TCP on 127.0.0.1 with no framework:
// each call is one length-prefixed request frame and one response frame
// (tcpwire.go) on a connection that carries nothing else meanwhile. The
// client keeps a free list of connections and dials a new one when every
// open one is busy, so each concurrent caller has a connection of its own
// and no call waits behind another's. Both ends still decode the request,
// call the same method of greeter.New and encode the response with the
// codec meshsplit's generated code uses: the stack is the floor of a call
// on this machine, its system calls and wake-ups, not a call without work.
func StartTCP() (*Conn, error) {
	srv, err := startTCPServer(greeter.New())
	if err != nil {
		return nil, err
	}
	cli := &tcpClient{addr: srv.lis.Addr().String()}
	return &Conn{Service: cli, closers: []func() error{cli.Close, srv.Close}}, nil
}

// startTCPServer serves impl on a new listener on 127.0.0.1.
func startTCPServer(impl greeter.Service) (*tcpServer, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("tcp stack: listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &tcpServer{impl: impl, lis: lis, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
	srv.wg.Add(1)
	go srv.serve()
	return srv, nil
}

// tcpServer answers frames on every connection it accepts, one goroutine
// per connection.
type tcpServer struct {
	impl   greeter.Service
	lis    net.Listener
	ctx    context.Context // the calls' context, cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // serve and every serveConn

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closing bool
	err     error // the first failure other than a connection ending
}

// serve accepts connections until the listener is closed.
func (s *tcpServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.lis.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.fail(fmt.Errorf("tcp stack: accept: %w", err))
			}
			return
		}
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// serveConn answers the requests of one connection in order until the
// client closes it. A malformed request ends the connection and is
// reported by Close.
func (s *tcpServer) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	fc := newFrameConn(c)
	for {
		method, err := fc.readFrame()
		if err != nil {
			if err != io.EOF && !errors.Is(err, net.ErrClosed) {
				s.fail(fmt.Errorf("tcp stack: server: %w", err))
			}
			return
		}
		status, err := s.dispatch(method, fc)
		if err == nil {
			err = fc.writeFrame(status)
		}
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.fail(fmt.Errorf("tcp stack: server: %w", err))
			}
			return
		}
	}
}

// dispatch decodes the request in fc.dec, calls the method and encodes its
// results, or the handler's error, in fc.enc. The error is the request's
// fault: an unknown method or a body that does not decode.
func (s *tcpServer) dispatch(method byte, fc *frameConn) (status byte, err error) {
	fc.enc.Reset()
	var callErr error
	switch method {
	case methodGreet:
		name := fc.dec.String()
		if err := fc.dec.Err(); err != nil {
			return 0, fmt.Errorf("Greet request: %w", err)
		}
		var out string
		if out, callErr = s.impl.Greet(s.ctx, name); callErr == nil {
			fc.enc.String(out)
		}
	case methodEcho:
		var doc greeter.Doc
		decodeDoc(&fc.dec, &doc)
		if err := fc.dec.Err(); err != nil {
			return 0, fmt.Errorf("Echo request: %w", err)
		}
		var out greeter.Doc
		if out, callErr = s.impl.Echo(s.ctx, doc); callErr == nil {
			encodeDoc(&fc.enc, &out)
		}
	default:
		return 0, fmt.Errorf("request for method %d: want %d (Echo) or %d (Greet)", method, methodEcho, methodGreet)
	}
	if callErr != nil {
		fc.enc.Reset()
		fc.enc.String(callErr.Error())
		return statusError, nil
	}
	return statusOK, nil
}

// fail records the server's first failure.
func (s *tcpServer) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// Close stops accepting, closes every connection, waits for their
// goroutines and returns the first failure seen while serving.
func (s *tcpServer) Close() error {
	s.mu.Lock()
	s.closing = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.lis.Close()
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// tcpClient implements greeter.Service over connections to a tcpServer,
// one call per connection at a time.
type tcpClient struct {
	addr string

	mu     sync.Mutex
	idle   []*frameConn
	closed bool
}

var _ greeter.Service = (*tcpClient)(nil)

// remoteError is the handler's error, carried back as its message.
type remoteError struct{ msg string }

func (e *remoteError) Error() string { return e.msg }

// Greet calls Service.Greet on the server.
func (c *tcpClient) Greet(ctx context.Context, name string) (string, error) {
	fc, err := c.get(ctx)
	if err != nil {
		return "", err
	}
	fc.enc.Reset()
	fc.enc.String(name)
	var out string
	if err = c.roundTrip(ctx, fc, methodGreet); err == nil {
		out = fc.dec.String()
		err = decoded(fc, "Greet")
	}
	c.put(fc, err)
	return out, err
}

// Echo calls Service.Echo on the server.
func (c *tcpClient) Echo(ctx context.Context, doc greeter.Doc) (greeter.Doc, error) {
	fc, err := c.get(ctx)
	if err != nil {
		return greeter.Doc{}, err
	}
	fc.enc.Reset()
	encodeDoc(&fc.enc, &doc)
	var out greeter.Doc
	if err = c.roundTrip(ctx, fc, methodEcho); err == nil {
		decodeDoc(&fc.dec, &out)
		err = decoded(fc, "Echo")
	}
	c.put(fc, err)
	return out, err
}

// decoded reports a response body that did not decode.
func decoded(fc *frameConn, method string) error {
	if err := fc.dec.Err(); err != nil {
		return fmt.Errorf("tcp stack: %s response: %w", method, err)
	}
	return nil
}

// roundTrip sends the request in fc.enc and reads the response, leaving
// its body in fc.dec. A deadline of ctx bounds both; the wire has no
// cancellation, so a context without a deadline does not stop a call once
// sent.
func (c *tcpClient) roundTrip(ctx context.Context, fc *frameConn, method byte) error {
	dl, ok := ctx.Deadline()
	if ok || fc.deadline {
		if err := fc.c.SetDeadline(dl); err != nil {
			return fmt.Errorf("tcp stack: set deadline: %w", err)
		}
		fc.deadline = ok
	}
	if err := fc.writeFrame(method); err != nil {
		return fmt.Errorf("tcp stack: %w", err)
	}
	status, err := fc.readFrame()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("tcp stack: %w", err)
	}
	switch status {
	case statusOK:
		return nil
	case statusError:
		msg := fc.dec.String()
		if err := fc.dec.Err(); err != nil {
			return fmt.Errorf("tcp stack: error response: %w", err)
		}
		return &remoteError{msg: msg}
	default:
		return fmt.Errorf("tcp stack: response status %d: want %d (ok) or %d (error)", status, statusOK, statusError)
	}
}

// get takes an idle connection, or dials one when none is idle.
func (c *tcpClient) get(ctx context.Context) (*frameConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errors.New("tcp stack: client closed")
	}
	if n := len(c.idle); n > 0 {
		fc := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return fc, nil
	}
	c.mu.Unlock()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, fmt.Errorf("tcp stack: dial %s: %w", c.addr, err)
	}
	return newFrameConn(conn), nil
}

// put makes fc idle again after a call that ended with err, or closes it
// when the call failed on the connection rather than in the handler.
func (c *tcpClient) put(fc *frameConn, err error) {
	if err == nil || isRemote(err) {
		c.mu.Lock()
		if !c.closed {
			c.idle = append(c.idle, fc)
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
	fc.c.Close()
}

// isRemote reports whether err is the handler's error, which leaves the
// connection usable. (A function of its own, so that a successful call does
// not allocate the target of errors.As.)
func isRemote(err error) bool {
	var remote *remoteError
	return errors.As(err, &remote)
}

// Close closes the idle connections; a connection in use is closed when
// its call ends.
func (c *tcpClient) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	var first error
	for _, fc := range idle {
		if err := fc.c.Close(); err != nil && first == nil {
			first = fmt.Errorf("tcp stack: close: %w", err)
		}
	}
	return first
}
