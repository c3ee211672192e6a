package chip

import "math"

// Datapath is the integer neuron update of a chip description, with every
// constant precomputed. Its methods are the reference implementation of the
// time step; the core's inner loops (core.go) are specialised copies, and a
// test checks them against these methods bit for bit.
type Datapath struct {
	Types      int
	instant    bool // current = "instant"
	decay      decayMode
	nearest    bool
	uOffset    int32
	actShift   uint
	vthShift   uint
	uWrap      bool
	vWrap      bool
	uBits      uint
	vBits      uint
	uMin, uMax int64
	vMin, vMax int64
	accMin     int64
	accMax     int64
	accWrap    bool
	accBits    uint
	ge         bool // compare "ge"
	subtract   bool // reset "subtract"
	decayMax   int32
	refMax     int32
}

type decayMode uint8

const (
	decayMul12 decayMode = iota
	decayShift
	decayLinear
	decayNone
)

// NewDatapath derives the datapath of a validated description.
func NewDatapath(c *Config) *Datapath {
	n := c.Neuron
	d := &Datapath{
		Types:    n.SynapseTypes,
		instant:  n.Current == "instant",
		nearest:  n.Rounding == "nearest",
		uOffset:  int32(n.UDecayOffset),
		actShift: uint(n.ActShift),
		vthShift: uint(n.VthShift),
		uWrap:    n.UOverflow == "wrap",
		vWrap:    n.VOverflow == "wrap",
		uBits:    uint(n.UBits),
		vBits:    uint(n.VBits),
		accWrap:  c.Synapse.AccOverflow == "wrap",
		accBits:  uint(c.Synapse.AccBits),
		ge:       n.Compare == "ge",
		subtract: n.Reset == "subtract",
		decayMax: int32(1)<<n.DecayBits - 1,
		refMax:   int32(1)<<n.RefractoryBits - 1,
	}
	switch n.Decay {
	case "mul12":
		d.decay = decayMul12
		d.decayMax = 4096 - d.uOffset // du + offset ≤ 4096
	case "shift":
		d.decay = decayShift
	case "linear":
		d.decay = decayLinear
	default:
		d.decay = decayNone
	}
	// Saturation is symmetric, as in Lava's clip of v to ±(2^23 − 1).
	d.uMax = 1<<(n.UBits-1) - 1
	d.uMin = -d.uMax
	d.vMax = 1<<(n.VBits-1) - 1
	d.vMin = -d.vMax
	d.accMax = 1<<(c.Synapse.AccBits-1) - 1
	d.accMin = -d.accMax - 1
	return d
}

// Decay applies the description's decay to x with constant d:
//
//	mul12:  sign(x)·((|x|·(4096 − d)) >> 12)      rounding "trunc" (Loihi)
//	        sign(x)·((|x|·(4096 − d) + 2048) >> 12)  rounding "nearest"
//	shift:  x − (x >> d), the decrement at least one step toward zero (Xylo)
//	linear: x moved toward zero by d, never past it (TrueNorth leak)
//	none:   x
//
// For the current u the caller passes d + u_decay_offset (Loihi's hidden +1).
func (p *Datapath) Decay(x int64, d int32) int64 {
	switch p.decay {
	case decayMul12:
		return mul12(x, int64(4096-d), p.nearest)
	case decayShift:
		return shiftDecay(x, uint(d))
	case decayLinear:
		return linearDecay(x, int64(d))
	}
	return x
}

func mul12(x, f int64, nearest bool) int64 {
	prod := x * f
	s := prod >> 63 // 0 or −1
	a := (prod ^ s) - s
	if nearest {
		a += 2048
	}
	a >>= 12
	return (a ^ s) - s
}

func shiftDecay(x int64, d uint) int64 {
	dec := x >> d
	if dec == 0 && x > 0 {
		dec = 1
	}
	return x - dec
}

func linearDecay(x, d int64) int64 {
	switch {
	case x > d:
		return x - d
	case x < -d:
		return x + d
	}
	return 0
}

func wrapBits(x int64, bits uint) int64 { return x << (64 - bits) >> (64 - bits) }

func clamp(x, lo, hi int64) int64 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// Acc applies the accumulator width to a summed slot value. The second
// result reports whether the value was clipped (saturated or wrapped).
func (p *Datapath) Acc(a int64) (int64, bool) {
	if a >= p.accMin && a <= p.accMax {
		return a, false
	}
	if p.accWrap {
		return wrapBits(a, p.accBits), true
	}
	return clamp(a, p.accMin, p.accMax), true
}

