package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	stdruntime "runtime"
	"strings"
	"testing"
	"time"
)

func TestParseRemote(t *testing.T) {
	const inv = "example.com/shop/inventory.Service"
	tests := []struct {
		value   string
		service string
		want    bool
		err     string // substring of the error, "" for none
	}{
		{"", inv, false, ""},
		{"*", inv, true, ""},
		{"inventory.Service", inv, true, ""},
		{"shop/inventory.Service", inv, true, ""},
		{inv, inv, true, ""},
		{" payments.Gateway , inventory.Service ", inv, true, ""},
		{"payments.Gateway", inv, false, ""},
		{"ventory.Service", inv, false, ""}, // a suffix must start after a slash
		{"inventory.Servic", inv, false, ""},
		{"inventory", inv, false, "no package before or no interface after"},
		{"inventory.", inv, false, "no package before or no interface after"},
		{"inventory.Ser vice", inv, false, "not a Go identifier"},
		{"inventory.Service,,x.Y", inv, false, "empty"},
		{"/inventory.Service", inv, false, "empty element"},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			spec := parseRemote(tc.value)
			if tc.err != "" {
				if spec.err == nil || !strings.Contains(spec.err.Error(), tc.err) || !strings.Contains(spec.err.Error(), EnvRemote) {
					t.Fatalf("parseRemote(%q) error = %v, want one naming %s and containing %q", tc.value, spec.err, EnvRemote, tc.err)
				}
				return
			}
			if spec.err != nil {
				t.Fatalf("parseRemote(%q): %v", tc.value, spec.err)
			}
			if got := spec.matches(tc.service); got != tc.want {
				t.Fatalf("parseRemote(%q).matches(%q) = %v, want %v", tc.value, tc.service, got, tc.want)
			}
		})
	}
}

// TestRemoteSelectsByPackageName checks the names MESHRPC_REMOTE selects a
// service by when its package's name is not the last element of its path:
// the module-root package cargo at example.com/fleet, and a /v2 path.
func TestRemoteSelectsByPackageName(t *testing.T) {
	fleet := &ServiceDesc{Name: "example.com/fleet.Tracker", Package: "cargo"}
	store := &ServiceDesc{Name: "example.com/store/v2.Store", Package: "store"}
	plain := &ServiceDesc{Name: "example.com/shop/inventory.Service"}
	tests := []struct {
		value string
		desc  *ServiceDesc
		want  bool
	}{
		{"cargo.Tracker", fleet, true},
		{"fleet.Tracker", fleet, true}, // the path's suffix, as for any service
		{"example.com/fleet.Tracker", fleet, true},
		{"payments.Gateway, cargo.Tracker", fleet, true},
		{"cargo.Trackers", fleet, false},
		{"cargo.Track", fleet, false},
		{"x/cargo.Tracker", fleet, false}, // a path, and no path ends in cargo
		{"carg.Tracker", fleet, false},
		{"store.Store", store, true},
		{"v2.Store", store, true},
		{"inventory.Service", plain, true},
		{"shop.Service", plain, false},
		{"*", fleet, true},
	}
	for _, tc := range tests {
		spec := parseRemote(tc.value)
		if spec.err != nil {
			t.Fatalf("parseRemote(%q): %v", tc.value, spec.err)
		}
		if got := spec.selects(tc.desc); got != tc.want {
			t.Errorf("%s=%q selects %s (package %q): %v, want %v", EnvRemote, tc.value, tc.desc.Name, tc.desc.Package, got, tc.want)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(Config) bool
		err   string
	}{
		{"open port without key refused", nil, nil, EnvClusterKey},
		{"open port without key refused on 0.0.0.0", map[string]string{EnvListen: "0.0.0.0:11999"}, nil, EnvInsecure},
		{"defaults with a key", map[string]string{EnvClusterKey: "0123456789abcdef"}, func(c Config) bool { return c.Listen == ":11999" && c.MaxBody == DefaultMaxBody && c.Logger == nil }, ""},
		{"open port when insecure is asked for", map[string]string{EnvInsecure: "1"}, func(c Config) bool { return c.Listen == ":11999" && c.Insecure }, ""},
		{"loopback needs no key", map[string]string{EnvListen: "127.0.0.1:11999"}, func(c Config) bool { return c.Listen == "127.0.0.1:11999" && !c.Insecure }, ""},
		{"localhost needs no key", map[string]string{EnvListen: "localhost:0"}, func(c Config) bool { return c.Listen == "localhost:0" }, ""},
		{"seeds get the default port", map[string]string{EnvListen: "none", EnvNodes: "a.example, b.example:1234,[::1]"},
			func(c Config) bool {
				return len(c.Seeds) == 3 && c.Seeds[0] == "a.example:11999" && c.Seeds[1] == "b.example:1234" && c.Seeds[2] == "[::1]:11999"
			}, ""},
		{"caller only", map[string]string{EnvListen: "none"}, func(c Config) bool { return c.Listen == "" }, ""},
		{"key and limit", map[string]string{EnvClusterKey: "s3cret-s3cret-s3cret", EnvMaxBody: "1024", EnvDeadAfter: "2s"},
			func(c Config) bool {
				return string(c.ClusterKey) == "s3cret-s3cret-s3cret" && c.MaxBody == 1024 && c.LivenessTimeout == 2*time.Second
			}, ""},
		{"debug", map[string]string{EnvListen: "none", EnvDebug: "1"}, func(c Config) bool { return c.Logger != nil }, ""},
		{"bad listen", map[string]string{EnvListen: "11999"}, nil, EnvListen},
		{"bad body", map[string]string{EnvMaxBody: "lots"}, nil, EnvMaxBody},
		{"bad dead-after", map[string]string{EnvDeadAfter: "-1s"}, nil, EnvDeadAfter},
		{"bad seed", map[string]string{EnvNodes: "a:b:c"}, nil, EnvNodes},
		{"short key", map[string]string{EnvClusterKey: "s3cret"}, nil, EnvClusterKey},
		{"tls half set", map[string]string{EnvTLSCert: "/x.pem"}, nil, EnvTLSKey},
		{"tls missing files", map[string]string{EnvTLSCert: "/nonexistent/c.pem", EnvTLSKey: "/nonexistent/k.pem", EnvTLSCA: "/nonexistent/ca.pem"}, nil, EnvTLSCert},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := configFrom(func(k string) string { return tc.env[k] })
			if err == nil {
				err = c.Validate()
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("config %+v does not hold the expected values", c)
			}
		})
	}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	cases := []struct {
		field string
		set   func(c *Config)
	}{
		{"StreamsPerPeer", func(c *Config) { c.StreamsPerPeer = 0 }},
		{"MaxCallsPerStream", func(c *Config) { c.MaxCallsPerStream = 0 }},
		{"MaxCallsPerStream", func(c *Config) { c.MaxCallsPerStream = c.MaxCallsPerPeer + 1 }},
		{"MaxQueuedPerStream", func(c *Config) { c.MaxQueuedPerStream = -1 }},
		{"MaxQueuedPerStream", func(c *Config) { c.MaxQueuedPerPeer = c.MaxQueuedPerStream - 1 }},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		tc.set(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Validate = %v, want an error naming %s", err, tc.field)
		}
	}
	c := DefaultConfig()
	c.Listen = "nope"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("Validate = %v, want an error naming the address", err)
	}
}

