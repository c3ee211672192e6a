package trainer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const baseTOML = `[task]
dataset = "randman"
classes = 3
units = 10
samples_per_class = 10
steps = 20

[network]
hidden = [16]

[train]
epochs = 2
`

// TestWrittenValues: a value a config writes is used or refused with its
// range and line; only an absent key takes the default.
func TestWrittenValues(t *testing.T) {
	set := func(table, line string) string {
		t.Helper()
		if !strings.Contains(baseTOML, "["+table+"]\n") {
			return baseTOML + "\n[" + table + "]\n" + line + "\n"
		}
		return strings.Replace(baseTOML, "["+table+"]\n", "["+table+"]\n"+line+"\n", 1)
	}
	tests := []struct {
		name, text, want string
	}{
		{"epochs = 0", strings.Replace(baseTOML, "epochs = 2", "epochs = 0", 1), "cfg.toml:12: train.epochs = 0: want 1…1048576"},
		{"batch = 0", set("train", "batch = 0"), "cfg.toml:12: train.batch = 0: want 1…1048576"},
		{"negative workers", set("train", "workers = -1"), "train.workers = -1: want 0…1024"},
		{"steps = 0", strings.Replace(baseTOML, "steps = 20", "steps = 0", 1), "cfg.toml:6: task.steps = 0: want 1…1048576"},
		{"classes = 0", strings.Replace(baseTOML, "classes = 3", "classes = 0", 1), "task.classes = 0: want 2…65536"},
		{"classes = 1", strings.Replace(baseTOML, "classes = 3", "classes = 1", 1), "cfg.toml:3: task.classes = 1: want 2…65536"},
		{"units = 0", strings.Replace(baseTOML, "units = 10", "units = 0", 1), "task.units = 0: want 1…1048576"},
		{"tau_mem = 0", set("neuron", "tau_mem = 0.0"), "neuron.tau_mem = 0: want (0, 1e+06]"},
		{"theta = 1e308", set("neuron", "theta = 1e308"), "neuron.theta = 1e+308: want (0, 1e+06]"},
		{"dt = 0", set("task", "dt = 0.0"), "task.dt = 0: want (0, 1]"},
		{"split = []", set("task", "split = []"), "task.split = []: want three fractions"},
		{"split of two", set("task", "split = [0.5, 0.5]"), "want three fractions"},
		{"split fraction", set("task", "split = [0.8, -0.1, 0.1]"), "task.split[1] = -0.1: want [0, 1]"},
		{"hidden = []", strings.Replace(baseTOML, "hidden = [16]", "hidden = []", 1), "cfg.toml:9: network.hidden = []: want 1 to 64 hidden layer sizes"},
		{"hidden layer 0", strings.Replace(baseTOML, "hidden = [16]", "hidden = [16, 0]", 1), "network.hidden[1] = 0: want 1…65536"},
		{"lr = 0", set("optimizer", "lr = 0.0"), "optimizer.lr = 0: want (0, 10]"},
		{"beta1 = 0", set("optimizer", "beta1 = 0.0"), "optimizer.beta1 = 0: want (0, 1)"},
		{"step_epochs = 0", set("optimizer", "step_epochs = 0"), "optimizer.step_epochs = 0: want 1…1048576"},
		{"reset = \"\"", set("neuron", `reset = ""`), `neuron.reset = "": want one of zero, subtract`},
		{"loss kind", set("loss", `kind = ""`), `loss.kind = "": want one of max_over_time, sum_over_time`},
		{"negative seed", set("train", "seed = -1"), `cfg.toml:12: key "train.seed": -1 is negative`},
		{"nan", set("neuron", "tau_syn = nan"), `key "neuron.tau_syn": NaN is not a finite number`},
		{"key of another data set", set("task", `coding = "rate"`), `task.coding applies only to dataset = "mnist"`},
		{"escape key of another function", set("escape", "p0 = 0.5"), `escape.p0 applies only to escape.function = "exponential"`},
		{"surrogate key of another function", set("surrogate", "beta = 5.0"), `surrogate.beta applies only to surrogate.function = "superspike" or "sigmoid"`},
		{"nested headers", "[" + strings.Repeat("a.", 50000) + "b]\n", "trainer: cfg.toml:1: key nested deeper than 16 levels"},
		{"several at once", strings.Replace(strings.Replace(baseTOML, "epochs = 2", "epochs = 0", 1), "units = 10", "units = 0", 1), "task.units = 0: want 1…1048576\ntrainer: cfg.toml:12: train.epochs = 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("cfg.toml", tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}

	// Absent keys take their defaults; hidden layers are required.
	c, err := ParseConfig("cfg.toml", strings.Replace(baseTOML, "epochs = 2\n", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := c.TrainConfig()
	if err != nil || tc.Epochs != 30 || tc.Batch != 256 {
		t.Errorf("absent epochs and batch: got %+v, %v; want 30 and 256", tc, err)
	}
	c, err = ParseConfig("cfg.toml", strings.Replace(baseTOML, "hidden = [16]\n", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Spec(10, 20, 3); err == nil || !strings.Contains(err.Error(), "network.hidden is missing") {
		t.Errorf("no hidden layers: got %v, want network.hidden is missing", err)
	}
}

// TestModelSpecChecked: a model file with a valid CRC whose spec holds a
// value no config could write is corrupt.
func TestModelSpecChecked(t *testing.T) {
	m, err := NewModel(Spec{Inputs: 2, Steps: 3, Hidden: []LayerSpec{{Size: 2}}, Readout: ReadoutSpec{Size: 2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(m *Model)
		want string
	}{
		{"dt = 0", func(m *Model) { m.Spec.DT = 0 }, "dt must be positive"},
		{"tau_mem = 0", func(m *Model) { m.Spec.Hidden[0].TauMem = 0 }, "hidden layer 0: tau_mem must be positive"},
		{"theta = 1e308", func(m *Model) { m.Spec.Hidden[0].Theta = 1e308 }, "hidden layer 0: theta = 1e+308: want (0, 1e+06]"},
		{"dt = 100", func(m *Model) { m.Spec.DT = 100 }, "dt = 100: want (0, 1]"},
		{"one class", func(m *Model) {
			m.Spec.Readout.Size = 1
			ro := &m.Params[len(m.Params)-1]
			ro.Cols, ro.Data = 1, ro.Data[:ro.Rows]
		}, "readout size 1: want 2…65536"},
		{"escape beta", func(m *Model) { m.Spec.Escape.Beta = 1e9 }, "escape beta = 1e+09"},
	} {
		t.Run(c.name, func(t *testing.T) {
			mm := m.Clone()
			mm.Spec.Hidden = append([]LayerSpec(nil), m.Spec.Hidden...)
			c.edit(mm)
			b, err := encodeFile(&fileHeader{Kind: "model", Spec: mm.Spec}, mm.Params)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = UnmarshalModel(b)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrCorrupt containing %q", err, c.want)
			}
		})
	}
	// A checkpoint's run configuration is checked too.
	tr, _ := NewTrainer(m.Clone(), TrainConfig{Batch: 4})
	tr.Cfg.Opt.LR = -1
	b, _ := tr.MarshalCheckpoint(Meta{})
	if _, _, err := UnmarshalCheckpoint(b); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "optimizer lr = -1") {
		t.Errorf("checkpoint with lr -1: got %v", err)
	}
}

// TestCheckResume: a resume refuses a config whose network or run differs
// from the checkpoint's, naming the key, and allows ResumeChanges.
func TestCheckResume(t *testing.T) {
	prev, err := ParseConfig("prev.toml", baseTOML)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := prev.Spec(10, 20, 3)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := NewModel(spec)
	tc, _ := prev.TrainConfig()
	tr, err := NewTrainer(m, tc)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, text, want string
	}{
		{"same", baseTOML, ""},
		{"more epochs, workers, patience, dir", strings.Replace(baseTOML, "epochs = 2", "epochs = 9\nworkers = 3\npatience = 2", 1), ""},
		{"hidden", strings.Replace(baseTOML, "hidden = [16]", "hidden = [8]", 1), "network.hidden is [16] in the checkpoint, [8] in the config"},
		{"tau_mem", baseTOML + "[neuron]\ntau_mem = 0.03\n", "neuron.tau_mem is 0.02 in the checkpoint, 0.03 in the config"},
		{"recurrent", strings.Replace(baseTOML, "hidden = [16]", "hidden = [16]\nrecurrent = true", 1), "network.recurrent is false"},
		{"stochastic", baseTOML + "[neuron]\nstochastic = false\n", "neuron.stochastic"},
		{"lr", baseTOML + "[optimizer]\nlr = 0.001\n", "optimizer.lr is 0.01 in the checkpoint's run, 0.001 in the config; a resume may change only train.epochs"},
		{"batch", strings.Replace(baseTOML, "epochs = 2", "epochs = 2\nbatch = 8", 1), "train.batch is 256"},
		{"data seed", strings.Replace(baseTOML, "steps = 20", "steps = 20\nseed = 7", 1), "task.seed is 0 in the checkpoint's config, 7 in the config"},
		{"init", baseTOML + "[init]\nnu = 3.0\n", "init.nu is 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig("new.toml", c.text)
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.CheckResume(tr, prev)
			if c.want == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestCheckpointHistoryBounded: a checkpoint keeps the last MaxHistory
// epochs, so its size does not grow with the run.
func TestCheckpointHistoryBounded(t *testing.T) {
	m, _ := NewModel(Spec{Inputs: 2, Steps: 3, Hidden: []LayerSpec{{Size: 2}}, Readout: ReadoutSpec{Size: 2}})
	tr, _ := NewTrainer(m, TrainConfig{Batch: 4, Epochs: 40000})
	size := func(epochs int) int {
		tr.History = nil
		for e := 1; e <= epochs; e++ {
			tr.History = append(tr.History, EpochStats{Epoch: e, LR: 0.01, TrainLoss: 1.234567, TrainAcc: 0.5, Rates: []float64{12.5}})
		}
		tr.Epoch = epochs
		b, err := tr.MarshalCheckpoint(Meta{})
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := UnmarshalCheckpoint(b)
		if err != nil {
			t.Fatal(err)
		}
		if n := min(epochs, MaxHistory); len(back.History) != n || back.History[n-1].Epoch != epochs {
			t.Fatalf("%d epochs: checkpoint history holds %d, the last epoch %d; want the last %d", epochs, len(back.History), back.History[len(back.History)-1].Epoch, n)
		}
		return len(b)
	}
	if a, b := size(MaxHistory), size(34000); b > a+a/10 {
		t.Errorf("checkpoint of 34000 epochs is %d bytes, of %d epochs %d: want about the same", b, MaxHistory, a)
	}
}

// FuzzTrainConfig: no training config, however broken, panics the parser,
// the range checks or the builders of the network and the run; every error
// carries the package prefix.
func FuzzTrainConfig(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "examples", "train", "*.toml"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add(baseTOML)
	f.Add(strings.Replace(baseTOML, "epochs = 2", "epochs = 0", 1))
	f.Add("[task]\nsplit = [nan]\n[network]\nhidden = [-1]\n")
	f.Add("[" + strings.Repeat("a.", 100) + "b]\n")
	f.Add("[task]\nseed = -1\n[train]\nbatch = 9999999999\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseConfig("fuzz.toml", text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "trainer: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		if _, err := c.Spec(20, 100, 10); err != nil && !strings.HasPrefix(err.Error(), "trainer: ") {
			t.Fatalf("Spec: error without package prefix: %v", err)
		}
		if _, err := c.TrainConfig(); err != nil && !strings.HasPrefix(err.Error(), "trainer: ") {
			t.Fatalf("TrainConfig: error without package prefix: %v", err)
		}
	})
}
