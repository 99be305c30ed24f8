package runtime

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

// serveRPC serves one fast-path stream opened by a peer: it reads request
// and cancel frames, runs each call in its own goroutine under a context
// derived from the request's timeout, and queues the responses. While the
// stream or its peer is at one of the bounds of limits.go it stops reading,
// so that the peer waits instead of this node growing.
func (n *Node) serveRPC(p *peer, st *yamux.Stream) {
	if p.load.rpcStreams.Add(1) > maxRPCStreamsPerPeer {
		p.load.rpcStreams.Add(-1)
		n.log.Debug("peer opened too many fast-path streams; closing the new one", "peer", p.id, "limit", maxRPCStreamsPerPeer)
		st.Close()
		return
	}
	s := &rpcStream{n: n, p: p, calls: map[uint64]*callState{}}
	s.fw.fw = newFrameWriter(st, s.written)
	r := newFrameReader(st)
	for {
		if s.full() && !p.load.waitRoom(s.full, p.sess.CloseChan()) {
			break
		}
		f, err := r.read(n.cfg.MaxBody + 64<<10)
		if err != nil {
			var big *errFrameTooLarge
			if errors.As(err, &big) && big.kind == frameRequest {
				s.refuse(big.id, codeTooLarge, fmt.Sprintf("request body of %d bytes over this node's limit of %d bytes (MESHRPC_MAX_BODY)", big.size, n.cfg.MaxBody))
				continue
			}
			break
		}
		switch f.kind {
		case frameRequest:
			s.start(f)
		case frameCancel:
			s.cancel(f.id)
			putBuf(f.buf)
		default:
			putBuf(f.buf)
			n.log.Debug("unexpected frame kind on RPC stream; closing it", "peer", p.id, "kind", f.kind)
			st.Close()
		}
	}
	s.mu.Lock()
	for _, c := range s.calls {
		c.cancel()
	}
	s.mu.Unlock()
	st.Close()
	// Stop the writer once the calls still running have given up.
	go func() {
		s.running.Wait()
		s.fw.close(errWriterClosed)
		p.load.rpcStreams.Add(-1)
	}()
}

// rpcStream is the server's side of one fast-path stream, or of a peer's
// call lane (lane.go).
type rpcStream struct {
	n    *Node
	p    *peer
	fw   frameSink
	lane bool // the lane: full requests are refused, never left unread
	load load // this stream's share of p.load

	mu      sync.Mutex
	calls   map[uint64]*callState
	running sync.WaitGroup // calls of this stream in progress
}

// full reports whether the stream or its peer reached a bound: the stream
// is then not read until calls end or responses leave.
func (s *rpcStream) full() bool {
	c := &s.n.cfg
	if s.lane {
		return s.p.load.over(c.MaxCallsPerPeer, c.MaxQueuedPerPeer)
	}
	return s.load.over(c.MaxCallsPerStream, c.MaxQueuedPerStream) || s.p.load.over(c.MaxCallsPerPeer, c.MaxQueuedPerPeer)
}

// newLaneServer returns the server's side of p's call lane on lc.
func newLaneServer(n *Node, p *peer, lc *laneConn) *rpcStream {
	s := &rpcStream{n: n, p: p, lane: true, calls: map[uint64]*callState{}}
	s.fw = frameSink{lane: lc, written: s.written}
	return s
}

// startLane starts a request read from the lane. The lane's reader is the
// connection's and must never wait for a handler: a request past the
// peer's bounds is refused as not run (a caller of this runtime waits
// before sending instead, knowing the bound from the gossip).
func (s *rpcStream) startLane(f frame) {
	if c, ok := s.prepareLane(f); ok {
		go s.runLane(c)
	}
}

// prepareLane is prepare for the lane, which refuses a request past the
// peer's bounds.
func (s *rpcStream) prepareLane(f frame) (readyCall, bool) {
	if s.full() {
		putBuf(f.buf)
		c := &s.n.cfg
		s.refuse(f.id, codeRefused, fmt.Sprintf("node %s runs %d calls of this peer (bound %d) or holds %d bytes of its responses (bound %d); the call did not run",
			s.n.addr, s.p.load.calls.Load(), c.MaxCallsPerPeer, s.p.load.queued.Load(), c.MaxQueuedPerPeer))
		return readyCall{}, false
	}
	return s.prepare(f)
}

