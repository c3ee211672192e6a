package chip

import "fmt"

// TrueNorth's neurosynaptic core (Merolla et al., Science 345, 2014;
// Cassidy et al., IJCNN 2013) is a binary crossbar of 256 axons × 256
// neurons: axon i has one type G_i ∈ 0…3, crosspoint (i, j) is a bit, and
// neuron j holds four signed weights s_j^G, one per axon type, so a spike
// on axon i adds s_j^{G_i} to every neuron j whose crosspoint is set. Each
// neuron sends its spikes to exactly one target (core, axon, delay 1–15).
//
// aerie stores an active crosspoint as one synapse word that carries the
// neuron's weight for the axon's type, so a description with
// synapse.crossbar = "binary" holds TrueNorth's rules at load
// (crossbarErrors, run by Program.Check), and core.max_targets = 1 holds
// the single target. The delay rides on the spike (the target's delay),
// so all synapses of one axon share one delay.

// RuleError is a program that breaks a structural rule of the chip
// description (TrueNorth's binary crossbar), naming the core and the axon,
// synapse or neuron, the value found and the rule it breaks.
type RuleError struct {
	Core int
	What string // e.g. "axon 3 synapse 4 type"
	Have int64
	Want string // the value the rule asks for, and the rule
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("core %d: %s = %d: want %s", e.Core, e.What, e.Have, e.Want)
}

// crossbarErrors checks the synapses of one core against TrueNorth's binary
// crossbar (synapse.crossbar = "binary"), reporting at most max errors:
//
//   - every axon has one type: all its synapses carry the type of its first;
//   - all synapses of an axon share one delay (TrueNorth delays the spike);
//   - a crosspoint holds at most one synapse (axon, neuron pairs are unique);
//   - each neuron has one weight per axon type: every synapse onto neuron j
//     from an axon of type G carries the same value mant·2^exp.
//
// Synapses whose neuron or type is out of range are left to Check's other
// errors.
func crossbarErrors(core int, cp *CoreProgram, max int) []error {
	var errs []error
	add := func(what string, have int64, want string) {
		if len(errs) < max {
			errs = append(errs, &RuleError{core, what, have, want})
		}
	}
	n := len(cp.Neurons)
	type first struct {
		weight int64
		axon   int32 // −1: no synapse onto this (type, neuron) yet
	}
	seen := make([]first, 4*n)
	for i := range seen {
		seen[i].axon = -1
	}
	stamp := make([]int32, n) // axon+1 that last set crosspoint (·, j)
	for a := range cp.Axons {
		ax := &cp.Axons[a]
		if len(ax.Synapses) == 0 {
			continue
		}
		s0 := ax.Synapses[0]
		for j, s := range ax.Synapses {
			if int(s.Neuron) >= n || s.Type >= 4 {
				continue
			}
			if s.Type != s0.Type {
				add(fmt.Sprintf("axon %d synapse %d type", a, j), int64(s.Type),
					fmt.Sprintf("%d, the type of the axon's synapse 0 (synapse.crossbar = \"binary\": an axon has one type)", s0.Type))
				continue
			}
			if s.Delay != s0.Delay {
				add(fmt.Sprintf("axon %d synapse %d delay", a, j), int64(s.Delay),
					fmt.Sprintf("%d, the delay of the axon's synapse 0 (synapse.crossbar = \"binary\": the delay belongs to the spike, not the synapse)", s0.Delay))
			}
			if stamp[s.Neuron] == int32(a)+1 {
				add(fmt.Sprintf("axon %d synapse %d neuron", a, j), int64(s.Neuron),
					"a neuron the axon has no other synapse onto (synapse.crossbar = \"binary\": a crosspoint is one bit)")
				continue
			}
			stamp[s.Neuron] = int32(a) + 1
			w := int64(s.Weight)
			if ax.WeightExp >= 0 {
				w <<= uint(ax.WeightExp)
			} else {
				w >>= uint(-ax.WeightExp)
			}
			f := &seen[int(s.Type)*n+int(s.Neuron)]
			switch {
			case f.axon < 0:
				f.weight, f.axon = w, int32(a)
			case f.weight != w:
				add(fmt.Sprintf("neuron %d weight for axon type %d (axon %d synapse %d)", s.Neuron, s.Type, a, j), w,
					fmt.Sprintf("%d, its weight from axon %d (synapse.crossbar = \"binary\": one weight per neuron and axon type)", f.weight, f.axon))
			}
		}
	}
	return errs
}

// StochasticThreshold returns the escape table of TrueNorth's stochastic
// threshold with a mask of maskBits ones (Cassidy et al. 2013; NeMo
// tn_neuron.c, neuronShouldFire): a neuron fires when
//
//	v ≥ vth + (ρ & M),  M = 2^maskBits − 1,  ρ a fresh pseudo-random number,
//
// (v > vth + (ρ & M) with compare = "gt"). ρ & M is uniform on 0…M, so with
// x = v − vth<<vth_shift the probability of a spike is
//
//	P(x) = 0 for x < 0,  (x + 1)/2^maskBits for 0 ≤ x < M,  1 for x ≥ M   ("ge")
//	P(x) = 0 for x ≤ 0,  x/2^maskBits       for 0 < x ≤ 2^maskBits, 1 beyond ("gt")
//
// a memoryless escape-noise neuron whose escape function is a ramp. The
// table holds entry i = i·2^(16−maskBits) for i = 0…2^maskBits (so
// 2^maskBits + 1 entries, shift 0, offset 1 for "ge" and 0 for "gt"); the
// chip fires when its 16-bit random number r is below the entry, which is
// exactly the masked rule with ρ & M taken as the top maskBits bits of r:
// r < (x+1)·2^(16−maskBits) ⇔ r >> (16−maskBits) ≤ x. The distribution is
// TrueNorth's exactly; the draws come from aerie's counter-based noise
// (Rand16), not from TrueNorth's on-core generator. maskBits runs from 0
// (a deterministic threshold) to 16; the table must fit the description's
// neuron.escape_entries, which Program.Check enforces.
func StochasticThreshold(maskBits int, compare string) (*Escape, error) {
	if maskBits < 0 || maskBits > 16 {
		return nil, fmt.Errorf("chip: stochastic threshold mask of %d bits: want 0…16", maskBits)
	}
	var off int32
	switch compare {
	case "ge":
		off = 1
	case "gt":
		off = 0
	default:
		return nil, fmt.Errorf("chip: stochastic threshold with compare %q: want ge or gt", compare)
	}
	e := &Escape{Shift: 0, Offset: off, Table: make([]uint32, 1<<maskBits+1)}
	for i := range e.Table {
		e.Table[i] = uint32(i) << (16 - maskBits)
	}
	return e, nil
}
