package chip

// core is one loaded core: a single-threaded state machine. Nothing in it
// starts goroutines, reads a clock or draws hidden random numbers; the
// worker that owns it calls deliver, then update, once per tick.
type core struct {
	id    uint32
	n     int // neurons
	types int
	// stride is n rounded up to a multiple of 8: per-neuron arrays hold
	// stride entries, the padding always zero, so the vector kernel runs
	// whole blocks; u and accumulator slots are type-major with this stride
	stride int
	kn     int // types·stride: the size of one accumulator slot

	// state
	v   []int32
	u   []int32 // type-major: u[k·n + i]
	ref []int32 // refractory ticks left

	// parameters
	bias     []int32  // bias_mant << bias_exp
	v0       []int32  // initial membranes, nil when all are zero (Reset)
	vmax     []int32  // readout registers, for cores with readout profiles (else nil)
	noise    []uint32 // noise keys, for cores with stochastic profiles (else nil)
	runs     []run    // neurons grouped into runs that share a profile
	profiles []Profile

	// stochastic kernel: noiseBase(seed, noise[i]) per neuron (kernel_stoch.go)
	nb noiseBases

	// dendritic accumulators: a ring of slots, each types·n wide
	acc      []int32
	slotMask uint64

	// synapse memory: for each input axon a row, one header word
	// (length << 8 | uint8(weight exponent)) and one 32-bit word per
	// synapse (see packSynapse); axons[a] is the offset of axon a's header
	axons []uint32
	syn   []uint32
	lowMask,
	delayShift, delayMask uint32
	weightShift uint32

	// fan-out: outRef[outStart[i]:outStart[i+1]] for neuron i; each ref is
	// dst core << 32 | offset of the axon's row in the dst core's synapse
	// memory, so delivery touches one cache line before the synapses
	outStart []uint32
	outRef   []uint64

	gens []loadedGen

	masks []uint8 // AVX2 kernel: fired neurons, one bit each

	pk profileKernels // updateProfileKernel's per-core state (kernel_profiles.go)

	// output ports: outCh[i] is port<<24 | channel+1 … or 0 (see System)
	outCh []uint64

	// per tick
	fired        []uint32 // neurons, then generators (as GeneratorID, once per spike), that fired this tick
	direct       uint64   // spikes of direct generators this tick (not in fired; directgen.go)
	pendIn       uint64   // direct spikes of the previous tick, counted as delivered this tick
	firedNeurons int      // fired[:firedNeurons] are neurons
	inbox        []uint32 // external input axons for this tick
	cnt          Counts   // this tick's events
	totals       Counts   // since load
	busyTotal,
	accClips uint64
	accCheck bool // some neuron's worst-case input exceeds the accumulator width
}

type run struct {
	lo, hi  int
	profile int
	kernel  *kernelConsts // non-nil: the vector kernels compute this run exactly (runKernel)
}

type loadedGen struct {
	seed                uint64 // 0: the program's seed
	prob, period, phase uint32
	key                 uint32
	counts              []uint32 // cumulative count table (Poisson sources), or nil
	outStart, outEnd    uint32   // into core.outRef
	// direct (directgen.go): the generator's one target is a one-synapse
	// row of its own core, so its spikes are added straight into the
	// accumulator slot that delivery would have used
	direct  bool
	dLow    uint32 // type·stride + neuron
	dDelay  uint32
	dWeight int32 // mantissa scaled by the row's exponent
	// base is noiseBase(baseSeed, key) when based: the generator's part of
	// Noise that does not change with the tick
	based          bool
	base, baseSeed uint64
}

// Counts, the events the cost tables price, are kept in events.go.

// packSynapse lays out one synapse word (bits 31 … 0):
//
//	+------------------+----------+---------------------------+
//	|  weight (signed) |  delay   |  type·neurons + neuron    |
//	|  weight_bits+1   | dbits    |  lowBits                  |
//	+------------------+----------+---------------------------+
//	 31                                                      0
//
// The weight sits at the top so that an arithmetic shift sign-extends it;
// unused middle bits are zero. lowBits and dbits come from the chip
// description (Config.synapseWordBits), which Validate keeps ≤ 32.
func packSynapse(low, delay uint32, weight int32, delayShift, weightShift uint32) uint32 {
	return uint32(weight)<<weightShift | delay<<delayShift | low
}

