package runtime

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestShortFrameLengthClosesTheStreamAtOnce writes a frame whose length
// field is under the 9 bytes of kind and call id, followed by exactly the
// bytes that length announces. The server must close the stream as soon as
// it has read the length, not wait for the rest of a header that the frame
// does not have (before the fix it waited for as long as the session
// lived). The read deadline only bounds a failing run: a correct server
// answers with EOF long before it.
func TestShortFrameLengthClosesTheStreamAtOnce(t *testing.T) {
	srv, _ := serveGreeter(t, testConfig(), "a")
	caller, _ := callerOf(t, testConfig(), srv.Addr())
	for _, n := range []uint32{0, 1, 8} {
		_, st := rawRPCStream(t, caller, srv)
		st.SetReadDeadline(time.Now().Add(30 * time.Second))
		b := binary.BigEndian.AppendUint32(nil, n)
		b = append(b, make([]byte, n)...)
		if _, err := st.Write(b); err != nil {
			t.Fatal(err)
		}
		var one [1]byte
		_, err := st.Read(one[:])
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("length %d: the server kept the stream open waiting for header bytes", n)
		}
		if !errors.Is(err, io.EOF) {
			t.Fatalf("length %d: read %v, want the stream closed (EOF)", n, err)
		}
	}
	// The session itself is still usable.
	_, st := rawRPCStream(t, caller, srv)
	st.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := st.Write(requestFrame(nil, 1, greeterEcho, "echo-1", 0, &greeterEchoRequest{Data: []byte("x")})); err != nil {
		t.Fatal(err)
	}
	if f, err := newFrameReader(st).read(1 << 20); err != nil || f.payload[0] != statusOK {
		t.Fatalf("a good call after the refused frames: %v %q", err, f.payload)
	}
}

// TestFrameReaderRefusesAShortLengthWithoutReadingMore checks the reader
// alone on a pipe that stays open: nine bytes (a length of 5 and its five
// bytes) must be refused without a tenth.
func TestFrameReaderRefusesAShortLengthWithoutReadingMore(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte{0, 0, 0, 5, 1, 0, 0, 0, 0})
	done := make(chan error, 1)
	go func() {
		_, err := newFrameReader(pr).read(1 << 20)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "frame length 5") {
			t.Fatalf("read: %v, want ErrMalformed naming the length", err)
		}
	case <-time.After(30 * time.Second):
		pr.CloseWithError(errors.New("test gave up"))
		t.Fatal("the reader waited for more bytes after a frame length of 5")
	}
}

// TestMessageDecoding covers decodeMessage's rule that a message is exactly
// its fields: fewer bytes and more bytes are both errors.
func TestMessageDecoding(t *testing.T) {
	var e Encoder
	(&greeterEchoRequest{Data: []byte("abc")}).MarshalMesh(&e)
	exact := append([]byte(nil), e.buf...)
	tests := []struct {
		name string
		body []byte
		want string // "" for success
	}{
		{"exact", exact, ""},
		{"one trailing byte", append(append([]byte(nil), exact...), 0), "1 trailing bytes"},
		{"a second message", append(append([]byte(nil), exact...), exact...), fmt.Sprintf("%d trailing bytes", len(exact))},
		{"truncated", exact[:len(exact)-1], "decod"},
		{"empty", nil, "decod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := decodeMessage(&greeterEchoRequest{}, tt.body)
			if tt.want == "" {
				if err != nil || string(m.(*greeterEchoRequest).Data) != "abc" {
					t.Fatalf("decoded %+v, %v; want abc", m, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestTrailingBytesAfterARequestAreRefused sends a request whose message is
// followed by a stray byte: the server answers code 4 (malformed) naming the
// trailing bytes, and does not run the method.
func TestTrailingBytesAfterARequestAreRefused(t *testing.T) {
	srv, impl := serveGreeter(t, testConfig(), "a")
	caller, _ := callerOf(t, testConfig(), srv.Addr())
	_, st := rawRPCStream(t, caller, srv)
	st.SetDeadline(time.Now().Add(30 * time.Second))
	payload := append(requestPayload(greeterEcho, "echo-1", 0, &greeterEchoRequest{Data: []byte("x")}), 0xff)
	b := appendFrameHeader(nil, frameRequest, 3, len(payload))
	if _, err := st.Write(append(b, payload...)); err != nil {
		t.Fatal(err)
	}
	f, err := newFrameReader(st).read(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if f.id != 3 || len(f.payload) < 2 || f.payload[0] != statusProto || f.payload[1] != codeMalformed || !strings.Contains(string(f.payload), "1 trailing bytes") {
		t.Fatalf("answer: id %d, payload %q; want a malformed refusal naming 1 trailing byte", f.id, f.payload)
	}
	if got := impl.calls.Load(); got != 0 {
		t.Fatalf("the method ran %d times", got)
	}
}
