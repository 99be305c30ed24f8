package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// streamFrame builds one frame of an 'S' stream.
func streamFrame(kind byte, payload []byte) []byte {
	return append(appendFrameHeader(nil, kind, 0, len(payload)), payload...)
}

// streamFuzzSeeds are valid and nearly valid frame sequences of both
// directions of an 'S' stream, after the request.
func streamFuzzSeeds() [][]byte {
	errs := newErrorRegistry(feederDesc.Errors)
	item := func(n int64, pad int) []byte {
		var e Encoder
		encBlob(&e, &Blob{N: n, Pad: make([]byte, pad)})
		return e.Bytes()
	}
	cat := func(frames ...[]byte) []byte { return bytes.Join(frames, nil) }
	return [][]byte{
		cat(streamFrame(frameData, item(1, 3)), streamFrame(frameData, item(2, 0)), streamFrame(frameEnd, appendEnd(nil, errs, nil))),
		cat(streamFrame(frameErrItem, append(appendBytes(nil, errs.encodeError(nil, errNotFound)), item(4, 1)...)), streamFrame(frameEnd, []byte{endOK})),
		cat(streamFrame(frameData, []byte("raw bytes")), streamFrame(frameEnd, appendEnd(nil, errs, errors.New("disk full")))),
		cat(streamFrame(frameData, nil), streamFrame(frameEnd, appendEnd(nil, errs, &streamProtoErr{codePanic, "boom"}))),
		cat(streamFrame(frameData, item(1, 0)), streamFrame(frameCancel, nil)),
		streamFrame(frameEnd, []byte{endError, 9, 9}),
		streamFrame(frameEnd, []byte{endOK, 0}),
		streamFrame(frameErrItem, []byte{0xff}),
		{0, 0, 0, 3, 4},
		{},
	}
}

// FuzzStreamFrames feeds arbitrary bytes to both readers of an 'S'
// stream: the server's reader of an uploaded io.Reader, and the caller's
// reading of a streamed result as items and as bytes. Each must end with
// a result or an error, never panic nor loop.
func FuzzStreamFrames(f *testing.F) {
	for _, s := range streamFuzzSeeds() {
		f.Add(s)
	}
	n := fuzzNode(f)
	c := n.Client(&feederDesc)
	p := &peer{n: n, id: "fuzz"}
	const max = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		// The server's side: the caller's uploaded bytes.
		ctx, cancel := context.WithCancel(context.Background())
		up := &uploadReader{fr: newFrameReader(bytes.NewReader(data)), max: max, errs: c.errs, cancel: cancel, ended: make(chan struct{})}
		got, err := io.ReadAll(up)
		if err == nil && len(got) > len(data) {
			t.Fatalf("read %d bytes from %d bytes of frames", len(got), len(data))
		}
		if err != nil && err != context.Canceled && ctx.Err() == nil && !errors.Is(err, ErrConnLost) && !errors.Is(err, ErrMalformed) {
			// An error the caller sent (an end frame's envelope): the
			// reader reached its end cleanly.
			select {
			case <-up.ended:
			default:
				t.Fatalf("reader failed with %v without ending", err)
			}
		}
		up.release()
		cancel()

		// The caller's side: items, then bytes.
		md := &feederDesc.Methods[feederTail]
		s := &Stream{c: c, p: p, md: md, fr: newFrameReader(bytes.NewReader(data)), max: max}
		slot := new(Blob)
		for range len(data) + 1 {
			_, _, done, _ := nextItem(s, decBlob, slot)
			if done {
				break
			}
		}
		s = &Stream{c: c, p: p, md: md, fr: newFrameReader(bytes.NewReader(data)), max: max}
		r := &streamReader{s: s}
		buf := make([]byte, 512)
		for range len(data) + 1 {
			if _, err := r.read(buf); err != nil {
				break
			}
		}
	})
}

// TestWriteStreamFuzzCorpus regenerates testdata/fuzz/FuzzStreamFrames
// when MESHRPC_WRITE_CORPUS=1, as TestWriteFuzzCorpus does for requests.
func TestWriteStreamFuzzCorpus(t *testing.T) {
	if os.Getenv("MESHRPC_WRITE_CORPUS") != "1" {
		t.Skip("set MESHRPC_WRITE_CORPUS=1 to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzStreamFrames")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range streamFuzzSeeds() {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
