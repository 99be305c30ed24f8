package stacks

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/meshsplit/meshsplit/bench/greeter"
	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// TestTCPWireIsGenerated checks that the tcp stack's bodies are the
// generated code's: the generated request of each method decodes what the
// tcp stack encodes to an equal value and encodes it back to as many
// bytes, and the tcp stack decodes the generated encoding. So both stacks
// carry the same bytes and do the same codec work per call.
func TestTCPWireIsGenerated(t *testing.T) {
	methods := greeter.ServiceMeshDesc.Methods
	if methods[methodEcho].Name != "Echo" || methods[methodGreet].Name != "Greet" {
		t.Fatalf("generated methods %q and %q, want Echo at %d and Greet at %d",
			methods[methodEcho].Name, methods[methodGreet].Name, methodEcho, methodGreet)
	}
	doc := greeter.SampleDoc()
	tests := []struct {
		name   string
		method byte
		encode func(e *meshrt.Encoder)
		// check decodes the generated encoding with the tcp stack's code.
		check func(t *testing.T, d *meshrt.Decoder)
	}{
		{"Echo", methodEcho,
			func(e *meshrt.Encoder) { encodeDoc(e, &doc) },
			func(t *testing.T, d *meshrt.Decoder) {
				var got greeter.Doc
				decodeDoc(d, &got)
				if d.Err() != nil || !reflect.DeepEqual(got, doc) {
					t.Errorf("decodeDoc of the generated encoding = %+v, %v; want the sample document", got, d.Err())
				}
			}},
		{"Greet", methodGreet,
			func(e *meshrt.Encoder) { e.String(greeter.SmallName) },
			func(t *testing.T, d *meshrt.Decoder) {
				if got := d.String(); d.Err() != nil || got != greeter.SmallName {
					t.Errorf("decoding the generated encoding = %q, %v; want %q", got, d.Err(), greeter.SmallName)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ours meshrt.Encoder
			tt.encode(&ours)
			req := methods[tt.method].NewRequest()
			req.UnmarshalMesh(meshrt.NewDecoder(ours.Bytes()))
			var theirs meshrt.Encoder
			req.MarshalMesh(&theirs)
			if len(theirs.Bytes()) != len(ours.Bytes()) {
				t.Errorf("generated encoding of the decoded request: %d bytes, the tcp stack's %d", len(theirs.Bytes()), len(ours.Bytes()))
			}
			tt.check(t, meshrt.NewDecoder(theirs.Bytes()))
		})
	}
}

// TestTCPServerRejectsBadFrames sends malformed frames to the server: it
// must end the connection and report the fault when closed.
func TestTCPServerRejectsBadFrames(t *testing.T) {
	frame := func(length uint32, rest ...byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, length), rest...)
	}
	tests := []struct {
		name    string
		send    []byte
		wantErr string
	}{
		{"empty frame", frame(0, methodGreet), "frame length 0 out of range"},
		{"oversized frame", frame(maxFrame+1, methodGreet), "frame length 16777217 out of range"},
		{"unknown method", frame(1, 7), "request for method 7"},
		{"truncated Greet", frame(2, methodGreet, 30), "Greet request"},
		{"truncated Echo", frame(3, methodEcho, 2, 5), "Echo request"},
		{"cut frame", frame(100, methodGreet, 1), "reading a frame body of 99 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := startTCPServer(greeter.New())
			if err != nil {
				t.Fatal(err)
			}
			c, err := net.Dial("tcp", srv.lis.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(tt.send); err != nil {
				t.Fatal(err)
			}
			if tt.name == "cut frame" {
				// The rest of the frame never comes.
				if err := c.(*net.TCPConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			// The server answers nothing and closes the connection.
			if err := c.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Read(make([]byte, 16)); err != io.EOF {
				t.Errorf("read after the bad frame = %d bytes, %v; want EOF", n, err)
			}
			c.Close()
			if err := srv.Close(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("server Close() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestTCPClientConnections checks that every call in flight has its own
// connection, that a connection comes back after a call and after the
// handler's error, and that a context's deadline is applied and cleared.
func TestTCPClientConnections(t *testing.T) {
	srv, err := startTCPServer(greeter.New())
	if err != nil {
		t.Fatal(err)
	}
	cli := &tcpClient{addr: srv.lis.Addr().String()}
	defer func() {
		if err := cli.Close(); err != nil {
			t.Error(err)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("server: %v", err)
		}
	}()
	ctx := context.Background()

	a, err := cli.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cli.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two calls in flight got the same connection")
	}
	cli.put(a, nil)
	cli.put(b, &remoteError{msg: "handler"})
	if len(cli.idle) != 2 {
		t.Fatalf("%d idle connections after two calls, want 2", len(cli.idle))
	}

	if _, err := cli.Greet(ctx, ""); err == nil || err.Error() != "greet: empty name" {
		t.Errorf("Greet(\"\") = %v, want the handler's error", err)
	}
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := cli.Greet(dctx, "x"); err != nil {
		t.Fatal(err)
	}
	if len(cli.idle) != 2 {
		t.Fatalf("%d idle connections after more calls, want still 2", len(cli.idle))
	}
	last := cli.idle[1]
	if !last.deadline {
		t.Error("a call with a deadline left no deadline on its connection")
	}
	if _, err := cli.Greet(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if last.deadline {
		t.Error("a call without a deadline kept the previous call's")
	}

	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	if _, err := cli.Greet(done, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Greet with a cancelled context = %v, want context.Canceled", err)
	}
}
