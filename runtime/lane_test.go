package runtime

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	stdruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeLog is a net.Conn that records every Write it gets.
type writeLog struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
	got    chan struct{}
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, append([]byte(nil), p...))
	w.mu.Unlock()
	w.got <- struct{}{}
	return len(p), nil
}

func (w *writeLog) Close() error { return nil }

func (w *writeLog) SetWriteDeadline(time.Time) error { return nil }

// yamuxHeader builds a yamux frame header.
func yamuxHeader(typ byte, length uint32) []byte {
	h := make([]byte, yamuxHeaderSize)
	h[1] = typ
	binary.BigEndian.PutUint32(h[4:8], 1)
	binary.BigEndian.PutUint32(h[8:12], length)
	return h
}

func TestLaneConnSendsHeaderAndBodyInOneWrite(t *testing.T) {
	tests := []struct {
		name   string
		writes [][]byte
		want   [][]byte // what reaches the socket, write by write
	}{
		{
			"data frame: header held until its body",
			[][]byte{yamuxHeader(yamuxTypeData, 5), []byte("hello")},
			[][]byte{append(yamuxHeader(yamuxTypeData, 5), "hello"...)},
		},
		{
			"window update: no body, written at once",
			[][]byte{yamuxHeader(1, 4096)},
			[][]byte{yamuxHeader(1, 4096)},
		},
		{
			"empty data frame (FIN): written at once",
			[][]byte{yamuxHeader(yamuxTypeData, 0)},
			[][]byte{yamuxHeader(yamuxTypeData, 0)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &writeLog{got: make(chan struct{}, 16)}
			c := newLaneConn(log, newSockConn(log), nil, time.Second)
			defer c.Close()
			for _, w := range tc.writes {
				if _, err := c.Write(w); err != nil {
					t.Fatal(err)
				}
			}
			var all []byte
			for _, w := range tc.want {
				all = append(all, w...)
			}
			deadline := time.After(5 * time.Second)
			for {
				log.mu.Lock()
				var got []byte
				for _, w := range log.writes {
					got = append(got, w...)
				}
				n := len(log.writes)
				log.mu.Unlock()
				if len(got) >= len(all) {
					if !bytes.Equal(got, all) || n != len(tc.want) {
						t.Fatalf("socket got %d writes %x, want %d writes %x", n, got, len(tc.want), all)
					}
					return
				}
				select {
				case <-log.got:
				case <-deadline:
					t.Fatalf("the bytes never reached the socket: got %x, want %x", got, all)
				}
			}
		})
	}
}

