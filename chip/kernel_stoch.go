package chip

import "slices"

// The stochastic kernels: updateLoihi2's datapath (two decaying synapse
// types, mul12 decay truncated toward zero) with the escape-table decision
// of Datapath.Step, and the noise split as noise.go allows it: the part of
// Noise that depends on (seed, key) only is computed once per neuron and
// seed (seedNoise), leaving one SplitMix64 finaliser per draw. Runs whose
// numbers fit 32-bit lanes (runKernel) take a vector kernel — stochAVX512
// or stochAVX2, as stochKernel says — and the others, and every run on a
// CPU without them, the portable loop updateStoch.

// useStochKernel lets tests and benchmarks compare the stochastic kernels
// with what the core runs without them (updateProfileKernel, then
// updateGeneric).
var useStochKernel = true

// noiseBases are a core's per-neuron noise bases, noiseBase(seed, noise[i]),
// and the seed they were computed under.
type noiseBases struct {
	seed uint64
	x    []uint64 // stride entries; nil until seeded
	// scratch of updateStoch's passes
	r []uint32 // this tick's draws, Rand16(seed, noise[i], t)
	s []int64  // Σ_k u_k + bias, the membrane's input
}

// seedNoise computes the core's noise bases under seed. Load and Reset(seed)
// should call it, to do the work before the first tick; updateStoch calls
// it itself whenever it finds the bases missing or computed under another
// seed, so no draw depends on whether they did.
func (c *core) seedNoise(seed uint64) {
	if c.noise == nil {
		return
	}
	if c.nb.x == nil {
		c.nb.x = make([]uint64, len(c.noise))
	}
	for i, k := range c.noise {
		c.nb.x[i] = noiseBase(seed, k)
	}
	c.nb.seed = seed
}

// updateStoch is Datapath.Step over a run of stochastic neurons of the
// common datapath (the Loihi-class presets): updateLoihi2's currents and
// membranes with the escape-table decision
//
//	fire = rand16 < Table[clamp(((v − vth<<vth_shift) >> Shift) + Offset)].
//
// It computes exactly what updateGeneric computes, counts included
// (TestStochFastPathMatchesStep), in three passes over the run: the draws
// (independent multiplies that pipeline), the currents, and the membranes
// without data-dependent branches (refractory holds, spikes and the table
// index clamp are random, so branches on them would mispredict).
func (c *core) updateStoch(dp *Datapath, pr *Profile, lo, hi int, acc []int32, seed, t uint64) {
	if c.nb.x == nil || c.nb.seed != seed {
		c.seedNoise(seed)
	}
	if c.nb.r == nil {
		// scratch of the passes, which the vector kernel does not need
		c.nb.r = make([]uint32, len(c.noise))
		c.nb.s = make([]int64, len(c.noise))
	}
	n := c.stride
	rnd := c.nb.r[lo:hi:hi]
	in := c.nb.s[lo:hi:hi]
	rand16s(rnd, c.nb.x[lo:hi:hi], t)
	stochCurrents(dp, pr, in, acc[lo:hi:hi], acc[n+lo:n+hi:n+hi], c.u[lo:hi:hi], c.u[n+lo:n+hi:n+hi], c.bias[lo:hi:hi])
	// room for every neuron of the run to fire: the membrane pass writes
	// each index and keeps the firing ones (grows once; no allocation in
	// steady state)
	m := hi - lo
	c.fired = slices.Grow(c.fired, m)
	k := len(c.fired)
	fires, active := stochMembranes(dp, pr, c.fired[k:k+m], uint32(lo), c.v[lo:hi:hi], c.ref[lo:hi:hi], in, rnd)
	c.fired = c.fired[:k+fires]
	c.cnt.NeuronFire += uint64(fires)
	c.cnt.NeuronActive += active
	c.cnt.NeuronIdle += uint64(m-fires) - active
}

