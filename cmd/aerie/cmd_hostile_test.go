package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The hostile command lines: every way a command was once made to destroy a
// file, write to the wrong place, work for nothing or exhaust memory, as
// rows of one table. Each row builds its command line in a fresh directory,
// registers with keep the files the command must leave exactly as they were
// (content, mode, file type, link target), and states the exit status and
// a message. To cover a new command (compile, emulate, deploy, serve, ...),
// add rows; the helpers below make most rows three lines.

// hostileEnv is one row's directory and the files that must survive it.
type hostileEnv struct {
	t    *testing.T
	dir  string
	kept []keptFile
}

type keptFile struct {
	path    string
	fi      os.FileInfo // Lstat
	content []byte      // regular files
	link    string      // symbolic links
}

// path is name in the row's directory.
func (e *hostileEnv) path(name string) string { return filepath.Join(e.dir, name) }

// file creates name with text and mode and keeps it.
func (e *hostileEnv) file(name, text string, mode os.FileMode) string {
	e.t.Helper()
	p := e.path(name)
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		e.t.Fatal(err)
	}
	return e.keep(p)
}

// csv writes an event file of n events (writeCSV) and keeps it.
func (e *hostileEnv) csv(name string, n int) string {
	e.t.Helper()
	p := e.path(name)
	writeCSV(e.t, p, n)
	return e.keep(p)
}

// symlink makes name a link to target (skipping the row where links are
// not available) and keeps the link itself.
func (e *hostileEnv) symlink(target, name string) string {
	e.t.Helper()
	p := e.path(name)
	if err := os.Symlink(target, p); err != nil {
		e.t.Skipf("no symbolic links: %v", err)
	}
	return e.keep(p)
}

// config writes a training config and keeps it.
func (e *hostileEnv) config(name, text string) string { return e.file(name, text, 0o644) }

// keep records path as it is now; after the command it must be the same.
func (e *hostileEnv) keep(path string) string {
	e.t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		e.t.Fatal(err)
	}
	k := keptFile{path: path, fi: fi}
	switch {
	case fi.Mode().IsRegular():
		if k.content, err = os.ReadFile(path); err != nil {
			e.t.Fatal(err)
		}
	case fi.Mode()&os.ModeSymlink != 0:
		if k.link, err = os.Readlink(path); err != nil {
			e.t.Fatal(err)
		}
	}
	e.kept = append(e.kept, k)
	return path
}

// device keeps a character device, skipping the row if there is none.
func (e *hostileEnv) device(path string) string {
	e.t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		e.t.Skipf("%s is not a character device here", path)
	}
	return e.keep(path)
}

// checkKept fails for every kept file that changed.
func (e *hostileEnv) checkKept() {
	e.t.Helper()
	for _, k := range e.kept {
		fi, err := os.Lstat(k.path)
		if err != nil {
			e.t.Errorf("%s: %v (it was there before the command)", k.path, err)
			continue
		}
		if fi.Mode() != k.fi.Mode() || !os.SameFile(fi, k.fi) {
			e.t.Errorf("%s: was %v, now %v (same file: %v)", k.path, k.fi.Mode(), fi.Mode(), os.SameFile(fi, k.fi))
		}
		if k.fi.Mode().IsRegular() {
			if b, _ := os.ReadFile(k.path); !bytes.Equal(b, k.content) {
				e.t.Errorf("%s: content changed (%d bytes, was %d)", k.path, len(b), len(k.content))
			}
		}
		if k.link != "" {
			if l, _ := os.Readlink(k.path); l != k.link {
				e.t.Errorf("%s: link now points to %q, was %q", k.path, l, k.link)
			}
		}
	}
}

// noTemps fails if the row's directory holds a temporary file.
func (e *hostileEnv) noTemps() {
	e.t.Helper()
	ents, _ := os.ReadDir(e.dir)
	for _, d := range ents {
		if strings.Contains(d.Name(), ".tmp") || strings.Contains(d.Name(), ".check") {
			e.t.Errorf("temporary file %s left behind", d.Name())
		}
	}
}

// hostileCase is one row. code is the exit status wanted (anyFailure: any
// non-zero status); want must appear in stderr; check, if set, looks at
// what the row's own setup cannot express.
type hostileCase struct {
	name  string
	args  func(e *hostileEnv) []string
	code  int
	want  string
	check func(e *hostileEnv, stdout, stderr string)
}

const anyFailure = -1

// notExist checks that path was not created.
func notExist(path string) func(e *hostileEnv, stdout, stderr string) {
	return func(e *hostileEnv, _, _ string) {
		if _, err := os.Lstat(path); err == nil {
			e.t.Errorf("%s was created", path)
		}
	}
}