// runLane runs a lane call, then, while it can take the lane's read role,
// reads the next frames itself and runs the next request it finds with
// nothing more to read behind it: a sequential caller's calls are then
// served by one goroutine, woken by the socket, as on a plain connection.
func (s *rpcStream) runLane(c readyCall) {
	lc := s.fw.lane
	for {
		s.run(c.ctx, c.id, c.call)
		if !lc.take() {
			return
		}
		var ok bool
		if c, ok = lc.lead(nil); !ok {
			return
		}
	}
}

// start decodes a request frame and runs the call in its own goroutine. A
// request whose call id is already in flight on the stream is refused: it
// must neither replace nor cancel the call that holds the id.
func (s *rpcStream) start(f frame) {
	if c, ok := s.prepare(f); ok {
		go s.run(c.ctx, c.id, c.call)
	}
}

// readyCall is a request accepted to run: its context, id and call.
type readyCall struct {
	ctx  context.Context
	id   uint64
	call decodedCall
}

// prepare decodes a request frame and registers its call, or refuses it
// (ok false).
func (s *rpcStream) prepare(f frame) (_ readyCall, ok bool) {
	call, perr := s.n.decodeRequestHeader(f.payload)
	if perr != nil {
		putBuf(f.buf)
		s.refuse(f.id, perr.code, perr.text)
		return readyCall{}, false
	}
	if call.md.Stream != nil {
		putBuf(f.buf)
		s.refuse(f.id, codeMalformed, streamOnlyText(call))
		return readyCall{}, false
	}
	if !s.n.beginServe() {
		putBuf(f.buf)
		s.refuse(f.id, codeRefused, "node "+s.n.addr+" is shutting down; the call did not run")
		return readyCall{}, false
	}
	call.buf = f.buf
	var ctx context.Context
	var cancel context.CancelFunc
	if call.timeout > 0 {
		ctx, cancel = context.WithTimeout(s.n.base, time.Duration(call.timeout))
	} else {
		ctx, cancel = context.WithCancel(s.n.base)
	}
	s.mu.Lock()
	if _, dup := s.calls[f.id]; dup {
		s.mu.Unlock()
		putBuf(f.buf)
		cancel()
		s.n.endServe()
		s.refuse(f.id, codeMalformed, fmt.Sprintf("call id %d is already in flight on this stream; the request did not run (a caller must not reuse the id of a call it is still waiting for)", f.id))
		return readyCall{}, false
	}
	s.calls[f.id] = &callState{cancel: cancel}
	s.mu.Unlock()
	s.load.calls.Add(1)
	s.p.load.calls.Add(1)
	s.running.Add(1)
	return readyCall{ctx, f.id, call}, true
}

// decodedCall is a request ready to run.
type decodedCall struct {
	svc     *localService
	md      *MethodDesc
	in      Message
	timeout int64
	meta    *Metadata // the request's metadata, nil for none
	size    int       // bytes of the request message

	// Before decodeBody: the message bytes, and the pooled buffer they
	// alias (nil: not pooled), released by decodeBody.
	body []byte
	buf  *[]byte
}

// decodeBody decodes the request message (call.in), then releases the
// payload's buffer.
func (call *decodedCall) decodeBody() *protoErr {
	in, derr := decodeMessage(call.md.NewRequest(), call.body)
	putBuf(call.buf)
	call.body, call.buf = nil, nil
	if derr != nil {
		return &protoErr{codeMalformed, fmt.Sprintf("decoding the request of %s.%s: %v", call.svc.desc.Name, call.md.Name, derr)}
	}
	call.in = in
	return nil
}

// protoErr is a refusal of a request, sent back as a statusProto response.
type protoErr struct {
	code byte
	text string
}

// decodeRequest checks a request payload against the published services
// and decodes its message. It is the whole request-decoding path, the one
// FuzzDecodeRequest explores: any input yields a call or a refusal.
func (n *Node) decodeRequest(payload []byte) (call decodedCall, perr *protoErr) {
	if call, perr = n.decodeRequestHeader(payload); perr != nil {
		return call, perr
	}
	return call, call.decodeBody()
}

