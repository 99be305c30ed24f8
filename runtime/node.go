package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/yamux"
)

// Node is one member of the mesh: it listens for peers, keeps one yamux
// session per peer, serves the services published on it (fast path and
// HTTP) and routes the calls of its clients to the peers that serve each
// service. Create it with NewNode; stop it with Close.
type Node struct {
	cfg  Config
	id   string
	addr string // advertised address, empty for a caller-only node
	log  *slog.Logger
	ln   net.Listener
	// started is when NewNode ran: calls wait for a route only during the
	// first RouteWait.
	started time.Time

	// base is the parent of every server-side call context; it ends when
	// Close gives up draining.
	base       context.Context
	cancelBase context.CancelFunc
	closed     chan struct{} // closed when Close starts

	mu        sync.Mutex
	services  map[string]*localService // published RPC services by name
	handlers  map[string]http.Handler  // published HTTP handlers by service name
	version   uint64                   // bumped on every Publish
	peers     map[string]*peer         // live sessions by peer id
	targets   map[string]*target       // addresses kept dialed, by address
	left      map[string]time.Time     // ids that announced leaving, and when
	selfAddrs map[string]bool          // addresses that turned out to reach this node
	joined    map[string]bool          // addresses given to Join, dialed for the node's life
	changed   chan struct{}            // closed and replaced on every change
	pushCh    chan struct{}            // asks the gossip loop to tell every peer
	closing   bool

	// served is the published-service snapshot the fast path reads without
	// locking (copy on write under mu).
	served atomic.Pointer[map[string]*localService]
	// routes is the routing table: service name -> live peers serving it.
	routes atomic.Pointer[routeTable]

	serverCalls callCounter    // server-side calls in progress; closed by Close
	clientCalls callCounter    // client calls in progress
	unflushed   callCounter    // server responses queued but not yet handed to yamux
	bg          sync.WaitGroup // background goroutines
	http        *httpSide

	sec *security // the handshake: cluster key, TLS

	transportOnce sync.Once
	transport     *meshTransport

	traffic *trafficLog // the calls of this node's clients, when Config.TrafficDir is set

	clientIcpt ClientInterceptor // nil: none installed (intercept.go)
	serverIcpt ServerInterceptor
}

// localService is one service published on this node.
type localService struct {
	desc   *ServiceDesc
	impl   any
	errs   *errorRegistry
	public ServiceInfo
	hidden bool // a loopback instance, not announced
}

// NewNode validates cfg, starts listening (unless cfg.Listen is empty) and
// starts dialing cfg.Seeds in the background. Use Join to wait for a
// connection and Wait to wait for services.
func NewNode(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("meshrpc: %w", err)
	}
	n := &Node{
		cfg:       cfg,
		id:        newNodeID(),
		started:   time.Now(),
		log:       cfg.Logger,
		closed:    make(chan struct{}),
		services:  map[string]*localService{},
		handlers:  map[string]http.Handler{},
		peers:     map[string]*peer{},
		targets:   map[string]*target{},
		left:      map[string]time.Time{},
		selfAddrs: map[string]bool{},
		joined:    map[string]bool{},
		changed:   make(chan struct{}),
		pushCh:    make(chan struct{}, 1),
	}
	if n.log == nil {
		n.log = quietLogger
	}
	hooks := n.instrument(&cfg)
	sec, err := newSecurity(&cfg, n.id)
	if err != nil {
		return nil, fmt.Errorf("meshrpc: %w", err)
	}
	n.sec = sec
	n.traffic = newTrafficLog(cfg.TrafficDir, n.id, n.log)
	n.base, n.cancelBase = context.WithCancel(context.Background())
	n.served.Store(&map[string]*localService{})
	n.routes.Store(&routeTable{})
	n.http = newHTTPSide(n)

	if cfg.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("meshrpc: listening on %s: %w", cfg.Listen, err)
		}
		n.ln = ln
		n.addr = cfg.Advertise
		if n.addr == "" {
			n.addr = advertiseAddr(ln.Addr())
		}
	}
	// The logger is final before the accept loop starts: every inbound
	// connection reads it (a client connecting at once raced with this
	// write under -race).
	n.log = n.log.With("node", n.id, "addr", n.addr)
	if n.ln != nil {
		n.bg.Add(1)
		go n.acceptLoop()
	}
	n.bg.Add(1)
	go n.gossipLoop()
	if len(cfg.Seeds) > 0 {
		n.bg.Add(1)
		go n.seedLoop(cfg.Seeds)
	}
	n.log.Debug("node started")
	for _, h := range hooks {
		h(n)
	}
	return n, nil
}

// ID returns the node's random id, unique per process start.
func (n *Node) ID() string { return n.id }

// Addr returns the address peers dial to reach this node, empty for a
// caller-only node.
func (n *Node) Addr() string { return n.addr }

