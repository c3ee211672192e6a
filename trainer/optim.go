package trainer

import (
	"fmt"
	"math"
)

// OptimizerConfig selects the optimizer and its learning-rate schedule.
type OptimizerConfig struct {
	// Kind is "smorms3" (the reference's optimizer, the default) or "adam".
	Kind string  `toml:"kind" json:"kind"`
	LR   float64 `toml:"lr" json:"lr"` // default 0.01 (smorms3) or 0.001 (adam)
	// Beta1, Beta2 and Eps are Adam's (defaults 0.9, 0.999, 1e−8); Eps is
	// also SMORMS3's ε (default 1e−16).
	Beta1 float64 `toml:"beta1" json:"beta1,omitempty"`
	Beta2 float64 `toml:"beta2" json:"beta2,omitempty"`
	Eps   float64 `toml:"eps" json:"eps,omitempty"`
	// Schedule is "constant" (default), "cosine" (from LR down to
	// LR·MinFactor over the run) or "step" (×Gamma every StepEpochs).
	Schedule   string  `toml:"schedule" json:"schedule"`
	MinFactor  float64 `toml:"min_factor" json:"min_factor,omitempty"`
	Gamma      float64 `toml:"gamma" json:"gamma,omitempty"`
	StepEpochs int     `toml:"step_epochs" json:"step_epochs,omitempty"`
}

// Defaults fills zero fields.
func (c *OptimizerConfig) Defaults() {
	if c.Kind == "" {
		c.Kind = "smorms3"
	}
	if c.LR == 0 {
		c.LR = 0.01
		if c.Kind == "adam" {
			c.LR = 0.001
		}
	}
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
		if c.Kind == "smorms3" {
			c.Eps = 1e-16
		}
	}
	if c.Schedule == "" {
		c.Schedule = "constant"
	}
	if c.Gamma == 0 {
		c.Gamma = 0.5
	}
	if c.StepEpochs == 0 {
		c.StepEpochs = 10
	}
}

// Validate reports the first problem of a defaulted config.
func (c *OptimizerConfig) Validate() error {
	switch c.Kind {
	case "smorms3", "adam":
	default:
		return fmt.Errorf("trainer: unknown optimizer %q (want smorms3 or adam)", c.Kind)
	}
	switch c.Schedule {
	case "constant", "cosine", "step":
	default:
		return fmt.Errorf("trainer: unknown schedule %q (want constant, cosine or step)", c.Schedule)
	}
	if !(c.LR > 0) || math.IsInf(c.LR, 0) {
		return fmt.Errorf("trainer: optimizer lr must be positive, got %v", c.LR)
	}
	if !(c.Beta1 >= 0 && c.Beta1 < 1 && c.Beta2 >= 0 && c.Beta2 < 1) {
		return fmt.Errorf("trainer: optimizer beta1 and beta2 must be in [0, 1), got %v, %v", c.Beta1, c.Beta2)
	}
	if !(c.MinFactor >= 0 && c.MinFactor <= 1) || !(c.Gamma > 0) || c.StepEpochs < 0 || !(c.Eps > 0) {
		return fmt.Errorf("trainer: optimizer min_factor must be in [0, 1], gamma and eps positive")
	}
	return nil
}

// lrAt is the learning rate of epoch e (0-based) of a run of n epochs.
func (c *OptimizerConfig) lrAt(e, n int) float64 {
	switch c.Schedule {
	case "cosine":
		if n <= 1 {
			return c.LR
		}
		f := c.MinFactor + (1-c.MinFactor)*0.5*(1+math.Cos(math.Pi*float64(e)/float64(n-1)))
		return c.LR * f
	case "step":
		return c.LR * math.Pow(c.Gamma, float64(e/c.StepEpochs))
	}
	return c.LR
}

// optimizer holds the per-parameter state: SMORMS3's (mem, g, g2) or Adam's
// (m, v) plus the step count. State is float32 like the parameters.
type optimizer struct {
	cfg   OptimizerConfig
	steps int64
	s     [3][]float32 // smorms3: mem, g, g2; adam: m, v
}

func newOptimizer(cfg OptimizerConfig, n int) *optimizer {
	o := &optimizer{cfg: cfg}
	k := 2
	if cfg.Kind == "smorms3" {
		k = 3
	}
	for i := 0; i < k; i++ {
		o.s[i] = make([]float32, n)
	}
	if cfg.Kind == "smorms3" {
		for i := range o.s[0] {
			o.s[0][i] = 1
		}
	}
	return o
}

// step updates params (flat) with the mean gradient grad. scale[i] is the
// step factor of parameter i: 1 − λ_mem of the layer it feeds, so that the
// learning rates of the reference, whose weights are (1 − λ_mem) times larger
// than this datapath's, carry over unchanged (see the package doc).
func (o *optimizer) step(params, grad, scale []float32, lr float64) {
	o.steps++
	eps := o.cfg.Eps
	switch o.cfg.Kind {
	case "adam":
		b1, b2 := o.cfg.Beta1, o.cfg.Beta2
		c1 := 1 - math.Pow(b1, float64(o.steps))
		c2 := 1 - math.Pow(b2, float64(o.steps))
		m, v := o.s[0], o.s[1]
		for i, g := range grad {
			gg := float64(g)
			mi := b1*float64(m[i]) + (1-b1)*gg
			vi := b2*float64(v[i]) + (1-b2)*gg*gg
			m[i], v[i] = float32(mi), float32(vi)
			params[i] -= float32(lr * float64(scale[i]) * (mi / c1) / (math.Sqrt(vi/c2) + eps))
		}
	default: // smorms3 (Funk 2015), as in stork
		mem, g1, g2 := o.s[0], o.s[1], o.s[2]
		for i, g := range grad {
			gg := float64(g)
			r := 1 / (float64(mem[i]) + 1)
			a := (1-r)*float64(g1[i]) + r*gg
			b := (1-r)*float64(g2[i]) + r*gg*gg
			x := a * a / (b + eps)
			params[i] -= float32(float64(scale[i]) * math.Min(lr, x) * gg / (math.Sqrt(b) + eps))
			mem[i] = float32(float64(mem[i])*(1-x) + 1)
			g1[i], g2[i] = float32(a), float32(b)
		}
	}
}
