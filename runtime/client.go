package runtime

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Client calls one service on the mesh. Generated clients hold one; build it
// with Connect (from the environment) or Node.Client.
type Client struct {
	n      *Node
	desc   *ServiceDesc
	target string // service name on the wire: desc.Name, or a loopback instance
	via    string // for a loopback client: the id of the only peer to call
	errs   *errorRegistry
	err    error // configuration error, returned by every call
	rr     atomic.Uint64
	tlog   *trafficLog // nil unless MESHRPC_TRAFFIC is set (traffic.go)
}

// Client returns a client that calls desc's service on the peers of n that
// serve it.
func (n *Node) Client(desc *ServiceDesc) *Client {
	return n.newClient(desc, desc.Name)
}

func (n *Node) newClient(desc *ServiceDesc, target string) *Client {
	c := &Client{n: n, desc: desc, target: target, errs: newErrorRegistry(desc.Errors), tlog: n.traffic}
	if err := checkDesc(desc); err != nil {
		c.err = &CallError{Service: desc.Name, Op: "config", Err: fmt.Errorf("%w: %v", ErrConfig, err)}
	}
	return c
}

// failedClient returns a client whose every call fails with err.
func failedClient(desc *ServiceDesc, err error) *Client {
	return &Client{desc: desc, target: desc.Name, err: &CallError{Service: desc.Name, Op: "config", Err: fmt.Errorf("%w: %v", ErrConfig, err)}}
}

// affinityKey is the context key of WithAffinity.
type affinityKey struct{}

// WithAffinity returns a context whose calls route by key: every call with
// the same key goes to the same node while that node lives, and to the same
// other node when it dies (rendezvous hashing over the live nodes of the
// service).
func WithAffinity(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, affinityKey{}, key)
}

// Call performs one call: method is an index into desc.Methods. It returns
// nil, the method's error (rebuilt so that ==, errors.Is and errors.As hold
// for registered errors; resp is still filled in when the method returned
// results beside its error), or a *CallError for a failure of the mesh
// (errors.Is(err, ErrUnavailable), ErrConnLost, ErrVersionSkew, ...). When
// ctx ends first it returns ctx.Err() itself, unwrapped, whatever the call
// was doing (waiting for a route, writing, waiting for the response):
// err == context.Canceled and errors.Is both hold.
//
// A call whose node fails before the request was sent is retried on another
// node; once the request was sent, a failure is returned, never retried.
func (c *Client) Call(ctx context.Context, method int, req, resp Message) error {
	if c.tlog != nil {
		return c.tlog.call(ctx, c, method, req, resp)
	}
	return c.call(ctx, method, req, resp)
}

// call is Call without the traffic record: through the node's client
// interceptors when it has any.
func (c *Client) call(ctx context.Context, method int, req, resp Message) error {
	if c.n != nil && c.n.clientIcpt != nil && c.err == nil && method >= 0 && method < len(c.desc.Methods) {
		info := &CallInfo{Service: c.desc.Name, Method: c.desc.Methods[method].Name, Metadata: &Metadata{}, RequestBytes: -1, ResponseBytes: -1}
		return c.n.clientIcpt(ctx, info, func(ctx context.Context) error { return c.send(ctx, method, req, resp, info) })
	}
	return c.send(ctx, method, req, resp, nil)
}

