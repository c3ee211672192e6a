package trainer

import (
	"fmt"
	"math"
	"strings"
)

// Tensor is one named parameter array, row-major.
type Tensor struct {
	Name       string
	Rows, Cols int
	Data       []float32
}

// Model is a network: its architecture and its parameters.
//
// Parameters come in a fixed order (see layout): per hidden layer l the
// feed-forward weights "h<l>.w<k>" (inputs × size, one row per presynaptic
// unit, one matrix per synapse type k), the recurrent weights "h<l>.v<k>"
// (size × size) when the layer is recurrent, the bias "h<l>.b" (1 × size) when
// it has one; then the readout weights "ro.w" (last size × classes).
type Model struct {
	Spec   Spec
	Params []Tensor
}

// tensorShape is one entry of the parameter layout.
type tensorShape struct {
	name       string
	rows, cols int
	// target is the index of the layer the tensor feeds (len(Hidden) for the
	// readout): the optimizer scales its step by 1 − λ_mem of that layer.
	target int
}

// synTypes is the number of synapse types of a hidden layer.
func (h *LayerSpec) synTypes() int {
	if h.TauSyn2 > 0 {
		return 2
	}
	return 1
}

// layout lists the parameter tensors of a spec in their fixed order.
func layout(s *Spec) []tensorShape {
	var out []tensorShape
	nin := s.Inputs
	for l := range s.Hidden {
		h := &s.Hidden[l]
		for k := 0; k < h.synTypes(); k++ {
			out = append(out, tensorShape{fmt.Sprintf("h%d.w%d", l, k), nin, h.Size, l})
		}
		if h.Recurrent {
			for k := 0; k < h.synTypes(); k++ {
				out = append(out, tensorShape{fmt.Sprintf("h%d.v%d", l, k), h.Size, h.Size, l})
			}
		}
		if h.Bias {
			out = append(out, tensorShape{fmt.Sprintf("h%d.b", l), 1, h.Size, l})
		}
		nin = h.Size
	}
	out = append(out, tensorShape{"ro.w", nin, s.Readout.Size, len(s.Hidden)})
	return out
}

// NewModel returns a model of spec s (defaults filled in) with zero
// parameters. Use Init to draw them.
func NewModel(s Spec) (*Model, error) {
	s.Defaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Spec: s}
	for _, ts := range layout(&s) {
		m.Params = append(m.Params, Tensor{Name: ts.name, Rows: ts.rows, Cols: ts.cols, Data: make([]float32, ts.rows*ts.cols)})
	}
	return m, nil
}

// NumParams is the number of scalar parameters.
func (m *Model) NumParams() int {
	n := 0
	for _, t := range m.Params {
		n += len(t.Data)
	}
	return n
}

// Clone returns a deep copy of m.
func (m *Model) Clone() *Model {
	c := &Model{Spec: m.Spec}
	c.Spec.Hidden = append([]LayerSpec(nil), m.Spec.Hidden...)
	for _, t := range m.Params {
		t.Data = append([]float32(nil), t.Data...)
		c.Params = append(c.Params, t)
	}
	return c
}

// InitConfig holds the fluctuation-driven initialisation targets
// (Rossbroich, Gygax & Zenke 2022).
type InitConfig struct {
	// SigmaU is the target standard deviation of the free membrane
	// potential in units of θ (default 1.3 stochastic, 1.0 deterministic).
	SigmaU float64 `toml:"sigma_u" json:"sigma_u"`
	// NuIn is the mean firing rate (Hz) of the input units; 0 means
	// "measure it on the training set" (Train does) or 5 Hz.
	NuIn float64 `toml:"nu_in" json:"nu_in"`
	// Nu is the assumed firing rate (Hz) of hidden units feeding the next
	// layer (default 5 Hz, the reference's Randman value).
	Nu float64 `toml:"nu" json:"nu"`
}

