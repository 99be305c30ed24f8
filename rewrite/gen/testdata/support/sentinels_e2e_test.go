package sentinels

import (
	"context"
	"testing"
	"time"

	"example.com/thirdparty/kv"
)

// TestThirdPartySentinelEndToEnd calls the Cache through the generated
// client over the runtime's loopback node: another module's sentinel,
// returned as is, arrives as the very same value. The compile test of
// package gen copies this file into the fixture.
func TestThirdPartySentinelEndToEnd(t *testing.T) {
	t.Setenv("MESHRPC_REMOTE", "sentinels.Cache")
	t.Setenv("MESHRPC_LOOPBACK", "1")
	c, ok := meshCache(func() Cache { return NewCache(map[string]string{"a": "1"}) })
	if !ok {
		t.Fatal("meshCache did not select the remote client")
	}
	if _, isClient := c.(*CacheMeshClient); !isClient {
		t.Fatalf("meshCache returned a %T", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if v, err := c.Get(ctx, "a"); v != "1" || err != nil {
		t.Fatalf("Get(a) = %q, %v", v, err)
	}
	if _, err := c.Get(ctx, "missing"); err != kv.ErrGone {
		t.Errorf("Get(missing) error = %v (%T), want the very kv.ErrGone", err, err)
	}
}
