package stacks

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/meshsplit/meshsplit/bench/greeter"
	"github.com/meshsplit/meshsplit/bench/greeterpb"
	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// A StreamStack is one way to reach greeter.Streamer.
type StreamStack struct {
	// Name is the stack's element of a benchmark name: "meshsplit",
	// "grpc" or "tcp".
	Name string
	// Start serves greeter.NewStreamer and returns a client of it. The
	// caller closes the StreamConn when done.
	Start func() (*StreamConn, error)
}

// StreamConn is a greeter.Streamer reached through one stack.
type StreamConn struct {
	greeter.Streamer
	closers []func() error
}

// Close stops the client and then the server, and returns the first error.
func (c *StreamConn) Close() error {
	var first error
	for _, close := range c.closers {
		if err := close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// StreamStacks returns every stream stack, meshsplit first.
func StreamStacks() []StreamStack {
	return []StreamStack{
		{Name: "meshsplit", Start: StartMeshsplitStream},
		{Name: "grpc", Start: StartGRPCStream},
		{Name: "tcp", Start: StartTCPStream},
	}
}

// StartMeshsplitStream serves greeter.NewStreamer on a mesh node on
// 127.0.0.1 and returns the generated client of a caller-only node joined
// to it: each call is a streaming call on a yamux stream of its own.
func StartMeshsplitStream() (*StreamConn, error) {
	scfg := meshrt.DefaultConfig()
	scfg.Listen = "127.0.0.1:0"
	server, err := meshrt.NewNode(scfg)
	if err != nil {
		return nil, fmt.Errorf("meshsplit stream stack: server node: %w", err)
	}
	closeServer := closeNode(server)
	if err := server.Publish(&greeter.StreamerMeshDesc, greeter.NewStreamer()); err != nil {
		closeServer()
		return nil, fmt.Errorf("meshsplit stream stack: publish: %w", err)
	}
	ccfg := meshrt.DefaultConfig()
	ccfg.Listen = ""
	client, err := meshrt.NewNode(ccfg)
	if err != nil {
		closeServer()
		return nil, fmt.Errorf("meshsplit stream stack: client node: %w", err)
	}
	closeClient := closeNode(client)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := client.Join(ctx, server.Addr()); err == nil {
		err = client.Wait(ctx, greeter.StreamerMeshDesc.Name)
	}
	if err != nil {
		closeClient()
		closeServer()
		return nil, fmt.Errorf("meshsplit stream stack: %w", err)
	}
	return &StreamConn{
		Streamer: greeter.NewStreamerMeshClient(client.Client(&greeter.StreamerMeshDesc)),
		closers:  []func() error{closeClient, closeServer},
	}, nil
}

// The gRPC streaming service, written by hand (the benchmarks' protoc
// output has only the unary Greeter): two server-streaming methods over
// greeterpb's messages. Events takes a Line whose Qty is the count and
// streams Lines; Download takes a Doc whose ID is the size and streams
// Docs carrying 32 KiB chunks in Blob, as a gRPC service would.
const grpcStreamerName = "meshsplit.bench.greeter.Streamer"

// grpcStreamChunk is the size of one Download message.
const grpcStreamChunk = 32 << 10

// streamerServer is the HandlerType of the hand-written service.
type streamerServer interface{ impl() greeter.Streamer }

type grpcStreamer struct{ s greeter.Streamer }

func (g grpcStreamer) impl() greeter.Streamer { return g.s }

var grpcStreamerDesc = grpc.ServiceDesc{
	ServiceName: grpcStreamerName,
	HandlerType: (*streamerServer)(nil),
	Streams: []grpc.StreamDesc{
		{StreamName: "Events", ServerStreams: true, Handler: grpcEventsHandler},
		{StreamName: "Download", ServerStreams: true, Handler: grpcDownloadHandler},
	},
	Metadata: "hand-written in bench/stacks/stream.go",
}

func grpcEventsHandler(srv any, stream grpc.ServerStream) error {
	in := new(greeterpb.Line)
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	var out greeterpb.Line
	for ev, err := range srv.(streamerServer).impl().Events(stream.Context(), int(in.GetQty())) {
		if err != nil {
			return err
		}
		out = greeterpb.Line{Sku: ev.SKU, Qty: ev.Qty, Price: ev.Price, Note: ev.Note}
		if err := stream.SendMsg(&out); err != nil {
			return err
		}
	}
	return nil
}

func grpcDownloadHandler(srv any, stream grpc.ServerStream) error {
	in := new(greeterpb.Doc)
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	r, err := srv.(streamerServer).impl().Download(stream.Context(), in.GetId())
	if err != nil {
		return err
	}
	defer r.Close()
	buf := make([]byte, grpcStreamChunk)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if err := stream.SendMsg(&greeterpb.Doc{Blob: buf[:n]}); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// StartGRPCStream serves greeter.NewStreamer with gRPC-go server streaming
// on 127.0.0.1 and returns a greeter.Streamer over it.
func StartGRPCStream() (*StreamConn, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("grpc stream stack: listen: %w", err)
	}
	srv := grpc.NewServer()
	srv.RegisterService(&grpcStreamerDesc, grpcStreamer{s: greeter.NewStreamer()})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	cc, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		srv.Stop()
		return nil, fmt.Errorf("grpc stream stack: dial %s: %w", lis.Addr(), err)
	}
	stopServer := func() error {
		srv.Stop()
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("grpc stream stack: serve: %w", err)
		}
		return nil
	}
	return &StreamConn{Streamer: grpcStreamClient{cc: cc}, closers: []func() error{cc.Close, stopServer}}, nil
}

