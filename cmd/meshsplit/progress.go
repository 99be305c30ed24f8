package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress tells, on stderr, what a long command is doing, so that a run of
// minutes on a large module is never silent: with -v every phase as it
// starts and ends; on a terminal only the phases still running after
// progressAfter; otherwise nothing.
type progress struct {
	cmd     string
	w       io.Writer
	verbose bool
	quiet   bool // neither -v nor a terminal
	mu      sync.Mutex
}

// progressAfter is how long a phase runs before a terminal hears of it.
const progressAfter = time.Second

// newProgress returns the progress of command cmd writing to w.
func newProgress(cmd string, w io.Writer, verbose bool) *progress {
	return &progress{cmd: cmd, w: w, verbose: verbose, quiet: !verbose && !isCharDevice(w)}
}

// Phase reports the start of a phase and returns the function that reports
// its end.
func (p *progress) Phase(name string) (done func()) {
	if p == nil || p.quiet {
		return func() {}
	}
	start := time.Now()
	var shown bool
	show := func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if !shown {
			shown = true
			fmt.Fprintf(p.w, "meshsplit %s: %s...\n", p.cmd, name)
		}
	}
	var timer *time.Timer
	if p.verbose {
		show()
	} else {
		timer = time.AfterFunc(progressAfter, show)
	}
	return func() {
		if timer != nil {
			timer.Stop()
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if shown {
			fmt.Fprintf(p.w, "meshsplit %s: %s: done in %s\n", p.cmd, name, time.Since(start).Round(10*time.Millisecond))
		}
	}
}

// isCharDevice reports whether w is a terminal (a character device).
func isCharDevice(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
