// Package fileio is how aerie's commands write and read files: one output
// helper that behaves like any Unix tool, one bounded reader, and one check
// that runs before a command starts its work.
//
// # Writing
//
// Create (or WriteFile) opens an output by what the path is when the command
// runs:
//
//   - a regular file, or a path that does not exist yet: the bytes go to a
//     temporary file in the same directory as the final target, which Commit
//     syncs and renames over the target, so that an interrupted command never
//     leaves half a file. An existing file keeps its permission bits (and, on
//     Unix, its owner and group where the process may set them); a new file
//     gets mode 0644. Abort removes the temporary file and leaves any existing
//     file untouched. An existing file the process may not write is refused,
//     as a shell redirection would refuse it.
//   - a symbolic link: it is followed to its final target (also when that
//     target does not exist yet) and the target is written as above; the link
//     itself stays a link.
//   - a device, a FIFO or any other file that is not regular or a directory:
//     the bytes are written straight into it (/dev/null stays /dev/null, a
//     FIFO's reader receives them); Commit and Abort both just close it.
//   - "-": standard output (os.Stdout, or the writer given to
//     CreateWithStdout); Commit and Abort do nothing, standard output is
//     never closed. Commands that write one stream accept "-"; commands that
//     write several decide for themselves.
//
// The usual shape is
//
//	out, err := fileio.Create(path)
//	if err != nil {
//		return err
//	}
//	defer out.Abort() // a no-op after Commit
//	... write to out ...
//	return out.Commit()
//
// A write error is remembered: Commit then returns it and does not rename,
// even if the caller ignored the error of Write.
//
// # Checking before the work
//
// CheckOutputs is called once, after the flags are parsed and before any
// work: it refuses an output that cannot be created (its directory is
// missing or not writable, it is a directory, an existing file is not
// writable) and an output that is an input or another output of the same
// command. Sameness is decided by os.SameFile after following symbolic links
// (so a hard link or a symlink to the input is caught, not just the same
// string); an output that does not exist yet is compared by the cleaned
// absolute path of its final target. Character devices are exempt from the
// sameness rule (writing /dev/null twice destroys nothing). Paths carry the
// flag they came from, so messages say which: "fileio: output x.toml (--out)
// is the input x.toml (--config)".
//
// The check opens nothing that would block or have an effect: an existing
// FIFO is opened for writing with O_NONBLOCK and "no reader yet" (ENXIO) is
// fine; a regular file is opened for writing without truncation and closed;
// a directory's writability is tested by creating and removing a temporary
// file in it.
//
// # Reading
//
// ReadFile and Open read at most a caller-given number of bytes: a Limit
// says how many and names the kind of file, so the error reads
// "fileio: chip.toml: larger than 16 MiB (the limit for chip descriptions)"
// (a *TooLargeError). Every configuration and model file is read this way,
// so that /dev/zero or a mistaken multi-gigabyte path fails with a message
// instead of exhausting memory. Errors from the operating system (a missing
// file, say) are returned as the *fs.PathError that names the path.
package fileio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// NewFileMode is the mode of a file that Create makes (it did not exist).
const NewFileMode os.FileMode = 0o644

// maxLinks bounds the symbolic links followed to an output's final target.
const maxLinks = 40

// Output is a file being written. Write to it, then Commit or Abort.
type Output struct {
	name  string    // the path as given
	w     io.Writer // where Write goes
	f     *os.File  // the open file: temporary or target; nil for stdout
	tmp   string    // temporary file to rename on Commit; "" for direct writes
	final string    // rename target (the final target of name)
	done  bool
	err   error // first write error
}

// Create opens path for writing as the package doc describes; "-" is
// os.Stdout.
func Create(path string) (*Output, error) { return CreateWithStdout(path, os.Stdout) }