// noTraining checks that a refused train run did not start: no header, no
// epoch.
func noTraining(e *hostileEnv, _, stderr string) {
	if strings.Contains(stderr, "epoch") || strings.Contains(stderr, "parameters") {
		e.t.Errorf("training started before the refusal:\n%s", stderr)
	}
}

func hostileCases() []hostileCase {
	const events = 50
	csvHeader := "tick,port,channel,payload\n"
	return []hostileCase{
		// --- convert: outputs are written the way a Unix tool writes them.
		{name: "convert onto /dev/null keeps the device", code: 0,
			args: func(e *hostileEnv) []string {
				return []string{"convert", e.csv("in.csv", events), e.device("/dev/null"), "--to", "csv"}
			}},
		{name: "convert onto a symlink writes through", code: 0,
			args: func(e *hostileEnv) []string {
				os.WriteFile(e.path("target.csv"), []byte("old"), 0o644) // not kept: it is meant to change
				return []string{"convert", e.csv("in.csv", events), e.symlink("target.csv", "link.csv")}
			},
			check: func(e *hostileEnv, _, _ string) {
				if b, _ := os.ReadFile(e.path("target.csv")); !strings.HasPrefix(string(b), csvHeader) {
					e.t.Errorf("symlink target holds %q, want the CSV", b[:min(len(b), 40)])
				}
			}},
		{name: "convert onto a dangling symlink creates its target", code: 0,
			args: func(e *hostileEnv) []string {
				return []string{"convert", e.csv("in.csv", events), e.symlink("made.csv", "link.csv")}
			},
			check: func(e *hostileEnv, _, _ string) {
				if b, _ := os.ReadFile(e.path("made.csv")); !strings.HasPrefix(string(b), csvHeader) {
					e.t.Errorf("dangling link target holds %q, want the CSV", b)
				}
			}},
		{name: "convert keeps a 0600 output 0600", code: 0,
			args: func(e *hostileEnv) []string {
				if runtime.GOOS == "windows" {
					e.t.Skip("no Unix modes")
				}
				out := e.path("private.csv")
				os.WriteFile(out, []byte("old"), 0o600)
				os.Chmod(out, 0o600)
				return []string{"convert", e.csv("in.csv", events), out}
			},
			check: func(e *hostileEnv, _, _ string) {
				fi, _ := os.Stat(e.path("private.csv"))
				if b, _ := os.ReadFile(e.path("private.csv")); fi == nil || fi.Mode().Perm() != 0o600 || !strings.HasPrefix(string(b), csvHeader) {
					e.t.Errorf("output mode %v, content %q; want 0600 and the CSV", fi.Mode().Perm(), b[:min(len(b), 40)])
				}
			}},
		{name: "convert to - writes standard output", code: 0, want: "→ - (csv): 50 events",
			args: func(e *hostileEnv) []string {
				return []string{"convert", e.csv("in.csv", events), "-", "--to", "csv"}
			},
			check: func(e *hostileEnv, stdout, _ string) {
				if !strings.HasPrefix(stdout, csvHeader) || strings.Count(stdout, "\n") != events+1 {
					e.t.Errorf("stdout is not the CSV alone: %q", stdout[:min(len(stdout), 80)])
				}
			}},
		// --- convert: an output that is an input is refused, before any work.
		{name: "convert IN IN", code: anyFailure, want: "is the input",
			args: func(e *hostileEnv) []string {
				in := e.csv("in.csv", events)
				return []string{"convert", in, in}
			}},
		{name: "convert IN onto a symlink to IN", code: anyFailure, want: "is the input",
			args: func(e *hostileEnv) []string {
				return []string{"convert", e.csv("in.csv", events), e.symlink("in.csv", "alias.csv")}
			}},
		{name: "convert IN onto a hard link to IN", code: anyFailure, want: "is the input",
			args: func(e *hostileEnv) []string {
				in := e.csv("in.csv", events)
				if err := os.Link(in, e.path("hard.csv")); err != nil {
					e.t.Skipf("no hard links: %v", err)
				}
				return []string{"convert", in, e.keep(e.path("hard.csv"))}
			}},
		{name: "convert into a missing directory", code: anyFailure, want: "does not exist",
			args: func(e *hostileEnv) []string {
				return []string{"convert", e.csv("in.csv", events), e.path("missing/out.csv")}
			}},
		{name: "convert under a regular file", code: anyFailure, want: "is not a directory",
			args: func(e *hostileEnv) []string {
				in := e.csv("in.csv", events)
				return []string{"convert", in, filepath.Join(in, "out.csv")}
			}},
		// --- record: its two outputs.
		{name: "record --out S --pcap S", code: anyFailure, want: "(--pcap) is also output",
			args: func(e *hostileEnv) []string {
				s := e.file("s.aer", "previous recording", 0o644)
				return []string{"record", "--listen", "127.0.0.1:0", "--out", s, "--pcap", s, "--timeout", "1ms"}
			}},
		{name: "record --out S --pcap S, S new", code: anyFailure, want: "(--pcap) is also output",
			args: func(e *hostileEnv) []string {
				return []string{"record", "--listen", "127.0.0.1:0", "--out", e.path("s.aer"), "--pcap", e.path("s.aer"), "--timeout", "1ms"}
			},
			check: func(e *hostileEnv, o, s string) { notExist(e.path("s.aer"))(e, o, s) }},
		{name: "record --out - --pcap -", code: anyFailure, want: "both standard output",
			args: func(e *hostileEnv) []string {
				return []string{"record", "--listen", "127.0.0.1:0", "--out", "-", "--to", "native", "--pcap", "-", "--timeout", "1ms"}
			}},
		// --- train: outputs against inputs, and outputs checked before work.
		{name: "train --config X --out X", code: anyFailure, want: "(--out) is the input", check: noTraining,
			args: func(e *hostileEnv) []string {
				x := e.config("small.toml", tinyTrainTOML)
				return []string{"train", "--config", x, "--out", x}
			}},
		{name: "train --config X --checkpoint X", code: anyFailure, want: "(--checkpoint) is the input", check: noTraining,
			args: func(e *hostileEnv) []string {
				x := e.config("small.toml", tinyTrainTOML)
				return []string{"train", "--config", x, "--out", e.path("m.aem"), "--checkpoint", x}
			}},
		{name: "train --resume X --out X", code: anyFailure, want: "(--out) is the input", check: noTraining,
			args: func(e *hostileEnv) []string {
				x := e.file("run.ckpt", "a checkpoint", 0o644)
				return []string{"train", "--config", e.config("small.toml", tinyTrainTOML), "--resume", x, "--out", x}
			}},
		{name: "train --out X --checkpoint X", code: anyFailure, want: "(--checkpoint) is also output", check: noTraining,
			args: func(e *hostileEnv) []string {
				return []string{"train", "--config", e.config("small.toml", tinyTrainTOML), "--out", e.path("m.aem"), "--checkpoint", e.path("m.aem")}
			}},
		{name: "train --out /nonexistent/x.aem fails before training", code: anyFailure,
			want: "cannot create output /nonexistent/x.aem (--out): directory /nonexistent does not exist", check: noTraining,
			args: func(e *hostileEnv) []string {
				if _, err := os.Stat("/nonexistent"); err == nil {
					e.t.Skip("/nonexistent exists")
				}
				return []string{"train", "--config", e.config("small.toml", tinyTrainTOML), "--out", "/nonexistent/x.aem"}
			}},
		{name: "train --checkpoint in a missing directory fails before training", code: anyFailure,
			want: "(--checkpoint): directory", check: noTraining,
			args: func(e *hostileEnv) []string {
				return []string{"train", "--config", e.config("small.toml", tinyTrainTOML), "--out", e.path("m.aem"),
					"--checkpoint", e.path("gone/m.ckpt")}
			}},
		// --- bounded reads: configurations and models.
		{name: "chip show /dev/zero", code: anyFailure, want: "/dev/zero: larger than 16 MiB (the limit for chip descriptions)",
			args: func(e *hostileEnv) []string { return []string{"chip", "show", e.device("/dev/zero")} }},
		{name: "train --config /dev/zero", code: anyFailure, want: "/dev/zero: larger than 16 MiB (the limit for training configs)", check: noTraining,
			args: func(e *hostileEnv) []string {
				return []string{"train", "--config", e.device("/dev/zero"), "--out", e.path("m.aem")}
			}},
		{name: "train eval /dev/zero", code: anyFailure, want: "bad magic",
			args: func(e *hostileEnv) []string { return []string{"train", "eval", e.device("/dev/zero")} }},
	}
}

// TestHostileCommandLines runs every row of hostileCases.
func TestHostileCommandLines(t *testing.T) {
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			e := &hostileEnv{t: t, dir: t.TempDir()}
			args := c.args(e)
			start := time.Now()
			stdout, stderr, code := runAerie(t, args...)
			switch {
			case c.code == anyFailure && code == 0:
				t.Errorf("%q: exit 0, want a failure; stderr %q", args, stderr)
			case c.code != anyFailure && code != c.code:
				t.Errorf("%q: exit %d, want %d; stderr %q", args, code, c.code, stderr)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("%q: stderr %q, want it to contain %q", args, stderr, c.want)
			}
			if c.code == anyFailure && time.Since(start) > 30*time.Second {
				t.Errorf("%q: took %v to fail", args, time.Since(start))
			}
			e.checkKept()
			e.noTemps()
			if c.check != nil {
				c.check(e, stdout, stderr)
			}
		})
	}
}
