package runtime

import (
	"sync"
	"sync/atomic"
)

// This file holds the bounds of the work one peer may hand this node on the
// fast path (Config.MaxCallsPerStream, MaxCallsPerPeer, MaxQueuedPerStream,
// MaxQueuedPerPeer). Calls multiplexed inside one yamux stream escape
// yamux's flow control, so the server rebuilds it: a stream whose peer is at
// a bound is not read until calls end and responses leave, and yamux's
// window then holds the peer's further requests on its side.

// maxRPCStreamsPerPeer bounds the fast-path streams one peer may have open
// on this node: twice the most a caller opens (Config.StreamsPerPeer is at
// most 64), for streams being replaced. Each stream may hold a yamux window
// (streamWindow, 512 KiB) of unread requests while its peer waits.
const maxRPCStreamsPerPeer = 128

// load is the fast-path work of one stream or one peer: calls running, and
// response bytes queued that yamux has not taken yet.
type load struct {
	calls  atomic.Int64
	queued atomic.Int64
}

// over reports whether l reached either bound.
func (l *load) over(maxCalls, maxQueued int) bool {
	return l.calls.Load() >= int64(maxCalls) || l.queued.Load() >= int64(maxQueued)
}

// peerLoad is the load of one peer over all its streams, and the place
// where the readers of its streams wait for room.
type peerLoad struct {
	load
	rpcStreams  atomic.Int32 // fast-path streams the peer has open here
	streamCalls atomic.Int32 // streaming calls ('S' streams) the peer has open here
	waiting     atomic.Int32 // readers waiting for room
	mu          sync.Mutex
	wake        chan struct{} // closed when room may have been made; nil when nobody waits
}

// released wakes the readers waiting for room, if any. It runs whenever a
// call ends or queued bytes leave: one atomic load when nobody waits.
func (pl *peerLoad) released() {
	if pl.waiting.Load() == 0 {
		return
	}
	pl.mu.Lock()
	if pl.wake != nil {
		close(pl.wake)
		pl.wake = nil
	}
	pl.mu.Unlock()
}

// waitRoom blocks while full reports true. It returns false when stop is
// closed first.
//
// A waiter counts itself in waiting before it checks full again, and a
// releaser lowers the load before it reads waiting (both sequentially
// consistent atomics): either the waiter sees the room, or the releaser sees
// the waiter and closes the channel it holds.
func (pl *peerLoad) waitRoom(full func() bool, stop <-chan struct{}) bool {
	for full() {
		pl.mu.Lock()
		pl.waiting.Add(1)
		if pl.wake == nil {
			pl.wake = make(chan struct{})
		}
		ch := pl.wake
		pl.mu.Unlock()
		stopped := false
		if full() {
			select {
			case <-ch:
			case <-stop:
				stopped = true
			}
		}
		pl.waiting.Add(-1)
		if stopped {
			return false
		}
	}
	return true
}
