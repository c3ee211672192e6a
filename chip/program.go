package chip

import (
	"errors"
	"fmt"
)

// Program is everything a configuration image loads into a system: per-core
// neuron parameters, synapses, axon tables and spike generators, plus the
// ports through which events enter and leave. Programs are built by the
// firmware compiler (or by hand, in Go) and checked against a chip
// description by Check before anything runs.
type Program struct {
	// Seed keys every counter-based random number of the run (stochastic
	// neurons and Poisson generators).
	Seed uint64
	// Cores holds one entry per used core, indexed by global core number
	// (chip·cores_per_chip + core); it may be shorter than the system.
	Cores   []CoreProgram
	Inputs  []InputPort
	Outputs []OutputPort
}

// CoreProgram is the contents of one core.
type CoreProgram struct {
	Profiles   []Profile
	Neurons    []Neuron
	Axons      []Axon // input axons, numbered from 0
	Generators []Generator
}

// Profile is a parameter set shared by many neurons of a core (Loihi's
// compartment profile).
type Profile struct {
	Du         [4]uint16 // current decay per synapse type
	Dv         uint16    // membrane decay
	Vth        int32     // threshold mantissa: compared as Vth << vth_shift
	Refractory uint16    // ticks the membrane is held after a spike
	// Escape makes the neurons stochastic (nil: deterministic).
	Escape *Escape
	// Readout makes the neurons readout units: they integrate like any
	// neuron but never fire (no threshold, reset or refractory hold), and
	// each keeps the largest membrane it has reached since load or the
	// last Reset in a register (NeuronState.VMax): the class decision of
	// a trained network (argmax over readout units) runs on the chip.
	Readout bool
}

// Neuron is one neuron's own parameters and its fan-out.
type Neuron struct {
	Profile  uint16
	BiasMant int32
	BiasExp  uint8
	V        int32 // initial membrane
	// NoiseKey is the logical id under which a stochastic neuron draws its
	// random numbers: Rand16(seed, NoiseKey, t). The firmware sets it from
	// the neuron's place in the network, never from its core or slot, so
	// placement cannot change a draw.
	NoiseKey uint32
	// Out lists the axons this neuron's spikes are sent to. Every entry is
	// one message per spike (Loihi's output-axon slots).
	Out []AxonRef
}

// Axon is an input axon: a row of synapses, all scaled by 2^WeightExp.
type Axon struct {
	WeightExp int8
	Synapses  []Synapse
}

// Synapse is one synapse of an axon's row.
type Synapse struct {
	Neuron uint32 // target neuron on this core
	Type   uint8  // synapse type, 0 … synapse_types−1
	Delay  uint8  // extra ticks: a spike at t lands at t+1+Delay
	Weight int32  // signed mantissa
}

// AxonRef names an input axon of a core.
type AxonRef struct {
	Core uint32
	Axon uint32
}

// NeuronRef names a neuron.
type NeuronRef struct {
	Core   uint32
	Neuron uint32
}

// Generator is an on-chip spike source: it fires on its own schedule and
// sends to Out like a neuron.
type Generator struct {
	// Random generators draw one number per tick, Noise(seed, NoiseKey, t),
	// where seed is the generator's own Seed, or the program's when Seed is
	// 0:
	//   - with Counts set (Poisson sources whose mean may exceed one spike
	//     per tick), the generator emits k spikes in the tick, k the number
	//     of entries of Counts (non-decreasing, at most MaxGeneratorCounts)
	//     that are ≤ the top 32 bits of the draw: Counts[k] is the
	//     cumulative distribution P(K ≤ k)·2^32, which the firmware fills;
	//   - otherwise with Prob > 0 it fires once with probability
	//     Prob/65536 (its Rand16 below Prob).
	// Regular generators (Prob == 0, no Counts) fire every Period ticks,
	// first at tick Phase.
	Seed     uint64
	Prob     uint32
	Counts   []uint32
	Period   uint32
	Phase    uint32
	NoiseKey uint32
	Out      []AxonRef
}