// decodeRequestHeader is decodeRequest but for the message, left in
// call.body (it aliases payload) for decodeBody: the fast path's reader
// checks a request, and the call's own goroutine decodes its message.
func (n *Node) decodeRequestHeader(payload []byte) (call decodedCall, perr *protoErr) {
	req, err := parseRequest(payload)
	if err != nil {
		return call, &protoErr{codeMalformed, err.Error()}
	}
	if len(req.body) > n.cfg.MaxBody {
		return call, &protoErr{codeTooLarge, fmt.Sprintf("request body of %d bytes over this node's limit of %d bytes (MESHRPC_MAX_BODY)", len(req.body), n.cfg.MaxBody)}
	}
	svc := (*n.served.Load())[string(req.service)]
	if svc == nil {
		return call, &protoErr{codeUnknownService, fmt.Sprintf("service %s is not published on node %s", req.service, n.addr)}
	}
	if req.method >= len(svc.desc.Methods) || svc.desc.Methods[req.method].Fingerprint != string(req.fingerprint) {
		return call, &protoErr{codeVersionSkew, skewText(svc.desc, req)}
	}
	md := &svc.desc.Methods[req.method]
	return decodedCall{svc: svc, md: md, timeout: req.timeout, meta: req.md, size: len(req.body), body: req.body}, nil
}

// decodeMessage decodes body into m with a pooled decoder. Bytes left over
// after the message's last field are an error, as a short message is: a
// message is exactly its fields (docs/protocol.md, "Messages"). A panic in
// generated decoding code is a decoding error, not a crash.
func decodeMessage(m Message, body []byte) (_ Message, err error) {
	d := decoderPool.Get().(*Decoder)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panicked: %v", r)
		}
		d.Reset(nil)
		decoderPool.Put(d)
	}()
	d.Reset(body)
	m.UnmarshalMesh(d)
	if err := d.Err(); err != nil {
		return m, err
	}
	if left := len(d.buf) - d.off; left > 0 {
		return m, fmt.Errorf("%d trailing bytes after the message's last field (a message is exactly its fields: the peer's fields differ from this node's, or the bytes are corrupt)", left)
	}
	return m, nil
}

// skewText explains a fingerprint mismatch, naming the method.
func skewText(desc *ServiceDesc, req request) string {
	if req.method < len(desc.Methods) {
		m := desc.Methods[req.method]
		return fmt.Sprintf("service %s: the caller's method #%d has fingerprint %s, this node's %s has %s; rebuild both sides from the same interface",
			desc.Name, req.method, req.fingerprint, m.Name, m.Fingerprint)
	}
	return fmt.Sprintf("service %s: the caller's method #%d does not exist here (%d methods); rebuild both sides from the same interface",
		desc.Name, req.method, len(desc.Methods))
}

// run decodes the request message, invokes the method (recovering a
// panic) and queues the response.
func (s *rpcStream) run(ctx context.Context, id uint64, call decodedCall) {
	defer s.end(id)
	if call.in == nil {
		if perr := call.decodeBody(); perr != nil {
			s.protoError(id, perr.code, perr.text)
			return
		}
	}
	if s.n.serverIcpt != nil {
		s.runIntercepted(ctx, id, call)
		return
	}
	desc, md := call.svc.desc, call.md
	if call.meta != nil {
		var err error
		if ctx, err = decodeContextValues(ctx, call.meta); err != nil {
			s.protoError(id, codeMalformed, fmt.Sprintf("%s.%s: %v", desc.Name, md.Name, err))
			return
		}
	}
	out, err, panicked := invoke(ctx, md, call.svc.impl, call.in)
	if panicked != "" {
		s.n.log.ErrorContext(ctx, "handler panicked", "service", desc.Name, "method", md.Name, "panic", panicked)
		s.protoError(id, codePanic, fmt.Sprintf("%s.%s panicked: %s", desc.Name, md.Name, firstLine(panicked)))
		return
	}
	s.respond(id, call.svc.errs, out, err)
}

