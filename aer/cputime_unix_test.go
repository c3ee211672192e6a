//go:build unix

package aer

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the process has used. On a
// machine shared with other work, CPU time per event is a steadier figure
// than wall time per event.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