// updateStochVector runs the vector kernel stochKernel names over a run of
// stochastic neurons; k is the run's kernelConsts (runKernel).
func (c *core) updateStochVector(dp *Datapath, pr *Profile, k *kernelConsts, lo, hi int, acc []int32, seed, t uint64) {
	if c.nb.x == nil || c.nb.seed != seed {
		c.seedNoise(seed)
	}
	if stochKernel == kernelAVX512 {
		c.updateStochAVX512(pr, k, lo, hi, acc, t)
		return
	}
	c.updateStochAVX2(dp, pr, k, lo, hi, acc, seed, t)
}

// updateStochAVX512 is updateStoch in one pass of the AVX-512 kernel
// (stochAVX512): draws, currents, membranes and the escape decision sixteen
// neurons at a time, the run's tail under a lane mask, the table read with
// a gather, the firing neurons' indices compressed into c.fired.
func (c *core) updateStochAVX512(pr *Profile, k *kernelConsts, lo, hi int, acc []int32, t uint64) {
	m := hi - lo
	buf := c.firedRoom(m)
	idle, fires := stochAVX512(&acc[lo], &c.u[lo], &c.v[lo], &c.bias[lo], &c.ref[lo], c.stride, &buf[0], m, lo, k,
		&c.nb.x[lo], (t+1)*noisePsi, &pr.Escape.Table[0])
	c.fired = c.fired[:len(c.fired)+fires]
	c.cnt.NeuronIdle += uint64(idle)
	c.cnt.NeuronActive += uint64(m - idle - fires)
	c.cnt.NeuronFire += uint64(fires)
}

// updateStochAVX2 runs stochAVX2 over whole blocks of eight neurons (the
// fired neurons scanned from its bit masks) and updateStoch over the rest:
// padding lanes cannot be taken here, since a zero membrane may fire.
func (c *core) updateStochAVX2(dp *Datapath, pr *Profile, k *kernelConsts, lo, hi int, acc []int32, seed, t uint64) {
	blocks := (hi - lo) / 8
	if blocks > 0 {
		if len(c.masks) < blocks+8 {
			c.masks = make([]uint8, blocks+8) // whole 64-bit words to scan
		}
		n := c.stride
		zeroIn, zeroInFired := stochAVX2(&acc[lo], &c.u[lo], &c.v[lo], &c.bias[lo], &c.ref[lo], n, &c.masks[0], blocks, k,
			&c.nb.x[lo], (t+1)*noisePsi, &pr.Escape.Table[0])
		fired := c.scanMasks(lo, blocks)
		c.cnt.NeuronIdle += uint64(zeroIn - zeroInFired)
		c.cnt.NeuronActive += uint64(blocks*8-zeroIn) - uint64(fired-zeroInFired)
		c.cnt.NeuronFire += uint64(fired)
	}
	if rest := lo + blocks*8; rest < hi {
		c.updateStoch(dp, pr, rest, hi, acc, seed, t)
	}
}

// rand16s sets r[i] to the draw of the neuron with noise base bases[i] at
// tick t: Rand16 = noiseAt(base, t) >> 48, the multiply by ψ hoisted.
func rand16s(r []uint32, bases []uint64, t uint64) {
	tp := (t + 1) * noisePsi
	r = r[:len(bases)]
	for i, b := range bases {
		r[i] = uint32(Mix64(b+tp) >> 48)
	}
}