func (c *core) deliverRow(off uint32, t uint64) {
	h := c.syn[off]
	exp := int8(h)
	syn := c.syn[off+1 : off+1+h>>8]
	acc := c.acc
	mask := c.slotMask
	kn := uint64(c.kn)
	lowMask, dShift, dMask, wShift := c.lowMask, c.delayShift, c.delayMask, c.weightShift
	c.cnt.InputSpikes++
	c.cnt.Synops += uint64(len(syn))
	if mask == 0 {
		// one slot: every synapse has delay 0 (the common case)
		if exp >= 0 {
			e := uint(exp)
			for _, w := range syn {
				acc[w&lowMask] += (int32(w) >> wShift) << e
			}
		} else {
			e := uint(-exp)
			for _, w := range syn {
				acc[w&lowMask] += (int32(w) >> wShift) >> e
			}
		}
		return
	}
	for _, w := range syn {
		wt := int32(w) >> wShift
		if exp >= 0 {
			wt <<= uint(exp)
		} else {
			wt >>= uint(-exp)
		}
		slot := (t + uint64((w>>dShift)&dMask)) & mask
		acc[slot*kn+uint64(w&lowMask)] += wt
	}
}

// update runs the datapath over every neuron for tick t, reading and
// clearing accumulator slot t, and records the neurons that fired.
func (c *core) update(dp *Datapath, seed uint64, t uint64) {
	c.fired = c.fired[:0]
	slot := int((t & c.slotMask) * uint64(c.kn))
	acc := c.acc[slot : slot+c.kn]
	// Saturate (or wrap) slots that overflowed the accumulator width. The
	// emulator sums exactly in 32 bits (Load proves that no input sum can
	// overflow them) and applies the width on read; a core whose worst-case
	// input fits the width skips the scan.
	if c.accCheck {
		lo, hi := int32(dp.accMin), int32(dp.accMax)
		for i, a := range acc {
			if a < lo || a > hi {
				v, _ := dp.Acc(int64(a))
				acc[i] = int32(v)
				c.accClips++
			}
		}
	}
	for _, r := range c.runs {
		pr := &c.profiles[r.profile]
		if pr.Escape == nil && !pr.Readout && c.types == 2 && !dp.instant && dp.decay == decayMul12 && !dp.nearest {
			if r.kernel != nil && loihiKernel != kernelGo {
				c.updateLoihi2Vector(dp, pr, r.kernel, r.lo, r.hi, acc)
			} else {
				c.updateLoihi2(dp, pr, r.lo, r.hi, acc)
			}
		} else if pr.Escape != nil && useStochKernel && !pr.Readout && c.types == 2 && !dp.instant && dp.decay == decayMul12 && !dp.nearest {
			if r.kernel != nil && stochKernel != kernelGo {
				c.updateStochVector(dp, pr, r.kernel, r.lo, r.hi, acc, seed, t)
			} else {
				c.updateStoch(dp, pr, r.lo, r.hi, acc, seed, t)
			}
		} else if !c.updateProfileKernel(dp, pr, r.lo, r.hi, acc, seed, t) {
			c.updateGeneric(dp, pr, r.lo, r.hi, acc, seed, t)
		}
	}
	c.firedNeurons = len(c.fired)
	for g := range c.gens {
		gen := &c.gens[g]
		k := 0
		switch {
		case gen.counts != nil || gen.prob > 0:
			s := seed
			if gen.seed != 0 {
				s = gen.seed
			}
			if !gen.based || gen.baseSeed != s {
				// noiseBase depends on (seed, key) only: computed once
				// per seed, it leaves one finaliser per draw (noise.go)
				gen.base, gen.baseSeed, gen.based = noiseBase(s, gen.key), s, true
			}
			r := noiseAt(gen.base, t)
			if gen.counts != nil {
				r32 := uint32(r >> 32)
				for k < len(gen.counts) && gen.counts[k] <= r32 {
					k++
				}
			} else if uint32(r>>48) < gen.prob {
				k = 1
			}
		case t >= uint64(gen.phase) && (t-uint64(gen.phase))%uint64(gen.period) == 0:
			k = 1
		}
		if gen.direct && k > 0 {
			c.directSpike(gen, k, t)
			continue
		}
		for ; k > 0; k-- {
			c.fired = append(c.fired, GeneratorID(g))
			c.cnt.Generated++
		}
	}
}

// updateGeneric is Datapath.Step over a run of neurons, for any description.
func (c *core) updateGeneric(dp *Datapath, pr *Profile, lo, hi int, acc []int32, seed uint64, t uint64) {
	var st NeuronState
	var in StepInput
	n := c.stride
	for i := lo; i < hi; i++ {
		active := false
		for k := 0; k < c.types; k++ {
			a := acc[k*n+i]
			acc[k*n+i] = 0
			in.A[k] = int64(a)
			st.U[k] = c.u[k*n+i]
			active = active || a != 0
		}
		st.V = c.v[i]
		st.Ref = c.ref[i]
		if c.vmax != nil {
			st.VMax = c.vmax[i]
		}
		in.Bias = int64(c.bias[i])
		if pr.Escape != nil {
			in.Rand = Rand16(seed, c.noise[i], t)
		}
		fired := dp.Step(&st, pr, &in)
		for k := 0; k < c.types; k++ {
			c.u[k*n+i] = st.U[k]
		}
		c.v[i] = st.V
		c.ref[i] = st.Ref
		if c.vmax != nil {
			c.vmax[i] = st.VMax
		}
		switch {
		case fired:
			c.cnt.NeuronFire++
			c.fired = append(c.fired, uint32(i))
		case active:
			c.cnt.NeuronActive++
		default:
			c.cnt.NeuronIdle++
		}
	}
}

