package trainer

import (
	"fmt"
	"math"
)

// Reset is what a neuron's membrane does after a spike.
type Reset int

const (
	// ResetZero sets v to 0 after a spike (the default).
	ResetZero Reset = iota
	// ResetSubtract subtracts θ from v after a spike.
	ResetSubtract
	// resetNone keeps v: only the graded test network uses it (see
	// gradient_test.go), where spikes are real-valued probabilities.
	resetNone
)

func (r Reset) String() string {
	switch r {
	case ResetZero:
		return "zero"
	case ResetSubtract:
		return "subtract"
	case resetNone:
		return "none"
	}
	return fmt.Sprintf("Reset(%d)", int(r))
}

// ParseReset maps "zero" and "subtract" (and "" for the default) to a Reset.
func ParseReset(s string) (Reset, error) {
	switch s {
	case "", "zero":
		return ResetZero, nil
	case "subtract":
		return ResetSubtract, nil
	}
	return 0, fmt.Errorf("trainer: unknown reset %q (want zero or subtract)", s)
}

// MarshalText and UnmarshalText let a Reset appear as text in JSON and TOML.
func (r Reset) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses the names accepted by ParseReset.
func (r *Reset) UnmarshalText(b []byte) error {
	v, err := ParseReset(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// LayerSpec describes one hidden layer of current-based LIF neurons.
type LayerSpec struct {
	Size      int     `json:"size"`
	TauMem    float64 `json:"tau_mem"`            // membrane time constant, seconds
	TauSyn    float64 `json:"tau_syn"`            // synaptic time constant of type 1, seconds
	TauSyn2   float64 `json:"tau_syn2,omitempty"` // > 0 adds a second synapse type with this time constant
	Theta     float64 `json:"theta"`              // firing threshold
	Reset     Reset   `json:"reset"`
	DiffReset bool    `json:"diff_reset,omitempty"` // let the gradient flow through the reset (off by default)
	Bias      bool    `json:"bias,omitempty"`
	Recurrent bool    `json:"recurrent,omitempty"`
}

// ReadoutSpec describes the non-spiking leaky readout: the same u/v update
// as a hidden layer, without threshold and reset, and without bias.
type ReadoutSpec struct {
	Size   int     `json:"size"`
	TauMem float64 `json:"tau_mem"`
	TauSyn float64 `json:"tau_syn"`
}

// Escape names the escape-noise function f of stochastic neurons: a neuron
// whose membrane exceeds threshold by x spikes with probability f(x).
type Escape struct {
	// Function is "sigmoid" (f = σ(βx), the default) or "exponential"
	// (f = min(1, p0·exp(x/Δu))).
	Function string  `json:"function" toml:"function"`
	Beta     float64 `json:"beta,omitempty" toml:"beta"`
	P0       float64 `json:"p0,omitempty" toml:"p0"`
	DeltaU   float64 `json:"delta_u,omitempty" toml:"delta_u"`
}

// Surrogate names the surrogate derivative ψ used in place of dS/dv.
type Surrogate struct {
	// Function is "escape" (f′ of the escape function: the default for
	// stochastic networks), "superspike" (1/(β|x|+1)², β = 10: the default
	// for deterministic networks), "sigmoid" (β σ(βx)(1 − σ(βx))),
	// "arctan" ((α/2)/(1 + (παx/2)²), α = 2) or "triangle"
	// (γ·max(0, 1 − |x|/w), γ = 0.3, w = 1).
	Function string  `json:"function" toml:"function"`
	Beta     float64 `json:"beta,omitempty" toml:"beta"`
	Alpha    float64 `json:"alpha,omitempty" toml:"alpha"`
	Gamma    float64 `json:"gamma,omitempty" toml:"gamma"`
	Width    float64 `json:"width,omitempty" toml:"width"`
}

// Spec is the architecture of a network: what the model file stores besides
// the parameters, and all the trainer needs to run it.
type Spec struct {
	Inputs     int         `json:"inputs"`
	Steps      int         `json:"steps"` // trial length the network was trained on
	DT         float64     `json:"dt"`    // seconds per step
	Hidden     []LayerSpec `json:"hidden"`
	Readout    ReadoutSpec `json:"readout"`
	Stochastic bool        `json:"stochastic"`
	Escape     Escape      `json:"escape"`
	Surrogate  Surrogate   `json:"surrogate"`
}

// Defaults fills zero fields with the project's defaults (20 ms membrane,
// 10 ms synapse, θ = 1, 2 ms steps, sigmoid escape noise with β = 10,
// escape-matched surrogate for stochastic networks and SuperSpike β = 10 for
// deterministic ones, readout τ_mem = trial length).
func (s *Spec) Defaults() {
	if s.DT == 0 {
		s.DT = 0.002
	}
	for i := range s.Hidden {
		h := &s.Hidden[i]
		if h.TauMem == 0 {
			h.TauMem = 0.02
		}
		if h.TauSyn == 0 {
			h.TauSyn = 0.01
		}
		if h.Theta == 0 {
			h.Theta = 1
		}
	}
	if s.Readout.TauSyn == 0 {
		s.Readout.TauSyn = 0.01
	}
	if s.Readout.TauMem == 0 {
		s.Readout.TauMem = float64(s.Steps) * s.DT
	}
	if s.Escape.Function == "" {
		s.Escape.Function = "sigmoid"
	}
	switch s.Escape.Function {
	case "sigmoid":
		if s.Escape.Beta == 0 {
			s.Escape.Beta = 10
		}
	case "exponential":
		if s.Escape.P0 == 0 {
			s.Escape.P0 = 2.0 / 3
		}
		if s.Escape.DeltaU == 0 {
			s.Escape.DeltaU = 0.133
		}
	}
	if s.Surrogate.Function == "" {
		if s.Stochastic {
			s.Surrogate.Function = "escape"
		} else {
			s.Surrogate.Function = "superspike"
		}
	}
	switch s.Surrogate.Function {
	case "superspike", "sigmoid":
		if s.Surrogate.Beta == 0 {
			s.Surrogate.Beta = 10
		}
	case "arctan":
		if s.Surrogate.Alpha == 0 {
			s.Surrogate.Alpha = 2
		}
	case "triangle":
		if s.Surrogate.Gamma == 0 {
			s.Surrogate.Gamma = 0.3
		}
		if s.Surrogate.Width == 0 {
			s.Surrogate.Width = 1
		}
	}
}

// Validate reports the first problem of a (defaulted) spec.
func (s *Spec) Validate() error {
	pos := func(name string, v float64) error {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("trainer: %s must be positive and finite, got %v", name, v)
		}
		return nil
	}
	if s.Inputs <= 0 || s.Inputs > 1<<20 {
		return fmt.Errorf("trainer: inputs must be in 1..%d, got %d", 1<<20, s.Inputs)
	}
	if s.Steps <= 0 || s.Steps > 1<<20 {
		return fmt.Errorf("trainer: steps must be in 1..%d, got %d", 1<<20, s.Steps)
	}
	if err := pos("dt", s.DT); err != nil {
		return err
	}
	if len(s.Hidden) > 64 {
		return fmt.Errorf("trainer: at most 64 hidden layers, got %d", len(s.Hidden))
	}
	for i, h := range s.Hidden {
		if h.Size <= 0 || h.Size > 1<<16 {
			return fmt.Errorf("trainer: hidden layer %d: size must be in 1..%d, got %d", i, 1<<16, h.Size)
		}
		for _, p := range []struct {
			n string
			v float64
		}{{"tau_mem", h.TauMem}, {"tau_syn", h.TauSyn}, {"theta", h.Theta}} {
			if err := pos(fmt.Sprintf("hidden layer %d: %s", i, p.n), p.v); err != nil {
				return err
			}
		}
		if h.TauSyn2 < 0 || math.IsNaN(h.TauSyn2) || math.IsInf(h.TauSyn2, 0) {
			return fmt.Errorf("trainer: hidden layer %d: tau_syn2 must be ≥ 0 and finite, got %v", i, h.TauSyn2)
		}
		if h.Reset != ResetZero && h.Reset != ResetSubtract && h.Reset != resetNone {
			return fmt.Errorf("trainer: hidden layer %d: bad reset %v", i, h.Reset)
		}
	}
	if s.Readout.Size <= 0 || s.Readout.Size > 1<<16 {
		return fmt.Errorf("trainer: readout size must be in 1..%d, got %d", 1<<16, s.Readout.Size)
	}
	if err := pos("readout tau_mem", s.Readout.TauMem); err != nil {
		return err
	}
	if err := pos("readout tau_syn", s.Readout.TauSyn); err != nil {
		return err
	}
	switch s.Escape.Function {
	case "sigmoid":
		if err := pos("escape beta", s.Escape.Beta); err != nil {
			return err
		}
	case "exponential":
		if err := pos("escape p0", s.Escape.P0); err != nil {
			return err
		}
		if err := pos("escape delta_u", s.Escape.DeltaU); err != nil {
			return err
		}
	default:
		return fmt.Errorf("trainer: unknown escape function %q (want sigmoid or exponential)", s.Escape.Function)
	}
	switch s.Surrogate.Function {
	case "escape":
	case "superspike", "sigmoid":
		return pos("surrogate beta", s.Surrogate.Beta)
	case "arctan":
		return pos("surrogate alpha", s.Surrogate.Alpha)
	case "triangle":
		if err := pos("surrogate gamma", s.Surrogate.Gamma); err != nil {
			return err
		}
		return pos("surrogate width", s.Surrogate.Width)
	default:
		return fmt.Errorf("trainer: unknown surrogate %q (want escape, superspike, sigmoid, arctan or triangle)", s.Surrogate.Function)
	}
	return nil
}

// decay returns λ = exp(−dt/τ), the float factor that the chip's
// decay(x, d) = x·(1 − d/4096) approximates with d = round(4096·(1 − λ)).
func decay(dt, tau float64) float64 { return math.Exp(-dt / tau) }
