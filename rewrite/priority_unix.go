//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package rewrite

import "syscall"

// lowerPriority lowers the scheduling priority of process pid (nice 15),
// and so of the processes it starts afterwards. A failure changes nothing
// but the timing.
func lowerPriority(pid int) { _ = syscall.Setpriority(syscall.PRIO_PROCESS, pid, 15) }
