package chip

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
)

// FingerprintVersion numbers the field list and encoding of Fingerprint.
// Configuration images record it next to the fingerprint; an image whose
// fingerprint version differs from this one cannot be matched against a
// description and must be recompiled.
const FingerprintVersion = 1

// Fingerprint identifies what a chip description makes run: two
// descriptions with the same fingerprint load the same programs and produce
// the same spikes. Configuration images record it, so that an image is not
// run on a chip it was not compiled for, while renaming a description,
// rewording it or correcting its clock or costs leaves every image valid.
//
// The fingerprint is FNV-1a 64 (hash/fnv, New64a) of this byte string,
// little-endian throughout, and is frozen:
//
//	fingerprint version   uint16 (FingerprintVersion = 1)
//	then, in this order, every field as an int64 (8 bytes), a bool as
//	one byte 0/1, a string as a uint32 length and its bytes:
//	  chips, mesh.width, mesh.height,
//	  core.neurons, core.input_axons, core.output_axons,
//	  core.synapse_bytes, core.profiles, core.generators,
//	  neuron.synapse_types, neuron.u_bits, neuron.v_bits,
//	  neuron.u_overflow, neuron.v_overflow, neuron.current, neuron.decay,
//	  neuron.rounding, neuron.decay_bits, neuron.u_decay_offset,
//	  neuron.act_shift, neuron.vth_shift, neuron.vth_bits, neuron.bias_bits,
//	  neuron.bias_exp_max, neuron.compare, neuron.reset,
//	  neuron.refractory_bits, neuron.stochastic (bool),
//	  neuron.escape_entries,
//	  synapse.weight_bits, synapse.weight_exp_min, synapse.weight_exp_max,
//	  synapse.max_delay, synapse.acc_bits, synapse.acc_overflow
//	then, only when one of them differs from its default (synapse.sign
//	"signed", synapse.crossbar "none", core.max_targets 0), the string
//	"weights and fan-out" and synapse.sign, synapse.crossbar (strings),
//	core.max_targets (int64)
//
// Left out, because they change what a run costs or how it is labelled but
// never which spikes happen: name, description, clock_mhz, sync,
// tick_cycles, every cost.* field and the [noc] section — unless the
// network can lose spikes (noc.late = "drop" or noc.blocked = "reroute"):
// then timing decides which spikes arrive, and "lossy network", sync,
// tick_cycles, clock_mhz, the whole [noc] section and the cycle costs are
// appended (as Go's %+v of the router configuration and the cycle table).
//
// The rule for new fields: a field that changes what runs is appended to
// the list above and FingerprintVersion is bumped; images fingerprinted
// under an older version then fail to load with a message saying so
// (recompile them). A new field whose default leaves every program and
// every spike as they were before it existed may instead join a tail that
// is appended only when one of its fields differs from its default, after
// a tag string of its own (as the weight-and-fan-out tail and the lossy
// network's are): descriptions that leave it at its defaults keep their
// fingerprints and the version stays, while a description that uses it
// fingerprints differently from one that does not. A field that only
// changes timing or cost is added to the list of left-out fields. A test
// walks every field of Config and fails until a new one is put in one list
// or the other.
func (c *Config) Fingerprint() uint64 {
	b := make([]byte, 0, 512)
	b = binary.LittleEndian.AppendUint16(b, FingerprintVersion)
	i := func(v int) { b = binary.LittleEndian.AppendUint64(b, uint64(int64(v))) }
	s := func(v string) {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	i(c.Chips)
	i(c.Mesh.Width)
	i(c.Mesh.Height)

	l := &c.Core
	i(l.Neurons)
	i(l.InputAxons)
	i(l.OutputAxons)
	i(l.SynapseBytes)
	i(l.Profiles)
	i(l.Generators)

	n := &c.Neuron
	i(n.SynapseTypes)
	i(n.UBits)
	i(n.VBits)
	s(n.UOverflow)
	s(n.VOverflow)
	s(n.Current)
	s(n.Decay)
	s(n.Rounding)
	i(n.DecayBits)
	i(n.UDecayOffset)
	i(n.ActShift)
	i(n.VthShift)
	i(n.VthBits)
	i(n.BiasBits)
	i(n.BiasExpMax)
	s(n.Compare)
	s(n.Reset)
	i(n.RefractoryBits)
	if n.Stochastic {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	i(n.EscapeEntries)

	y := &c.Synapse
	i(y.WeightBits)
	i(y.WeightExpMin)
	i(y.WeightExpMax)
	i(y.MaxDelay)
	i(y.AccBits)
	s(y.AccOverflow)

	// Weight sign modes, TrueNorth's crossbar and the fan-out bound decide
	// which programs load (Program.Check), so they are fingerprinted; a
	// tail appended only off their defaults keeps every fingerprint that
	// existed before them.
	if (y.Sign != "signed" && y.Sign != "") || (y.Crossbar != "none" && y.Crossbar != "") || l.MaxTargets != 0 {
		s("weights and fan-out")
		s(y.Sign)
		s(y.Crossbar)
		i(l.MaxTargets)
	}

	// A network-on-chip that can lose spikes (a fixed tick whose late
	// packets are dropped, or SpiNNaker-style drops after a blocked wait)
	// makes timing part of what runs: then the network's whole description
	// and the tick's length are fingerprinted too. Lossless networks only
	// change cycles and energy, and leave the fingerprint as it was.
	if c.NoC.Late == "drop" || c.NoC.Blocked == "reroute" {
		s("lossy network")
		s(c.Sync)
		b = binary.LittleEndian.AppendUint64(b, c.TickCycles)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.ClockMHz))
		s(fmt.Sprintf("%+v", c.NoC))
		cy := c.Cost.Cycles
		s(fmt.Sprintf("%+v", cy))
	}
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}
