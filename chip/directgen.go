package chip

// Direct generators. A Poisson or regular source that drives one neuron —
// the background drive of Brunel's and Potjans–Diesmann's networks, one
// source per neuron, placed by the firmware on its target's core — emits
// a spike whose only message goes back to its own core, into a row of one
// synapse. On an ideal interconnect that round trip (a message filed in the
// outbox, read back, a row header and one synapse word) changes nothing
// but the emulator's own time: the spike's effect is one addition into the
// accumulator slot that delivery would use. So such a generator adds its
// weight there directly, k times the weight for k spikes in a tick, and
// its events are counted exactly as the message would have counted them:
// the spike and the message at the tick it fires, the input spike and the
// synaptic operation at the next tick (deliverDirect), when delivery would
// have counted them. Accumulator sums are exact integers whatever their
// order, so the result is bit-identical (TestDirectGenerators runs both
// paths). A network-on-chip that models traffic needs the message, so
// there the generators stay as they are.

// useDirectGenerators lets tests compare the direct path with messages.
var useDirectGenerators = true

// directGenerators marks the generators that can add directly: ideal
// interconnect, one fan-out entry, to a one-synapse row of the own core.
func (s *System) directGenerators() {
	if s.net != nil || !useDirectGenerators {
		return
	}
	for _, c := range s.cores {
		for g := range c.gens {
			gen := &c.gens[g]
			if gen.outEnd-gen.outStart != 1 {
				continue
			}
			ref := c.outRef[gen.outStart]
			if uint32(ref>>32) != c.id {
				continue
			}
			off := uint32(ref)
			h := c.syn[off]
			if h>>8 != 1 {
				continue
			}
			w := c.syn[off+1]
			wt := int32(w) >> c.weightShift
			if exp := int8(h); exp >= 0 {
				wt <<= uint(exp)
			} else {
				wt >>= uint(-exp)
			}
			gen.direct = true
			gen.dLow = w & c.lowMask
			gen.dDelay = (w >> c.delayShift) & c.delayMask
			gen.dWeight = wt
		}
	}
}

// directSpike adds k spikes of a direct generator fired at tick t to the
// slot of tick t+1+delay, where deliverRow at tick t+1 would have put them.
func (c *core) directSpike(gen *loadedGen, k int, t uint64) {
	slot := (t + 1 + uint64(gen.dDelay)) & c.slotMask
	c.acc[slot*uint64(c.kn)+uint64(gen.dLow)] += gen.dWeight * int32(k)
	c.direct += uint64(k)
	c.pendIn += uint64(k)
	c.cnt.Generated += uint64(k)
	c.cnt.Messages += uint64(k)
}

// deliverDirect counts, at the start of a tick, the previous tick's direct
// spikes as delivered: one input spike and one synaptic operation each.
func (c *core) deliverDirect() {
	c.direct = 0
	if c.pendIn == 0 {
		return
	}
	c.cnt.InputSpikes += c.pendIn
	c.cnt.Synops += c.pendIn
	c.pendIn = 0
}
