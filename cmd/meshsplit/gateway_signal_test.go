package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	meshrt "github.com/meshsplit/meshsplit/runtime"
)

// gatewayChildEnv, when set, makes the test binary run 'meshsplit gateway'
// with the newline-separated arguments it holds instead of the tests: a
// child process that gets real signals.
const gatewayChildEnv = "MESHSPLIT_TEST_GATEWAY_CHILD"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(gatewayChildEnv); ok {
		os.Exit(runGateway(strings.Split(args, "\n"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestGatewaySIGHUPReloadsTokens runs the gateway as a child process, sends
// it SIGHUP after changing its token file, and expects the new tokens in
// use, then a clean stop on SIGINT.
func TestGatewaySIGHUPReloadsTokens(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGHUP on Windows")
	}
	const key = "gateway signal test cluster key"
	node := startServingNode(t, key)
	dir := t.TempDir()
	tokens := writeFile(t, dir, "tokens.txt", "first "+firstToken+" *\n")

	ctx, cancel := context.WithTimeout(context.Background(), 2*gatewayTestTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(),
		gatewayChildEnv+"="+strings.Join([]string{"-http", "127.0.0.1:0", "-nodes", node.Addr(), "-tokens", tokens}, "\n"),
		meshrt.EnvClusterKey+"="+key)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() // when the test fails early; harmless after the exit
	exited := make(chan error, 1)
	lines := make(chan string, 1) // the first line; the others are dropped
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
		exited <- cmd.Wait() // after the pipe is drained, as Wait wants
	}()

	var addr string
	select {
	case line, ok := <-lines:
		const prefix = "meshsplit gateway: serving http://"
		if !ok || !strings.HasPrefix(line, prefix) {
			t.Fatalf("the gateway printed %q (stdout closed: %v); stderr:\n%s", line, !ok, stderr.String())
		}
		addr, _, _ = strings.Cut(strings.TrimPrefix(line, prefix), " ")
	case <-ctx.Done():
		t.Fatalf("the gateway did not start; stderr:\n%s", stderr.String())
	}
	c := gatewayClient{t: t, base: "http://" + addr, client: &http.Client{Timeout: gatewayTestTimeout}}
	c.waitStatus("POST", "/greet.Greeter/Greet", `{"name":"Max"}`, firstToken, 200)

	writeFile(t, dir, "tokens.txt", "second "+secondToken+" *\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	c.waitStatus("GET", "/", "", secondToken, 200)
	if status, _ := c.call("GET", "/", "", firstToken); status != 401 {
		t.Errorf("a token the reloaded file dropped: status %d, want 401", status)
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the gateway ended with %v after SIGINT, want exit 0; stderr:\n%s", err, stderr.String())
		}
	case <-ctx.Done():
		t.Fatalf("the gateway did not stop after SIGINT; stderr:\n%s", stderr.String())
	}
	if log := stderr.String(); !strings.Contains(log, `msg="token file reloaded" file=`+tokens+" tokens=1") {
		t.Errorf("stderr does not log the reload:\n%s", log)
	}
}