// MaxGeneratorCounts bounds a generator's count table: at most this many
// spikes per tick.
const MaxGeneratorCounts = 64

// GeneratorID is the neuron number under which generator i of a core draws
// its random numbers (above every neuron number).
func GeneratorID(i int) uint32 { return 1<<31 | uint32(i) }

// InputPort maps channels of an external event stream to input axons.
type InputPort struct {
	Name     string
	Channels [][]AxonRef
}

// OutputPort names the neurons whose spikes leave the system; channel i is
// Neurons[i].
type OutputPort struct {
	Name    string
	Neurons []NeuronRef
}

// ResourceError is a program that does not fit a core or breaks a limit of
// the chip description. Core is −1 for system-wide problems (ports).
type ResourceError struct {
	Core     int
	Resource string // e.g. "synapses", "neuron 12 bias mantissa"
	Have     int64
	Limit    string // the limit and the description field it comes from
}

func (e *ResourceError) Error() string {
	where := "system"
	if e.Core >= 0 {
		where = fmt.Sprintf("core %d", e.Core)
	}
	return fmt.Sprintf("%s: %s = %d exceeds %s", where, e.Resource, e.Have, e.Limit)
}

// maxReported bounds how many resource errors Check collects.
const maxReported = 20

// Check verifies that p fits the chip description c: every core within its
// resources, every parameter within its field width, every reference
// pointing at something that exists. It returns all problems found (at most
// 20), joined. Load runs Check first and adds one check that needs the
// packed synapse memory: no neuron's worst-case input may overflow the
// emulator's 32-bit accumulators.
func (p *Program) Check(c *Config) error {
	var errs []error
	add := func(core int, res string, have int64, limit string) {
		if len(errs) < maxReported {
			errs = append(errs, &ResourceError{core, res, have, limit})
		}
	}
	if len(p.Cores) > c.Cores() {
		add(-1, "cores", int64(len(p.Cores)), fmt.Sprintf("%d (chips × mesh)", c.Cores()))
		return errors.Join(errs...)
	}
	dp := NewDatapath(c)
	n := c.Neuron
	wmax := int64(1)<<c.Synapse.WeightBits - 1
	biasMax := int64(1)<<(n.BiasBits-1) - 1
	vthMax := int64(1)<<n.VthBits - 1
	checkRef := func(core int, what string, r AxonRef) {
		if int(r.Core) >= len(p.Cores) {
			add(core, what+" target core", int64(r.Core), fmt.Sprintf("the program's %d cores", len(p.Cores)))
		} else if int(r.Axon) >= len(p.Cores[r.Core].Axons) {
			add(core, what+" target axon", int64(r.Axon), fmt.Sprintf("core %d's %d axons", r.Core, len(p.Cores[r.Core].Axons)))
		}
	}
	for ci := range p.Cores {
		cp := &p.Cores[ci]
		if len(cp.Neurons) > c.Core.Neurons {
			add(ci, "neurons", int64(len(cp.Neurons)), fmt.Sprintf("%d (core.neurons)", c.Core.Neurons))
		}
		if len(cp.Axons) > c.Core.InputAxons {
			add(ci, "input axons", int64(len(cp.Axons)), fmt.Sprintf("%d (core.input_axons)", c.Core.InputAxons))
		}
		if len(cp.Profiles) > c.Core.Profiles {
			add(ci, "profiles", int64(len(cp.Profiles)), fmt.Sprintf("%d (core.profiles)", c.Core.Profiles))
		}
		if len(cp.Generators) > c.Core.Generators {
			add(ci, "generators", int64(len(cp.Generators)), fmt.Sprintf("%d (core.generators)", c.Core.Generators))
		}
		for i, pr := range cp.Profiles {
			for k := 0; k < 4; k++ {
				if k >= n.SynapseTypes && pr.Du[k] != 0 {
					add(ci, fmt.Sprintf("profile %d du[%d]", i, k), int64(pr.Du[k]), fmt.Sprintf("0: the chip has %d synapse types", n.SynapseTypes))
				} else if int32(pr.Du[k]) > dp.decayMax {
					add(ci, fmt.Sprintf("profile %d du[%d]", i, k), int64(pr.Du[k]), fmt.Sprintf("%d (neuron.decay_bits, decay %s)", dp.decayMax, n.Decay))
				}
			}
			dvMax := dp.decayMax
			if dp.decay == decayMul12 {
				dvMax = 4096
			}
			if int32(pr.Dv) > dvMax {
				add(ci, fmt.Sprintf("profile %d dv", i), int64(pr.Dv), fmt.Sprintf("%d (neuron.decay_bits, decay %s)", dvMax, n.Decay))
			}
			if pr.Vth < 0 || int64(pr.Vth) > vthMax {
				add(ci, fmt.Sprintf("profile %d vth", i), int64(pr.Vth), fmt.Sprintf("0…%d (neuron.vth_bits)", vthMax))
			}
			if int32(pr.Refractory) > dp.refMax {
				add(ci, fmt.Sprintf("profile %d refractory", i), int64(pr.Refractory), fmt.Sprintf("%d (neuron.refractory_bits)", dp.refMax))
			}
			if pr.Readout && pr.Escape != nil {
				add(ci, fmt.Sprintf("profile %d escape table", i), int64(len(pr.Escape.Table)), "0: a readout profile never fires")
			}
			if e := pr.Escape; e != nil {
				switch {
				case !n.Stochastic:
					add(ci, fmt.Sprintf("profile %d escape table", i), int64(len(e.Table)), "0: the chip has no stochastic neurons (neuron.stochastic)")
				case len(e.Table) == 0 || len(e.Table) > n.EscapeEntries:
					add(ci, fmt.Sprintf("profile %d escape entries", i), int64(len(e.Table)), fmt.Sprintf("1…%d (neuron.escape_entries)", n.EscapeEntries))
				case e.Shift > 31:
					add(ci, fmt.Sprintf("profile %d escape shift", i), int64(e.Shift), "31")
				}
				for j, q := range e.Table {
					if q > 65536 {
						add(ci, fmt.Sprintf("profile %d escape entry %d", i, j), int64(q), "65536 (probability 1)")
						break
					}
				}
			}
		}
		outs := 0
		for i := range cp.Neurons {
			nr := &cp.Neurons[i]
			if int(nr.Profile) >= len(cp.Profiles) {
				add(ci, fmt.Sprintf("neuron %d profile", i), int64(nr.Profile), fmt.Sprintf("the core's %d profiles", len(cp.Profiles)))
			}
			if int64(nr.BiasMant) > biasMax || int64(nr.BiasMant) < -biasMax-1 {
				add(ci, fmt.Sprintf("neuron %d bias mantissa", i), int64(nr.BiasMant), fmt.Sprintf("±%d (neuron.bias_bits)", biasMax))
			} else if b := int64(nr.BiasMant) << min(nr.BiasExp, 32); b != int64(int32(b)) {
				add(ci, fmt.Sprintf("neuron %d bias (mantissa << exponent)", i), b, "32 bits")
			}
			if int(nr.BiasExp) > n.BiasExpMax {
				add(ci, fmt.Sprintf("neuron %d bias exponent", i), int64(nr.BiasExp), fmt.Sprintf("%d (neuron.bias_exp_max)", n.BiasExpMax))
			}
			if int64(nr.V) > dp.vMax || int64(nr.V) < dp.vMin {
				add(ci, fmt.Sprintf("neuron %d initial v", i), int64(nr.V), fmt.Sprintf("±%d (neuron.v_bits)", dp.vMax))
			}
			outs += len(nr.Out)
			if c.Core.MaxTargets > 0 && len(nr.Out) > c.Core.MaxTargets {
				add(ci, fmt.Sprintf("neuron %d output axons", i), int64(len(nr.Out)), fmt.Sprintf("%d (core.max_targets)", c.Core.MaxTargets))
			}
			for _, r := range nr.Out {
				checkRef(ci, fmt.Sprintf("neuron %d output", i), r)
			}
		}
		syns := 0
		for a := range cp.Axons {
			ax := &cp.Axons[a]
			mixed := c.Synapse.Sign == "row" && !singleSign(ax.Synapses, int32(wmax))
			if int(ax.WeightExp) < c.Synapse.WeightExpMin || int(ax.WeightExp) > c.Synapse.WeightExpMax {
				add(ci, fmt.Sprintf("axon %d weight exponent", a), int64(ax.WeightExp), fmt.Sprintf("%d…%d (synapse.weight_exp_min/max)", c.Synapse.WeightExpMin, c.Synapse.WeightExpMax))
			}
			syns += len(ax.Synapses)
			if len(ax.Synapses) >= 1<<24 {
				add(ci, fmt.Sprintf("axon %d synapses", a), int64(len(ax.Synapses)), "16777215 per axon row")
			}
			for j, s := range ax.Synapses {
				switch {
				case int(s.Neuron) >= len(cp.Neurons):
					add(ci, fmt.Sprintf("axon %d synapse %d target neuron", a, j), int64(s.Neuron), fmt.Sprintf("the core's %d neurons", len(cp.Neurons)))
				case int(s.Type) >= n.SynapseTypes:
					add(ci, fmt.Sprintf("axon %d synapse %d type", a, j), int64(s.Type), fmt.Sprintf("%d (neuron.synapse_types − 1)", n.SynapseTypes-1))
				case int(s.Delay) > c.Synapse.MaxDelay:
					add(ci, fmt.Sprintf("axon %d synapse %d delay", a, j), int64(s.Delay), fmt.Sprintf("%d (synapse.max_delay)", c.Synapse.MaxDelay))
				case c.Synapse.Sign == "signed" || c.Synapse.Sign == "":
					if int64(s.Weight) > wmax || int64(s.Weight) < -wmax {
						add(ci, fmt.Sprintf("axon %d synapse %d weight", a, j), int64(s.Weight), fmt.Sprintf("±%d (synapse.weight_bits)", wmax))
					}
				default:
					if lim, ok := signLimit(&c.Synapse, mixed, a, s); !ok {
						add(ci, fmt.Sprintf("axon %d synapse %d (type %d) weight", a, j, s.Type), int64(s.Weight), lim)
					}
				}
			}
		}
		if c.Synapse.Crossbar == "binary" {
			for _, e := range crossbarErrors(ci, cp, maxReported-len(errs)) {
				errs = append(errs, e)
			}
		}
		if syns > c.MaxSynapses() {
			add(ci, "synapses", int64(syns), fmt.Sprintf("%d (core.synapse_bytes / 4)", c.MaxSynapses()))
		}
		for g := range cp.Generators {
			gen := &cp.Generators[g]
			if gen.Prob > 65536 {
				add(ci, fmt.Sprintf("generator %d probability", g), int64(gen.Prob), "65536")
			}
			if gen.Prob == 0 && gen.Period == 0 && len(gen.Counts) == 0 {
				add(ci, fmt.Sprintf("generator %d period", g), 0, "≥ 1 for a regular generator (or set prob or counts)")
			}
			if len(gen.Counts) > MaxGeneratorCounts {
				add(ci, fmt.Sprintf("generator %d counts", g), int64(len(gen.Counts)), fmt.Sprintf("%d spikes per tick", MaxGeneratorCounts))
			}
			for j := 1; j < len(gen.Counts); j++ {
				if gen.Counts[j] < gen.Counts[j-1] {
					add(ci, fmt.Sprintf("generator %d count table entry %d", g, j), int64(gen.Counts[j]), fmt.Sprintf("≥ entry %d (%d): the table is a cumulative distribution", j-1, gen.Counts[j-1]))
					break
				}
			}
			outs += len(gen.Out)
			for _, r := range gen.Out {
				checkRef(ci, fmt.Sprintf("generator %d output", g), r)
			}
		}
		if outs > c.Core.OutputAxons {
			add(ci, "output axons (neurons and generators)", int64(outs), fmt.Sprintf("%d (core.output_axons)", c.Core.OutputAxons))
		}
	}
	names := map[string]bool{}
	for i, in := range p.Inputs {
		if names[in.Name] {
			errs = append(errs, fmt.Errorf("input port %d: duplicate port name %q", i, in.Name))
		}
		names[in.Name] = true
		for ch, refs := range in.Channels {
			for _, r := range refs {
				checkRef(-1, fmt.Sprintf("input port %q channel %d", in.Name, ch), r)
			}
		}
	}
	if len(p.Inputs) > 1<<16 || len(p.Outputs) > 1<<16 {
		add(-1, "ports", int64(len(p.Inputs)+len(p.Outputs)), "65536 per direction")
	}
	outNames := map[string]bool{}
	outputOf := map[NeuronRef]string{}
	for i, out := range p.Outputs {
		if outNames[out.Name] {
			errs = append(errs, fmt.Errorf("output port %d: duplicate port name %q", i, out.Name))
		}
		outNames[out.Name] = true
		for ch, r := range out.Neurons {
			if int(r.Core) >= len(p.Cores) || int(r.Neuron) >= len(p.Cores[r.Core].Neurons) {
				add(-1, fmt.Sprintf("output port %q channel %d neuron (core %d)", out.Name, ch, r.Core), int64(r.Neuron), "a neuron of the program")
			}
			where := fmt.Sprintf("output port %q channel %d", out.Name, ch)
			if prev, dup := outputOf[r]; dup && len(errs) < maxReported {
				errs = append(errs, fmt.Errorf("%s: core %d neuron %d is already %s", where, r.Core, r.Neuron, prev))
			}
			outputOf[r] = where
		}
	}
	return errors.Join(errs...)
}