// newNodeID returns 8 random bytes in hex.
func newNodeID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("meshrpc: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// advertiseAddr turns a listener address into one peers can dial.
func advertiseAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	ip := net.IPv4(127, 0, 0, 1)
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, ad := range addrs {
			if ipn, ok := ad.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				ip = ipn.IP
				break
			}
		}
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// Publish serves impl (a value of the interface desc describes) on this
// node under desc.Name, on the fast path and as POST /<service>/<method>
// with JSON bodies. Publishing a name again replaces the implementation.
func (n *Node) Publish(desc *ServiceDesc, impl any) error {
	return n.publish(desc.Name, desc, impl, false)
}

// publish registers impl under name: desc.Name, or a per-instance name for
// a loopback client, which is hidden (not announced by gossip: the loopback
// client is bound to this node).
func (n *Node) publish(name string, desc *ServiceDesc, impl any, hidden bool) error {
	if err := checkDesc(desc); err != nil {
		return err
	}
	if impl == nil {
		return fmt.Errorf("meshrpc: publishing %s: nil implementation", name)
	}
	s := &localService{desc: desc, impl: impl, errs: newErrorRegistry(desc.Errors), public: serviceInfoOf(name, desc), hidden: hidden}
	n.mu.Lock()
	if n.closing {
		n.mu.Unlock()
		return fmt.Errorf("meshrpc: publishing %s: %w", name, ErrNodeClosed)
	}
	n.services[name] = s
	next := make(map[string]*localService, len(n.services))
	for k, v := range n.services {
		next[k] = v
	}
	n.served.Store(&next)
	if hidden {
		n.mu.Unlock()
		return nil
	}
	n.version++
	n.notifyLocked()
	n.mu.Unlock()
	n.log.Debug("published", "service", name)
	n.pushGossip()
	return nil
}

// unpublish stops serving a hidden loopback instance.
func (n *Node) unpublish(name string) {
	n.mu.Lock()
	if _, ok := n.services[name]; !ok || n.closing {
		n.mu.Unlock()
		return
	}
	delete(n.services, name)
	next := make(map[string]*localService, len(n.services))
	for k, v := range n.services {
		next[k] = v
	}
	n.served.Store(&next)
	n.mu.Unlock()
}

// PublishHTTP serves h under /<service>/... on every node's HTTP path (the
// prefix is stripped, so h sees the paths it served before the split), and
// announces the service to the mesh so that gateways and Transport route
// there.
func (n *Node) PublishHTTP(service string, h http.Handler) error {
	if service == "" || h == nil {
		return fmt.Errorf("meshrpc: PublishHTTP: empty service name or nil handler")
	}
	n.mu.Lock()
	if n.closing {
		n.mu.Unlock()
		return fmt.Errorf("meshrpc: publishing %s: %w", service, ErrNodeClosed)
	}
	n.handlers[service] = http.StripPrefix("/"+service, h)
	n.version++
	n.notifyLocked()
	n.mu.Unlock()
	n.pushGossip()
	return nil
}

// checkDesc rejects a description the runtime cannot serve.
func checkDesc(desc *ServiceDesc) error {
	if desc == nil || desc.Name == "" {
		return fmt.Errorf("meshrpc: service description without a name")
	}
	for i, m := range desc.Methods {
		if m.NewRequest == nil || m.NewResponse == nil || (m.Invoke == nil && (m.Stream == nil || m.Stream.Invoke == nil)) {
			return fmt.Errorf("meshrpc: service %s: method %d (%s) lacks NewRequest, NewResponse or Invoke", desc.Name, i, m.Name)
		}
	}
	return nil
}

// notifyLocked wakes everyone waiting for a change. n.mu must be held.
func (n *Node) notifyLocked() {
	close(n.changed)
	n.changed = make(chan struct{})
}

// changes returns a channel closed at the next change.
func (n *Node) changes() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.changed
}

