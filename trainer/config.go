package trainer

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"

	"github.com/aerie-neuro/aerie/internal/fileio"
	"github.com/aerie-neuro/aerie/internal/stricttoml"
	"github.com/aerie-neuro/aerie/trainer/dataset"
)

// Config is a training configuration as written in TOML (see
// examples/train/*.toml and docs/training.md). Unknown keys are errors.
type Config struct {
	Task      TaskConfig      `toml:"task"`
	Network   NetworkConfig   `toml:"network"`
	Neuron    NeuronConfig    `toml:"neuron"`
	Escape    Escape          `toml:"escape"`
	Surrogate Surrogate       `toml:"surrogate"`
	Loss      LossConfig      `toml:"loss"`
	Init      InitConfig      `toml:"init"`
	Optimizer OptimizerConfig `toml:"optimizer"`
	Train     TrainSection    `toml:"train"`
}

// TaskConfig names the data set and how to split it.
type TaskConfig struct {
	// Dataset is "randman", "mnist" or "events" (a directory of AER
	// recordings in any format package aer reads, with a labels CSV of
	// "file,label" lines; see dataset.LoadEvents).
	Dataset string  `toml:"dataset"`
	DT      float64 `toml:"dt"`    // seconds per step, default 0.002
	Steps   int     `toml:"steps"` // time steps per sample
	Seed    uint64  `toml:"seed"`  // data seed (generation, shuffling before the split)
	// Split is the train/validation/test fractions of a generated set
	// (randman; default 0.8, 0.1, 0.1) or, for MNIST, the validation
	// fraction taken from the end of the training set (default 0.1; the
	// test set is MNIST's own).
	Split []float64 `toml:"split"`
	Limit int       `toml:"limit"` // > 0: use at most this many training samples (and as many test samples, mnist)

	// randman
	Classes         int     `toml:"classes"`
	Units           int     `toml:"units"`
	Dim             int     `toml:"dim"`
	Alpha           float64 `toml:"alpha"`
	SamplesPerClass int     `toml:"samples_per_class"`
	SpikesPerUnit   int     `toml:"spikes_per_unit"`
	StepFrac        float64 `toml:"step_frac"`
	OffsetFrac      float64 `toml:"offset_frac"`

	// mnist
	Dir       string  `toml:"dir"`
	Coding    string  `toml:"coding"`
	Tau       float64 `toml:"tau"`
	Threshold float64 `toml:"threshold"`
	MaxRate   float64 `toml:"max_rate"`

	// events (dir is shared with mnist)
	Labels     string `toml:"labels"`      // labels CSV of the training set, relative to dir unless absolute
	TestLabels string `toml:"test_labels"` // optional labels CSV of a separate test set; then split is one validation fraction
	TickUS     int64  `toml:"tick_us"`     // µs per step for files timed in µs (default 1000)
	Map        string `toml:"map"`         // address → unit: channel (default), xy, xyp
	Width      int    `toml:"width"`       // sensor width for xy and xyp
	AlignFirst bool   `toml:"align_first"` // start every recording at step 0
}

// NetworkConfig is the architecture.
type NetworkConfig struct {
	Hidden        []int   `toml:"hidden"`
	Recurrent     bool    `toml:"recurrent"`
	TauSyn2       float64 `toml:"tau_syn2"` // > 0 adds a second synapse type
	ReadoutTauMem float64 `toml:"readout_tau_mem"`
	ReadoutTauSyn float64 `toml:"readout_tau_syn"`
}

// NeuronConfig sets the hidden neurons.
type NeuronConfig struct {
	Stochastic *bool   `toml:"stochastic"` // default true
	TauMem     float64 `toml:"tau_mem"`
	TauSyn     float64 `toml:"tau_syn"`
	Theta      float64 `toml:"theta"`
	Reset      string  `toml:"reset"`
	DiffReset  bool    `toml:"diff_reset"`
	Bias       bool    `toml:"bias"`
}

// LossConfig is the loss and the activity regulariser.
type LossConfig struct {
	Kind         string   `toml:"kind"`
	RegStrength  *float64 `toml:"reg_strength"`  // default 0.1
	RegThreshold *float64 `toml:"reg_threshold"` // default 7 spikes per neuron and sample
}

// TrainSection is the run.
type TrainSection struct {
	Epochs   int    `toml:"epochs"`
	Batch    int    `toml:"batch"`
	Seed     uint64 `toml:"seed"`
	Workers  int    `toml:"workers"`
	Patience int    `toml:"patience"`
}

// ParseConfig decodes TOML text strictly (internal/stricttoml: unknown
// keys and keys in the wrong case are named with their line, syntax errors
// carry line and column, type errors line and key).
func ParseConfig(name, text string) (*Config, error) {
	var c Config
	if err := stricttoml.Decode(name, text, &c); err != nil {
		// type errors come as "name: toml: line N (last key "k"): message"
		if m := tomlTypeErr.FindStringSubmatch(err.Error()); m != nil && m[1] == name {
			return nil, fmt.Errorf("%s:%s: key %q: %s", name, m[2], m[3], m[4])
		}
		return nil, err
	}
	return &c, nil
}