// runIntercepted is run through the node's server interceptors: the
// context values are decoded, the method runs and its result is encoded
// inside them, and the response, with the metadata they added, is queued
// once they returned.
func (s *rpcStream) runIntercepted(ctx context.Context, id uint64, call decodedCall) {
	desc, md := call.svc.desc, call.md
	info := &CallInfo{Service: desc.Name, Method: md.Name, Peer: s.p.remote, Metadata: call.meta, ResponseMetadata: &Metadata{}, RequestBytes: call.size, ResponseBytes: -1}
	if info.Metadata == nil {
		info.Metadata = &Metadata{}
	}
	e := encoderPool.Get().(*Encoder)
	defer func() {
		e.Reset()
		encoderPool.Put(e)
	}()
	e.Reset()
	var perr *protoErr
	called := false
	err := s.n.serverIcpt(ctx, info, func(ctx context.Context) error {
		called, perr = true, nil
		e.Reset()
		ctx, err := decodeContextValues(ctx, call.meta)
		if err != nil {
			perr = &protoErr{codeMalformed, fmt.Sprintf("%s.%s: %v", desc.Name, md.Name, err)}
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		out, err, panicked := invoke(ctx, md, call.svc.impl, call.in)
		if panicked != "" {
			s.n.log.ErrorContext(ctx, "handler panicked", "service", desc.Name, "method", md.Name, "panic", panicked)
			perr = &protoErr{codePanic, fmt.Sprintf("%s.%s panicked: %s", desc.Name, md.Name, firstLine(panicked))}
			return fmt.Errorf("%w: %s", ErrHandlerPanic, perr.text)
		}
		if out != nil {
			out.MarshalMesh(e)
		}
		if eerr := e.Err(); eerr != nil {
			perr = &protoErr{codeInternal, "encoding the response: " + eerr.Error()}
			return fmt.Errorf("%w: %s", ErrMalformed, perr.text)
		}
		info.ResponseBytes = len(e.buf)
		return err
	})
	switch {
	case perr != nil:
		s.protoError(id, perr.code, perr.text)
	case !called && err == nil:
		s.protoError(id, codeInternal, fmt.Sprintf("%s.%s: a server interceptor returned without running the method or returning an error", desc.Name, md.Name))
	default:
		s.respondBytes(id, call.svc.errs, e.buf, err, info.ResponseMetadata)
	}
}

// respondBytes queues a response frame for an encoded message: [status],
// the metadata when there is any, the error envelope for an application
// error, then the message bytes. The message is queued as a part of its
// own (the writer copies it), not copied into the frame first.
func (s *rpcStream) respondBytes(id uint64, errs *errorRegistry, msg []byte, err error, meta *Metadata) {
	b := make([]byte, frameHeaderLen, frameHeaderLen+1+64)
	status := statusOK
	if err != nil {
		status = statusAppError
	}
	if meta.Len() > 0 {
		if merr := meta.check(); merr != nil {
			s.n.log.Warn("dropping invalid response metadata set by a server interceptor", "err", merr)
			meta = nil
		}
	}
	if meta.Len() > 0 {
		b = append(b, status|statusMetadata)
		b = appendMetadata(b, meta)
	} else {
		b = append(b, status)
	}
	if err != nil {
		b = appendBytes(b, errs.encodeError(nil, err))
	}
	size := len(b) - frameHeaderLen + len(msg)
	if size > s.n.cfg.MaxBody {
		s.protoError(id, codeTooLarge, fmt.Sprintf("response body of %d bytes over the node's limit of %d bytes (MESHRPC_MAX_BODY)", size, s.n.cfg.MaxBody))
		return
	}
	appendFrameHeader(b[:0], frameResponse, id, size)
	s.queue(id, b, msg)
}

// end ends call id, which run queued the response of: it frees the id,
// cancels the call's context, and only then makes room for the reader, so
// that the node never counts more calls than its bounds allow.
func (s *rpcStream) end(id uint64) {
	s.mu.Lock()
	c := s.calls[id]
	delete(s.calls, id)
	s.mu.Unlock()
	if c != nil {
		c.cancel()
	}
	s.n.endServe()
	s.running.Done()
	if c == nil || !c.answered {
		s.load.calls.Add(-1)
		s.p.load.calls.Add(-1)
	}
	s.p.load.released()
}

// callState is a call running on a stream or lane.
type callState struct {
	cancel   context.CancelFunc
	answered bool // a lane call whose response is queued: no longer counted
}

// answered stops counting lane call id against the peer's bounds before
// its response is queued: the caller may send its next request as soon as
// the response reaches it, and counts on finding the room for it.
func (s *rpcStream) answered(id uint64) {
	s.mu.Lock()
	c := s.calls[id]
	if c != nil && !c.answered {
		c.answered = true
		s.load.calls.Add(-1)
		s.p.load.calls.Add(-1)
	}
	s.mu.Unlock()
}

// invoke calls the method, turning a panic into its text.
func invoke(ctx context.Context, md *MethodDesc, impl any, in Message) (out Message, err error, panicked string) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Sprintf("%v\n%s", r, debug.Stack())
		}
	}()
	out, err = md.Invoke(ctx, impl, in)
	return out, err, ""
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