// NeuronState is the state of one neuron between ticks.
type NeuronState struct {
	U   [4]int32 // currents per synapse type (only the first Types are used)
	V   int32
	Ref int32 // refractory ticks left
	// VMax is a readout neuron's largest membrane so far (Profile.Readout;
	// VMaxStart before its first update).
	VMax int32
}

// VMaxStart is a readout register before any update: below every membrane.
const VMaxStart = math.MinInt32

// StepInput is what the datapath needs besides the state.
type StepInput struct {
	A    [4]int64 // summed synaptic input per type (accumulator slot, after Acc)
	Bias int64    // bias_mant << bias_exp
	// Rand is the neuron's 16-bit random number for this tick (stochastic
	// profiles only; see Rand16).
	Rand uint16
}

// Step is the reference update of one neuron for one tick (DESIGN "The
// neuron datapath"):
//
//	u_k = decay(u_k, du_k + off) + (a_k << act_shift)   (current "instant": u_k = a_k << act_shift)
//	v   = decay(v, dv) + Σ_k u_k + bias                 (held while refractory)
//	fire = v > vth << vth_shift  (or ≥)                  deterministic
//	fire = rand16 < esc[clamp(((v − vth<<vth_shift) >> esc_shift) + esc_offset)]  stochastic
//	on fire: v = 0 or v −= vth << vth_shift; refractory counter = refractory
//	readout profile: no comparison; vmax = max(vmax, v)
//
// u wraps or saturates at u_bits, v at v_bits, after each addition.
func (p *Datapath) Step(s *NeuronState, pr *Profile, in *StepInput) (fired bool) {
	var sum int64
	for k := 0; k < p.Types; k++ {
		var u int64
		if p.instant {
			u = in.A[k] << p.actShift
		} else {
			u = p.Decay(int64(s.U[k]), int32(pr.Du[k])+p.uOffset) + in.A[k]<<p.actShift
		}
		u = p.fitU(u)
		s.U[k] = int32(u)
		sum += u
	}
	if s.Ref > 0 {
		s.Ref--
		return false
	}
	v := p.fitV(p.Decay(int64(s.V), int32(pr.Dv)) + sum + in.Bias)
	if pr.Readout {
		s.V = int32(v)
		s.VMax = max(s.VMax, s.V)
		return false
	}
	vth := int64(pr.Vth) << p.vthShift
	if pr.Escape != nil {
		fired = uint32(in.Rand) < pr.Escape.prob(v-vth)
	} else if p.ge {
		fired = v >= vth
	} else {
		fired = v > vth
	}
	if fired {
		if p.subtract {
			v = p.fitV(v - vth)
		} else {
			v = 0
		}
		s.Ref = int32(pr.Refractory)
	}
	s.V = int32(v)
	return fired
}

func (p *Datapath) fitU(u int64) int64 {
	if p.uWrap {
		return wrapBits(u, p.uBits)
	}
	return clamp(u, p.uMin, p.uMax)
}

func (p *Datapath) fitV(v int64) int64 {
	if p.vWrap {
		return wrapBits(v, p.vBits)
	}
	return clamp(v, p.vMin, p.vMax)
}

// Escape is a spike-probability table: the escape-noise function a
// stochastic network was trained with, sampled on the chip's integer grid.
// Entry i holds P(spike)·65536 (0 … 65536) for membranes with
//
//	((v − vth<<vth_shift) >> Shift) + Offset == i,
//
// indices beyond the table clamped to its ends. A neuron fires when its
// 16-bit random number is below the entry, so 65536 means "always".
type Escape struct {
	Shift  uint8
	Offset int32
	Table  []uint32
}

func (e *Escape) prob(x int64) uint32 {
	i := (x >> e.Shift) + int64(e.Offset)
	if i < 0 {
		i = 0
	} else if i >= int64(len(e.Table)) {
		i = int64(len(e.Table)) - 1
	}
	return e.Table[i]
}

// SampleEscape builds an escape table from a probability function f of the
// distance to threshold x = v − vth<<vth_shift, measured in membrane units.
// The table has n entries covering x ∈ [(−Offset)·2^shift, (n−1−Offset)·2^shift]
// and takes f at the centre of each bin, rounded to the 1/65536 grid.
func SampleEscape(f func(x float64) float64, n int, shift uint8, offset int32) *Escape {
	e := &Escape{Shift: shift, Offset: offset, Table: make([]uint32, n)}
	w := math.Ldexp(1, int(shift))
	for i := range e.Table {
		x := (float64(int32(i)-offset) + 0.5) * w
		if shift == 0 {
			x = float64(int32(i) - offset)
		}
		p := f(x)
		switch {
		case !(p > 0): // also NaN
			p = 0
		case p > 1:
			p = 1
		}
		e.Table[i] = uint32(math.Round(p * 65536))
	}
	return e
}
