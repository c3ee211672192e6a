package fileio

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func content(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTemps fails if dir holds anything but the names given.
func noTemps(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("directory holds %q, want %q (a temporary file left behind?)", got, names)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
}

func TestCreateNewFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "new.txt")
	o, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the target exists before Commit: %v", err)
	}
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := content(t, p); got != "hello" {
		t.Errorf("content %q", got)
	}
	if fi, _ := os.Stat(p); runtime.GOOS != "windows" && fi.Mode().Perm() != NewFileMode {
		t.Errorf("mode %v, want %v", fi.Mode().Perm(), NewFileMode)
	}
	noTemps(t, dir, "new.txt")
	o.Abort() // after Commit: nothing
	if got := content(t, p); got != "hello" {
		t.Errorf("Abort after Commit changed the file: %q", got)
	}
	if err := o.Commit(); err == nil {
		t.Error("a second Commit succeeded")
	}
}

func TestAbortKeepsOldContent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "old.txt")
	write(t, p, "old content")
	o, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("new"))
	o.Abort()
	if got := content(t, p); got != "old content" {
		t.Errorf("after Abort: %q", got)
	}
	noTemps(t, dir, "old.txt")
	if _, err := o.Write([]byte("x")); err == nil {
		t.Error("Write after Abort succeeded")
	}
}

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	write(t, p, "a much longer old content")
	if err := WriteFile(p, []byte("short")); err != nil {
		t.Fatal(err)
	}
	if got := content(t, p); got != "short" {
		t.Errorf("content %q", got)
	}
	noTemps(t, dir, "f")
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.txt")
	write(t, file, "x")
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "missing", "out"), "does not exist"},
		{filepath.Join(file, "out"), "is not a directory"},
		{dir, "is a directory"},
		{"", "empty output path"},
	} {
		_, err := Create(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "fileio: ") {
			t.Errorf("Create(%q): %v, want an error with %q", c.path, err, c.want)
		}
	}
	noTemps(t, dir, "file.txt")
}

func TestCreateThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.txt")
	link := filepath.Join(dir, "link.txt")
	write(t, target, "old")
	symlink(t, "target.txt", link) // relative, as ln -s makes them
	if err := WriteFile(link, []byte("through the link")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link is no longer a link: %v %v", fi.Mode(), err)
	}
	if got := content(t, target); got != "through the link" {
		t.Errorf("target content %q", got)
	}
	noTemps(t, dir, "link.txt", "target.txt")

	// a dangling link: its target is created, the link kept.
	dangling := filepath.Join(dir, "dangling")
	symlink(t, filepath.Join(dir, "sub", "made.txt"), dangling)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	if err := WriteFile(dangling, []byte("made")); err != nil {
		t.Fatal(err)
	}
	if got := content(t, filepath.Join(dir, "sub", "made.txt")); got != "made" {
		t.Errorf("dangling link target content %q", got)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the dangling link is no longer a link")
	}
}

// TestSymlinkDotDotThroughLinkedDir: a relative link containing ".." inside
// a directory reached through a link resolves as the kernel resolves it.
func TestSymlinkDotDotThroughLinkedDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "real", "inner"), 0o755)
	symlink(t, filepath.Join(dir, "real", "inner"), filepath.Join(dir, "alias"))
	write(t, filepath.Join(dir, "real", "x.txt"), "old")
	symlink(t, filepath.Join("..", "x.txt"), filepath.Join(dir, "real", "inner", "up"))
	if err := WriteFile(filepath.Join(dir, "alias", "up"), []byte("new")); err != nil {
		t.Fatal(err)
	}
	if got := content(t, filepath.Join(dir, "real", "x.txt")); got != "new" {
		t.Errorf("real/x.txt = %q, want new", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "x.txt")); err == nil {
		t.Errorf("wrote x.txt next to the alias instead of through it")
	}
}

func TestStdout(t *testing.T) {
	var buf bytes.Buffer
	o, err := CreateWithStdout("-", &buf)
	if err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("to stdout"))
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "to stdout" {
		t.Errorf("stdout got %q", buf.String())
	}

	// Create("-") is os.Stdout, which Commit leaves open.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	defer func() { os.Stdout = saved }()
	o, err = Create("-")
	if err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("piped "))
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("still open")); err != nil {
		t.Errorf("stdout closed by Commit: %v", err)
	}
	os.Stdout = saved
	w.Close()
	b, _ := io.ReadAll(r)
	if string(b) != "piped still open" {
		t.Errorf("pipe got %q", b)
	}
}