// CreateWithStdout is Create with stdout standing for "-" (a command's own
// standard output, which tests replace).
func CreateWithStdout(path string, stdout io.Writer) (*Output, error) {
	if path == "-" {
		return &Output{name: path, w: stdout}, nil
	}
	if path == "" {
		return nil, errors.New("fileio: empty output path")
	}
	t, err := resolve(path)
	if err != nil {
		return nil, err
	}
	if t.fi != nil && !t.fi.Mode().IsRegular() {
		if t.fi.IsDir() {
			return nil, fmt.Errorf("fileio: cannot write %s: is a directory", describe(path, t.final))
		}
		// device, FIFO, socket...: write straight into it.
		f, err := os.OpenFile(t.final, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("fileio: cannot write %s: %v", describe(path, t.final), errText(err))
		}
		return &Output{name: path, w: f, f: f, final: t.final}, nil
	}
	mode := NewFileMode
	if t.fi != nil {
		mode = t.fi.Mode().Perm()
		// refuse what a shell redirection would refuse.
		g, err := os.OpenFile(t.final, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("fileio: cannot write %s: %v", describe(path, t.final), errText(err))
		}
		g.Close()
	}
	dir := filepath.Dir(t.final)
	if err := checkDir(path, t.final); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(t.final)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("fileio: cannot create %s: %v", describe(path, t.final), errText(err))
	}
	o := &Output{name: path, w: f, f: f, tmp: f.Name(), final: t.final}
	if t.fi != nil {
		keepOwner(f, t.fi)
	}
	if err := f.Chmod(mode); err != nil {
		o.Abort()
		return nil, fmt.Errorf("fileio: cannot create %s: %v", describe(path, t.final), errText(err))
	}
	return o, nil
}

// Name is the path Create was given.
func (o *Output) Name() string { return o.name }

// Write writes to the output. After a failed write, Commit fails too.
func (o *Output) Write(p []byte) (int, error) {
	if o.done {
		return 0, fmt.Errorf("fileio: write to %s after Commit or Abort", o.name)
	}
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	if err != nil {
		o.err = err
	}
	return n, err
}

// Commit finishes the output: it syncs the temporary file and renames it
// over the target (regular files), or closes the file (devices, FIFOs). It
// fails, and leaves the target as it was, if a write failed.
func (o *Output) Commit() error {
	if o.done {
		return fmt.Errorf("fileio: %s: Commit after Commit or Abort", o.name)
	}
	if o.err != nil {
		err := o.err
		o.Abort()
		return err
	}
	o.done = true
	if o.f == nil {
		return nil // standard output
	}
	if o.tmp == "" {
		return o.f.Close()
	}
	if err := o.f.Sync(); err != nil {
		o.f.Close()
		os.Remove(o.tmp)
		return fmt.Errorf("fileio: %s: %v", o.name, errText(err))
	}
	if err := o.f.Close(); err != nil {
		os.Remove(o.tmp)
		return fmt.Errorf("fileio: %s: %v", o.name, errText(err))
	}
	if err := os.Rename(o.tmp, o.final); err != nil {
		os.Remove(o.tmp)
		return fmt.Errorf("fileio: %s: %v", o.name, errText(err))
	}
	syncDir(filepath.Dir(o.final))
	return nil
}

// Abort gives the output up: the temporary file is removed and an existing
// target is left as it was (a device or FIFO is just closed). It does
// nothing after Commit or a previous Abort, so it can be deferred.
func (o *Output) Abort() {
	if o.done {
		return
	}
	o.done = true
	if o.f == nil {
		return
	}
	o.f.Close()
	if o.tmp != "" {
		os.Remove(o.tmp)
	}
}

// WriteFile writes b to path through Create and Commit.
func WriteFile(path string, b []byte) error {
	o, err := Create(path)
	if err != nil {
		return err
	}
	if _, err := o.Write(b); err != nil {
		o.Abort()
		return err
	}
	return o.Commit()
}

// Path is a file named on a command line, with the flag that named it ("" for
// a positional argument) for messages.
type Path struct {
	Flag, Name string
}

func (p Path) String() string {
	if p.Flag == "" {
		return p.Name
	}
	return p.Name + " (" + p.Flag + ")"
}

