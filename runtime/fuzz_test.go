package runtime

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fuzzNode is a node (not listening) that publishes the greeter, for
// decoding requests without a network.
func fuzzNode(t testing.TB) *Node {
	cfg := DefaultConfig()
	cfg.Listen = ""
	cfg.MaxBody = 1 << 16
	n := startNode(t, cfg)
	if err := n.Publish(&greeterDesc, &greeterImpl{}); err != nil {
		t.Fatal(err)
	}
	return n
}

// requestPayload builds the payload of a request frame for the greeter.
func requestPayload(method int, fingerprint string, timeout int64, m Message) []byte {
	return requestPayloadMD(method, fingerprint, timeout, nil, m)
}

// requestPayloadMD is requestPayload with metadata.
func requestPayloadMD(method int, fingerprint string, timeout int64, md *Metadata, m Message) []byte {
	b := appendRequest(nil, greeterName, method, fingerprint, timeout, md)
	var e Encoder
	m.MarshalMesh(&e)
	return append(b, e.Bytes()...)
}

// fuzzSeeds are valid and nearly valid request payloads.
func fuzzSeeds() [][]byte {
	return [][]byte{
		requestPayload(greeterGreet, "greet-1", 0, &greeterGreetRequest{Name: "Max"}),
		requestPayload(greeterEcho, "echo-1", 1e9, &greeterEchoRequest{Data: []byte{1, 2, 3}}),
		requestPayload(greeterEcho, "echo-1", 0, &greeterEchoRequest{}),
		requestPayload(greeterSleep, "sleep-1", 5e8, &greeterSleepRequest{D: 42}),
		requestPayload(greeterGreet, "greet-2", 0, &greeterGreetRequest{Name: "skew"}),
		requestPayload(99, "x", 0, &greeterEmpty{}),
		appendRequest(nil, "no.Such", 0, "", 0, nil),
		requestPayloadMD(greeterGreet, "greet-1", 0, fuzzMetadata("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "meshrpc-ctx-tenant", "acme"), &greeterGreetRequest{Name: "md"}),
		requestPayloadMD(greeterGreet, "greet-1", 0, fuzzMetadata("Bad Key", "x"), &greeterGreetRequest{Name: "md"}),
		requestPayloadMD(greeterGreet, "greet-1", 0, fuzzMetadata("k", "v", "k", "w"), &greeterGreetRequest{Name: "dup"}),
		{},
		{0xff, 0xff, 0xff},
	}
}

// fuzzMetadata returns metadata of key, value pairs as given, unchecked
// and unnormalized (duplicates and bad keys included).
func fuzzMetadata(kv ...string) *Metadata { return &Metadata{kv: kv} }

// FuzzDecodeRequest feeds arbitrary bytes to the server's request-decoding
// path, as frames on a stream and as one request payload: it must return a
// decoded call or a refusal, never panic, and a decoded call must be one of
// the greeter's methods.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	n := fuzzNode(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		call, perr := n.decodeRequest(data)
		if perr == nil {
			if call.md == nil || call.in == nil || call.svc == nil {
				t.Fatalf("decoded call without method or message: %+v", call)
			}
			if call.timeout < 0 {
				t.Fatalf("negative timeout %d", call.timeout)
			}
			if err := call.meta.check(); err != nil {
				t.Fatalf("decoded metadata out of bounds: %v", err)
			}
			if call.meta != nil && call.meta.Len() == 0 {
				t.Fatalf("empty metadata decoded as non-nil")
			}
		} else if perr.text == "" || codeErrors[perr.code] == nil {
			t.Fatalf("refusal without a known code or text: %+v", perr)
		}
		// The same bytes as a stream of frames.
		r := newFrameReader(bytes.NewReader(data))
		for range 64 {
			fr, err := r.read(1 << 16)
			if err != nil {
				break
			}
			n.decodeRequest(fr.payload)
			putBuf(fr.buf)
		}
	})
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/FuzzDecodeRequest when
// MESHRPC_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("MESHRPC_WRITE_CORPUS") != "1" {
		t.Skip("set MESHRPC_WRITE_CORPUS=1 to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeRequest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range fuzzSeeds() {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
