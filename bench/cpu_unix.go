//go:build unix

package bench

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user plus system) the process has used
// so far, every goroutine and thread included; ok is false when the
// system cannot tell.
func processCPU() (cpu time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