// grpcStreamClient implements greeter.Streamer over the hand-written
// service.
type grpcStreamClient struct{ cc *grpc.ClientConn }

// open starts a server-streaming call of method i with request in.
func (c grpcStreamClient) open(ctx context.Context, i int, in any) (grpc.ClientStream, context.CancelFunc, error) {
	ctx, cancel := context.WithCancel(ctx)
	sd := &grpcStreamerDesc.Streams[i]
	st, err := c.cc.NewStream(ctx, sd, "/"+grpcStreamerName+"/"+sd.StreamName)
	if err == nil {
		err = st.SendMsg(in)
	}
	if err == nil {
		err = st.CloseSend()
	}
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return st, cancel, nil
}

func (c grpcStreamClient) Events(ctx context.Context, n int) iter.Seq2[greeter.Line, error] {
	return func(yield func(greeter.Line, error) bool) {
		st, cancel, err := c.open(ctx, 0, &greeterpb.Line{Qty: int32(n)})
		if err != nil {
			yield(greeter.Line{}, err)
			return
		}
		defer cancel() // an early stop cancels the server's stream
		var m greeterpb.Line
		for {
			if err := st.RecvMsg(&m); err != nil {
				if err != io.EOF {
					yield(greeter.Line{}, err)
				}
				return
			}
			if !yield(greeter.Line{SKU: m.GetSku(), Qty: m.GetQty(), Price: m.GetPrice(), Note: m.GetNote()}, nil) {
				return
			}
		}
	}
}

func (c grpcStreamClient) Download(ctx context.Context, size int64) (io.ReadCloser, error) {
	st, cancel, err := c.open(ctx, 1, &greeterpb.Doc{Id: size})
	if err != nil {
		return nil, err
	}
	return &grpcChunkReader{st: st, cancel: cancel}, nil
}

// grpcChunkReader reads the chunks of a Download.
type grpcChunkReader struct {
	st     grpc.ClientStream
	cancel context.CancelFunc
	m      greeterpb.Doc
	rest   []byte
	err    error
}

