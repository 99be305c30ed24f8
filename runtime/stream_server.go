package runtime

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/hashicorp/yamux"
)

// maxStreamCallsPerPeer bounds the streaming calls one peer may have
// running on this node at once; a stream beyond is closed unanswered.
const maxStreamCallsPerPeer = 1024

// serveStreamCall serves one 'S' stream: one call of a streaming method.
// It reads the request, hands the method a reader of the uploaded bytes
// (when it takes an io.Reader), answers the response, then the streamed
// result's frames and an end frame, and watches for the caller's cancel.
func (n *Node) serveStreamCall(p *peer, st *yamux.Stream) {
	defer st.Close()
	if p.load.streamCalls.Add(1) > maxStreamCallsPerPeer {
		p.load.streamCalls.Add(-1)
		n.log.Debug("peer opened too many streaming calls; closing the new one", "peer", p.id, "limit", maxStreamCallsPerPeer)
		return
	}
	defer p.load.streamCalls.Add(-1)
	fr := newFrameReader(st)
	frameMax := n.cfg.MaxBody + 64<<10 // a payload and its header's slack
	st.SetReadDeadline(time.Now().Add(n.cfg.LivenessTimeout))
	f, err := fr.read(frameMax)
	if err != nil {
		n.log.Debug("streaming call without a readable request; closing its stream", "peer", p.id, "err", err)
		return
	}
	st.SetReadDeadline(time.Time{})
	w := newStreamWriter(st)
	defer w.finish()
	refuse := func(code byte, text string) {
		w.frame(frameResponse, appendString([]byte{statusProto, code}, text))
	}
	if f.kind != frameRequest {
		putBuf(f.buf)
		refuse(codeMalformed, fmt.Sprintf("the first frame of a streaming call has kind %d, not a request (1)", f.kind))
		return
	}
	call, perr := n.decodeRequest(f.payload)
	putBuf(f.buf)
	if perr != nil {
		refuse(perr.code, perr.text)
		return
	}
	sd := call.md.Stream
	if sd == nil {
		refuse(codeMalformed, fmt.Sprintf("%s.%s does not stream: call it on an 'R' stream", call.svc.desc.Name, call.md.Name))
		return
	}
	w.errs, w.max = call.svc.errs, n.cfg.MaxBody
	if !n.beginServe() {
		refuse(codeRefused, "node "+n.addr+" is shutting down; the call did not run")
		return
	}
	defer n.endServe()
	var ctx context.Context
	var cancel context.CancelFunc
	if call.timeout > 0 {
		ctx, cancel = context.WithTimeout(n.base, time.Duration(call.timeout))
	} else {
		ctx, cancel = context.WithCancel(n.base)
	}
	defer cancel()
	if call.meta != nil { // the caller's registered context values
		var err error
		if ctx, err = decodeContextValues(ctx, call.meta); err != nil {
			refuse(codeMalformed, fmt.Sprintf("%s.%s: %v", call.svc.desc.Name, call.md.Name, err))
			return
		}
	}
	// A node that closes ends its streaming calls at once: unlike a unary
	// call, a stream (a live feed) may never end by itself, and Close
	// would wait for it until its deadline.
	go func() {
		select {
		case <-n.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	// A cancelled call stops writing at once, even when yamux holds its
	// write for window.
	stop := context.AfterFunc(ctx, func() { w.fail(ctx.Err()) })
	defer stop()

	var up *uploadReader
	watch := make(chan struct{}) // closed when the caller's frames may be watched
	if sd.In {
		up = &uploadReader{fr: fr, max: frameMax, errs: call.svc.errs, cancel: cancel, ended: watch}
	} else {
		close(watch)
	}
	// The watcher ends with the call: on a cancel, at the end of the
	// caller's side (which closes once it read the end frame), or when the
	// stream is closed.
	go func() {
		select {
		case <-watch:
		case <-ctx.Done():
			return
		}
		if up != nil {
			up.mu.Lock()
			clean := up.err == io.EOF
			up.mu.Unlock()
			if !clean {
				return // the reader failed or was cancelled: nothing more to read
			}
		}
		watchCancel(fr, frameMax, cancel)
	}()

	desc, md := call.svc.desc, call.md
	var (
		out      Message
		prod     Producer
		panicked string
	)
	if n.serverIcpt == nil {
		out, prod, err, panicked = invokeStream(ctx, sd, call.svc.impl, call.in, up)
	} else {
		// The interceptors see the method's call, up to its response: the
		// producer runs after, in the context they gave the method.
		info := &CallInfo{Service: desc.Name, Method: md.Name, Peer: p.remote, Metadata: call.meta, ResponseMetadata: &Metadata{}, RequestBytes: call.size, ResponseBytes: -1}
		if info.Metadata == nil {
			info.Metadata = &Metadata{}
		}
		called := false
		err = n.serverIcpt(ctx, info, func(ctx context.Context) error {
			called = true
			var merr error
			out, prod, merr, panicked = invokeStream(ctx, sd, call.svc.impl, call.in, up)
			if panicked != "" {
				return fmt.Errorf("%w: %s.%s panicked", ErrHandlerPanic, desc.Name, md.Name)
			}
			return merr
		})
		if !called && err == nil {
			refuse(codeInternal, fmt.Sprintf("%s.%s: a server interceptor returned without running the method or returning an error", desc.Name, md.Name))
			return
		}
	}
	if panicked != "" {
		n.log.Error("handler panicked", "service", desc.Name, "method", md.Name, "panic", panicked)
		refuse(codePanic, fmt.Sprintf("%s.%s panicked: %s", desc.Name, md.Name, firstLine(panicked)))
		return
	}
	if err != nil || !sd.Out {
		closeProducer(prod)
		if up != nil && err == nil {
			up.release()
		}
		n.respondStream(w, call, out, err)
		return
	}
	if !n.respondStream(w, call, out, nil) {
		closeProducer(prod)
		return
	}
	var perr2 error
	if prod == nil {
		perr2 = &streamProtoErr{codeInternal, fmt.Sprintf("%s.%s returned a nil streamed result and no error", desc.Name, md.Name)}
	} else {
		perr2 = runProducer(ctx, prod, w, n, desc.Name, md.Name)
	}
	if up != nil {
		up.release()
	}
	if ctx.Err() != nil {
		return // cancelled or past its deadline: the caller is gone
	}
	w.frame(frameEnd, appendEnd(nil, call.svc.errs, perr2))
}

// respondStream queues the response frame of a streaming call; it reports
// whether the streamed result should follow (the response was ok).
func (n *Node) respondStream(w *streamWriter, call decodedCall, out Message, err error) bool {
	e := encoderPool.Get().(*Encoder)
	defer func() {
		e.Reset()
		encoderPool.Put(e)
	}()
	e.Reset()
	if err == nil {
		e.buf = append(e.buf, statusOK)
	} else {
		e.buf = append(e.buf, statusAppError)
		e.buf = appendBytes(e.buf, call.svc.errs.encodeError(nil, err))
	}
	if out != nil {
		out.MarshalMesh(e)
	}
	if e.err != nil {
		w.frame(frameResponse, appendString([]byte{statusProto, codeInternal}, "encoding the response: "+e.err.Error()))
		return false
	}
	if len(e.buf) > n.cfg.MaxBody {
		w.frame(frameResponse, appendString([]byte{statusProto, codeTooLarge}, fmt.Sprintf("response body of %d bytes over the node's limit of %d bytes (MESHRPC_MAX_BODY)", len(e.buf), n.cfg.MaxBody)))
		return false
	}
	return w.frame(frameResponse, e.buf) == nil && err == nil
}

// watchCancel reads the caller's frames after its request (and its
// uploaded bytes) until a cancel, which cancels the call, or the end of
// the stream. Anything else is a broken caller: the call is cancelled.
func watchCancel(fr *frameReader, frameMax int, cancel context.CancelFunc) {
	for {
		f, err := fr.read(frameMax)
		if err != nil {
			// EOF: the caller closed its side, which it does once it
			// has read the end frame or gave up; either way the call is
			// over for it.
			cancel()
			return
		}
		putBuf(f.buf)
		if f.kind == frameCancel {
			cancel()
			return
		}
		if f.kind != frameData && f.kind != frameEnd {
			cancel()
			return
		}
	}
}

// invokeStream calls a streaming method, turning a panic into its text.
func invokeStream(ctx context.Context, sd *StreamDesc, impl any, req Message, up *uploadReader) (out Message, prod Producer, err error, panicked string) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Sprintf("%v\n%s", r, debug.Stack())
		}
	}()
	var in io.Reader
	if up != nil {
		in = up // a nil *uploadReader must not become a non-nil io.Reader
	}
	out, prod, err = sd.Invoke(ctx, impl, req, in)
	return out, prod, err, ""
}

// runProducer runs a producer, turning a panic into a protocol error.
func runProducer(ctx context.Context, prod Producer, w *streamWriter, n *Node, service, method string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			panicked := fmt.Sprintf("%v\n%s", r, debug.Stack())
			n.log.Error("streamed result panicked", "service", service, "method", method, "panic", panicked)
			err = &streamProtoErr{codePanic, fmt.Sprintf("%s.%s's streamed result panicked: %s", service, method, firstLine(panicked))}
		}
	}()
	return prod.produce(ctx, w)
}

// closeProducer closes the reader of a producer that will not run (the
// method failed, or the response could not be sent).
func closeProducer(prod Producer) {
	if c, ok := prod.(interface{ discard() }); ok {
		c.discard()
	}
}

// streamOnlyText refuses a streaming method called on an 'R' stream.
func streamOnlyText(call decodedCall) string {
	return fmt.Sprintf("%s.%s streams: call it on an 'S' stream of its own", call.svc.desc.Name, call.md.Name)
}
