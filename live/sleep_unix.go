//go:build unix

package live

import (
	"time"

	"golang.org/x/sys/unix"
)

// preciseSleep blocks the calling thread for d with nanosleep. Go's timers
// wake a parked program through the network poller, whose timeout has
// millisecond resolution on Linux: a 1 ms tick would start half a
// millisecond late on average. The real-time loop sleeps the last stretch
// before a tick this way instead.
func preciseSleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	for {
		var rem unix.Timespec
		if err := unix.Nanosleep(&ts, &rem); err != unix.EINTR {
			return
		}
		ts = rem
	}
}
