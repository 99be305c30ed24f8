//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package rewrite

// lowerPriority does nothing where the process priority cannot be set the
// Unix way.
func lowerPriority(pid int) {}