func TestCheckOutputs(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.toml")
	write(t, in, "input")
	other := filepath.Join(dir, "other.aem")
	write(t, other, "other")
	hard := filepath.Join(dir, "hard.toml")
	if err := os.Link(in, hard); err != nil {
		t.Skipf("no hard links: %v", err)
	}
	soft := filepath.Join(dir, "soft.toml")
	symlink(t, "in.toml", soft)
	dangling := filepath.Join(dir, "dangling")
	symlink(t, "new-target.aem", dangling)
	os.Mkdir(filepath.Join(dir, "real"), 0o755)
	symlink(t, "real", filepath.Join(dir, "alias"))
	file := filepath.Join(dir, "file.txt")
	write(t, file, "x")
	cfg := []Path{{"--config", in}}
	for _, c := range []struct {
		name    string
		inputs  []Path
		outputs []Path
		want    string // "" for no error
	}{
		{"different files", cfg, []Path{{"--out", other}, {"--checkpoint", filepath.Join(dir, "new.ckpt")}}, ""},
		{"same string", cfg, []Path{{"--out", in}}, "output " + in + " (--out) is the input " + in + " (--config)"},
		{"hard link", cfg, []Path{{"--out", hard}}, "is the input " + in + " (--config)"},
		{"symlink", cfg, []Path{{"--out", soft}}, "output " + soft + " (--out) is the input"},
		{"unclean path", cfg, []Path{{"--out", filepath.Join(dir, ".", "real", "..", "in.toml")}}, "is the input"},
		{"two outputs, existing", nil, []Path{{"--out", other}, {"--pcap", other}}, "output " + other + " (--pcap) is also output " + other + " (--out)"},
		{"two outputs, new", nil, []Path{{"--out", filepath.Join(dir, "n.aer")}, {"--pcap", filepath.Join(dir, "real", "..", "n.aer")}}, "is also output"},
		{"two outputs, new, via dir link", nil, []Path{{"--out", filepath.Join(dir, "real", "n.aer")}, {"--pcap", filepath.Join(dir, "alias", "n.aer")}}, "is also output"},
		{"two outputs, dangling link and its target", nil, []Path{{"--out", dangling}, {"--pcap", filepath.Join(dir, "new-target.aem")}}, "is also output"},
		{"positional", []Path{{"", in}}, []Path{{"", in}}, "fileio: output " + in + " is the input " + in},
		{"missing directory", nil, []Path{{"--out", "/nonexistent/x.aem"}}, "cannot create output /nonexistent/x.aem (--out): directory /nonexistent does not exist"},
		{"under a regular file", nil, []Path{{"--out", filepath.Join(file, "out")}}, file + " is not a directory"},
		{"a directory", nil, []Path{{"--out", dir}}, "is a directory"},
		{"empty skipped", []Path{{"--config", ""}}, []Path{{"--out", ""}, {"--pcap", other}}, ""},
		{"stdout skipped", []Path{{"", "-"}}, []Path{{"", "-"}}, ""},
		{"two stdouts", nil, []Path{{"--out", "-"}, {"--pcap", "-"}}, "output - (--pcap) and output - (--out) are both standard output"},
		{"missing input skipped", []Path{{"--resume", filepath.Join(dir, "nope")}}, []Path{{"--out", other}}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckOutputs(c.inputs, c.outputs...)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if got := content(t, in); got != "input" {
		t.Errorf("the check changed the input: %q", got)
	}
	noTemps(t, dir, "alias", "dangling", "file.txt", "hard.toml", "in.toml", "other.aem", "real", "soft.toml")
}

func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	write(t, a, "a")
	symlink(t, "a", filepath.Join(dir, "l"))
	for _, c := range []struct {
		x, y string
		want bool
	}{
		{a, a, true},
		{a, filepath.Join(dir, "l"), true},
		{filepath.Join(dir, "new"), filepath.Join(dir, ".", "new"), true},
		{a, filepath.Join(dir, "new"), false},
		{"-", "-", false},
		{"", "", false},
	} {
		if got := SameFile(c.x, c.y); got != c.want {
			t.Errorf("SameFile(%q, %q) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}

func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "chip.toml")
	write(t, p, strings.Repeat("x", 1024))
	lim := Limit{Bytes: 1024, What: "chip descriptions"}
	b, err := ReadFile(p, lim)
	if err != nil || len(b) != 1024 {
		t.Fatalf("at the limit: %d bytes, %v", len(b), err)
	}
	lim.Bytes = 1023
	_, err = ReadFile(p, lim)
	var tl *TooLargeError
	if !errors.As(err, &tl) || err.Error() != "fileio: "+p+": larger than 1023 bytes (the limit for chip descriptions)" {
		t.Errorf("over the limit: %v", err)
	}
	lim.Bytes = 16 << 20
	if b, err := ReadFile(p, lim); err != nil || len(b) != 1024 {
		t.Errorf("under the limit: %d bytes, %v", len(b), err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), lim); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	write(t, filepath.Join(dir, "empty"), "")
	if b, err := ReadFile(filepath.Join(dir, "empty"), lim); err != nil || len(b) != 0 {
		t.Errorf("empty file: %q, %v", b, err)
	}
}

func TestOpenLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.aem")
	write(t, p, strings.Repeat("y", 5000))
	r, err := Open(p, Limit{Bytes: 4096, What: "model files"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if len(b) != 4096 || err == nil || !strings.Contains(err.Error(), "larger than 4 KiB (the limit for model files)") {
		t.Errorf("read %d bytes, error %v", len(b), err)
	}
	r2, _ := Open(p, Limit{Bytes: 5000})
	defer r2.Close()
	if b, err := io.ReadAll(r2); len(b) != 5000 || err != nil {
		t.Errorf("at the limit: %d bytes, %v", len(b), err)
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{16 << 20: "16 MiB", 1 << 30: "1 GiB", 3 << 10: "3 KiB", 1000: "1000 bytes", 0: "0 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestCommitAfterWriteError: a failed write (injected here) makes Commit
// fail and leave the old file, even if the caller ignored the write error.
func TestCommitAfterWriteError(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	write(t, p, "old")
	o, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("half"))
	boom := errors.New("boom")
	o.err = boom
	if _, err := o.Write([]byte("more")); err != boom {
		t.Errorf("Write after a failure: %v", err)
	}
	if err := o.Commit(); err != boom {
		t.Errorf("Commit: %v, want the write error", err)
	}
	if got := content(t, p); got != "old" {
		t.Errorf("content %q, want old", got)
	}
	noTemps(t, dir, "f")
}