// TestRemoteUnsetStartsNothing checks the promise that a monolith without
// MESHRPC_REMOTE pays nothing: no allocation, no goroutine, no listener.
func TestRemoteUnsetStartsNothing(t *testing.T) {
	if os.Getenv(EnvRemote) != "" {
		t.Skipf("%s is set in the test environment", EnvRemote)
	}
	Remote("warm.Up") // the first call parses the (empty) variable once
	before := goroutines()
	desc := &ServiceDesc{Name: "example.com/fleet.Tracker", Package: "cargo"}
	allocs := testing.AllocsPerRun(1000, func() {
		if Remote("example.com/shop/inventory.Service") || RemoteService(desc) {
			t.Fatal("Remote is true with the variable unset")
		}
	})
	if allocs != 0 {
		t.Fatalf("Remote allocates %v times per call with %s unset", allocs, EnvRemote)
	}
	if after := goroutines(); after > before {
		t.Fatalf("Remote started goroutines: %d before, %d after", before, after)
	}
}

// TestEnvSwitchInAChildProcess runs the parts that depend on process-wide
// state (the variables are read once) in a child process of this test
// binary: a malformed MESHRPC_REMOTE reported by Connect's client, and
// MESHRPC_LOOPBACK serving the implementation over 127.0.0.1.
func TestEnvSwitchInAChildProcess(t *testing.T) {
	if mode := os.Getenv("MESHRPC_TEST_CHILD"); mode != "" {
		runChild(t, mode)
		return
	}
	tests := []struct {
		name   string
		mode   string
		env    []string
		want   []string // in the child's output (stderr carries the logs)
		absent []string // not in it
	}{
		{"malformed", "malformed", []string{EnvRemote + "=inventory"}, nil, nil},
		{"loopback", "loopback", []string{EnvRemote + "=greet.Greeter", EnvLoopback + "=1"}, nil, nil},
		{"unselected", "unselected", []string{EnvRemote + "=other.Service", EnvListen + "=none"}, nil, nil},
		{"open port refused", "openport", []string{EnvRemote + "=other.Service", EnvListen + "=", EnvClusterKey + "=", EnvInsecure + "="}, nil, nil},
		{"debug logs", "serve", []string{EnvDebug + "=1", EnvListen + "=127.0.0.1:0"},
			[]string{"level=DEBUG", `msg="node started"`, `msg="peer connected"`, `msg=published`, `msg="node closed"`}, nil},
		{"quiet by default", "serve", []string{EnvDebug + "=", EnvListen + "=127.0.0.1:0"}, nil, []string{"level="}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := selfCommand("-test.run=^TestEnvSwitchInAChildProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), append(tc.env, "MESHRPC_TEST_CHILD="+tc.mode)...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child %s: %v\n%s", tc.mode, err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("child %s: output lacks %s:\n%s", tc.mode, w, out)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(string(out), a) {
					t.Errorf("child %s: output contains %s:\n%s", tc.mode, a, out)
				}
			}
		})
	}
}