var tomlTypeErr = regexp.MustCompile(`^(.*): toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// MaxConfigBytes caps the size of a training config file that is read.
const MaxConfigBytes = 16 << 20

// LoadConfig reads (at most MaxConfigBytes) and parses a TOML file.
func LoadConfig(path string) (*Config, error) {
	c, _, err := LoadConfigText(path)
	return c, err
}

// LoadConfigText is LoadConfig that also returns the file's text (which a
// model stores as its provenance), read once.
func LoadConfigText(path string) (*Config, string, error) {
	b, err := fileio.ReadFile(path, fileio.Limit{Bytes: MaxConfigBytes, What: "training configs"})
	if err != nil {
		return nil, "", err
	}
	c, err := ParseConfig(path, string(b))
	if err != nil {
		return nil, "", err
	}
	return c, string(b), nil
}

func (c *Config) stochastic() bool { return c.Neuron.Stochastic == nil || *c.Neuron.Stochastic }

// Mode is "stochastic" or "deterministic".
func (c *Config) Mode() string {
	if c.stochastic() {
		return "stochastic"
	}
	return "deterministic"
}

// Data loads the task's data set: train, validation (may be nil) and test.
// Problems (missing or truncated files, bad labels) are reported before any
// training starts.
func (c *Config) Data() (train, val, test *dataset.Set, err error) {
	t := &c.Task
	switch t.Dataset {
	case "randman":
		rc := dataset.RandmanConfig{Classes: t.Classes, Units: t.Units, Dim: t.Dim, Alpha: t.Alpha,
			SamplesPerClass: t.SamplesPerClass, SpikesPerUnit: t.SpikesPerUnit, Steps: t.Steps,
			StepFrac: t.StepFrac, OffsetFrac: t.OffsetFrac, Seed: t.Seed}
		set, err := dataset.Randman(rc)
		if err != nil {
			return nil, nil, nil, err
		}
		set.Shuffle(t.Seed)
		fr := t.Split
		if len(fr) == 0 {
			fr = []float64{0.8, 0.1, 0.1}
		}
		if len(fr) != 3 || fr[0] <= 0 || fr[1] < 0 || fr[2] <= 0 || fr[0]+fr[1]+fr[2] > 1+1e-9 {
			return nil, nil, nil, fmt.Errorf("trainer: task.split must be three fractions (train, validation, test) with positive train and test, summing to at most 1; got %v", fr)
		}
		p := set.Split(fr...)
		train, val, test = p[0], p[1], p[2]
		if len(val.Samples) == 0 {
			val = nil
		}
	case "mnist":
		mc := dataset.MNISTConfig{Dir: t.Dir, Steps: t.Steps, Coding: t.Coding, Tau: t.Tau, Threshold: t.Threshold,
			MaxRate: t.MaxRate, Seed: t.Seed}
		if t.Limit > 0 {
			mc.Limit = t.Limit
		}
		tr, te, err := dataset.MNIST(mc)
		if err != nil {
			return nil, nil, nil, err
		}
		vf := 0.1
		if len(t.Split) == 1 {
			vf = t.Split[0]
		} else if len(t.Split) > 1 {
			return nil, nil, nil, fmt.Errorf("trainer: task.split for mnist is one validation fraction, got %v", t.Split)
		}
		if !(vf >= 0 && vf < 1) {
			return nil, nil, nil, fmt.Errorf("trainer: task.split validation fraction %v outside [0, 1)", vf)
		}
		p := tr.Split(1-vf, vf)
		train, val, test = p[0], p[1], te
		if len(val.Samples) == 0 {
			val = nil
		}
	case "events":
		train, val, test, err = c.eventsData()
		if err != nil {
			return nil, nil, nil, err
		}
	case "":
		return nil, nil, nil, errors.New("trainer: task.dataset is missing (randman, mnist or events)")
	default:
		return nil, nil, nil, fmt.Errorf("trainer: unknown task.dataset %q (want randman, mnist or events)", t.Dataset)
	}
	if t.Limit > 0 && t.Dataset != "mnist" && len(train.Samples) > t.Limit {
		train = train.Subset(t.Limit)
	}
	for _, s := range []*dataset.Set{train, val, test} {
		if s == nil {
			continue
		}
		if err := s.Validate(); err != nil {
			return nil, nil, nil, err
		}
	}
	return train, val, test, nil
}

// Spec builds the network for a data set of the given shape.
func (c *Config) Spec(units, steps, classes int) (Spec, error) {
	reset, err := ParseReset(c.Neuron.Reset)
	if err != nil {
		return Spec{}, err
	}
	s := Spec{Inputs: units, Steps: steps, DT: c.Task.DT, Stochastic: c.stochastic(), Escape: c.Escape, Surrogate: c.Surrogate,
		Readout: ReadoutSpec{Size: classes, TauMem: c.Network.ReadoutTauMem, TauSyn: c.Network.ReadoutTauSyn}}
	for _, h := range c.Network.Hidden {
		s.Hidden = append(s.Hidden, LayerSpec{Size: h, TauMem: c.Neuron.TauMem, TauSyn: c.Neuron.TauSyn, TauSyn2: c.Network.TauSyn2,
			Theta: c.Neuron.Theta, Reset: reset, DiffReset: c.Neuron.DiffReset, Bias: c.Neuron.Bias, Recurrent: c.Network.Recurrent})
	}
	s.Defaults()
	return s, s.Validate()
}

// TrainConfig is the run configuration.
func (c *Config) TrainConfig() (TrainConfig, error) {
	loss, err := ParseLoss(c.Loss.Kind)
	if err != nil {
		return TrainConfig{}, err
	}
	reg := Regularizer{Strength: 0.1, Threshold: 7}
	if c.Loss.RegStrength != nil {
		reg.Strength = *c.Loss.RegStrength
	}
	if c.Loss.RegThreshold != nil {
		reg.Threshold = *c.Loss.RegThreshold
	}
	if reg.Strength < 0 || reg.Threshold < 0 {
		return TrainConfig{}, fmt.Errorf("trainer: loss.reg_strength and loss.reg_threshold must be ≥ 0")
	}
	tc := TrainConfig{Epochs: c.Train.Epochs, Batch: c.Train.Batch, Workers: c.Train.Workers, Seed: c.Train.Seed,
		Loss: loss, Reg: reg, Opt: c.Optimizer, Patience: c.Train.Patience}
	if tc.Epochs == 0 {
		tc.Epochs = 30
	}
	if tc.Batch == 0 {
		tc.Batch = 256
	}
	if tc.Epochs < 0 || tc.Batch < 0 || tc.Workers < 0 || tc.Patience < 0 {
		return TrainConfig{}, fmt.Errorf("trainer: train.epochs, batch, workers and patience must be ≥ 0")
	}
	tc.Opt.Defaults()
	return tc, tc.Opt.Validate()
}

// eventsData loads a labelled set of AER recordings (and a separate test
// set when task.test_labels is given) and splits it.
func (c *Config) eventsData() (train, val, test *dataset.Set, err error) {
	t := &c.Task
	if t.Labels == "" {
		return nil, nil, nil, errors.New("trainer: task.labels is missing (the labels CSV of the events data set)")
	}
	path := func(p string) string {
		if p == "" || filepath.IsAbs(p) || t.Dir == "" {
			return p
		}
		return filepath.Join(t.Dir, p)
	}
	ec := dataset.EventsConfig{Steps: t.Steps, TickUS: t.TickUS, Units: t.Units, Map: t.Map, Width: t.Width,
		AlignFirst: t.AlignFirst, Seed: t.Seed}
	if ec.Seed == 0 {
		ec.Seed = 1 // shuffle before splitting: labels files are often sorted by class
	}
	set, err := dataset.LoadEvents(t.Dir, path(t.Labels), ec)
	if err != nil {
		return nil, nil, nil, err
	}
	if t.TestLabels == "" {
		fr := t.Split
		if len(fr) == 0 {
			fr = []float64{0.8, 0.1, 0.1}
		}
		if len(fr) != 3 || fr[0] <= 0 || fr[1] < 0 || fr[2] <= 0 || fr[0]+fr[1]+fr[2] > 1+1e-9 {
			return nil, nil, nil, fmt.Errorf("trainer: task.split must be three fractions (train, validation, test); got %v", fr)
		}
		p := set.Split(fr...)
		train, val, test = p[0], p[1], p[2]
	} else {
		ec.Steps, ec.Units = set.Steps, set.Units
		if test, err = dataset.LoadEvents(t.Dir, path(t.TestLabels), ec); err != nil {
			return nil, nil, nil, err
		}
		cl := max(set.Classes, test.Classes)
		set.Classes, test.Classes = cl, cl
		vf := 0.1
		if len(t.Split) == 1 {
			vf = t.Split[0]
		} else if len(t.Split) > 1 {
			return nil, nil, nil, fmt.Errorf("trainer: with task.test_labels, task.split is one validation fraction, got %v", t.Split)
		}
		if !(vf >= 0 && vf < 1) {
			return nil, nil, nil, fmt.Errorf("trainer: task.split validation fraction %v outside [0, 1)", vf)
		}
		p := set.Split(1-vf, vf)
		train, val = p[0], p[1]
	}
	if len(train.Samples) == 0 || len(test.Samples) == 0 {
		return nil, nil, nil, fmt.Errorf("trainer: events data set too small to split (%d samples)", len(set.Samples))
	}
	if len(val.Samples) == 0 {
		val = nil
	}
	return train, val, test, nil
}
