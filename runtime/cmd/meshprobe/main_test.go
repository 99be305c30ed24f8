package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// TestMeshprobe runs the command against a keyed node on 127.0.0.1, with
// the node's configuration in the environment as in its container.
func TestMeshprobe(t *testing.T) {
	key := "meshprobe test cluster key, 32 bytes"
	cfg := meshrt.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.ClusterKey = []byte(key)
	n, err := meshrt.NewNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Close(ctx)
	})
	t.Setenv(meshrt.EnvClusterKey, key)
	t.Setenv(meshrt.EnvListen, n.Addr())

	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		out  string
	}{
		{"healthy", nil, nil, 0, "ok: node " + n.ID()},
		{"explicit address", []string{n.Addr()}, map[string]string{meshrt.EnvListen: "none"}, 0, "ok: node " + n.ID()},
		{"not serving", []string{"-serving", "inventory.Service"}, nil, 1, "does not serve inventory.Service"},
		{"wrong key", nil, map[string]string{meshrt.EnvClusterKey: "another key of thirty-two bytes!"}, 1, "meshprobe: meshrpc: probe"},
		{"caller-only", nil, map[string]string{meshrt.EnvListen: "none"}, 1, "nothing to probe"},
		{"bad env", nil, map[string]string{meshrt.EnvMaxBody: "x"}, 1, "MESHRPC_MAX_BODY"},
		{"usage", []string{"a:1", "b:2"}, nil, 2, "usage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out bytes.Buffer
			code := run(tc.args, &out, &out)
			if code != tc.code || !strings.Contains(out.String(), tc.out) {
				t.Fatalf("meshprobe %v: exit %d, %q; want exit %d and %q", tc.args, code, out.String(), tc.code, tc.out)
			}
		})
	}
}