// selfCommand runs this test binary again with args: through the program
// MESHRPC_TEST_EXEC names when it is set, as 'go test -exec' ran this one
// (CI runs the 32-bit tests as GOARCH=arm under qemu-arm where the kernel
// cannot run 386 binaries).
func selfCommand(args ...string) *exec.Cmd {
	if wrapper := os.Getenv("MESHRPC_TEST_EXEC"); wrapper != "" {
		return exec.Command(wrapper, append([]string{os.Args[0]}, args...)...)
	}
	return exec.Command(os.Args[0], args...)
}

func runChild(t *testing.T, mode string) {
	ctx := within(t, 20*time.Second)
	switch mode {
	case "malformed":
		if !Remote(greeterName) {
			t.Fatal("Remote is false for a malformed value; the error would go unnoticed")
		}
		if err := CheckEnv(); err == nil || !strings.Contains(err.Error(), EnvRemote) {
			t.Fatalf("CheckEnv = %v, want an error naming %s", err, EnvRemote)
		}
		g := &greeterClient{Connect(&greeterDesc, func() any { return &greeterImpl{} })}
		_, err := g.Greet(ctx, "x")
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), EnvRemote) {
			t.Fatalf("call with a malformed %s: %v", EnvRemote, err)
		}
	case "serve":
		// The process-wide node from the environment (MESHRPC_DEBUG decides
		// whether it logs), serving a call from another node.
		n, err := DefaultNode()
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Publish(&greeterDesc, &greeterImpl{}); err != nil {
			t.Fatal(err)
		}
		_, g := callerOf(t, testConfig(), n.Addr())
		if got, err := g.Greet(ctx, "x"); err != nil || got != "hello x" {
			t.Fatalf("Greet = %q, %v", got, err)
		}
		if err := n.Close(ctx); err != nil {
			t.Fatal(err)
		}
	case "openport":
		// A node listening on every interface (the default :11999) with
		// neither a cluster key nor TLS would serve anyone: refused, naming
		// the ways out.
		err := CheckEnv()
		if err == nil || !strings.Contains(err.Error(), EnvClusterKey) || !strings.Contains(err.Error(), EnvInsecure) {
			t.Fatalf("CheckEnv = %v, want the open port refused naming %s and %s", err, EnvClusterKey, EnvInsecure)
		}
		if _, err := DefaultNode(); err == nil {
			t.Fatal("DefaultNode started a node on an open port without a key")
		}
	case "unselected":
		if Remote(greeterName) {
			t.Fatal("Remote selects a service the variable does not name")
		}
		if err := CheckEnv(); err != nil {
			t.Fatal(err)
		}
	case "loopback":
		if !Remote(greeterName) {
			t.Fatal("Remote does not select greet.Greeter")
		}
		a := &greeterImpl{tag: "first"}
		b := &greeterImpl{tag: "second"}
		ga := &greeterClient{Connect(&greeterDesc, func() any { return a })}
		gb := &greeterClient{Connect(&greeterDesc, func() any { return b })}
		for i := range 10 {
			ta, err := ga.Whoami(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := gb.Whoami(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ta != "first" || tb != "second" {
				t.Fatalf("call %d: clients reached %q and %q, want their own implementations", i, ta, tb)
			}
		}
		if _, err := ga.Fail(ctx, "sentinel"); err != errNotFound {
			t.Fatalf("loopback sentinel: %v", err)
		}
		if a.calls.Load() != 11 || b.calls.Load() != 10 {
			t.Fatalf("implementations served %d and %d calls, want 11 and 10", a.calls.Load(), b.calls.Load())
		}
		// The calls crossed TCP: the loopback client node has a live peer.
		pair, err := loopback()
		if err != nil {
			t.Fatal(err)
		}
		if ga.c.via != pair.server.ID() || len(pair.client.peerByID(pair.server.ID())) != 1 {
			t.Fatal("loopback did not go through a peer connection")
		}
		// Many constructors: each gets its own instance, at once.
		for i := range 300 {
			impl := &greeterImpl{tag: fmt.Sprint(i)}
			g := &greeterClient{Connect(&greeterDesc, func() any { return impl })}
			if tag, err := g.Whoami(ctx); err != nil || tag != fmt.Sprint(i) {
				t.Fatalf("instance %d: %q, %v", i, tag, err)
			}
		}
		// An instance whose client is garbage is unpublished.
		served := func() int { return len(*pair.server.served.Load()) }
		waitFor(t, 10*time.Second, "unreachable loopback instances to be unpublished", func() bool {
			stdruntime.GC()
			return served() <= 2+10
		})
	}
}

// goroutines counts the process's goroutines.
func goroutines() int { return stdruntime.NumGoroutine() }