// CheckOutputs checks, before a command does its work, that every output
// can be created and that no output is one of the inputs or another output
// (see the package doc). Empty names are skipped; "-" (standard output)
// is compared with nothing, but at most one output may be "-". Inputs that
// do not exist are skipped (opening them will report it).
func CheckOutputs(inputs []Path, outputs ...Path) error {
	type seen struct {
		p   Path
		fi  os.FileInfo // nil: does not exist yet
		key string      // absolute path of a not-yet-existing final target
	}
	var ins []seen
	for _, in := range inputs {
		if in.Name == "" || in.Name == "-" {
			continue
		}
		if fi, err := os.Stat(in.Name); err == nil {
			ins = append(ins, seen{p: in, fi: fi})
		}
	}
	var outs []seen
	var stdout *Path
	for _, out := range outputs {
		if out.Name == "" {
			continue
		}
		if out.Name == "-" {
			if stdout != nil {
				return fmt.Errorf("fileio: output %s and output %s are both standard output", out, *stdout)
			}
			stdout = &out
			continue
		}
		t, err := resolve(out.Name)
		if err != nil {
			return fmt.Errorf("fileio: output %s: %v", out, errText(err))
		}
		s := seen{p: out, fi: t.fi}
		if t.fi == nil {
			s.key = absKey(t.final)
		} else if t.fi.Mode()&os.ModeCharDevice == 0 {
			for _, in := range ins {
				if os.SameFile(in.fi, t.fi) {
					return fmt.Errorf("fileio: output %s is the input %s", out, in.p)
				}
			}
		}
		for _, o := range outs {
			same := false
			if s.fi != nil && o.fi != nil {
				same = os.SameFile(s.fi, o.fi) && s.fi.Mode()&os.ModeCharDevice == 0
			} else if s.fi == nil && o.fi == nil {
				same = s.key == o.key
			}
			if same {
				return fmt.Errorf("fileio: output %s is also output %s", out, o.p)
			}
		}
		if err := creatable(out, t); err != nil {
			return err
		}
		outs = append(outs, s)
	}
	return nil
}

// SameFile reports whether paths a and b name the same file as CheckOutputs
// decides it: os.SameFile after following links, or, for paths that do not
// exist, the same cleaned absolute path of their final targets. Empty names
// and "-" are never the same file as anything.
func SameFile(a, b string) bool {
	if a == "" || b == "" || a == "-" || b == "-" {
		return false
	}
	ta, err := resolve(a)
	if err != nil {
		return false
	}
	tb, err := resolve(b)
	if err != nil {
		return false
	}
	switch {
	case ta.fi != nil && tb.fi != nil:
		return os.SameFile(ta.fi, tb.fi)
	case ta.fi == nil && tb.fi == nil:
		return absKey(ta.final) == absKey(tb.final)
	}
	return false
}

// target is an output path resolved through its symbolic links.
type target struct {
	final string      // the final target's path
	fi    os.FileInfo // its Lstat (not a link); nil if it does not exist
}

// resolve follows path through symbolic links to the file a write would
// reach, which may not exist yet (a new path or a dangling link).
func resolve(path string) (target, error) {
	p := path
	for i := 0; ; i++ {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			// a missing or non-directory parent is reported by checkDir.
			return target{final: p}, nil
		}
		if err != nil {
			return target{}, err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			return target{final: p, fi: fi}, nil
		}
		if i == maxLinks {
			return target{}, fmt.Errorf("%s: more than %d symbolic links", path, maxLinks)
		}
		link, err := os.Readlink(p)
		if err != nil {
			return target{}, err
		}
		if !filepath.IsAbs(link) {
			// relative to the link's directory as the system finds it:
			// resolve that directory's own links first, so that ".." in
			// the link means what the kernel makes of it.
			dir := filepath.Dir(p)
			if d, err := filepath.EvalSymlinks(dir); err == nil {
				dir = d
			}
			link = filepath.Join(dir, link)
		}
		p = link
	}
}

// absKey identifies a path that does not exist yet: the cleaned absolute path
// with its (existing) directory's links resolved.
func absKey(final string) string {
	dir, base := filepath.Split(final)
	if dir == "" {
		dir = "."
	}
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	if d, err := filepath.Abs(dir); err == nil {
		dir = d
	}
	return filepath.Join(dir, base)
}

// describe names an output in messages: the path given and, when a link led
// elsewhere, the target.
func describe(name, final string) string {
	if name == final {
		return name
	}
	return name + " (→ " + final + ")"
}