// respond queues a response frame: [status] then the message bytes, with
// the error envelope in between for an application error.
func (s *rpcStream) respond(id uint64, errs *errorRegistry, out Message, err error) {
	e := encoderPool.Get().(*Encoder)
	b := e.buf[:0]
	b = append(b, make([]byte, frameHeaderLen)...)
	if err == nil {
		b = append(b, statusOK)
	} else {
		b = append(b, statusAppError)
		env := errs.encodeError(nil, err)
		b = appendBytes(b, env)
	}
	e.buf = b
	if out != nil {
		out.MarshalMesh(e)
	}
	if err := e.Err(); err != nil { // a cyclic or too deeply nested result
		e.Reset()
		encoderPool.Put(e)
		s.protoError(id, codeInternal, "encoding the response: "+err.Error())
		return
	}
	b = e.buf
	if len(b)-frameHeaderLen > s.n.cfg.MaxBody {
		e.Reset()
		encoderPool.Put(e)
		s.protoError(id, codeTooLarge, fmt.Sprintf("response body of %d bytes over the node's limit of %d bytes (MESHRPC_MAX_BODY)", len(b)-frameHeaderLen, s.n.cfg.MaxBody))
		return
	}
	appendFrameHeader(b[:0], frameResponse, id, len(b)-frameHeaderLen)
	s.queue(id, b)
	e.Reset()
	encoderPool.Put(e)
}

// protoError queues a statusProto response, [2][code][text], of a call
// that ran (or was to run): it answers call id.
func (s *rpcStream) protoError(id uint64, code byte, text string) {
	payload := appendString([]byte{statusProto, code}, text)
	b := appendFrameHeader(make([]byte, 0, frameHeaderLen+len(payload)), frameResponse, id, len(payload))
	s.queue(id, b, payload)
}

// refuse queues a statusProto response to a request that was not accepted
// to run (call id may belong to another call, running: a duplicate id).
func (s *rpcStream) refuse(id uint64, code byte, text string) {
	payload := appendString([]byte{statusProto, code}, text)
	b := appendFrameHeader(make([]byte, 0, frameHeaderLen+len(payload)), frameResponse, id, len(payload))
	s.queueFrame(b, payload)
}

// queue queues a response frame, counted until the writer hands it to
// yamux: by the node, so that Close can wait for responses to leave, and in
// bytes by the stream and the peer, whose reader waits while they are over
// their bounds.
func (s *rpcStream) queue(id uint64, parts ...[]byte) {
	if s.lane {
		s.answered(id)
	}
	s.queueFrame(parts...)
}

// queueFrame is queue for any frame.
func (s *rpcStream) queueFrame(parts ...[]byte) {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	s.n.unflushed.addN(1)
	s.load.queued.Add(int64(size))
	s.p.load.queued.Add(int64(size))
	if s.fw.queue(parts...) != nil {
		s.written(1, size)
	}
}

// written is told by the frame writer that frames of size bytes in all left
// it (handed to yamux, or dropped with a failed stream).
func (s *rpcStream) written(frames, size int) {
	s.n.unflushed.doneN(frames)
	s.load.queued.Add(-int64(size))
	s.p.load.queued.Add(-int64(size))
	s.p.load.released()
}

// cancel cancels call id's context (the caller gave up).
func (s *rpcStream) cancel(id uint64) {
	s.mu.Lock()
	c := s.calls[id]
	s.mu.Unlock()
	if c != nil {
		c.cancel()
	}
}
