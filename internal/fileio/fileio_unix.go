//go:build unix

package fileio

import (
	"os"
	"syscall"
)

// keepOwner gives f the owner and group of the file it replaces, as far as
// the process may (root may; others may keep their own group); failures
// are ignored, as editors ignore them.
func keepOwner(f *os.File, old os.FileInfo) {
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	if int(st.Uid) == os.Getuid() && int(st.Gid) == os.Getgid() {
		return
	}
	if f.Chown(int(st.Uid), int(st.Gid)) != nil {
		f.Chown(-1, int(st.Gid))
	}
}