// acceptLoop accepts peer connections until the listener closes.
func (n *Node) acceptLoop() {
	defer n.bg.Done()
	for {
		c, err := n.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				n.log.Warn("accept failed; no longer accepting peers", "err", err)
			}
			return
		}
		n.bg.Add(1)
		go func() {
			defer n.bg.Done()
			if _, err := n.setupConn(c, false); err != nil {
				n.log.Log(context.Background(), refusalLevel(err), "inbound connection refused", "remote", c.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

// dial connects to addr and runs the handshake; it returns the peer.
func (n *Node) dial(ctx context.Context, addr string) (*peer, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.DialTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", addr, err)
	}
	p, err := n.setupConn(c, true)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	return p, nil
}

// streamWindow is the yamux window a node grants each stream: the bytes a
// peer may send on one stream ahead of what the node has read. 512 KiB
// carries a bulk stream faster on this machine's loopback than 1 MiB did
// (docs/performance.md, "Streams": the bytes in flight stay in the
// processor's caches) and halves what an unread stream holds; a stream
// then moves at most 512 KiB per round trip (about 1 GB/s at 0.5 ms).
const streamWindow = 512 << 10

// setupConn runs TLS, the handshake and yamux on a fresh connection and
// registers the peer. It owns c: on failure c is closed.
func (n *Node) setupConn(c net.Conn, dialed bool) (*peer, error) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	// Closing the node aborts a handshake in progress.
	stop := context.AfterFunc(n.base, func() { c.Close() })
	defer stop()
	sock := newSockConn(c)
	sc, ph, err := n.sec.handshake(sock, dialed, n.id, n.addr)
	if err != nil {
		c.Close()
		return nil, err
	}
	sock.setAsync()
	c = n.sec.watchSession(sc, n.log, ph.id)
	ycfg := yamux.DefaultConfig()
	ycfg.LogOutput = io.Discard
	ycfg.KeepAliveInterval = n.cfg.KeepAlive
	ycfg.ConnectionWriteTimeout = n.cfg.LivenessTimeout
	ycfg.StreamOpenTimeout = n.cfg.LivenessTimeout
	ycfg.StreamCloseTimeout = n.cfg.LivenessTimeout
	ycfg.MaxStreamWindowSize = streamWindow
	ycfg.AcceptBacklog = 1024
	dialer := ph.id
	if dialed {
		dialer = n.id
	}
	p := newPeer(n, ph.id, ph.addr, dialer, c.RemoteAddr().String())
	lc := newLaneConn(c, sock, p, n.cfg.LivenessTimeout)
	p.laneCli = newLaneClient(p, lc)
	p.laneSrv = newLaneServer(n, p, lc)
	var sess *yamux.Session
	if dialed {
		sess, err = yamux.Client(lc, ycfg)
	} else {
		sess, err = yamux.Server(lc, ycfg)
	}
	if err != nil {
		close(lc.ready)
		lc.Close()
		return nil, fmt.Errorf("yamux: %w", err)
	}
	p.sess = sess
	close(lc.ready)
	if winner := n.addPeer(p); winner != p {
		sess.Close()
		if winner == nil {
			return nil, fmt.Errorf("%w: not accepting peers", ErrNodeClosed)
		}
		return winner, nil
	}
	n.log.Debug("peer connected", "peer", p.id, "peer_addr", p.addr, "dialed", dialed)
	n.bg.Add(3)
	go p.acceptStreams()
	go p.watch()
	go p.gossipSender() // tells p at once
	n.tellCallers(p)
	return p, nil
}

// addPeer registers p and returns the session kept for its id: p, or an
// older one (nil when the node is closing). When a live session to the same
// peer exists already (both sides dialed), both sides keep the connection
// dialed by the smaller id; a second connection dialed by the same side
// loses. A session already closed always gives way.
func (n *Node) addPeer(p *peer) *peer {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closing {
		return nil
	}
	if old := n.peers[p.id]; old != nil && !old.sess.IsClosed() {
		winner := min(n.id, p.id)
		if old.dialer == p.dialer || p.dialer != winner {
			return old
		}
		old.retire()
	}
	delete(n.left, p.id)
	n.peers[p.id] = p
	n.rebuildRoutesLocked()
	return p
}

// removePeer forgets p if it is still the registered session for its id.
func (n *Node) removePeer(p *peer) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.peers[p.id] == p {
		delete(n.peers, p.id)
		n.rebuildRoutesLocked()
	}
}

// routeTable maps a service name to the live peers serving it, sorted by id.
type routeTable struct {
	byService map[string][]*peer
}

// rebuildRoutesLocked recomputes the routing table and wakes waiters.
func (n *Node) rebuildRoutesLocked() {
	t := &routeTable{byService: map[string][]*peer{}}
	ids := make([]string, 0, len(n.peers))
	for id := range n.peers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := n.peers[id]
		if p.leaving.Load() {
			continue
		}
		info := p.info.Load()
		if info == nil {
			continue
		}
		for _, s := range info.Services {
			t.byService[s.Name] = append(t.byService[s.Name], p)
		}
		for _, h := range info.HTTP {
			if !containsName(info.Services, h) {
				t.byService[h] = append(t.byService[h], p)
			}
		}
	}
	n.routes.Store(t)
	n.notifyLocked()
}

// containsName reports whether a service called name is in list.
func containsName(list []ServiceInfo, name string) bool {
	for _, s := range list {
		if s.Name == name {
			return true
		}
	}
	return false
}

// nodesFor returns the live peers that serve service.
func (n *Node) nodesFor(service string) []*peer {
	return n.routes.Load().byService[service]
}

