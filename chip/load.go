package chip

import (
	"fmt"
)

// Load checks p against cfg and loads it: state initialised, synapses
// packed, accumulators cleared, tick 0.
func Load(cfg *Config, p *Program, opt Options) (*System, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("chip: %w", err)
	}
	if err := p.Check(cfg); err != nil {
		return nil, fmt.Errorf("chip: program does not fit %s: %w", cfg.Name, err)
	}
	s := &System{cfg: cfg, dp: NewDatapath(cfg), seed: p.Seed}
	for i := range p.Cores {
		c, err := s.loadCore(uint32(i), &p.Cores[i])
		if err != nil {
			return nil, err
		}
		s.cores = append(s.cores, c)
	}
	for i := range p.Cores {
		s.linkFanout(s.cores[i], &p.Cores[i])
	}
	for _, in := range p.Inputs {
		s.inputs = append(s.inputs, in.Channels)
	}
	for pi, out := range p.Outputs {
		for ch, r := range out.Neurons {
			c := s.cores[r.Core]
			if c.outCh == nil {
				c.outCh = make([]uint64, c.n)
			}
			c.outCh[r.Neuron] = uint64(pi)<<32 | uint64(ch) + 1
		}
	}
	w := opt.Workers
	if w <= 0 {
		w = s.autoWorkers() // workers.go
	}
	w = max(1, min(w, len(s.cores)))
	s.workers = w
	s.partition()
	for par := range s.outbox {
		s.outbox[par] = make([][][]uint64, w)
		for v := range w {
			s.outbox[par][v] = make([][]uint64, w)
		}
	}
	s.ws = make([]workerTick, w)
	if err := s.buildNetwork(opt.Network); err != nil {
		return nil, err
	}
	s.directGenerators()
	return s, nil
}

// partition gives each worker a contiguous block of cores of about equal
// work (neurons + synapses). Any partition gives the same results.
func (s *System) partition() {
	weight := func(c *core) int { return c.n + len(c.syn)/4 + 1 }
	total := 0
	for _, c := range s.cores {
		total += weight(c)
	}
	s.owner = make([]int, len(s.cores))
	s.owned = make([][]int, s.workers)
	acc, w := 0, 0
	for i, c := range s.cores {
		// move to the next worker once this one has its share, keeping at
		// least one core for each remaining worker
		if w < s.workers-1 && (acc*s.workers >= total*(w+1) || len(s.cores)-i <= s.workers-1-w) && len(s.owned[w]) > 0 {
			w++
		}
		s.owner[i] = w
		s.owned[w] = append(s.owned[w], i)
		acc += weight(c)
	}
}

