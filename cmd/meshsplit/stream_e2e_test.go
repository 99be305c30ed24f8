package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExtractStreamingFixtureEndToEnd extracts journal.Log from
// testdata/journal, an event log whose methods stream in every shape the
// mesh carries (Tail returns an iter.Seq2, Topics an iter.Seq, Follow a
// <-chan, Export an io.ReadCloser; Import takes an io.Reader), and runs
// the fixture's own tests (early stop, mid-stream errors, cancellation,
// closing a reader early, a failing upload) three ways: in process, with
// the journal remote over a loopback node, and against the generated
// service running as a process of its own.
func TestExtractStreamingFixtureEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: builds and tests a module several times")
	}
	offlineEnv(t)
	mod := copyModule(t, filepath.Join("testdata", "journal"))
	code, stdout, stderr := meshsplit("extract", "-C", mod, "-iface", "journal.Log", "-w")
	if code != exitOK {
		t.Fatalf("extract -w journal.Log: exit %d\n%s%s", code, stdout, stderr)
	}
	goCmd(t, mod, nil, "mod", "tidy")
	bin := t.TempDir()
	goCmd(t, mod, nil, "build", "-o", bin+string(filepath.Separator), "./...")
	goCmd(t, mod, nil, "vet", "./...")
	for _, env := range [][]string{
		{"MESHRPC_REMOTE=", "MESHRPC_LOOPBACK="},
		{"MESHRPC_REMOTE=journal.Log", "MESHRPC_LOOPBACK=1"},
	} {
		out := goCmd(t, mod, env, "test", "-count=1", "./...")
		if !strings.Contains(out, "ok  \texample.com/journal/journal") {
			t.Fatalf("%v go test:\n%s", env, out)
		}
	}

	// Two processes: the journal served by journal-log-svc, its tests
	// calling it over TCP.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	addr := freeAddr(t)
	svc := exec.CommandContext(ctx, filepath.Join(bin, "journal-log-svc"))
	svc.Env = append(os.Environ(), "MESHRPC_LISTEN="+addr, "MESHRPC_REMOTE=", "MESHRPC_LOOPBACK=")
	ready := startAndWaitFor(t, svc, "serving example.com/journal/journal.Log")
	defer func() {
		svc.Process.Kill()
		svc.Wait()
	}()
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatal("journal-log-svc did not say it serves within the deadline")
	}
	remote := []string{"MESHRPC_REMOTE=journal.Log", "MESHRPC_CLUSTER_NODES=" + addr, "MESHRPC_LISTEN=none", "MESHRPC_LOOPBACK="}
	out := goCmd(t, mod, remote, "test", "-count=1", "./journal")
	if !strings.Contains(out, "ok  \texample.com/journal/journal") {
		t.Fatalf("go test against journal-log-svc:\n%s", out)
	}
	// The events the tests appended live in the service's process:
	// journald, remote too, streams the 500 of topic tail-all back from
	// there.
	jd := exec.CommandContext(ctx, filepath.Join(bin, "journald"), "tail-all")
	jd.Env = append(os.Environ(), remote...)
	var jdOut, jdErr bytes.Buffer
	jd.Stdout, jd.Stderr = &jdOut, &jdErr
	if err := jd.Run(); err != nil {
		t.Fatalf("journald tail-all: %v\n%s", err, jdErr.String())
	}
	if lines := bytes.Count(jdOut.Bytes(), []byte("\n")); lines != 500 || !bytes.Contains(jdOut.Bytes(), []byte(`"body":"e-499"`)) {
		t.Fatalf("journald exported %d lines from the service, want the 500 the tests appended:\n%.300s", lines, jdOut.String())
	}
}