func (r *grpcChunkReader) Read(p []byte) (int, error) {
	for len(r.rest) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.m.Reset()
		if err := r.st.RecvMsg(&r.m); err != nil {
			r.err = err
			continue
		}
		r.rest = r.m.GetBlob()
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

func (r *grpcChunkReader) Close() error { r.cancel(); return nil }

// StartTCPStream serves greeter.NewStreamer over raw TCP on 127.0.0.1, one
// connection per call and no framework: the floor. A request is one byte
// (1 events, 2 download) and a uvarint (the count or the size). Events go
// back as length-prefixed frames of the codec meshsplit's generated code
// uses (u32 length, then the Line), through 32 KiB buffers on both sides;
// a download is the bytes themselves, copied to the connection. Closing the
// connection is the only cancellation.
func StartTCPStream() (*StreamConn, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("tcp stream stack: listen: %w", err)
	}
	s := &tcpStreamServer{lis: lis, impl: greeter.NewStreamer(), conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.serve()
	return &StreamConn{Streamer: tcpStreamClient{addr: lis.Addr().String()}, closers: []func() error{s.Close}}, nil
}

type tcpStreamServer struct {
	lis  net.Listener
	impl greeter.Streamer
	wg   sync.WaitGroup
	mu   sync.Mutex
	// conns are the connections being served, closed by Close.
	conns map[net.Conn]struct{}
}

func (s *tcpStreamServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.lis.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

func (s *tcpStreamServer) serveConn(c net.Conn) {
	r := bufio.NewReader(c)
	kind, err := r.ReadByte()
	if err != nil {
		return
	}
	arg, err := binary.ReadUvarint(r)
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	switch kind {
	case 1:
		w := bufio.NewWriterSize(c, 32<<10)
		var e meshrt.Encoder
		var hdr [4]byte
		for ev, err := range s.impl.Events(ctx, int(arg)) {
			if err != nil {
				return
			}
			e.Reset()
			encodeLine(&e, &ev)
			binary.BigEndian.PutUint32(hdr[:], uint32(len(e.Bytes())))
			w.Write(hdr[:])
			if _, err := w.Write(e.Bytes()); err != nil {
				return
			}
		}
		w.Flush()
	case 2:
		src, err := s.impl.Download(ctx, int64(arg))
		if err != nil {
			return
		}
		defer src.Close()
		io.CopyBuffer(c, src, make([]byte, 32<<10))
	}
}

// encodeLine encodes a Line as the generated streamerEncodeLine does.
func encodeLine(e *meshrt.Encoder, l *greeter.Line) {
	e.String(l.SKU)
	e.Int(int64(l.Qty))
	e.Float64(l.Price)
	e.String(l.Note)
}

// decodeLine decodes a Line as the generated streamerDecodeLine does.
func decodeLine(d *meshrt.Decoder, l *greeter.Line) {
	l.SKU = d.String()
	l.Qty = int32(d.Int())
	l.Price = d.Float64()
	l.Note = d.String()
}

// Close stops accepting and closes every connection being served.
func (s *tcpStreamServer) Close() error {
	err := s.lis.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// tcpStreamClient implements greeter.Streamer over tcpStreamServer.
type tcpStreamClient struct{ addr string }

func (c tcpStreamClient) dial(kind byte, arg uint64) (net.Conn, error) {
	conn, err := net.Dial("tcp", c.addr)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(binary.AppendUvarint([]byte{kind}, arg)); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

func (c tcpStreamClient) Events(ctx context.Context, n int) iter.Seq2[greeter.Line, error] {
	return func(yield func(greeter.Line, error) bool) {
		conn, err := c.dial(1, uint64(n))
		if err != nil {
			yield(greeter.Line{}, err)
			return
		}
		defer conn.Close()
		r := bufio.NewReaderSize(conn, 32<<10)
		var hdr [4]byte
		var buf []byte
		var d meshrt.Decoder
		for i := 0; i < n; i++ {
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				yield(greeter.Line{}, err)
				return
			}
			size := int(binary.BigEndian.Uint32(hdr[:]))
			if cap(buf) < size {
				buf = make([]byte, size)
			}
			buf = buf[:size]
			if _, err := io.ReadFull(r, buf); err != nil {
				yield(greeter.Line{}, err)
				return
			}
			var l greeter.Line
			d.Reset(buf)
			decodeLine(&d, &l)
			if err := d.Err(); err != nil {
				yield(greeter.Line{}, err)
				return
			}
			if !yield(l, nil) {
				return
			}
		}
	}
}

func (c tcpStreamClient) Download(ctx context.Context, size int64) (io.ReadCloser, error) {
	conn, err := c.dial(2, uint64(size))
	if err != nil {
		return nil, err
	}
	return &tcpDownload{Reader: io.LimitReader(conn, size), conn: conn}, nil
}

// tcpDownload is a download's bytes, and the connection to close.
type tcpDownload struct {
	io.Reader
	conn net.Conn
}

func (d *tcpDownload) Close() error { return d.conn.Close() }