// updateLoihi2 is the specialised loop for the common case: deterministic
// neurons, two decaying synapse types, mul12 decay truncated toward zero.
// It computes exactly what Datapath.Step computes (TestFastPathMatchesStep).
func (c *core) updateLoihi2(dp *Datapath, pr *Profile, lo, hi int, acc []int32) {
	n := c.stride
	f0 := int64(4096 - int32(pr.Du[0]) - dp.uOffset)
	f1 := int64(4096 - int32(pr.Du[1]) - dp.uOffset)
	fv := int64(4096 - int32(pr.Dv))
	vth := int64(pr.Vth) << dp.vthShift
	if dp.ge {
		vth-- // v ≥ vth  ⇔  v > vth−1
	}
	sh := dp.actShift
	uWrap, vWrap := dp.uWrap, dp.vWrap
	ush := 64 - dp.uBits
	vsh := 64 - dp.vBits
	uMin, uMax, vMin, vMax := dp.uMin, dp.uMax, dp.vMin, dp.vMax
	subtract := dp.subtract
	refr := int32(pr.Refractory)
	vs := c.v[lo:hi]
	refs := c.ref[lo:hi:hi]
	bias := c.bias[lo:hi:hi]
	a0s := acc[lo:hi:hi]
	a1s := acc[n+lo : n+hi : n+hi]
	u0s := c.u[lo:hi:hi]
	u1s := c.u[n+lo : n+hi : n+hi]
	var idle, active uint64
	for j := range vs {
		a0, a1 := a0s[j], a1s[j]
		a0s[j], a1s[j] = 0, 0
		// trunc(p / 4096) toward zero: add 4095 to negative products
		p := int64(u0s[j]) * f0
		u0 := (p+(p>>63&4095))>>12 + int64(a0)<<sh
		p = int64(u1s[j]) * f1
		u1 := (p+(p>>63&4095))>>12 + int64(a1)<<sh
		if uWrap {
			u0 = u0 << ush >> ush
			u1 = u1 << ush >> ush
		} else {
			u0 = min(max(u0, uMin), uMax)
			u1 = min(max(u1, uMin), uMax)
		}
		u0s[j], u1s[j] = int32(u0), int32(u1)
		if a0|a1 != 0 {
			active++
		} else {
			idle++
		}
		if refs[j] > 0 {
			refs[j]--
			continue
		}
		p = int64(vs[j]) * fv
		v := (p+(p>>63&4095))>>12 + u0 + u1 + int64(bias[j])
		if vWrap {
			v = v << vsh >> vsh
		} else {
			v = min(max(v, vMin), vMax)
		}
		if v > vth {
			if subtract {
				v -= int64(pr.Vth) << dp.vthShift
				if vWrap {
					v = v << vsh >> vsh
				} else {
					v = min(max(v, vMin), vMax)
				}
			} else {
				v = 0
			}
			refs[j] = refr
			c.fired = append(c.fired, uint32(lo+j))
			// a firing neuron was counted as active or idle above; move it
			if a0|a1 != 0 {
				active--
			} else {
				idle--
			}
		}
		vs[j] = int32(v)
	}
	c.cnt.NeuronIdle += idle
	c.cnt.NeuronActive += active
	c.cnt.NeuronFire += uint64(hi-lo) - idle - active
}

// refsOf returns the fan-out of a fired neuron or generator (GeneratorID).
func (c *core) refsOf(f uint32) []uint64 {
	if f&(1<<31) != 0 {
		g := &c.gens[f&^(1<<31)]
		return c.outRef[g.outStart:g.outEnd]
	}
	return c.outRef[c.outStart[f]:c.outStart[f+1]]
}

// memoryBytes is the memory the loaded core holds, split into per-neuron
// state and parameters, synapse memory and fan-out tables.
func (c *core) memoryBytes() (neuron, synapse, fanout int) {
	neuron = 4*len(c.v) + 4*len(c.v0) + 4*len(c.vmax) + 8*len(c.nb.x) + 4*len(c.nb.r) + 8*len(c.nb.s) + 4*len(c.u) + 4*len(c.ref) + 4*len(c.bias) + 4*len(c.noise) + 4*len(c.acc) + 4*len(c.outStart) + 8*len(c.outCh)
	synapse = 4*len(c.syn) + 4*len(c.axons)
	fanout = 8 * len(c.outRef)
	return
}