// checkDir reports whether the directory a file at final would go in exists.
func checkDir(name, final string) error {
	dir := filepath.Dir(final)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("fileio: cannot create output %s: directory %s does not exist", name, dir)
	case errors.Is(err, syscall.ENOTDIR) || (err == nil && !fi.IsDir()):
		return fmt.Errorf("fileio: cannot create output %s: %s is not a directory", name, dir)
	case err != nil:
		return fmt.Errorf("fileio: cannot create output %s: %v", name, errText(err))
	}
	return nil
}

// creatable checks that out, resolved to t, can be written without doing
// anything that blocks, truncates or leaves a trace.
func creatable(out Path, t target) error {
	fail := func(err error) error {
		return fmt.Errorf("fileio: cannot write output %s: %v", out, errText(err))
	}
	if t.fi != nil {
		switch {
		case t.fi.IsDir():
			return fmt.Errorf("fileio: cannot write output %s: is a directory", out)
		case !t.fi.Mode().IsRegular():
			// O_NONBLOCK: opening a FIFO for writing would otherwise
			// wait for a reader; ENXIO means it has none yet, which is fine.
			f, err := os.OpenFile(t.final, os.O_WRONLY|syscall.O_NONBLOCK, 0)
			if errors.Is(err, syscall.ENXIO) && t.fi.Mode()&os.ModeNamedPipe != 0 {
				return nil
			}
			if err != nil {
				return fail(err)
			}
			f.Close()
			return nil
		}
		f, err := os.OpenFile(t.final, os.O_WRONLY, 0) // no O_TRUNC
		if err != nil {
			return fail(err)
		}
		f.Close()
	}
	if err := checkDir(out.String(), t.final); err != nil {
		return err
	}
	dir := filepath.Dir(t.final)
	f, err := os.CreateTemp(dir, "."+filepath.Base(t.final)+".check*")
	if err != nil {
		return fmt.Errorf("fileio: cannot create output %s: cannot create files in %s: %v", out, dir, errText(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// errText is the reason in an OS error, without the operation and path that
// the messages here already give.
func errText(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// syncDir makes a rename durable where the system allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync() // not supported everywhere; best effort
		d.Close()
	}
}

// Limit caps a read: at most Bytes bytes of a kind of file that What names
// in the plural, for the error ("chip descriptions").
type Limit struct {
	Bytes int64
	What  string
}

// TooLargeError is the error of a read that went past its Limit.
type TooLargeError struct {
	Path  string
	Limit Limit
}

func (e *TooLargeError) Error() string {
	msg := fmt.Sprintf("fileio: %s: larger than %s", e.Path, formatSize(e.Limit.Bytes))
	if e.Limit.What != "" {
		msg += " (the limit for " + e.Limit.What + ")"
	}
	return msg
}

func formatSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadFile reads the whole file at path, failing with a *TooLargeError if it
// holds more than lim.Bytes bytes. A regular file's size is checked before
// anything is read; devices, FIFOs and the like are read up to the limit.
func ReadFile(path string, lim Limit) ([]byte, error) {
	r, err := open(path, lim)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	size := int64(512)
	if fi, err := r.f.Stat(); err == nil && fi.Mode().IsRegular() {
		if fi.Size() > lim.Bytes {
			return nil, &TooLargeError{Path: path, Limit: lim}
		}
		size = fi.Size() + 1 // +1 to see EOF without growing
	}
	b := make([]byte, 0, size)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// Open opens path for a streaming read of at most lim.Bytes bytes: a read
// past the limit fails with a *TooLargeError.
func Open(path string, lim Limit) (io.ReadCloser, error) {
	r, err := open(path, lim)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func open(path string, lim Limit) (*reader, error) {
	if lim.Bytes < 0 {
		return nil, fmt.Errorf("fileio: %s: negative read limit %d", path, lim.Bytes)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &reader{f: f, path: path, lim: lim, left: lim.Bytes}, nil
}

// reader reads f up to lim.Bytes and fails if there is more.
type reader struct {
	f    *os.File
	path string
	lim  Limit
	left int64
	err  error
}

func (r *reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.left == 0 {
		// at the limit: one more byte means the file is too large.
		var b [1]byte
		for {
			n, err := r.f.Read(b[:])
			if n > 0 {
				r.err = &TooLargeError{Path: r.path, Limit: r.lim}
				return 0, r.err
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.f.Read(p)
	r.left -= int64(n)
	return n, err
}

func (r *reader) Close() error { return r.f.Close() }
