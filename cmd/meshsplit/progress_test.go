package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgress(t *testing.T) {
	var verbose, quiet bytes.Buffer
	for _, p := range []*progress{newProgress("extract", &verbose, true), newProgress("extract", &quiet, false)} {
		done := p.Phase("loading the module")
		done()
	}
	want := []string{"meshsplit extract: loading the module...", "meshsplit extract: loading the module: done in "}
	lines := strings.Split(strings.TrimSpace(verbose.String()), "\n")
	if len(lines) != 2 || lines[0] != want[0] || !strings.HasPrefix(lines[1], want[1]) {
		t.Errorf("-v progress:\n%s\nwant lines starting %q", verbose.String(), want)
	}
	if quiet.Len() != 0 {
		t.Errorf("progress to a non-terminal without -v printed %q", quiet.String())
	}
}

// TestExtractVerbose runs extract -v on the fleet fixture: the phases come
// on stderr, the plan alone on stdout.
func TestExtractVerbose(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runExtract([]string{"-C", "../../testdata/fleet", "-iface", "cargo.Tracker", "-force", "-v"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "meshsplit extract: loading the module with its tests: done in ") {
		t.Errorf("stderr lacks the load phase:\n%s", stderr.String())
	}
	if strings.Contains(stdout.String(), "done in") {
		t.Errorf("progress went to stdout:\n%s", stdout.String())
	}
}
