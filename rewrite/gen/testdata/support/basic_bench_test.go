package basic

import (
	"encoding/json"
	"testing"
	"time"

	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// sampleOrder is a ~1 KB order.
func sampleOrder() *Order {
	note := "leave at the door"
	o := &Order{
		ID: 1<<63 + 5, Tags: []string{"gift", "express", "fragile"},
		Meta: map[string]string{"channel": "web", "coupon": "WINTER"},
		Note: &note, Secret: "s3cr3t", Raw: make([]byte, 256),
		At: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC), Kind: 3, status: "new",
	}
	for i := range 12 {
		o.Items = append(o.Items, Item{SKU: "SKU-0000" + string(rune('A'+i)), Qty: i + 1, Price: 9.99 * float64(i)})
	}
	return o
}

// BenchmarkMeshCodec compares the generated codec with encoding/json on the
// same request (encode then decode). The compile test of package gen copies
// this file into the fixture; run it there with go test -bench.
func BenchmarkMeshCodec(b *testing.B) {
	req := storeCreateRequest{O: sampleOrder()}
	b.Run("mesh", func(b *testing.B) {
		b.ReportAllocs()
		var e meshrt.Encoder
		for b.Loop() {
			e.Reset()
			req.MarshalMesh(&e)
			var out storeCreateRequest
			d := meshrt.NewDecoder(e.Bytes())
			out.UnmarshalMesh(d)
			if d.Err() != nil {
				b.Fatal(d.Err())
			}
		}
		b.ReportMetric(float64(len(e.Bytes())), "bytes/msg")
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			data, err := json.Marshal(&req)
			if err != nil {
				b.Fatal(err)
			}
			var out storeCreateRequest
			if err := json.Unmarshal(data, &out); err != nil {
				b.Fatal(err)
			}
			n = len(data)
		}
		b.ReportMetric(float64(n), "bytes/msg")
	})
}
