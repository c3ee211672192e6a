package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/trainer"
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

// chipFile writes the default chip description with edits (old, new
// pairs) applied and keeps it.
func (e *hostileEnv) chipFile(name string, edits ...string) string {
	e.t.Helper()
	src, err := chip.PresetSource("default")
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(src, edits[i]) {
			e.t.Fatalf("default.toml has no %q", edits[i])
		}
		src = strings.Replace(src, edits[i], edits[i+1], 1)
	}
	return e.file(name, src, 0o644)
}

// checkpoint trains tinyTrainTOML (one hidden layer of 16) for one epoch
// and keeps the checkpoint it leaves.
func (e *hostileEnv) checkpoint() string {
	e.t.Helper()
	cfg := e.path("h16.toml")
	if err := os.WriteFile(cfg, []byte(tinyTrainTOML), 0o644); err != nil {
		e.t.Fatal(err)
	}
	if _, stderr, code := runAerie(e.t, "train", "--config", cfg, "--out", e.path("m16.aem"), "--epochs", "1"); code != 0 {
		e.t.Fatalf("training the checkpoint: exit %d: %s", code, stderr)
	}
	return e.keep(e.path("m16.aem.ckpt"))
}

// model writes a model file with a valid CRC whose spec is edited by edit.
func (e *hostileEnv) model(name string, edit func(*trainer.Spec)) string {
	e.t.Helper()
	m, err := trainer.NewModel(trainer.Spec{Inputs: 10, Steps: 30, Hidden: []trainer.LayerSpec{{Size: 4}}, Readout: trainer.ReadoutSpec{Size: 3}})
	if err != nil {
		e.t.Fatal(err)
	}
	edit(&m.Spec)
	b, err := trainer.MarshalModel(m, trainer.Meta{Config: tinyTrainTOML})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.path(name), b, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return e.keep(e.path(name))
}

// nestedTOML is the document of the issue: 100 KB of one table header
// nested 50,000 deep, which the TOML decoder alone takes seconds and
// gigabytes over.
var nestedTOML = "[" + strings.Repeat("a.", 50000) + "b]\n"