// pspEnergy returns ε̂ = Σ_t k[t]²·dt of the discrete PSP kernel of this
// datapath: a unit jump in a at t = 0 gives u[t] = λ_s^t and
// v[t] = λ_m·v[t−1] + u[t] (v takes the new u of the same tick), summed over
// 10·max(τ_m, τ_s). For 20/10 ms at 2 ms this is 0.2243 s (stork's kernel,
// scaled by 1 − λ_m and delayed by a step, gives 0.0020356 s; the ratio is
// (1 − λ_m)² as expected).
func pspEnergy(dt, tauMem, tauSyn float64) float64 {
	lm, ls := decay(dt, tauMem), decay(dt, tauSyn)
	n := int(math.Ceil(10 * math.Max(tauMem, tauSyn) / dt))
	u, v, e := 0.0, 0.0, 0.0
	for t := 0; t < n; t++ {
		if t == 0 {
			u = 1
		} else {
			u *= ls
		}
		v = lm*v + u
		e += v * v * dt
	}
	return e
}

// Init draws all parameters from seed: hidden weights from N(0, σ_w²) with
// σ_w² = scale·σ_U²·θ²/(N_in·ν·ε̂) (scale 0.9 feed-forward and 0.1
// recurrent when the layer is recurrent, split evenly over synapse types),
// biases zero, readout weights from N(0, (1 − λ_m)²/N_in), which is stork's
// N(0, 1/N_in) in this datapath's units.
func (m *Model) Init(cfg InitConfig, seed uint64) {
	s := &m.Spec
	sigmaU := cfg.SigmaU
	if sigmaU == 0 {
		sigmaU = 1.0
		if s.Stochastic {
			sigmaU = 1.3
		}
	}
	nuIn, nu := cfg.NuIn, cfg.Nu
	if nuIn == 0 {
		nuIn = 5
	}
	if nu == 0 {
		nu = 5
	}
	rng := newNormal(seed)
	for i, ts := range layout(s) {
		t := &m.Params[i]
		var std float64
		switch kind := ts.name[strings.IndexByte(ts.name, '.')+1]; {
		case ts.target == len(s.Hidden): // readout
			std = (1 - decay(s.DT, s.Readout.TauMem)) / math.Sqrt(float64(ts.rows))
		case kind == 'b':
			std = 0
		default: // 'w' feed-forward (fan-in rows) or 'v' recurrent
			h := &s.Hidden[ts.target]
			rate, scale := nu, 1.0
			if ts.target == 0 && kind == 'w' {
				rate = nuIn
			}
			if h.Recurrent {
				scale = 0.9
				if kind == 'v' {
					scale = 0.1
				}
			}
			scale /= float64(h.synTypes())
			eps := pspEnergy(s.DT, h.TauMem, h.TauSyn)
			std = h.Theta * sigmaU * math.Sqrt(scale/(float64(ts.rows)*rate*eps))
		}
		for j := range t.Data {
			t.Data[j] = float32(std * rng.next())
		}
	}
}

// normal draws standard normal numbers from a splitmix64 stream
// (Box–Muller), so that initialisation is reproducible across Go versions.
type normal struct {
	state uint64
	spare float64
	has   bool
}

func newNormal(seed uint64) *normal { return &normal{state: mix64(seed ^ 0x696e6974)} }

func (n *normal) uniform() float64 {
	n.state += 0x9e3779b97f4a7c15
	return float64(mix64(n.state)>>11) * (1.0 / (1 << 53))
}

func (n *normal) next() float64 {
	if n.has {
		n.has = false
		return n.spare
	}
	u1 := n.uniform()
	for u1 == 0 {
		u1 = n.uniform()
	}
	u2 := n.uniform()
	r := math.Sqrt(-2 * math.Log(u1))
	n.spare, n.has = r*math.Sin(2*math.Pi*u2), true
	return r * math.Cos(2*math.Pi*u2)
}
