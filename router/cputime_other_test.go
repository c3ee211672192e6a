//go:build !unix

package router

import "time"

var start0 = time.Now()

// cpuTime falls back to wall time where getrusage is missing.
func cpuTime() time.Duration { return time.Since(start0) }