// send performs one call; info, when not nil, is the interceptors' record
// of it: its metadata is sent, and the sizes, the peer and the response
// metadata are filled in.
func (c *Client) send(ctx context.Context, method int, req, resp Message, info *CallInfo) error {
	if c.err != nil {
		return c.err
	}
	if method < 0 || method >= len(c.desc.Methods) {
		return &CallError{Service: c.desc.Name, Op: "call", Err: fmt.Errorf("%w: method index %d out of range (%d methods)", ErrMalformed, method, len(c.desc.Methods))}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	md := &c.desc.Methods[method]
	e := encoderPool.Get().(*Encoder)
	defer func() {
		e.Reset()
		encoderPool.Put(e)
	}()
	e.Reset()
	if req != nil {
		req.MarshalMesh(e)
	}
	if err := e.Err(); err != nil { // a cyclic or too deeply nested argument
		return &CallError{Service: c.desc.Name, Method: md.Name, Op: "send", Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
	}
	if len(e.buf) > c.n.cfg.MaxBody {
		return &CallError{Service: c.desc.Name, Method: md.Name, Op: "send", Err: fmt.Errorf("%w: request body of %d bytes over the limit of %d bytes (MESHRPC_MAX_BODY)", ErrTooLarge, len(e.buf), c.n.cfg.MaxBody)}
	}
	var meta *Metadata
	if info != nil {
		meta = info.Metadata
		info.RequestBytes = len(e.buf)
	}
	if cvs := contextValues.Load(); cvs != nil {
		meta = encodeContextValues(ctx, *cvs, meta)
	}
	if err := meta.check(); err != nil {
		return &CallError{Service: c.desc.Name, Method: md.Name, Op: "send", Err: fmt.Errorf("%w: %v", ErrMalformed, err)}
	}
	if !c.n.clientCalls.add() {
		return &CallError{Service: c.desc.Name, Method: md.Name, Op: "route", Err: ErrNodeClosed}
	}
	defer c.n.clientCalls.done()

	var triedBuf [4]*peer
	tried := triedBuf[:0]
	var lastErr error
	for {
		p, err := c.pick(ctx, tried, lastErr)
		if err != nil {
			return err
		}
		if info != nil {
			info.Peer = p.name()
		}
		err = c.callPeer(ctx, p, method, md, e.buf, resp, meta, info)
		if ns, ok := err.(*errNotSent); ok {
			c.n.log.DebugContext(ctx, "call not sent; trying another node", "service", c.desc.Name, "method", md.Name, "peer", p.name(), "err", ns.err)
			tried = append(tried, p)
			lastErr = ns.err
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

// callPeer sends one call to p and waits for its response. An *errNotSent
// means the method did not run and another node may be tried.
func (c *Client) callPeer(ctx context.Context, p *peer, method int, md *MethodDesc, body []byte, resp Message, meta *Metadata, info *CallInfo) error {
	if !p.pending.add() {
		return &errNotSent{fmt.Errorf("%w: connection to %s retired", ErrUnavailable, p.name())}
	}
	defer p.pending.done()
	conn, err := p.caller()
	if err != nil {
		return &errNotSent{err}
	}
	var timeout time.Duration
	if dl, ok := ctx.Deadline(); ok {
		if timeout = time.Until(dl); timeout <= 0 {
			// The deadline passed; ctx.Err may lag behind its timer.
			return context.DeadlineExceeded
		}
	}
	var hdrBuf [128]byte
	reqHdr := appendRequest(hdrBuf[:0], c.target, method, md.Fingerprint, int64(timeout), meta)
	id, pc, err := conn.start(ctx, reqHdr, body)
	if err != nil {
		return err
	}
	if conn.st == nil {
		conn.fw.lane.await(ctx, pc)
	}
	select {
	case <-pc.done:
	case <-ctx.Done():
		conn.cancel(id, pc)
		return ctx.Err()
	}
	f, ferr := pc.resp, pc.err
	*pc = pendingCall{done: pc.done}
	pendingPool.Put(pc)
	if ferr != nil {
		return &CallError{Service: c.desc.Name, Method: md.Name, Node: p.name(), Op: "receive", Err: ferr}
	}
	defer putBuf(f.buf)
	return c.readResponse(f.payload, p, md, resp, info)
}

// readResponse decodes a response payload into resp and the method's
// error, and when info is not nil its metadata and size into info.
func (c *Client) readResponse(payload []byte, p *peer, md *MethodDesc, resp Message, info *CallInfo) error {
	fail := func(op string, err error) error {
		return &CallError{Service: c.desc.Name, Method: md.Name, Node: p.name(), Op: op, Err: err}
	}
	if len(payload) == 0 {
		return fail("decode", fmt.Errorf("%w: empty response", ErrMalformed))
	}
	rd := wireReader{b: payload[1:]}
	status := payload[0]
	if status&statusMetadata != 0 {
		status &^= statusMetadata
		rmd, err := rd.metadata()
		if err != nil {
			return fail("decode", fmt.Errorf("%w: response metadata: %v", ErrMalformed, err))
		}
		if info != nil {
			info.ResponseMetadata = rmd
		}
	}
	var appErr error
	switch status {
	case statusOK:
	case statusAppError:
		env := rd.bytes()
		if rd.err != nil {
			return fail("decode", fmt.Errorf("%w: error envelope: %v", ErrMalformed, rd.err))
		}
		var err error
		if appErr, err = c.errs.decodeError(env); err != nil {
			return fail("decode", err)
		}
	case statusProto:
		code := rd.byte()
		text := rd.string()
		if rd.err != nil {
			return fail("decode", fmt.Errorf("%w: protocol error: %v", ErrMalformed, rd.err))
		}
		if code == codeRefused {
			return &errNotSent{fmt.Errorf("%w: %s", ErrUnavailable, text)}
		}
		sentinel := codeErrors[code]
		if sentinel == nil {
			sentinel = ErrMalformed
		}
		return fail("remote", fmt.Errorf("%w: %s", sentinel, text))
	default:
		return fail("decode", fmt.Errorf("%w: unknown response status %d", ErrMalformed, payload[0]))
	}
	if info != nil {
		info.ResponseBytes = len(rd.b)
	}
	if resp != nil && (appErr == nil || len(rd.b) > 0) {
		if _, derr := decodeMessage(resp, rd.b); derr != nil {
			return fail("decode", fmt.Errorf("%w: response: %v", ErrMalformed, derr))
		}
	}
	return appErr
}

// pick chooses the node for a call among the live nodes serving the
// service, skipping those already tried. With no candidate, a node started
// less than RouteWait ago waits for the mesh to change (within the call's
// deadline); an older one fails at once with ErrUnavailable.
func (c *Client) pick(ctx context.Context, tried []*peer, lastErr error) (*peer, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		var nodes []*peer
		if c.via != "" {
			nodes = c.n.peerByID(c.via)
		} else {
			nodes = c.n.nodesFor(c.target)
		}
		if len(tried) > 0 {
			nodes = without(nodes, tried)
		}
		if len(nodes) > 0 {
			if key, ok := ctx.Value(affinityKey{}).(string); ok {
				return rendezvous(nodes, key), nil
			}
			return nodes[int(c.rr.Add(1)%uint64(len(nodes)))], nil
		}
		if len(tried) > 0 {
			return nil, &CallError{Service: c.desc.Name, Op: "send", Err: fmt.Errorf("%w: every node failed before the request was sent; last: %v", ErrUnavailable, lastErr)}
		}
		ch := c.n.changes()
		if len(c.n.nodesFor(c.target)) > 0 || (c.via != "" && len(c.n.peerByID(c.via)) > 0) {
			continue
		}
		if timer == nil {
			// Only a node that is still forming its mesh waits for a route;
			// later, a service with no live node fails at once.
			wait := time.Until(c.n.started.Add(c.n.cfg.RouteWait))
			if wait <= 0 {
				return nil, &CallError{Service: c.desc.Name, Op: "route", Err: fmt.Errorf("%w: no live node serves it", ErrUnavailable)}
			}
			timer = time.NewTimer(wait)
		}
		select {
		case <-ch:
		case <-timer.C:
			return nil, &CallError{Service: c.desc.Name, Op: "route", Err: fmt.Errorf("%w: no node serves it (waited %v after the node started)", ErrUnavailable, c.n.cfg.RouteWait)}
		case <-ctx.Done():
			c.n.log.DebugContext(ctx, "call's context ended while waiting for a node that serves it", "service", c.desc.Name, "err", ctx.Err())
			return nil, ctx.Err()
		case <-c.n.closed:
			return nil, &CallError{Service: c.desc.Name, Op: "route", Err: ErrNodeClosed}
		}
	}
}

// without returns nodes minus skip, in order.
func without(nodes, skip []*peer) []*peer {
	out := make([]*peer, 0, len(nodes))
next:
	for _, p := range nodes {
		for _, s := range skip {
			if p == s {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// rendezvous returns the node with the highest hash of (key, node id):
// stable while the node lives, and when it dies the keys it owned spread
// over the others while every other key stays where it was.
func rendezvous(nodes []*peer, key string) *peer {
	var best *peer
	var bestScore uint64
	for _, p := range nodes {
		s := mixHash(key, p.id)
		if best == nil || s > bestScore {
			best, bestScore = p, s
		}
	}
	return best
}

// mixHash is FNV-1a over key, a zero byte and id, finished with a
// splitmix64 step so that similar ids spread well.
func mixHash(key, id string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * 1099511628211
	}
	h *= 1099511628211
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// peerByID returns the live peer with that id, as a one-element list.
func (n *Node) peerByID(id string) []*peer {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p := n.peers[id]; p != nil {
		return []*peer{p}
	}
	return nil
}