// TestLaneFrameNeverLandsBetweenAYamuxHeaderAndItsBody has one goroutine
// write yamux data frames the way yamux's send loop does (the header, then
// the body, in two Writes) while others write lane frames: the bytes that
// reach the socket must parse as whole frames, every one of them intact.
func TestLaneFrameNeverLandsBetweenAYamuxHeaderAndItsBody(t *testing.T) {
	log := &writeLog{got: make(chan struct{}, 1<<16)}
	c := newLaneConn(log, newSockConn(log), nil, time.Second)
	defer c.Close()
	const yamuxFrames, laneWriters, laneFrames = 500, 4, 200
	var wg sync.WaitGroup
	wg.Add(1 + laneWriters)
	go func() {
		defer wg.Done()
		for i := range yamuxFrames {
			body := bytes.Repeat([]byte{byte(i % 200)}, 1+i%300)
			if _, err := c.Write(yamuxHeader(yamuxTypeData, uint32(len(body)))); err != nil {
				t.Error(err)
				return
			}
			// yamux copies the body between the two Writes: let the lane's
			// writers run in that window.
			stdruntime.Gosched()
			if _, err := c.Write(body); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for w := range laneWriters {
		go func() {
			defer wg.Done()
			for i := range laneFrames {
				payload := bytes.Repeat([]byte{0xEE}, 1+i%50)
				var hdr [frameHeaderLen]byte
				appendFrameHeader(hdr[:0], frameCancel, uint64(w<<16|i), len(payload))
				if err := c.writeLane(context.Background(), w%2 == 0, hdr[:], payload); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	want := yamuxFrames + laneWriters*laneFrames
	deadline := time.After(10 * time.Second)
	for {
		log.mu.Lock()
		var all []byte
		for _, w := range log.writes {
			all = append(all, w...)
		}
		log.mu.Unlock()
		got, err := countFrames(all)
		if err != nil {
			t.Fatalf("the socket's bytes do not parse as frames: %v", err)
		}
		if got == want {
			return
		}
		select {
		case <-log.got:
		case <-deadline:
			t.Fatalf("%d whole frames reached the socket, want %d", got, want)
		}
	}
}

// countFrames parses b as yamux data frames and lane frames and counts
// them; a frame cut short at the end is not counted.
func countFrames(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		switch b[0] {
		case 0:
			if len(b) < yamuxHeaderSize {
				return n, nil
			}
			size := yamuxHeaderSize + int(binary.BigEndian.Uint32(b[8:12]))
			if len(b) < size {
				return n, nil
			}
			for _, x := range b[yamuxHeaderSize:size] {
				if x == 0xEE {
					return n, fmt.Errorf("frame %d: a lane frame's byte inside a yamux body", n)
				}
			}
			b = b[size:]
		case laneMark:
			if len(b) < 1+frameHeaderLen {
				return n, nil
			}
			size := 1 + 4 + int(binary.BigEndian.Uint32(b[1:5]))
			if len(b) < size {
				return n, nil
			}
			for _, x := range b[1+frameHeaderLen : size] {
				if x != 0xEE {
					return n, fmt.Errorf("frame %d: a lane frame's payload holds byte 0x%02x", n, x)
				}
			}
			b = b[size:]
		default:
			return n, fmt.Errorf("frame %d opens with 0x%02x", n, b[0])
		}
		n++
	}
	return n, nil
}

// TestCallsInParallelWithAStreamTransfer runs many callers on the lane
// while an io.Reader result streams 8 MiB on a yamux stream of the same
// connection (run with -race): every call and every byte arrive intact.
func TestCallsInParallelWithAStreamTransfer(t *testing.T) {
	for _, mode := range laneModes() {
		t.Run(mode.name, func(t *testing.T) { callsBesideAStream(t, mode.cfg()) })
	}
}

func callsBesideAStream(t *testing.T, cfg Config) {
	srv := startNode(t, cfg)
	if err := srv.Publish(&feederDesc, newFeederImpl()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Publish(&greeterDesc, &greeterImpl{tag: "a"}); err != nil {
		t.Fatal(err)
	}
	caller, g := callerOf(t, cfg, srv.Addr())
	f := &feederClient{caller.Client(&feederDesc)}
	ctx := within(t, 60*time.Second)

	const size = 8 << 20
	streamed := make(chan error, 1)
	go func() {
		r, err := f.Export(ctx, size, -1)
		if err != nil {
			streamed <- err
			return
		}
		defer r.Close()
		buf := make([]byte, 64<<10)
		at := 0
		for {
			n, err := r.Read(buf)
			for i := range n {
				if buf[i] != pattern(at+i) {
					streamed <- fmt.Errorf("byte %d of the stream: 0x%02x, want 0x%02x", at+i, buf[i], pattern(at+i))
					return
				}
			}
			at += n
			if err == io.EOF {
				break
			}
			if err != nil {
				streamed <- err
				return
			}
		}
		if at != size {
			streamed <- fmt.Errorf("stream carried %d bytes, want %d", at, size)
			return
		}
		streamed <- nil
	}()

	const callers, calls = 16, 200
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for w := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := bytes.Repeat([]byte{byte(w)}, 1+w*300)
			for i := range calls {
				got, err := g.Echo(ctx, data)
				if err != nil {
					errs <- fmt.Errorf("caller %d, call %d: %v", w, i, err)
					return
				}
				if !bytes.Equal(got, data) {
					errs <- fmt.Errorf("caller %d, call %d: echo of %d bytes came back as %d different bytes", w, i, len(data), len(got))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := <-streamed; err != nil {
		t.Fatal(err)
	}
	p := caller.peerByID(srv.ID())
	if len(p) != 1 || p[0].laneCli.nextID < callers*calls {
		t.Fatalf("the calls did not go on the lane")
	}
}

// TestPeerSendingAnUnknownLaneFrameKindIsDisconnectedAndLogged writes a
// lane frame of kind 9 to a node: the node logs it and closes the
// connection, and the caller's session ends.
func TestPeerSendingAnUnknownLaneFrameKindIsDisconnectedAndLogged(t *testing.T) {
	sink := newLogSink()
	cfg := testConfig()
	cfg.Logger = sink.logger()
	srv, _ := serveGreeter(t, cfg, "a")
	caller, _ := callerOf(t, testConfig(), srv.Addr())
	p := caller.peerByID(srv.ID())[0]
	var hdr [frameHeaderLen]byte
	appendFrameHeader(hdr[:0], 9, 1, 3)
	if err := p.laneCli.fw.lane.writeLane(context.Background(), true, hdr[:], []byte("abc")); err != nil {
		t.Fatal(err)
	}
	sink.waitLine(t, 10*time.Second, "malformed frame", "unknown kind 9")
	select {
	case <-p.sess.CloseChan():
	case <-time.After(10 * time.Second):
		t.Fatal("the caller's session outlived the malformed frame")
	}
}

// TestOversizeLaneRequestIsRefusedAndTheLaneGoesOn sends a request over
// the server's body limit on the lane: the server skips its bytes and
// answers it with a too-large refusal, and the next call works.
func TestOversizeLaneRequestIsRefusedAndTheLaneGoesOn(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBody = 1 << 10
	srv, _ := serveGreeter(t, cfg, "a")
	caller, g := callerOf(t, testConfig(), srv.Addr())
	p := caller.peerByID(srv.ID())[0]
	conn, err := p.caller()
	if err != nil || conn != p.laneCli {
		t.Fatalf("the caller does not call the server on the lane (%v)", err)
	}
	reqHdr := appendRequest(nil, greeterName, greeterEcho, "echo-1", 0, nil)
	var e Encoder
	(&greeterEchoRequest{Data: make([]byte, cfg.MaxBody+100<<10)}).MarshalMesh(&e)
	ctx := within(t, 20*time.Second)
	_, pc, err := conn.start(ctx, reqHdr, e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-pc.done:
	case <-ctx.Done():
		t.Fatal("no answer to the oversize request")
	}
	f := pc.resp
	if pc.err != nil || len(f.payload) < 2 || f.payload[0] != statusProto || f.payload[1] != codeTooLarge {
		t.Fatalf("answer to the oversize request: %q, %v; want a too-large refusal", f.payload, pc.err)
	}
	if got, err := g.Greet(ctx, "x"); err != nil || got != "hello x" {
		t.Fatalf("call after the refused one: %q, %v", got, err)
	}
}

// TestLanePeerPastItsBoundIsRefusedNotRun sends, bypassing the caller's
// wait, one more request than the server runs for a peer: the server does
// not stop reading (the lane is the connection) but refuses that request as
// not run, and runs the others.
func TestLanePeerPastItsBoundIsRefusedNotRun(t *testing.T) {
	cfg := testConfig()
	cfg.MaxCallsPerStream, cfg.MaxCallsPerPeer = 2, 2
	srv, impl := serveGreeter(t, cfg, "a")
	impl.started = make(chan struct{}, 3)
	caller, _ := callerOf(t, testConfig(), srv.Addr())
	p := caller.peerByID(srv.ID())[0]
	conn := p.laneCli
	conn.limit.Store(0) // no wait for room: this caller misbehaves
	ctx := within(t, 20*time.Second)
	var e Encoder
	(&greeterSleepRequest{D: time.Minute}).MarshalMesh(&e)
	reqHdr := appendRequest(nil, greeterName, greeterSleep, "sleep-1", 0, nil)
	var ids []uint64
	var pcs []*pendingCall
	for range 3 {
		id, pc, err := conn.start(ctx, reqHdr, e.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		ids, pcs = append(ids, id), append(pcs, pc)
		if len(ids) <= 2 {
			<-impl.started
		}
	}
	select {
	case <-pcs[2].done:
	case <-ctx.Done():
		t.Fatal("no answer to the request past the bound")
	}
	f := pcs[2].resp
	if len(f.payload) < 2 || f.payload[0] != statusProto || f.payload[1] != codeRefused || !strings.Contains(string(f.payload), "did not run") {
		t.Fatalf("answer to the request past the bound: %q; want a not-run refusal", f.payload)
	}
	if got := srv.inflightCount(); got != 2 {
		t.Fatalf("%d calls running, want the 2 within the bound", got)
	}
	for i := range 2 {
		conn.cancel(ids[i], pcs[i])
	}
	waitFor(t, 10*time.Second, "the server to end the cancelled calls", func() bool { return srv.inflightCount() == 0 })
}

// TestLaneCallerWaitsAtThePeersBound makes eight calls at once to a server
// that runs two of one peer's calls at a time: the caller holds the others
// back until a response comes (it knows the bound from the gossip), so
// none is refused and the server never runs more than two.
func TestLaneCallerWaitsAtThePeersBound(t *testing.T) {
	cfg := testConfig()
	cfg.MaxCallsPerStream, cfg.MaxCallsPerPeer = 2, 2
	srv, _ := serveGreeter(t, cfg, "a")
	caller, g := callerOf(t, testConfig(), srv.Addr())
	pl := &srv.peerByID(caller.ID())[0].load
	ctx := within(t, 30*time.Second)
	errs := make(chan error, 8)
	for range 8 {
		go func() { errs <- g.Sleep(ctx, 50*time.Millisecond) }()
	}
	most := int64(0)
	for done := 0; done < 8; {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatalf("a call over the peer's bound failed instead of waiting: %v", err)
			}
			done++
		case <-time.After(time.Millisecond):
			// The calls the bound counts: running, not yet answered (a
			// call's goroutine may still be finishing after its response
			// left, while the caller's next call starts).
			most = max(most, pl.calls.Load())
		}
	}
	if most > 2 {
		t.Fatalf("%d calls ran at once for a peer bounded to 2", most)
	}
	if most < 2 {
		t.Fatalf("at most %d call ran at once; the test wants the peer at its bound of 2", most)
	}
}

// TestCallerReadingItsOwnResponseReturnsAtItsDeadline makes calls to a
// handler that ignores its context, one after another, so that the caller
// is often the lane's reader, blocked in a read, when its deadline comes
// (the server's own deadline does not end the call): it must return at
// once and leave the lane working, in TLS too.
func TestCallerReadingItsOwnResponseReturnsAtItsDeadline(t *testing.T) {
	for _, mode := range laneModes() {
		t.Run(mode.name, func(t *testing.T) {
			// Keepalive pings and gossip every 10s: no frame comes to
			// wake a reading caller before the test's bound.
			cfg := func() Config {
				c := mode.cfg()
				c.KeepAlive, c.LivenessTimeout, c.GossipInterval = 10*time.Second, 30*time.Second, 10*time.Second
				return c
			}
			srv, _ := serveGreeter(t, cfg(), "a")
			release := make(chan struct{}, 16)
			if err := srv.Publish(&blockerDesc, &blocker{entered: make(chan struct{}, 16), release: release}); err != nil {
				t.Fatal(err)
			}
			caller, g := callerOf(t, cfg(), srv.Addr())
			if err := caller.Wait(within(t, 10*time.Second), blockerDesc.Name); err != nil {
				t.Fatal(err)
			}
			p := caller.peerByID(srv.ID())[0]
			// Every blocked call is released once its caller returned, so
			// that its response comes and the lane is idle again: the role
			// is then left to the next caller.
			callsPastTheirDeadline(t, caller.Client(&blockerDesc), g, func() {
				release <- struct{}{}
				waitFor(t, 10*time.Second, "the released call's response", func() bool { return p.laneCli.inflight.Load() == 0 })
			})
		})
	}
}

// laneModes are the security modes the lane's tests run in: the lane is
// inside TLS in key mode, where a read interrupted by a deadline must
// leave the TLS connection usable too.
func laneModes() []struct {
	name string
	cfg  func() Config
} {
	return []struct {
		name string
		cfg  func() Config
	}{
		{"plain", testConfig},
		{"key", func() Config { c, _ := keyed(testKey); return c }},
	}
}

// callsPastTheirDeadline makes ten calls to blocker that outlive a 50ms
// deadline, each preceded by a call to g that must work and followed by
// after.
func callsPastTheirDeadline(t *testing.T, blockers *Client, g *greeterClient, after func()) {
	t.Helper()
	for i := range 10 {
		if got, err := g.Greet(within(t, 10*time.Second), "x"); err != nil || got != "hello x" {
			t.Fatalf("call before %d: %q, %v", i, got, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		start := time.Now()
		err := blockers.Call(ctx, 0, &greeterEmpty{}, &greeterEmpty{})
		took := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || took > 5*time.Second {
			t.Fatalf("call %d: %v after %v, want DeadlineExceeded at its 50ms deadline", i, err, took)
		}
		after()
	}
}

// TestPeerWithoutTheLaneIsCalledOnStreams calls a peer whose membership
// message does not announce the lane, as a node of this protocol version
// built before the lane would: the call goes on an 'R' stream, and no lane
// frame is sent to that peer.
func TestPeerWithoutTheLaneIsCalledOnStreams(t *testing.T) {
	srv, _ := serveGreeter(t, testConfig(), "a")
	caller, g := callerOf(t, testConfig(), srv.Addr())
	p := caller.peerByID(srv.ID())[0]
	info := *p.info.Load()
	info.Lane = 0
	p.info.Store(&info)
	before := p.laneCli.nextID
	if got, err := g.Greet(within(t, 10*time.Second), "x"); err != nil || got != "hello x" {
		t.Fatalf("call to a peer without the lane: %q, %v", got, err)
	}
	p.mu.Lock()
	streams := len(p.conns)
	p.mu.Unlock()
	if streams == 0 || p.laneCli.nextID != before {
		t.Fatalf("the call went on the lane (%d fast-path streams, lane ids %d → %d)", streams, before, p.laneCli.nextID)
	}
}