// Join dials addrs now (each "host:port") and keeps them dialed like seeds.
// It returns once every address is connected, or the first error.
func (n *Node) Join(ctx context.Context, addrs ...string) error {
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("meshrpc: join %q: want host:port: %w", a, err)
		}
		n.mu.Lock()
		n.joined[a] = true
		n.mu.Unlock()
		t := n.ensureTarget(a, targetSeed)
		if err := n.waitTarget(ctx, t); err != nil {
			return fmt.Errorf("meshrpc: join %s: %w", a, err)
		}
	}
	return nil
}

// Wait blocks until every named service has at least one live node, or ctx
// ends.
func (n *Node) Wait(ctx context.Context, services ...string) error {
	for {
		ch := n.changes()
		missing := ""
		for _, s := range services {
			if len(n.nodesFor(s)) == 0 {
				missing = s
				break
			}
		}
		if missing == "" {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("meshrpc: waiting for %s: %w", missing, ctx.Err())
		case <-n.closed:
			return fmt.Errorf("meshrpc: waiting for %s: %w", missing, ErrNodeClosed)
		}
	}
}

// Close stops accepting peers and calls, tells the peers this node is
// leaving (they stop routing to it at once), lets in-flight calls finish
// until ctx ends, then closes every connection. It returns ctx.Err() when
// it had to cut calls short.
func (n *Node) Close(ctx context.Context) error {
	n.mu.Lock()
	if n.closing {
		n.mu.Unlock()
		return nil
	}
	n.closing = true
	n.serverCalls.close()
	close(n.closed)
	peers := make([]*peer, 0, len(n.peers))
	for _, p := range n.peers {
		peers = append(peers, p)
	}
	n.notifyLocked()
	n.mu.Unlock()

	if n.ln != nil {
		n.ln.Close()
	}
	var leaves sync.WaitGroup
	for _, p := range peers {
		leaves.Add(1)
		go func() { defer leaves.Done(); n.sendLeave(p) }()
	}
	leaves.Wait()
	n.clientCalls.close()
	// Wait in this goroutine, so that nothing outlives Close when ctx ends
	// first (a handler that ignores its context may never return).
	var err error
drain:
	for _, c := range []*callCounter{&n.serverCalls, &n.unflushed, &n.clientCalls} {
		select {
		case <-c.idle():
		case <-ctx.Done():
			err = fmt.Errorf("meshrpc: close: calls still in flight: %w", ctx.Err())
			break drain
		}
	}
	n.cancelBase()
	n.traffic.shutdown()
	n.http.close()
	// The transport is read through its once: Transport may be building it
	// right now. (A node nobody asked for one builds an idle one here.)
	if t, ok := n.Transport().(*meshTransport); ok {
		t.base.CloseIdleConnections()
	}
	n.mu.Lock()
	for _, p := range n.peers {
		peers = append(peers, p)
	}
	n.peers = map[string]*peer{}
	n.routes.Store(&routeTable{})
	n.mu.Unlock()
	for _, p := range peers {
		p.sess.Close()
	}
	n.bg.Wait()
	n.log.Debug("node closed")
	return err
}

// callCounter counts calls in progress; wait returns when none is left.
// After close, add refuses new calls. add and done are lock-free: they run
// on every call.
type callCounter struct {
	n      atomic.Int64
	closed atomic.Bool
	mu     sync.Mutex
	idleCh chan struct{} // closed when n drops to zero, nil when nobody waits
}

// add counts a new call; it returns false once the counter is closed.
func (c *callCounter) add() bool {
	c.n.Add(1)
	if c.closed.Load() {
		c.done()
		return false
	}
	return true
}

// done ends a call counted by add.
func (c *callCounter) done() { c.doneN(1) }

// addN counts k more, even after close.
func (c *callCounter) addN(k int) { c.n.Add(int64(k)) }

// doneN ends k counted items.
func (c *callCounter) doneN(k int) {
	if c.n.Add(-int64(k)) != 0 {
		return
	}
	c.mu.Lock()
	if c.idleCh != nil && c.n.Load() == 0 {
		close(c.idleCh)
		c.idleCh = nil
	}
	c.mu.Unlock()
}

// close makes add refuse new calls.
func (c *callCounter) close() { c.closed.Store(true) }

// wait returns once no call is in progress.
func (c *callCounter) wait() { <-c.idle() }

// idle returns a channel that is closed once no call is in progress.
func (c *callCounter) idle() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n.Load() == 0 {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	if c.idleCh == nil {
		c.idleCh = make(chan struct{})
	}
	return c.idleCh
}

// inflightCount returns the number of server-side calls in progress.
func (n *Node) inflightCount() int64 { return n.serverCalls.n.Load() }

// beginServe counts a server-side call unless the node is closing. It runs
// on every call, so it takes no lock.
func (n *Node) beginServe() bool { return n.serverCalls.add() }

// endServe ends a call counted by beginServe.
func (n *Node) endServe() { n.serverCalls.done() }
