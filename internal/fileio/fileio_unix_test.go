//go:build unix

package fileio

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func needDevice(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Skipf("%s is not a character device here", path)
	}
	return fi
}

func TestDevNullStaysADevice(t *testing.T) {
	before := needDevice(t, "/dev/null")
	if err := CheckOutputs([]Path{{"", "/dev/null"}}, Path{"--out", "/dev/null"}, Path{"--pcap", "/dev/null"}); err != nil {
		t.Errorf("CheckOutputs on /dev/null: %v", err)
	}
	o, err := Create("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Write([]byte("discarded")); err != nil {
		t.Fatal(err)
	}
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	o2, _ := Create("/dev/null")
	o2.Write([]byte("x"))
	o2.Abort()
	after, err := os.Stat("/dev/null")
	if err != nil || after.Mode() != before.Mode() || !os.SameFile(before, after) {
		t.Errorf("/dev/null changed: %v → %v (%v)", before.Mode(), after.Mode(), err)
	}
	noTempsIn(t, "/dev", ".null.tmp")
}

// noTempsIn fails if dir holds a name starting with prefix.
func noTempsIn(t *testing.T, dir, prefix string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			t.Errorf("%s left in %s", e.Name(), dir)
		}
	}
}

func TestDevFullReportsTheError(t *testing.T) {
	needDevice(t, "/dev/full")
	o, err := Create("/dev/full")
	if err != nil {
		t.Fatal(err)
	}
	_, werr := o.Write([]byte("no room"))
	cerr := o.Commit()
	if !errors.Is(werr, syscall.ENOSPC) || !errors.Is(cerr, syscall.ENOSPC) {
		t.Errorf("write %v, commit %v; want ENOSPC from both", werr, cerr)
	}
	if err := WriteFile("/dev/full", []byte("x")); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("WriteFile(/dev/full): %v", err)
	}
	needDevice(t, "/dev/full")
}

func TestFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// The check neither blocks nor fails for want of a reader.
	done := make(chan error, 1)
	go func() { done <- CheckOutputs(nil, Path{"--out", fifo}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("CheckOutputs on a FIFO without a reader: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("CheckOutputs blocked on a FIFO")
	}

	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- "open: " + err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if err := WriteFile(fifo, []byte("through the pipe")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "through the pipe" {
			t.Errorf("reader got %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reader got nothing")
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO is no longer a FIFO: %v", err)
	}
	noTemps(t, dir, "fifo")
}

func TestModeKept(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o600, 0o755, 0o640} {
		p := filepath.Join(dir, "f"+mode.String())
		write(t, p, "old")
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(p, []byte("new")); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != mode || content(t, p) != "new" {
			t.Errorf("mode %v became %v", mode, fi.Mode().Perm())
		}
	}
	// through a symlink, the target's mode.
	target := filepath.Join(dir, "secret")
	write(t, target, "old")
	os.Chmod(target, 0o600)
	symlink(t, "secret", filepath.Join(dir, "link"))
	if err := WriteFile(filepath.Join(dir, "link"), []byte("new")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o600 {
		t.Errorf("symlink target mode became %v", fi.Mode().Perm())
	}
}

// TestNotWritable: without root, a read-only file and a read-only directory
// are refused, by Create and by CheckOutputs, as a shell would refuse them.
func TestNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anything (see the path-under-a-file case of TestCheckOutputs)")
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	write(t, ro, "old")
	os.Chmod(ro, 0o444)
	if _, err := Create(ro); err == nil {
		t.Error("Create of a read-only file succeeded")
	}
	if err := CheckOutputs(nil, Path{"--out", ro}); err == nil {
		t.Error("CheckOutputs passed a read-only file")
	}
	rodir := filepath.Join(dir, "rodir")
	os.Mkdir(rodir, 0o555)
	defer os.Chmod(rodir, 0o755)
	if err := CheckOutputs(nil, Path{"--out", filepath.Join(rodir, "x")}); err == nil || !strings.Contains(err.Error(), "cannot create files in") {
		t.Errorf("CheckOutputs in a read-only directory: %v", err)
	}
	if content(t, ro) != "old" {
		t.Error("the read-only file changed")
	}
}

func TestReadFileDevZero(t *testing.T) {
	needDevice(t, "/dev/zero")
	start := time.Now()
	_, err := ReadFile("/dev/zero", Limit{Bytes: 16 << 20, What: "chip descriptions"})
	if err == nil || err.Error() != "fileio: /dev/zero: larger than 16 MiB (the limit for chip descriptions)" {
		t.Errorf("ReadFile(/dev/zero): %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
	r, err := Open("/dev/zero", Limit{Bytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	var tl *TooLargeError
	if len(b) != 1000 || !errors.As(err, &tl) {
		t.Errorf("Open(/dev/zero): %d bytes, %v", len(b), err)
	}
}

// TestOwnerKept: root replacing another user's file leaves it that user's.
func TestOwnerKept(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can give a file away")
	}
	p := filepath.Join(t.TempDir(), "theirs")
	write(t, p, "old")
	if err := os.Chown(p, 4321, 4322); err != nil {
		t.Skipf("chown: %v", err)
	}
	if err := WriteFile(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 4321 || st.Gid != 4322 {
		t.Errorf("owner became %d:%d, want 4321:4322", st.Uid, st.Gid)
	}
}
