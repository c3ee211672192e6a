//go:build unix

package router

import (
	"syscall"
	"time"
)

// cpuTime is the processor time the process has used: what a benchmark on
// a machine shared with other work should divide by (wall time counts the
// others' turns too).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