// noStdout checks that a refused command printed nothing on stdout.
func noStdout(e *hostileEnv, stdout, _ string) {
	if stdout != "" {
		e.t.Errorf("stdout %q, want nothing", stdout)
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
	if strings.HasPrefix(stderr, "epoch ") || strings.Contains(stderr, "\nepoch ") || strings.Contains(stderr, " parameters, ") {
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
		{name: "chip show of 100 KB of nested headers fails fast", code: 1,
			want: "nested.toml:1: key nested deeper than 16 levels (the limit for TOML documents)",
			args: func(e *hostileEnv) []string {
				return []string{"chip", "show", e.file("nested.toml", nestedTOML, 0o644)}
			}},
		{name: "train --config of 100 KB of nested headers fails fast", code: 1, check: noTraining,
			want: "nested.toml:1: key nested deeper than 16 levels (the limit for TOML documents)",
			args: func(e *hostileEnv) []string {
				return []string{"train", "--config", e.config("nested.toml", nestedTOML), "--out", e.path("m.aem")}
			}},

		// --- train --resume continues the checkpoint's run, or refuses.
		{name: "train --resume with another network", code: 1, check: noTraining,
			want: "network.hidden is [16] in the checkpoint, [8] in the config; a resume cannot change the network",
			args: func(e *hostileEnv) []string {
				ck := e.checkpoint()
				h8 := e.config("h8.toml", strings.Replace(tinyTrainTOML, "hidden = [16]", "hidden = [8]", 1))
				return []string{"train", "--config", h8, "--resume", ck, "--out", e.path("m8.aem")}
			}},
		{name: "train --resume with another learning rate", code: 1,
			want: "optimizer.lr is 0.01 in the checkpoint's run, 0.001 in the config; a resume may change only train.epochs, train.patience, train.workers, task.dir",
			args: func(e *hostileEnv) []string {
				ck := e.checkpoint()
				lr := e.config("lr.toml", tinyTrainTOML+"\n[optimizer]\nlr = 0.001\n")
				return []string{"train", "--config", lr, "--resume", ck, "--out", e.path("lr.aem")}
			},
			check: func(e *hostileEnv, o, s string) { notExist(e.path("lr.aem"))(e, o, s) }},
		{name: "train --resume to more epochs", code: 0,
			args: func(e *hostileEnv) []string {
				ck := e.checkpoint()
				return []string{"train", "--config", e.config("h16b.toml", tinyTrainTOML), "--resume", ck, "--epochs", "2", "--out", e.path("more.aem"), "--json"}
			},
			check: func(e *hostileEnv, stdout, _ string) {
				if !strings.Contains(stdout, `"epochs": 2`) {
					e.t.Errorf("resumed report %q, want 2 epochs", stdout)
				}
			}},

		// --- written values are used or refused; only absent keys default.
		{name: "train --config with epochs = 0", code: 1, check: noTraining,
			want: "small.toml:13: train.epochs = 0: want 1…1048576",
			args: func(e *hostileEnv) []string {
				return []string{"train", "--config", e.config("small.toml", strings.Replace(tinyTrainTOML, "epochs = 2", "epochs = 0", 1)), "--out", e.path("m.aem")}
			}},
		{name: "train --config with classes = 1 and hidden = []", code: 1,
			want: "small.toml:3: task.classes = 1: want 2…65536\n",
			args: func(e *hostileEnv) []string {
				bad := strings.NewReplacer("classes = 3", "classes = 1", "hidden = [16]", "hidden = []").Replace(tinyTrainTOML)
				return []string{"train", "--config", e.config("small.toml", bad), "--out", e.path("m.aem")}
			},
			check: func(e *hostileEnv, o, stderr string) {
				noTraining(e, o, stderr)
				if !strings.Contains(stderr, "small.toml:10: network.hidden = []: want 1 to 64 hidden layer sizes") {
					e.t.Errorf("stderr %q does not name network.hidden", stderr)
				}
			}},
		{name: "chip show with profiles = 0", code: 1, want: "core.profiles = 0: want 1…65536",
			args: func(e *hostileEnv) []string {
				return []string{"chip", "show", e.chipFile("zero.toml", "profiles = 32", "profiles = 0")}
			}},
		{name: "train eval of a model with dt = 0", code: 1, want: "corrupt model file at byte 16: header: dt must be positive and finite, got 0",
			args: func(e *hostileEnv) []string {
				return []string{"train", "eval", e.model("dt0.aem", func(s *trainer.Spec) { s.DT = 0 })}
			}},
		{name: "train eval of a model with theta = 1e308", code: 1, want: "header: hidden layer 0: theta = 1e+308: want (0, 1e+06]",
			args: func(e *hostileEnv) []string {
				return []string{"train", "eval", e.model("theta.aem", func(s *trainer.Spec) { s.Hidden[0].Theta = 1e308 })}
			}},

		// --- negative and non-finite numbers never wrap or mean "unpaced".
		{name: "chip show with tick_cycles = -5", code: 1, want: `zero.toml:10: key "tick_cycles": -5 is negative`,
			args: func(e *hostileEnv) []string {
				return []string{"chip", "show", e.chipFile("zero.toml", `sync = "barrier"`, "sync = \"fixed\"\ntick_cycles = -5")}
			}},
		{name: "train --workers -1", code: 2, want: "train: --workers -1: want 0…1024", check: noTraining,
			args: func(e *hostileEnv) []string {
				return []string{"train", "--config", e.config("small.toml", tinyTrainTOML), "--out", e.path("m.aem"), "--workers", "-1"}
			}},
		{name: "train --seed -1", code: 2, want: `invalid value "-1" for flag -seed`, check: noTraining,
			args: func(e *hostileEnv) []string {
				return []string{"train", "--config", e.config("small.toml", tinyTrainTOML), "--out", e.path("m.aem"), "--seed", "-1"}
			}},
		{name: "send --batch 100000000", code: 2, want: "send: --batch 100000000: want 1…1024 datagrams", check: noStdout,
			args: func(e *hostileEnv) []string {
				return []string{"send", e.csv("in.csv", events), "--to", "127.0.0.1:9", "--batch", "100000000"}
			}},
		{name: "send --sndbuf -1", code: 2, want: "send: --sndbuf -1: want 0…1073741824 bytes", check: noStdout,
			args: func(e *hostileEnv) []string {
				return []string{"send", e.csv("in.csv", events), "--to", "127.0.0.1:9", "--sndbuf", "-1"}
			}},
		{name: "send --poisson --batch 100000000", code: 2, want: "send: --batch 100000000: want 1…1024 datagrams", check: noStdout,
			args: func(e *hostileEnv) []string {
				return []string{"send", "--poisson", "100", "--channels", "4", "--duration", "10ms", "--to", "127.0.0.1:9", "--batch", "100000000"}
			}},
		{name: "send --poisson --sndbuf -1", code: 2, want: "send: --sndbuf -1: want 0…1073741824 bytes", check: noStdout,
			args: func(e *hostileEnv) []string {
				return []string{"send", "--poisson", "100", "--channels", "4", "--duration", "10ms", "--to", "127.0.0.1:9", "--sndbuf", "-1"}
			}},
		{name: "send --poisson to port 0", code: 2, want: "port 0 is not a destination", check: noStdout,
			args: func(e *hostileEnv) []string {
				return []string{"send", "--poisson", "100", "--channels", "4", "--duration", "10ms", "--to", "127.0.0.1:0"}
			}},
		{name: "send --rate NaN", code: 2, want: "send: --rate NaN: want 0 (unpaced) or 1…1e+09 events per second", check: noStdout,
			args: func(e *hostileEnv) []string {
				return []string{"send", e.csv("in.csv", events), "--to", "127.0.0.1:9", "--rate", "NaN"}
			}},
		{name: "send --speed 1e-300", code: 2, want: "send: --speed 1e-300: want 0.001…1e+06", check: noStdout,
			args: func(e *hostileEnv) []string {
				return []string{"send", e.csv("in.csv", events), "--to", "127.0.0.1:9", "--speed", "1e-300"}
			}},
		{name: "send --to port 0", code: 2, want: "send: --to 127.0.0.1:0: port 0 is not a destination", check: noStdout,
			args: func(e *hostileEnv) []string {
				return []string{"send", e.csv("in.csv", events), "--to", "127.0.0.1:0"}
			}},
		{name: "record --rcvbuf -1", code: 2, want: "record: --rcvbuf -1: want 0…1073741824 bytes",
			args: func(e *hostileEnv) []string {
				return []string{"record", "--listen", "127.0.0.1:0", "--out", e.path("r.aer"), "--rcvbuf", "-1", "--timeout", "1ms"}
			},
			check: func(e *hostileEnv, o, s string) { notExist(e.path("r.aer"))(e, o, s) }},
		{name: "record --pcap-max 10", code: 2, want: `record: --pcap-max "10": want 1 KiB…1 TiB`,
			args: func(e *hostileEnv) []string {
				return []string{"record", "--listen", "127.0.0.1:0", "--pcap", e.path("r.pcap"), "--pcap-max", "10", "--timeout", "1ms"}
			}},
		{name: "convert --size 0x10", code: 2, want: `--size "0x10": want WxH with 1 ≤ W, H ≤ 32768`,
			args: func(e *hostileEnv) []string {
				return []string{"convert", e.csv("in.csv", events), e.path("o.aedat4"), "--size", "0x10"}
			}},

		// --- writers refuse what their format cannot hold.
		{name: "convert a time of 3e9 µs to AEDAT 2.0", code: 1,
			want: "aer: aedat2: event 1: time 3000000000 outside -2147483648…2147483647 µs (int32)",
			args: func(e *hostileEnv) []string {
				in := e.file("t.csv", csvHeaderUS+"\n5,0,1,0\n3000000000,0,2,0\n", 0o644)
				return []string{"convert", in, e.path("o.aedat2")}
			},
			check: func(e *hostileEnv, o, s string) { notExist(e.path("o.aedat2"))(e, o, s) }},
		{name: "convert x = 40000 to AEDAT 3.1", code: 1, want: "aer: aedat3: event 0: x 40000 outside 0…32767",
			args: func(e *hostileEnv) []string {
				in := e.file("x.csv", csvHeaderUS+"\n5,0,40000,0\n", 0o644)
				return []string{"convert", in, e.path("o.aedat3")}
			}},
		{name: "convert 300×200 data to AEDAT 4.0 --size 10x10", code: 1, want: "aer: aedat4: event 0: x 299 outside 0…9 (the sensor is 10×10)",
			args: func(e *hostileEnv) []string {
				in := e.file("big.csv", fmt.Sprintf("%s\n5,0,%d,1\n", csvHeaderUS, 199<<16|299), 0o644)
				return []string{"convert", in, e.path("o.aedat4"), "--size", "10x10"}
			}},
		{name: "convert CSV times of the whole int64 range", code: 0,
			args: func(e *hostileEnv) []string {
				in := e.file("wide.csv", csvHeaderUS+"\n-9223372036854775808,0,1,0\n9223372036854775807,0,2,0\n", 0o644)
				return []string{"convert", in, e.path("back.csv")}
			},
			check: func(e *hostileEnv, _, _ string) {
				if b, _ := os.ReadFile(e.path("back.csv")); !strings.Contains(string(b), "-9223372036854775808,0,1,0") {
					e.t.Errorf("round trip: %q", b)
				}
				if _, stderr, code := runAerie(e.t, "inspect", e.path("back.csv")); code != 0 {
					e.t.Errorf("inspect of the written CSV: exit %d: %s", code, stderr)
				}
			}},
		{name: "convert a CSV with a byte-order mark", code: 0,
			args: func(e *hostileEnv) []string {
				in := e.file("bom.csv", "\xef\xbb\xbf"+csvHeaderTick+"\n5,0,1,0\n", 0o644)
				return []string{"convert", in, e.path("o.aer")}
			},
			check: func(e *hostileEnv, stdout, _ string) {
				if !strings.Contains(stdout, "(csv) → ") || !strings.Contains(stdout, ": 1 events") {
					e.t.Errorf("stdout %q, want one CSV event converted", stdout)
				}
			}},

		// --- chip list.
		{name: "chip list extra", code: 2, want: `chip list: unexpected argument "extra"`, check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"chip", "list", "extra"} }},
		{name: "chip list --json", code: 0,
			args: func(e *hostileEnv) []string { return []string{"chip", "list", "--json"} },
			check: func(e *hostileEnv, stdout, _ string) {
				var v struct {
					Presets []struct{ Name string } `json:"presets"`
				}
				if err := json.Unmarshal([]byte(stdout), &v); err != nil || len(v.Presets) != len(chip.Presets()) {
					e.t.Errorf("chip list --json: %v, %q", err, stdout)
				}
			}},
		{name: "train for a chip that cannot run the model stops before training", code: 1, want: "chip truenorth has decay",
			args: func(e *hostileEnv) []string {
				return []string{"train", "--config", e.config("t.toml", tinyTrainTOML), "--chip", "truenorth", "--out", e.path("m.aem")}
			},
			check: func(e *hostileEnv, o, s string) { noTraining(e, o, s); notExist(e.path("m.aem"))(e, o, s) }},
		{name: "train --qat without a chip", code: 2, want: "--qat needs the chip",
			args: func(e *hostileEnv) []string {
				return []string{"train", "--config", e.config("t.toml", tinyTrainTOML), "--qat", "4", "--out", e.path("m.aem")}
			},
			check: func(e *hostileEnv, o, s string) { noTraining(e, o, s); notExist(e.path("m.aem"))(e, o, s) }},
		{name: "train --init with a model of another network", code: 1, want: "the initial model",
			args: func(e *hostileEnv) []string {
				other := strings.Replace(tinyTrainTOML, "hidden = [16]", "hidden = [9]", 1)
				m := e.path("other.aem")
				if _, stderr, code := runAerie(e.t, "train", "--config", e.config("o.toml", other), "--out", m); code != 0 {
					e.t.Fatalf("train: %s", stderr)
				}
				return []string{"train", "--config", e.config("t.toml", tinyTrainTOML), "--init", e.keep(m), "--out", e.path("m.aem")}
			},
			check: func(e *hostileEnv, o, s string) { noTraining(e, o, s) }},
		// --- compile, emulate, deploy: networks, images and models.
		{name: "compile onto its own network", code: 1, want: "is the input",
			args: func(e *hostileEnv) []string {
				net := e.file("net.toml", "name = \"x\"\n[[population]]\nname = \"a\"\nsize = 2\n", 0o644)
				return []string{"compile", net, "-o", net}
			}},
		{name: "compile with a mis-cased key writes nothing", code: 1, want: `did you mean "size"`,
			args: func(e *hostileEnv) []string {
				net := e.file("net.toml", "name = \"x\"\n[[population]]\nname = \"a\"\nSize = 2\n", 0o644)
				return []string{"compile", net, "-o", e.path("net.img")}
			},
			check: func(e *hostileEnv, o, s string) { notExist(e.path("net.img"))(e, o, s) }},
		{name: "compile a network too large for the chip", code: 1, want: `population "a" does not fit default`,
			args: func(e *hostileEnv) []string {
				net := e.file("net.toml", "name = \"x\"\n[[population]]\nname = \"a\"\nsize = 100000\n", 0o644)
				return []string{"compile", net, "-o", e.file("keep.img", "old", 0o600)}
			}},
		{name: "emulate a file that is not an image", code: 1, want: "not.img",
			args: func(e *hostileEnv) []string {
				return []string{"emulate", "--image", e.file("not.img", "AERIEIMG but not really", 0o644), "--out", e.path("out.csv")}
			},
			check: func(e *hostileEnv, o, s string) { notExist(e.path("out.csv"))(e, o, s) }},
		{name: "emulate onto its own input", code: 1, want: "is the input",
			args: func(e *hostileEnv) []string {
				in := e.csv("in.csv", events)
				return []string{"emulate", "--image", e.file("x.img", "AERIEIMG", 0o644), "--in", in, "--out", in}
			}},
		{name: "deploy a model that is not one", code: 1, want: "m.aem",
			args: func(e *hostileEnv) []string {
				return []string{"deploy", e.file("m.aem", "AERIEMD\x1a\x01\x00\x00\x00junk", 0o644), "-o", e.file("keep.img", "old", 0o644)}
			}},
		{name: "deploy onto its own model", code: 1, want: "is the input",
			args: func(e *hostileEnv) []string {
				m := e.file("m.aem", "AERIEMD\x1a", 0o644)
				return []string{"deploy", m, "-o", m}
			}},
		// --- bench scale: every bad flag is refused before anything is built.
		{name: "bench scale --sizes with a word", code: 2, want: `bench scale: --sizes: "abc": want whole numbers of neurons, 100…4194304`, check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "scale", "--sizes", "4000,abc"} }},
		{name: "bench scale --sizes 10", code: 2, want: `bench scale: --sizes: "10": want whole numbers of neurons, 100…4194304`, check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "scale", "--sizes", "10"} }},
		{name: "bench scale --sizes 1e12", code: 2, want: `bench scale: --sizes: "1000000000000": want whole numbers`, check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "scale", "--sizes", "1000000000000"} }},
		{name: "bench scale --sizes of 4 Mi neurons exceeds the synapse cap", code: 2, want: "4194304 neurons × fan-in 80 = 335544320 synapses: want at most 60000000", check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "scale", "--sizes", "4194304"} }},
		{name: "bench scale --sizes empty", code: 2, want: `bench scale: --sizes: "": want whole numbers`, check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "scale", "--sizes", ""} }},
		{name: "bench scale --fanin 0", code: 2, want: "bench scale: --fanin 0: want 1…10000", check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "scale", "--fanin", "0"} }},
		{name: "bench scale --fanin larger than a population", code: 2, want: "fan-in 150 (120 excitatory, 30 inhibitory) exceeds the populations of 100 neurons (80, 20): want a fan-in ≤ 100", check: noStdout,
			args: func(e *hostileEnv) []string {
				return []string{"bench", "scale", "--sizes", "4000,100", "--fanin", "150"}
			}},
		{name: "bench scale --seconds inside the warm-up", code: 2, want: "bench scale: --seconds 0.05: want more than the 0.1 s warm-up, at most 10000", check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "scale", "--seconds", "0.05"} }},
		{name: "bench scale --seconds NaN", code: 2, want: "bench scale: --seconds NaN: want more than the 0.1 s warm-up", check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "scale", "--seconds", "NaN"} }},
		{name: "bench scale --workers -1", code: 2, want: "bench scale: --workers -1: want 0…1024", check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "scale", "--workers", "-1"} }},
		{name: "bench scale --plot into a missing directory fails before running", code: anyFailure, want: "does not exist", check: noStdout,
			args: func(e *hostileEnv) []string {
				return []string{"bench", "scale", "--sizes", "256000", "--plot", e.path("missing/scale.png")}
			}},
		{name: "bench scale --plot under a regular file fails before running", code: anyFailure, want: "is not a directory", check: noStdout,
			args: func(e *hostileEnv) []string {
				return []string{"bench", "scale", "--sizes", "256000", "--plot", filepath.Join(e.file("f", "keep", 0o644), "scale.png")}
			}},
		{name: "bench scale --plot -", code: 2, want: "--plot -: want a file", check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "scale", "--sizes", "256000", "--plot", "-"} }},
		// --- bench pd14: every bad flag is refused before anything is built.
		{name: "bench pd14 --scale 0", code: 2, want: "bench pd14: --scale 0: want 0 < F ≤ 1", check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "pd14", "--scale", "0"} }},
		{name: "bench pd14 --scale 2", code: 2, want: "bench pd14: --scale 2: want 0 < F ≤ 1", check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "pd14", "--scale", "2"} }},
		{name: "bench pd14 --scale NaN", code: 2, want: "bench pd14: --scale NaN: want 0 < F ≤ 1", check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "pd14", "--scale", "NaN"} }},
		{name: "bench pd14 --seconds -1", code: 2, want: "bench pd14: --seconds -1: want 0 < S ≤ 100000", check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "pd14", "--seconds", "-1"} }},
		{name: "bench pd14 --seconds Inf", code: 2, want: "bench pd14: --seconds +Inf: want 0 < S ≤ 100000", check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "pd14", "--seconds", "Inf"} }},
		{name: "bench pd14 --workers -1", code: 2, want: "bench pd14: --workers -1: want ≥ 0", check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "pd14", "--workers", "-1"} }},
		{name: "bench pd14 with a network name", code: 2, want: `bench pd14: unexpected argument "cuba"`, check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "pd14", "cuba"} }},
		{name: "bench pd14 --chip missing", code: anyFailure, want: "no such file", check: noStdout,
			args: func(e *hostileEnv) []string { return []string{"bench", "pd14", "--chip", e.path("nope.toml")} }},
		{name: "bench pd14 on a chip too small", code: 1, want: "does not fit default", check: noStdout,
			args: func(e *hostileEnv) []string {
				return []string{"bench", "pd14", "--scale", "0.01", "--seconds", "0.01", "--chip", "default"}
			}},
	}
}

const (
	csvHeaderTick = "tick,port,channel,payload"
	csvHeaderUS   = "time_us,port,channel,payload"
)

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
