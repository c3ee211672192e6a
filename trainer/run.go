package trainer

import (
	"fmt"

	"github.com/aerie-neuro/aerie/trainer/dataset"
)

// Run is a configured training run: data, model and trainer.
type Run struct {
	Config             *Config
	Train, Val, Test   *dataset.Set
	Trainer            *Trainer
	Spec               Spec
	InputRateHz        float64
	BPTTBytesPerWorker int
}

// InputRate is the mean firing rate (Hz) of a set's input units.
func InputRate(set *dataset.Set, dt float64) float64 {
	n := 0
	for _, s := range set.Samples {
		n += len(s.Events)
	}
	d := float64(len(set.Samples)) * float64(set.Units) * float64(set.Steps) * dt
	if d == 0 {
		return 0
	}
	return float64(n) / d
}

// NewRun loads the data of c and builds a fresh model and trainer. The
// model is initialised from the run seed (train.seed).
func NewRun(c *Config) (*Run, error) {
	r := &Run{Config: c}
	tc, err := c.TrainConfig()
	if err != nil {
		return nil, err
	}
	if err := r.loadData(); err != nil {
		return nil, err
	}
	m, err := NewModel(r.Spec)
	if err != nil {
		return nil, err
	}
	ic := c.Init
	if ic.NuIn == 0 {
		ic.NuIn = r.InputRateHz
	}
	m.Init(ic, tc.Seed)
	r.Trainer, err = NewTrainer(m, tc)
	if err != nil {
		return nil, err
	}
	r.BPTTBytesPerWorker = BPTTBytes(&m.Spec, r.Train.Steps)
	return r, nil
}

// ResumeRun loads the data of c and continues from a checkpoint's trainer.
// The checkpoint's network must fit the data.
func ResumeRun(c *Config, tr *Trainer) (*Run, error) {
	r := &Run{Config: c, Trainer: tr}
	if err := r.loadData(); err != nil {
		return nil, err
	}
	if err := checkSet(&tr.Model.Spec, r.Train); err != nil {
		return nil, fmt.Errorf("trainer: checkpoint does not fit the configured data: %w", err)
	}
	r.Spec = tr.Model.Spec
	r.BPTTBytesPerWorker = BPTTBytes(&tr.Model.Spec, r.Train.Steps)
	return r, nil
}

func (r *Run) loadData() error {
	var err error
	r.Train, r.Val, r.Test, err = r.Config.Data()
	if err != nil {
		return err
	}
	if r.Spec.Inputs == 0 {
		r.Spec, err = r.Config.Spec(r.Train.Units, r.Train.Steps, r.Train.Classes)
		if err != nil {
			return err
		}
	}
	r.InputRateHz = InputRate(r.Train, r.Spec.DT)
	return nil
}

// BPTTBytes is the memory one worker holds for the forward record and
// backward pass of one sample of T steps (all of it is reused from sample
// to sample: training memory is this times the worker count, plus one
// gradient buffer per shard of 8 samples, independent of T).
func BPTTBytes(s *Spec, T int) int {
	f := 0
	for _, h := range s.Hidden {
		k := h.synTypes()
		per := 2 + k // psi, gS, ga per synapse type
		if h.DiffReset {
			per++
		}
		f += T * h.Size * per
		f += T * ((h.Size + 63) / 64) * 2 // spike bitset (uint64 = 2 floats)
		f += T * h.Size / 10              // spike index lists at a typical ≤ 10 % activity
	}
	f += 3 * T * s.Readout.Size
	return 4 * f
}
