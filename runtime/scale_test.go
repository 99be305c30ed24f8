//go:build linux

package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkMeshScale measures the full mesh at 10, 20, 50 and 200 nodes in
// this process on 127.0.0.1, with the default configuration (gossip every
// 500ms, keepalive every 1s, no cluster key), each node seeded with the
// first one only and publishing the greeter service:
//
//   - conv-intervals: time from the last node's start until every node
//     routes to every other, in gossip intervals;
//   - B/link and goroutines/link: heap and stacks, and goroutines, of the
//     idle mesh over its n(n-1)/2 connections (both ends are in this
//     process, so a link counts both; the nodes' own share is included);
//   - idle-B/s/node: bytes the process writes per node and second once
//     idle (gossip and keepalive pings; /proc/self/io), over 5s;
//   - gossip-msg-B: the size of one node's gossip message;
//   - join-B: bytes the whole mesh writes from the last node's start until
//     it has converged (handshakes, gossip pushed to every peer on each new
//     connection, and whatever idle traffic falls in that time).
//
// 200 nodes need about 40 000 file descriptors: the benchmark raises its
// limit, and skips that size when it cannot. It is not run by go test
// without -bench:
//
//	go test -run X -bench MeshScale -benchtime 1x ./runtime
func BenchmarkMeshScale(b *testing.B) {
	for _, n := range []int{10, 20, 50, 100, 200} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			if err := raiseFileLimit(uint64(n*n + 1024)); err != nil {
				b.Skipf("%d nodes need %d file descriptors: %v", n, n*n+1024, err)
			}
			var sum scaleFigures
			for i := 0; i < b.N; i++ {
				f := measureMesh(b, n)
				sum.conv += f.conv
				sum.bytesPerLink += f.bytesPerLink
				sum.goroutinesPerLink += f.goroutinesPerLink
				sum.idlePerNode += f.idlePerNode
				sum.gossipMsg += f.gossipMsg
				sum.joinBytes += f.joinBytes
			}
			k := float64(b.N)
			interval := DefaultConfig().GossipInterval
			b.ReportMetric(float64(sum.conv)/k/float64(interval), "conv-intervals")
			b.ReportMetric(sum.bytesPerLink/k, "B/link")
			b.ReportMetric(sum.goroutinesPerLink/k, "goroutines/link")
			b.ReportMetric(sum.idlePerNode/k, "idle-B/s/node")
			b.ReportMetric(sum.gossipMsg/k, "gossip-msg-B")
			b.ReportMetric(sum.joinBytes/k, "join-B")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// scaleWait bounds the wait for a mesh to converge.
const scaleWait = time.Minute

// scaleFigures are the measurements of one mesh.
type scaleFigures struct {
	conv              time.Duration
	bytesPerLink      float64
	goroutinesPerLink float64
	idlePerNode       float64
	gossipMsg         float64
	joinBytes         float64
}

func measureMesh(b *testing.B, n int) scaleFigures {
	b.Helper()
	g0, m0 := idleFootprint()
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	var nodes []*Node
	defer func() { closeAll(nodes) }()
	start := func(i int) {
		c := cfg
		if i > 0 {
			c.Seeds = []string{nodes[0].Addr()}
		}
		node, err := NewNode(c)
		if err != nil {
			b.Fatalf("node %d: %v", i, err)
		}
		nodes = append(nodes, node)
		if err := node.Publish(&greeterDesc, &greeterImpl{tag: strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
	// The first n-1 nodes join in batches of scaleBatch, each batch once
	// the mesh before it has converged (a deployment scaled up step by
	// step); then the last node joins, and the figure is the time from its
	// start until every node routes to every other.
	formed := time.Now()
	for len(nodes) < n-1 {
		for k := 0; k < scaleBatch && len(nodes) < n-1; k++ {
			start(len(nodes))
		}
		waitConverged(b, nodes)
	}
	b.Logf("%d nodes: the first %d formed in batches of %d in %v", n, n-1, scaleBatch, time.Since(formed).Round(time.Millisecond))
	w, lastJoin := writtenBytes(b), time.Now()
	start(n - 1)
	waitConverged(b, nodes)
	f := scaleFigures{conv: time.Since(lastJoin), joinBytes: float64(writtenBytes(b) - w)}

	// Idle: let retired duplicate connections go, then measure.
	time.Sleep(2 * time.Second)
	g1, m1 := idleFootprint()
	links := float64(n * (n - 1) / 2)
	f.bytesPerLink = float64(m1-m0) / links
	f.goroutinesPerLink = float64(g1-g0) / links
	w0, t0 := writtenBytes(b), time.Now()
	time.Sleep(5 * time.Second) // the measurement window of the idle traffic
	f.idlePerNode = float64(writtenBytes(b)-w0) / time.Since(t0).Seconds() / float64(n)
	msg, err := json.Marshal(nodes[n/2].message(false))
	if err != nil {
		b.Fatal(err)
	}
	f.gossipMsg = float64(len(msg) + 4)
	if !converged(nodes) {
		b.Fatalf("the idle mesh of %d nodes lost links", n)
	}
	return f
}

// scaleBatch is how many nodes join at once while a mesh is formed.
const scaleBatch = 10

// waitConverged waits until every node routes to all the others.
func waitConverged(b *testing.B, nodes []*Node) {
	b.Helper()
	deadline := time.Now().Add(scaleWait)
	for !converged(nodes) {
		if time.Now().After(deadline) {
			hist := map[int]int{}
			for _, node := range nodes {
				hist[len(node.nodesFor(greeterName))]++
			}
			b.Fatalf("%d nodes did not converge within %v: nodes by the number of others they route to: %v", len(nodes), scaleWait, hist)
		}
		time.Sleep(2 * time.Millisecond) // polling the routing tables; the figure's resolution
	}
}

// converged reports whether every node routes the greeter to all others.
func converged(nodes []*Node) bool {
	for _, n := range nodes {
		if len(n.nodesFor(greeterName)) != len(nodes)-1 {
			return false
		}
	}
	return true
}

// closeAll closes the nodes at once.
func closeAll(nodes []*Node) {
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			n.Close(ctx)
		}()
	}
	wg.Wait()
}

// idleFootprint returns the goroutines and the heap plus stack bytes in use
// after a collection.
func idleFootprint() (int, uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapInuse + ms.StackInuse
}

// writtenBytes returns the bytes this process has written (wchar of
// /proc/self/io: every write, of which an idle mesh makes only its own).
func writtenBytes(b *testing.B) uint64 {
	b.Helper()
	f, err := os.Open("/proc/self/io")
	if err != nil {
		b.Skipf("no /proc/self/io: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "wchar: "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Skip("/proc/self/io has no wchar line")
	return 0
}

// raiseFileLimit raises this process's open-file limit to at least want.
func raiseFileLimit(want uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if uint64(lim.Cur) >= want {
		return nil
	}
	if uint64(lim.Max) < want {
		lim.Max = want
	}
	lim.Cur = lim.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}