// stochCurrents is the current pass: u_k = decay(u_k) + (a_k << act_shift),
// fitted to u_bits, accumulators cleared, and in[j] = (u₀ + u₁ + bias) << 1 |
// (neuron had input), the membrane pass's input.
func stochCurrents(dp *Datapath, pr *Profile, in []int64, a0s, a1s, u0s, u1s, bias []int32) {
	f0 := int64(4096 - int32(pr.Du[0]) - dp.uOffset)
	f1 := int64(4096 - int32(pr.Du[1]) - dp.uOffset)
	sh := dp.actShift & 63
	ush := (64 - dp.uBits) & 63
	uMin, uMax := dp.uMin, dp.uMax
	in = in[:len(bias)]
	a0s, a1s, u0s, u1s = a0s[:len(bias)], a1s[:len(bias)], u0s[:len(bias)], u1s[:len(bias)]
	// x/4096 truncates toward zero, as mul12 "trunc" does
	if dp.uWrap {
		for j, b := range bias {
			a0, a1 := a0s[j], a1s[j]
			u0 := (int64(u0s[j])*f0/4096 + int64(a0)<<sh) << ush >> ush
			u1 := (int64(u1s[j])*f1/4096 + int64(a1)<<sh) << ush >> ush
			x := uint32(a0 | a1)
			in[j] = (u0+u1+int64(b))<<1 | int64((x|-x)>>31)
			a0s[j], a1s[j] = 0, 0
			u0s[j], u1s[j] = int32(u0), int32(u1)
		}
		return
	}
	for j, b := range bias {
		a0, a1 := a0s[j], a1s[j]
		u0 := min(max(int64(u0s[j])*f0/4096+int64(a0)<<sh, uMin), uMax)
		u1 := min(max(int64(u1s[j])*f1/4096+int64(a1)<<sh, uMin), uMax)
		x := uint32(a0 | a1)
		in[j] = (u0+u1+int64(b))<<1 | int64((x|-x)>>31)
		a0s[j], a1s[j] = 0, 0
		u0s[j], u1s[j] = int32(u0), int32(u1)
	}
}

// stochMembranes is the membrane pass: v = decay(v) + input, fitted to
// v_bits, held while refractory, and the escape-table decision with its
// reset. It writes lo+j to fired[k] for every neuron j and advances k past
// the firing ones, and returns their number and that of the neurons that
// had input but did not fire.
func stochMembranes(dp *Datapath, pr *Profile, fired []uint32, lo uint32, vs, refs []int32, in []int64, rnd []uint32) (fires int, active uint64) {
	fv := int64(4096 - int32(pr.Dv))
	vth := int64(pr.Vth) << dp.vthShift
	table := pr.Escape.Table
	eShift := uint(pr.Escape.Shift) & 63
	eOff := int64(pr.Escape.Offset)
	eLast := int64(len(table) - 1)
	vsh := (64 - dp.vBits) & 63
	vMin, vMax := dp.vMin, dp.vMax
	if dp.vWrap {
		vMin, vMax = -1<<62, 1<<62 // the shifts wrap; no-op bounds clampBF cannot overflow on
	} else {
		vsh = 0
	}
	// reset: v − vth (subtract) or v·0 (zero), fitted
	keep := int64(0)
	if dp.subtract {
		keep = -1
	}
	refr := int32(pr.Refractory)
	refs, in, rnd, fired = refs[:len(vs)], in[:len(vs)], rnd[:len(vs)], fired[:len(vs)]
	k := 0
	for j, v32 := range vs {
		// masks are −1 or 0: held (refractory: v kept), fire (rand16 < entry)
		r := refs[j]
		s := in[j]
		held := int64(-r) >> 63
		vOld := int64(v32)
		v := vOld*fv/4096 + s>>1 // mul12, truncated toward zero
		v = clampBF(v<<vsh>>vsh, vMin, vMax)
		i := clampBF((v-vth)>>eShift+eOff, 0, eLast)
		fire := (int64(rnd[j]) - int64(table[i])) >> 63 &^ held
		vr := clampBF((v-vth)<<vsh>>vsh, vMin, vMax) & keep
		v ^= (v ^ vr) & fire
		v ^= (v ^ vOld) & held
		vs[j] = int32(v)
		refs[j] = (r-1)&int32(held) | refr&int32(fire)
		fired[k] = lo + uint32(j)
		f := int(fire & 1)
		k += f
		active += uint64(s&1) &^ uint64(f)
	}
	return k, active
}

// clampBF is clamp(x, lo, hi) without branches, for values whose clamp is
// data dependent (an escape-table index, a saturating membrane): x − hi and
// x − lo must not overflow.
func clampBF(x, lo, hi int64) int64 {
	d := x - hi
	x -= d &^ (d >> 63) // x > hi: x = hi
	d = x - lo
	x -= d & (d >> 63) // x < lo: x = lo
	return x
}