// singleSign reports whether a row fits one of Loihi's single-sign modes
// (excitatory: every weight in 0…m; inhibitory: every weight in −m…0).
// A row that does not must use the mixed sign mode, whose weights are the
// even values −(m+1)…m−1: a row that mixes signs, or one that holds −(m+1).
func singleSign(row []Synapse, m int32) bool {
	pos, neg := false, false
	for _, s := range row {
		if s.Weight > m || s.Weight < -m {
			return false
		}
		pos = pos || s.Weight > 0
		neg = neg || s.Weight < 0
	}
	return !(pos && neg)
}

// signLimit checks a synapse's weight against the sign mode of spec
// (MantissaRange); when it does not fit it returns the limit, worded for
// a ResourceError, naming the fields and the reason.
func signLimit(spec *SynapseSpec, mixed bool, axon int, s Synapse) (string, bool) {
	lo, hi, step := spec.MantissaRange(mixed, int(s.Type))
	w := s.Weight
	if w >= lo && w <= hi && (w-lo)%step == 0 {
		return "", true
	}
	switch spec.Sign {
	case "row":
		if mixed {
			return fmt.Sprintf("the even values %d…%d (synapse.weight_bits; synapse.sign = \"row\" and axon %d needs the mixed sign mode)", lo, hi, axon), false
		}
		return fmt.Sprintf("%d…%d (synapse.weight_bits)", lo, hi), false
	case "type":
		what := "excitatory"
		if s.Type != 0 {
			what = "inhibitory"
		}
		return fmt.Sprintf("%d…%d (synapse.weight_bits, synapse.sign = \"type\": type %d is %s)", lo, hi, s.Type, what), false
	}
	return fmt.Sprintf("%d…%d in steps of %d (synapse.weight_bits)", lo, hi, step), false
}
