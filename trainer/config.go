package trainer

import (
	"errors"
	"fmt"
	"github.com/aerie-neuro/aerie/chip"
	"math"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

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
	// Chip, when it names a chip, trains for it: the time constants are
	// moved onto its decay grid before the first epoch and what it cannot
	// run is refused (SnapToChip).
	Chip ChipSection `toml:"chip"`
}

// ChipSection names the chip a network is trained for.
type ChipSection struct {
	// Name is a preset name or a chip description file (relative paths are
	// relative to the current directory).
	Name string `toml:"name"`
}

// ChipConfig loads the chip the config names (nil when it names none).
func (c *Config) ChipConfig() (*chip.Config, error) {
	if c.Chip.Name == "" {
		return nil, nil
	}
	cfg, err := chip.LoadConfig(c.Chip.Name)
	if err != nil {
		return nil, fmt.Errorf("trainer: chip.name = %q: %w", c.Chip.Name, err)
	}
	return cfg, nil
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
// carry line and column, type errors line and key; oversized or deeply
// nested documents, nan, infinities and negative seeds are refused) and
// checks every key the text writes against its range (see checkWritten):
// a written value is used or refused, only an absent key takes its
// default.
func ParseConfig(name, text string) (*Config, error) {
	var c Config
	keys, err := stricttoml.DecodeKeys(name, text, &c)
	if err != nil {
		// type errors come as "name: toml: line N (last key "k"): message"
		if m := tomlTypeErr.FindStringSubmatch(err.Error()); m != nil && m[1] == name {
			return nil, fmt.Errorf("trainer: %s:%s: key %q: %s", name, m[2], m[3], m[4])
		}
		return nil, fmt.Errorf("trainer: %w", err)
	}
	if err := c.checkWritten(name, keys); err != nil {
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
	if len(c.Network.Hidden) == 0 {
		return Spec{}, errors.New("trainer: network.hidden is missing: want 1 to 64 hidden layer sizes, e.g. hidden = [128]")
	}
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
	if err := checkSpec(&s); err != nil {
		return s, err
	}
	cfg, err := c.ChipConfig()
	if err != nil || cfg == nil {
		return s, err
	}
	if _, err := SnapToChip(&s, cfg); err != nil {
		return s, err
	}
	return s, checkSpec(&s)
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

// Ranges of the numbers of a training config and of a model's Spec. A
// config key is checked against its range when the config writes it; a
// decoded model's Spec is checked against the same ranges (checkSpec), so
// that a model file with a valid CRC but dt = 0 or θ = 1e308 is refused
// like a config that writes them.
const (
	MaxHidden     = 64      // hidden layers
	MaxLayerSize  = 1 << 16 // neurons of a hidden layer, readout classes
	MaxInputs     = 1 << 20 // input units
	MaxSteps      = 1 << 20 // time steps per sample
	MaxEpochs     = 1 << 20
	MaxWorkers    = 1024
	maxTau        = 1e6 // seconds: any time constant
	maxShape      = 1e6 // θ, escape and surrogate shape parameters
	maxRegularize = 1e6 // loss.reg_strength, loss.reg_threshold
)

// span is a range of floats: lo < x (or lo ≤ x) and x ≤ hi (or x < hi).
type span struct {
	lo, hi         float64
	openLo, openHi bool
}

var (
	spanDT       = span{lo: 0, hi: 1, openLo: true}        // seconds per step
	spanTau      = span{lo: 0, hi: maxTau, openLo: true}   // time constants
	spanTau0     = span{lo: 0, hi: maxTau}                 // network.tau_syn2: 0 is "no second synapse type"
	spanShape    = span{lo: 0, hi: maxShape, openLo: true} // θ, β, Δu, α, γ, width
	spanProb     = span{lo: 0, hi: 1, openLo: true}        // p0, threshold, max_rate, step_frac
	spanFrac     = span{lo: 0, hi: 1}                      // split fractions, min_factor
	spanFracOpen = span{lo: 0, hi: 1, openHi: true}        // offset_frac
	spanBeta     = span{lo: 0, hi: 1, openLo: true, openHi: true}
	spanLR       = span{lo: 0, hi: 10, openLo: true}
	spanReg      = span{lo: 0, hi: maxRegularize}
	spanRate     = span{lo: 0, hi: 1e4, openLo: true} // Hz
	spanSigma    = span{lo: 0, hi: 100, openLo: true}
	spanAlpha    = span{lo: 0, hi: 1e3, openLo: true}
)

func (r span) ok(v float64) bool {
	if math.IsNaN(v) || v < r.lo || v > r.hi || r.openLo && v == r.lo || r.openHi && v == r.hi {
		return false
	}
	return true
}

func (r span) String() string {
	lb, rb := "[", "]"
	if r.openLo {
		lb = "("
	}
	if r.openHi {
		rb = ")"
	}
	return fmt.Sprintf("%s%v, %v%s", lb, r.lo, r.hi, rb)
}

// checkSpec is Spec.Validate with the ranges above: what a config may
// write, a model file may hold.
func checkSpec(s *Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	var errs []error
	in := func(name string, v float64, r span) {
		if !r.ok(v) {
			errs = append(errs, fmt.Errorf("trainer: %s = %v: want %v", name, v, r))
		}
	}
	if len(s.Hidden) == 0 {
		errs = append(errs, errors.New("trainer: no hidden layer: want 1 to 64"))
	}
	if s.Readout.Size < 2 {
		errs = append(errs, fmt.Errorf("trainer: readout size %d: want 2…%d classes", s.Readout.Size, MaxLayerSize))
	}
	in("dt", s.DT, spanDT)
	for i, h := range s.Hidden {
		l := fmt.Sprintf("hidden layer %d: ", i)
		in(l+"tau_mem", h.TauMem, spanTau)
		in(l+"tau_syn", h.TauSyn, spanTau)
		in(l+"tau_syn2", h.TauSyn2, spanTau0)
		in(l+"theta", h.Theta, spanShape)
	}
	in("readout tau_mem", s.Readout.TauMem, spanTau)
	in("readout tau_syn", s.Readout.TauSyn, spanTau)
	switch s.Escape.Function {
	case "sigmoid":
		in("escape beta", s.Escape.Beta, spanShape)
	case "exponential":
		in("escape p0", s.Escape.P0, spanProb)
		in("escape delta_u", s.Escape.DeltaU, spanShape)
	}
	switch s.Surrogate.Function {
	case "superspike", "sigmoid":
		in("surrogate beta", s.Surrogate.Beta, spanShape)
	case "arctan":
		in("surrogate alpha", s.Surrogate.Alpha, spanShape)
	case "triangle":
		in("surrogate gamma", s.Surrogate.Gamma, spanShape)
		in("surrogate width", s.Surrogate.Width, spanShape)
	}
	return errors.Join(errs...)
}

// checkTrainConfig checks a run configuration read from a checkpoint with
// the ranges of the config keys it comes from.
func checkTrainConfig(tc *TrainConfig) error {
	o := tc.Opt
	var errs []error
	in := func(name string, v float64, r span) {
		if !r.ok(v) {
			errs = append(errs, fmt.Errorf("trainer: %s = %v: want %v", name, v, r))
		}
	}
	if tc.Epochs < 0 || tc.Epochs > MaxEpochs {
		errs = append(errs, fmt.Errorf("trainer: epochs = %d: want 0…%d", tc.Epochs, MaxEpochs))
	}
	if tc.Batch < 1 || tc.Batch > maxBatch {
		errs = append(errs, fmt.Errorf("trainer: batch = %d: want 1…%d", tc.Batch, maxBatch))
	}
	if tc.Patience < 0 || tc.Patience > MaxEpochs {
		errs = append(errs, fmt.Errorf("trainer: patience = %d: want 0…%d", tc.Patience, MaxEpochs))
	}
	if tc.Loss != LossMaxOverTime && tc.Loss != LossSumOverTime {
		errs = append(errs, fmt.Errorf("trainer: unknown loss %d", int(tc.Loss)))
	}
	in("regularizer strength", tc.Reg.Strength, spanReg)
	in("regularizer threshold", tc.Reg.Threshold, spanReg)
	if o.Kind != "smorms3" && o.Kind != "adam" {
		errs = append(errs, fmt.Errorf("trainer: unknown optimizer %q", o.Kind))
	}
	if o.Schedule != "constant" && o.Schedule != "cosine" && o.Schedule != "step" {
		errs = append(errs, fmt.Errorf("trainer: unknown schedule %q", o.Schedule))
	}
	in("optimizer lr", o.LR, spanLR)
	in("optimizer beta1", o.Beta1, spanBeta)
	in("optimizer beta2", o.Beta2, spanBeta)
	in("optimizer eps", o.Eps, spanProb)
	in("optimizer min_factor", o.MinFactor, spanFrac)
	in("optimizer gamma", o.Gamma, spanProb)
	if o.StepEpochs < 1 || o.StepEpochs > MaxEpochs {
		errs = append(errs, fmt.Errorf("trainer: optimizer step_epochs = %d: want 1…%d", o.StepEpochs, MaxEpochs))
	}
	return errors.Join(errs...)
}

// checker collects the problems of the keys a config writes.
type checker struct {
	name string
	keys *stricttoml.Keys
	errs []error
}

func splitKey(key string) []string { return strings.Split(key, ".") }

func (ck *checker) has(key string) bool { return ck.keys.Has(splitKey(key)...) }

func (ck *checker) fail(key string, format string, args ...any) {
	line := ck.keys.Line(splitKey(key)...)
	where := ck.name
	if line > 0 {
		where = fmt.Sprintf("%s:%d", ck.name, line)
	}
	ck.errs = append(ck.errs, fmt.Errorf("trainer: %s: %s", where, fmt.Sprintf(format, args...)))
}

func (ck *checker) intIn(key string, v, lo, hi int) {
	if ck.has(key) && (v < lo || v > hi) {
		ck.fail(key, "%s = %d: want %d…%d", key, v, lo, hi)
	}
}

func (ck *checker) floatIn(key string, v float64, r span) {
	if ck.has(key) && !r.ok(v) {
		ck.fail(key, "%s = %v: want %v", key, v, r)
	}
}

func (ck *checker) oneOf(key, v string, allowed ...string) {
	if !ck.has(key) || slices.Contains(allowed, v) {
		return
	}
	ck.fail(key, "%s = %q: want one of %s", key, v, strings.Join(allowed, ", "))
}

// only refuses the keys of table that the config writes but that apply
// only when cond does not hold (why names the condition).
func (ck *checker) only(cond bool, why string, keys ...string) {
	if cond {
		return
	}
	for _, k := range keys {
		if ck.has(k) {
			ck.fail(k, "%s applies only %s", k, why)
		}
	}
}

// checkWritten checks every key the config writes against its range
// (docs/limits.md lists them). A written value is either used as written
// or refused here: the zero values that the code below takes as "absent,
// use the default" (epochs = 0 → 30, batch = 0 → 256, ...) never come from
// the file. Keys that the chosen data set, escape function or surrogate
// do not use are refused too, instead of being ignored.
func (c *Config) checkWritten(name string, keys *stricttoml.Keys) error {
	ck := &checker{name: name, keys: keys}
	t := &c.Task
	ck.oneOf("task.dataset", t.Dataset, "randman", "mnist", "events")
	ck.floatIn("task.dt", t.DT, spanDT)
	ck.intIn("task.steps", t.Steps, 1, MaxSteps)
	ck.intIn("task.limit", t.Limit, 0, 1<<30)
	if ck.has("task.split") {
		want := 3
		if t.Dataset == "mnist" || t.Dataset == "events" && t.TestLabels != "" {
			want = 1
		}
		switch {
		case len(t.Split) != want && want == 3:
			ck.fail("task.split", "task.split = %v: want three fractions [train, validation, test]", t.Split)
		case len(t.Split) != want:
			ck.fail("task.split", "task.split = %v: want one validation fraction, e.g. [0.1]", t.Split)
		default:
			for i, f := range t.Split {
				if !spanFrac.ok(f) {
					ck.fail("task.split", "task.split[%d] = %v: want %v", i, f, spanFrac)
				}
			}
		}
	}
	randman, mnist, events := t.Dataset == "randman", t.Dataset == "mnist", t.Dataset == "events"
	ck.only(randman, "to dataset = \"randman\"", "task.classes", "task.dim", "task.alpha", "task.samples_per_class",
		"task.spikes_per_unit", "task.step_frac", "task.offset_frac")
	ck.only(randman || events, "to dataset = \"randman\" or \"events\"", "task.units")
	ck.only(mnist || events, "to dataset = \"mnist\" or \"events\"", "task.dir")
	ck.only(mnist, "to dataset = \"mnist\"", "task.coding", "task.tau", "task.threshold", "task.max_rate")
	ck.only(events, "to dataset = \"events\"", "task.labels", "task.test_labels", "task.tick_us", "task.map",
		"task.width", "task.align_first")
	ck.intIn("task.classes", t.Classes, 2, MaxLayerSize)
	ck.intIn("task.units", t.Units, 1, MaxInputs)
	ck.intIn("task.dim", t.Dim, 1, 64)
	ck.floatIn("task.alpha", t.Alpha, spanAlpha)
	ck.intIn("task.samples_per_class", t.SamplesPerClass, 1, 1<<24)
	ck.intIn("task.spikes_per_unit", t.SpikesPerUnit, 1, 1<<16)
	ck.floatIn("task.step_frac", t.StepFrac, spanProb)
	ck.floatIn("task.offset_frac", t.OffsetFrac, spanFracOpen)
	ck.oneOf("task.coding", t.Coding, "latency", "rate")
	ck.floatIn("task.tau", t.Tau, span{lo: 0, hi: MaxSteps, openLo: true})
	ck.floatIn("task.threshold", t.Threshold, spanProb)
	ck.floatIn("task.max_rate", t.MaxRate, spanProb)
	for _, k := range []string{"task.dir", "task.labels", "task.test_labels"} {
		if v := reflect.ValueOf(t).Elem().FieldByIndex(taskField(k)).String(); ck.has(k) && v == "" {
			ck.fail(k, "%s = \"\": want a path", k)
		}
	}
	if ck.has("task.tick_us") && (t.TickUS < 1 || t.TickUS > 1<<32) {
		ck.fail("task.tick_us", "task.tick_us = %d: want 1…%d", t.TickUS, int64(1)<<32)
	}
	ck.oneOf("task.map", t.Map, "channel", "xy", "xyp")
	ck.intIn("task.width", t.Width, 1, 1<<16)

	n := &c.Network
	if ck.has("network.hidden") {
		if len(n.Hidden) == 0 || len(n.Hidden) > MaxHidden {
			ck.fail("network.hidden", "network.hidden = %v: want 1 to %d hidden layer sizes, e.g. [128]", n.Hidden, MaxHidden)
		}
		for i, h := range n.Hidden {
			if h < 1 || h > MaxLayerSize {
				ck.fail("network.hidden", "network.hidden[%d] = %d: want 1…%d", i, h, MaxLayerSize)
			}
		}
	}
	ck.floatIn("network.tau_syn2", n.TauSyn2, spanTau0)
	ck.floatIn("network.readout_tau_mem", n.ReadoutTauMem, spanTau)
	ck.floatIn("network.readout_tau_syn", n.ReadoutTauSyn, spanTau)

	if ck.has("chip.name") && c.Chip.Name == "" {
		ck.fail("chip.name", "chip.name = \"\": want a preset name or a chip description file")
	}

	ne := &c.Neuron
	ck.floatIn("neuron.tau_mem", ne.TauMem, spanTau)
	ck.floatIn("neuron.tau_syn", ne.TauSyn, spanTau)
	ck.floatIn("neuron.theta", ne.Theta, spanShape)
	ck.oneOf("neuron.reset", ne.Reset, "zero", "subtract")

	e := &c.Escape
	ck.oneOf("escape.function", e.Function, "sigmoid", "exponential")
	escape := e.Function
	if escape == "" {
		escape = "sigmoid"
	}
	ck.only(escape == "sigmoid", "to escape.function = \"sigmoid\"", "escape.beta")
	ck.only(escape == "exponential", "to escape.function = \"exponential\"", "escape.p0", "escape.delta_u")
	ck.floatIn("escape.beta", e.Beta, spanShape)
	ck.floatIn("escape.p0", e.P0, spanProb)
	ck.floatIn("escape.delta_u", e.DeltaU, spanShape)

	sg := &c.Surrogate
	ck.oneOf("surrogate.function", sg.Function, "escape", "superspike", "sigmoid", "arctan", "triangle")
	sur := sg.Function
	if sur == "" {
		sur = "superspike"
		if c.stochastic() {
			sur = "escape"
		}
	}
	ck.only(sur == "superspike" || sur == "sigmoid", "to surrogate.function = \"superspike\" or \"sigmoid\"", "surrogate.beta")
	ck.only(sur == "arctan", "to surrogate.function = \"arctan\"", "surrogate.alpha")
	ck.only(sur == "triangle", "to surrogate.function = \"triangle\"", "surrogate.gamma", "surrogate.width")
	ck.floatIn("surrogate.beta", sg.Beta, spanShape)
	ck.floatIn("surrogate.alpha", sg.Alpha, spanShape)
	ck.floatIn("surrogate.gamma", sg.Gamma, spanShape)
	ck.floatIn("surrogate.width", sg.Width, spanShape)

	ck.oneOf("loss.kind", c.Loss.Kind, "max_over_time", "sum_over_time")
	if c.Loss.RegStrength != nil {
		ck.floatIn("loss.reg_strength", *c.Loss.RegStrength, spanReg)
	}
	if c.Loss.RegThreshold != nil {
		ck.floatIn("loss.reg_threshold", *c.Loss.RegThreshold, spanReg)
	}

	ck.floatIn("init.sigma_u", c.Init.SigmaU, spanSigma)
	ck.floatIn("init.nu_in", c.Init.NuIn, spanRate)
	ck.floatIn("init.nu", c.Init.Nu, spanRate)

	o := &c.Optimizer
	ck.oneOf("optimizer.kind", o.Kind, "smorms3", "adam")
	ck.floatIn("optimizer.lr", o.LR, spanLR)
	ck.floatIn("optimizer.beta1", o.Beta1, spanBeta)
	ck.floatIn("optimizer.beta2", o.Beta2, spanBeta)
	ck.floatIn("optimizer.eps", o.Eps, spanProb)
	ck.oneOf("optimizer.schedule", o.Schedule, "constant", "cosine", "step")
	ck.floatIn("optimizer.min_factor", o.MinFactor, spanFrac)
	ck.floatIn("optimizer.gamma", o.Gamma, spanProb)
	ck.intIn("optimizer.step_epochs", o.StepEpochs, 1, MaxEpochs)

	tr := &c.Train
	ck.intIn("train.epochs", tr.Epochs, 1, MaxEpochs)
	ck.intIn("train.batch", tr.Batch, 1, maxBatch)
	ck.intIn("train.workers", tr.Workers, 0, MaxWorkers)
	ck.intIn("train.patience", tr.Patience, 0, MaxEpochs)
	return errors.Join(ck.errs...)
}

// taskField is the index of the TaskConfig field of a "task.x" key.
func taskField(key string) []int {
	t := reflect.TypeFor[TaskConfig]()
	name := strings.TrimPrefix(key, "task.")
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("toml") == name {
			return []int{i}
		}
	}
	panic("trainer: no task field " + key)
}

// ResumeChanges lists what a resumed run may change: the keys of the run
// that do not alter what the checkpoint's run computes (epochs and
// patience set where it stops, workers never change a result, task.dir is
// where the same data lives).
var ResumeChanges = []string{"train.epochs", "train.patience", "train.workers", "task.dir"}

// CheckResume reports whether the run that c configures may continue from
// the checkpoint's trainer tr, whose own config prev (nil if the
// checkpoint stored none) it was started from. The network must be the
// same (every Spec field, named by its config key), and so must every
// setting of the run except ResumeChanges; the first difference is the
// error. CheckResumeData checks the data's shape once it is loaded.
func (c *Config) CheckResume(tr *Trainer, prev *Config) error {
	got := tr.Model.Spec
	want, err := c.Spec(got.Inputs, got.Steps, got.Readout.Size)
	if err != nil {
		return err
	}
	if key, a, b := specDiff(&got, &want); key != "" {
		return fmt.Errorf("trainer: the checkpoint's network differs from the config: %s is %s in the checkpoint, %s in the config; a resume cannot change the network (start a new run without --resume)", key, a, b)
	}
	tc, err := c.TrainConfig()
	if err != nil {
		return err
	}
	changes := "; a resume may change only " + strings.Join(ResumeChanges, ", ")
	if key, a, b := trainDiff(&tr.Cfg, &tc); key != "" {
		return fmt.Errorf("trainer: %s is %s in the checkpoint's run, %s in the config%s", key, a, b, changes)
	}
	if prev == nil {
		return nil
	}
	for _, table := range []struct {
		name      string
		old, new_ any
	}{{"task", &prev.Task, &c.Task}, {"init", &prev.Init, &c.Init}} {
		if key, a, b := fieldDiff(table.name, table.old, table.new_, ResumeChanges); key != "" {
			return fmt.Errorf("trainer: %s is %s in the checkpoint's config, %s in the config%s", key, a, b, changes)
		}
	}
	return nil
}

// CheckResumeData checks that the loaded training set has the shape of
// the checkpoint's network.
func CheckResumeData(tr *Trainer, train *dataset.Set) error {
	s := &tr.Model.Spec
	switch {
	case train.Units != s.Inputs:
		return fmt.Errorf("trainer: the data set has %d input units, the checkpoint's network %d (task.units or the data changed)", train.Units, s.Inputs)
	case train.Steps != s.Steps:
		return fmt.Errorf("trainer: the data set has %d steps per sample, the checkpoint's network was trained on %d (task.steps changed)", train.Steps, s.Steps)
	case train.Classes > s.Readout.Size:
		return fmt.Errorf("trainer: the data set has %d classes, the checkpoint's readout %d (task.classes or the labels changed)", train.Classes, s.Readout.Size)
	}
	return nil
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// specDiff names the first field in which two specs differ, by the config
// key it comes from.
func specDiff(a, b *Spec) (key, va, vb string) {
	hidden := func(s *Spec) []int {
		var out []int
		for _, h := range s.Hidden {
			out = append(out, h.Size)
		}
		return out
	}
	if ha, hb := hidden(a), hidden(b); !slices.Equal(ha, hb) {
		return "network.hidden", show(ha), show(hb)
	}
	type field struct {
		key  string
		a, b any
	}
	fields := []field{{"task.dt", a.DT, b.DT}, {"neuron.stochastic", a.Stochastic, b.Stochastic}}
	for i := range a.Hidden {
		x, y := a.Hidden[i], b.Hidden[i]
		fields = append(fields, field{"neuron.tau_mem", x.TauMem, y.TauMem}, field{"neuron.tau_syn", x.TauSyn, y.TauSyn},
			field{"network.tau_syn2", x.TauSyn2, y.TauSyn2}, field{"neuron.theta", x.Theta, y.Theta},
			field{"neuron.reset", x.Reset.String(), y.Reset.String()}, field{"neuron.diff_reset", x.DiffReset, y.DiffReset},
			field{"neuron.bias", x.Bias, y.Bias}, field{"network.recurrent", x.Recurrent, y.Recurrent})
	}
	fields = append(fields, field{"network.readout_tau_mem", a.Readout.TauMem, b.Readout.TauMem},
		field{"network.readout_tau_syn", a.Readout.TauSyn, b.Readout.TauSyn})
	for _, f := range fields {
		if f.a != f.b {
			return f.key, show(f.a), show(f.b)
		}
	}
	if k, x, y := fieldDiff("escape", &a.Escape, &b.Escape, nil); k != "" {
		return k, x, y
	}
	return fieldDiff("surrogate", &a.Surrogate, &b.Surrogate, nil)
}

// trainDiff names the first setting in which two run configurations
// differ, apart from those a resume may change.
func trainDiff(a, b *TrainConfig) (key, va, vb string) {
	for _, f := range []struct {
		key  string
		a, b any
	}{{"train.batch", a.Batch, b.Batch}, {"train.seed", a.Seed, b.Seed}, {"loss.kind", a.Loss.String(), b.Loss.String()},
		{"loss.reg_strength", a.Reg.Strength, b.Reg.Strength}, {"loss.reg_threshold", a.Reg.Threshold, b.Reg.Threshold}} {
		if f.a != f.b {
			return f.key, show(f.a), show(f.b)
		}
	}
	oa, ob := a.Opt, b.Opt
	oa.Defaults()
	ob.Defaults()
	return fieldDiff("optimizer", &oa, &ob, nil)
}

// fieldDiff compares two structs of the same type field by field and names
// the first difference by table and TOML tag, skipping the keys in skip.
func fieldDiff(table string, a, b any, skip []string) (key, va, vb string) {
	x, y := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := 0; i < x.NumField(); i++ {
		tag, _, _ := strings.Cut(x.Type().Field(i).Tag.Get("toml"), ",")
		if tag == "" || tag == "-" {
			tag = x.Type().Field(i).Name
		}
		k := table + "." + tag
		if slices.Contains(skip, k) {
			continue
		}
		if fa, fb := x.Field(i).Interface(), y.Field(i).Interface(); !reflect.DeepEqual(fa, fb) {
			return k, show(deref(fa)), show(deref(fb))
		}
	}
	return "", "", ""
}

func deref(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "(absent)"
		}
		return rv.Elem().Interface()
	}
	return v
}