func (s *System) loadCore(id uint32, cp *CoreProgram) (*core, error) {
	cfg, dp := s.cfg, s.dp
	types := cfg.Neuron.SynapseTypes
	n := len(cp.Neurons)
	stride := (n + 7) &^ 7
	c := &core{id: id, n: n, types: types, stride: stride, kn: types * stride}
	c.v = make([]int32, stride)
	c.u = make([]int32, types*stride)
	c.ref = make([]int32, stride)
	c.bias = make([]int32, stride)
	c.profiles = append([]Profile(nil), cp.Profiles...)
	for _, pr := range cp.Profiles {
		if pr.Escape != nil && c.noise == nil {
			c.noise = make([]uint32, stride)
		}
		if pr.Readout && c.vmax == nil {
			c.vmax = make([]int32, stride)
			for i := range c.vmax {
				c.vmax[i] = VMaxStart
			}
		}
	}
	for i := range cp.Neurons {
		nr := &cp.Neurons[i]
		c.v[i] = nr.V
		if nr.V != 0 && c.v0 == nil {
			c.v0 = make([]int32, stride)
		}
		if c.v0 != nil {
			c.v0[i] = nr.V
		}
		if c.noise != nil {
			c.noise[i] = nr.NoiseKey
		}
		c.bias[i] = nr.BiasMant << nr.BiasExp // fits: Check
		if i == 0 || int(nr.Profile) != c.runs[len(c.runs)-1].profile {
			c.runs = append(c.runs, run{lo: i, hi: i + 1, profile: int(nr.Profile)})
		} else {
			c.runs[len(c.runs)-1].hi = i + 1
		}
	}

	for i := range c.runs {
		r := &c.runs[i]
		pr := &c.profiles[r.profile]
		r.kernel = c.runKernel(dp, pr, r.lo, r.hi)
	}

	// synapse memory
	lowBits := uint32(bitsFor(types*padNeurons(cfg.Core.Neurons) - 1))
	dBits := uint32(bitsFor(cfg.Synapse.MaxDelay))
	c.lowMask = uint32(1)<<lowBits - 1
	c.delayShift = lowBits
	c.delayMask = uint32(1)<<dBits - 1
	c.weightShift = 32 - uint32(cfg.Synapse.WeightBits+1)
	maxDelay := 0
	total := 0
	for a := range cp.Axons {
		total += len(cp.Axons[a].Synapses)
	}
	c.syn = make([]uint32, 0, total+len(cp.Axons))
	c.axons = make([]uint32, len(cp.Axons))
	worst := make([]int64, types*stride) // worst-case |input| per (type, neuron)
	for a := range cp.Axons {
		ax := &cp.Axons[a]
		c.axons[a] = uint32(len(c.syn))
		c.syn = append(c.syn, uint32(len(ax.Synapses))<<8|uint32(uint8(ax.WeightExp)))
		for _, sy := range ax.Synapses {
			low := uint32(sy.Type)*uint32(stride) + sy.Neuron
			c.syn = append(c.syn, packSynapse(low, uint32(sy.Delay), sy.Weight, c.delayShift, c.weightShift))
			maxDelay = max(maxDelay, int(sy.Delay))
			w := int64(sy.Weight)
			if w < 0 {
				w = -w
			}
			if ax.WeightExp >= 0 {
				w <<= uint(ax.WeightExp)
			} else {
				w >>= uint(-ax.WeightExp)
			}
			worst[low] += w
		}
	}
	for i, w := range worst {
		if w > int64(dp.accMax) {
			c.accCheck = true
		}
		if w > 1<<31-1 {
			return nil, &ResourceError{int(id), fmt.Sprintf("neuron %d type %d worst-case input sum", i%stride, i/stride), w,
				"2^31−1 (the emulator's 32-bit accumulators; lower weights, exponents or fan-in)"}
		}
	}
	slots := 1
	for slots < maxDelay+1 {
		slots <<= 1
	}
	c.slotMask = uint64(slots - 1)
	c.acc = make([]int32, slots*c.kn)

	return c, nil
}

// linkFanout resolves a core's output axons to (destination core, row
// offset) once every core's synapse memory is laid out.
func (s *System) linkFanout(c *core, cp *CoreProgram) {
	ref := func(r AxonRef) uint64 { return uint64(r.Core)<<32 | uint64(s.cores[r.Core].axons[r.Axon]) }
	c.outStart = make([]uint32, c.n+1)
	for i := range cp.Neurons {
		c.outStart[i] = uint32(len(c.outRef))
		for _, r := range cp.Neurons[i].Out {
			c.outRef = append(c.outRef, ref(r))
		}
	}
	c.outStart[c.n] = uint32(len(c.outRef))
	for g := range cp.Generators {
		gen := &cp.Generators[g]
		lg := loadedGen{seed: gen.Seed, prob: gen.Prob, period: gen.Period, phase: gen.Phase, key: gen.NoiseKey,
			counts: append([]uint32(nil), gen.Counts...), outStart: uint32(len(c.outRef))}
		if len(gen.Counts) == 0 {
			lg.counts = nil
		}
		for _, r := range gen.Out {
			c.outRef = append(c.outRef, ref(r))
		}
		lg.outEnd = uint32(len(c.outRef))
		c.gens = append(c.gens, lg)
	}
}

// Reset starts the system again at tick 0 from its initial state — every
// membrane at its program value, currents, refractory counters,
// accumulators and pending messages and input cleared — under a new noise
// seed, without reloading synapses: what a sample of an inference run needs
// (each sample from the state the trainer assumes, with its own seed).
// Accounting (Stats) and probes keep accumulating across resets.
func (s *System) Reset(seed uint64) {
	s.seed = seed
	s.tick = 0
	for _, c := range s.cores {
		if c.v0 != nil {
			copy(c.v, c.v0)
		} else {
			clear(c.v)
		}
		clear(c.u)
		clear(c.ref)
		clear(c.acc)
		for i := range c.vmax {
			c.vmax[i] = VMaxStart
		}
		c.inbox = c.inbox[:0]
		c.fired = c.fired[:0]
		c.firedNeurons = 0
		c.direct, c.pendIn = 0, 0
	}
	for par := range s.outbox {
		for _, row := range s.outbox[par] {
			for w := range row {
				row[w] = row[w][:0]
			}
		}
	}
}
