package chip

import "slices"

// The profile kernels: Datapath.Step over a run of neurons for every
// datapath that updateLoihi2 and updateStoch do not take — shift decay
// (Xylo), instant currents and linear leak with four synapse types
// (TrueNorth), mul12 rounded to nearest on 32-bit saturating states
// (SpiNNaker), readout profiles, any number of synapse types, and the
// stochastic (escape-table) variant of each. They key on the datapath's
// modes, never on a preset's name, and compute exactly what updateGeneric
// computes: states, readout registers, spikes and counts
// (TestProfileKernelsMatchStep, TestProfileKernelsSystem).
//
// The portable form is a set of passes over the run, each doing one thing
// for every neuron with the modes decided once per pass, not per neuron:
//
//  1. membrane input: in[j] = decay(v[j], dv) + bias[j] (a loop per decay
//     mode), act[j] = 0;
//  2. per synapse type k: u_k = decay(u_k, du_k + offset) + a_k << act_shift
//     (a_k << act_shift for instant currents), fitted to u_bits; the
//     accumulator cleared, in[j] += u_k, act[j] |= a_k;
//  3. for stochastic profiles, the draws: the noise bases of noise.go,
//     computed once per neuron and seed, then one finaliser per draw;
//  4. the membrane: v = fit(in[j]) unless refractory, then the threshold,
//     escape-table or readout decision and the reset, without branches on
//     the data (spikes, holds and saturation are data dependent).
//
// Everything is computed on 64-bit intermediates, so every product and sum
// of 32-bit states (SpiNNaker's u·(4096 − d) reaches 2^43) is exact.
// Wrapping and saturation share one form, x<<s>>s clamped to [lo, hi]:
// wrapping takes s = 64 − bits and bounds that never bind, saturation s = 0
// and the symmetric bounds.
//
// Where the CPU has AVX-512 (F, DQ, BW, VL), the draws and a fused kernel
// that does passes 1, 2 and 4 in one loop (the membrane input never leaves
// a register; spikes are compressed straight into the fired list) run the
// run's whole vector blocks (kernel_profiles_amd64.s): sixteen neurons in
// 32-bit lanes where fits32 proves from the widths and the core's biases
// that every intermediate fits them (Xylo, TrueNorth, Loihi-class readouts;
// mul12 split as the AVX2 kernel splits it), then eight in 64-bit
// lanes (SpiNNaker's 32-bit states); the Go passes
// take the last few neurons. No block needs the run to start on a block
// boundary, and none touches the padding lanes.

// useProfileKernel lets tests and benchmarks compare the profile kernels
// with updateGeneric.
var useProfileKernel = true

// profileKernels is updateProfileKernel's per-core state: scratch of the
// passes, allocated at the first call, and its own noise bases (c.nb
// belong to updateStoch, whose test checks that it alone fills them).
type profileKernels struct {
	in  []int64  // decay(v) + bias + Σ_k u_k: the membrane's input
	act []int32  // OR of the run's accumulator values: nonzero if it had input
	r   []uint32 // this tick's draws

	// witnesses for tests: calls that ran the kernels, and neurons the
	// 32-bit fused kernel updated
	runs, lanes32 uint64

	biasKnown bool  // biasMax computed (the biases never change after Load)
	biasMax   int64 // the core's largest |bias|

	seeded bool
	seed   uint64
	bases  []uint64 // noiseBase(seed, noise[i])
}

// profConsts are a pass's constants: kv the membrane's, ku the currents'
// (fusedVec copies them into the vector kernel's fusedConsts).
type profConsts struct {
	f      int64 // mul12: 4096 − d; shift: d (≤ 63); linear: d
	sh     int64 // act_shift (currents)
	fitSh  int64 // 64 − bits when wrapping, else 0
	lo, hi int64 // fit bounds (never binding when wrapping)
	// membrane pass
	cmp, vth, keep, refr int64
	eShift, eOff, eLast  int64
}

const (
	passMul12 = iota
	passMul12Nearest
	passShift
	passLinear
	passNone
	passInstant // currents only: u = a << act_shift
)

func decayPass(dp *Datapath) int {
	switch dp.decay {
	case decayMul12:
		if dp.nearest {
			return passMul12Nearest
		}
		return passMul12
	case decayShift:
		return passShift
	case decayLinear:
		return passLinear
	}
	return passNone
}

// decayConst is the constant a pass takes for decay constant d.
func decayConst(mode int, d int32) int64 {
	switch mode {
	case passMul12, passMul12Nearest:
		return int64(4096 - d)
	case passShift:
		return int64(min(d, 63)) // x >> d is x's sign for any d ≥ 63
	}
	return int64(d)
}

func fitConsts(k *profConsts, wrap bool, bits uint, lo, hi int64) {
	if wrap {
		k.fitSh, k.lo, k.hi = int64(64-bits), -1<<62, 1<<62
	} else {
		k.fitSh, k.lo, k.hi = 0, lo, hi
	}
}

// updateProfileKernel runs the profile kernels over the run [lo, hi) and
// reports whether it did; when it returns false the core runs
// updateGeneric.
func (c *core) updateProfileKernel(dp *Datapath, pr *Profile, lo, hi int, acc []int32, seed, t uint64) bool {
	if !useProfileKernel || hi <= lo {
		return false
	}
	pk := &c.pk
	pk.runs++
	if pk.in == nil {
		pk.in = make([]int64, c.stride)
		pk.act = make([]int32, c.stride)
	}
	n := c.stride
	m := hi - lo
	mode := decayPass(dp)
	cmode := mode
	if dp.instant {
		cmode = passInstant
	}

	// kv: the membrane's constants; ku: the currents' (f per type in fu)
	var kv, ku profConsts
	kv.f = decayConst(mode, int32(pr.Dv))
	fitConsts(&kv, dp.vWrap, dp.vBits, dp.vMin, dp.vMax)
	vth := int64(pr.Vth) << dp.vthShift
	kv.vth, kv.cmp = vth, vth
	if dp.ge {
		kv.cmp-- // v ≥ vth ⇔ v > vth − 1
	}
	if dp.subtract {
		kv.keep = -1
	}
	kv.refr = int64(pr.Refractory)
	fitConsts(&ku, dp.uWrap, dp.uBits, dp.uMin, dp.uMax)
	ku.sh = int64(dp.actShift)
	var fu [4]int64
	for ty := 0; ty < c.types; ty++ {
		fu[ty] = decayConst(cmode, int32(pr.Du[ty])+dp.uOffset)
	}

	// 3. the draws, first: the fused vector kernel reads them
	var rnd, table []uint32
	if pr.Escape != nil && !pr.Readout {
		if pk.bases == nil {
			pk.bases = make([]uint64, c.stride)
			pk.r = make([]uint32, c.stride)
		}
		if !pk.seeded || pk.seed != seed {
			for i, key := range c.noise {
				pk.bases[i] = noiseBase(seed, key)
			}
			pk.seed, pk.seeded = seed, true
		}
		rnd = pk.r[lo:hi:hi]
		bases := pk.bases[lo:hi:hi]
		j := rand16sVec(rnd, bases, t)
		for i, x := range bases[j:] {
			rnd[j+i] = uint32(noiseAt(x, t) >> 48) // Rand16
		}
		e := pr.Escape
		kv.eShift, kv.eOff, kv.eLast = int64(e.Shift), int64(e.Offset), int64(len(e.Table)-1)
		table = e.Table
	}

	var fired []uint32
	f := len(c.fired)
	if !pr.Readout {
		// room for every neuron of the run to fire, and for the vector
		// kernel's last whole-vector store (grows once; no allocation in
		// steady state)
		c.fired = slices.Grow(c.fired, m+16)
		fired = c.fired[f : f+m+16]
	}
	// passes 1, 2 and 4 fused, over the run's whole vector blocks: of
	// sixteen neurons in 32-bit lanes where they are exact, then of eight
	var fires int
	var active uint64
	j := 0
	for _, lanes32 := range [2]bool{c.fits32(dp, pr, &kv), false} {
		if !lanes32 && m-j < 8 {
			break
		}
		l := lo + j
		var vmax []int32
		var fd, rs []uint32
		if pr.Readout {
			vmax = c.vmax[l:hi:hi]
		} else {
			fd = fired[fires:]
		}
		if rnd != nil {
			rs = rnd[j:]
		}
		f1, a1, d := fusedVec(lanes32, mode, cmode, &fu, c.types, n, &kv, &ku, fd, uint32(l),
			c.v[l:hi:hi], c.bias[l:hi:hi], c.ref[l:hi:hi], c.u[l:], acc[l:], vmax, rs, table)
		fires += f1
		active += a1
		j += d
		if lanes32 {
			pk.lanes32 += uint64(d)
		}
	}
	if j < m {
		l := lo + j
		in, act := pk.in[l:hi:hi], pk.act[l:hi:hi]
		vs, refs := c.v[l:hi:hi], c.ref[l:hi:hi]
		membraneInput(mode, &kv, in, act, vs, c.bias[l:hi:hi])
		for ty := 0; ty < c.types; ty++ {
			ku.f = fu[ty]
			currents(cmode, &ku, in, act, c.u[ty*n+l:ty*n+hi:ty*n+hi], acc[ty*n+l:ty*n+hi:ty*n+hi])
		}
		var f2 int
		var a2 uint64
		switch {
		case pr.Readout:
			a2 = readoutMembranes(&kv, vs, refs, c.vmax[l:hi:hi], in, act)
		case rnd != nil:
			f2, a2 = escapeMembranes(&kv, fired[fires:], uint32(l), vs, refs, in, act, rnd[j:], table)
		default:
			f2, a2 = thresholdMembranes(&kv, fired[fires:], uint32(l), vs, refs, in, act)
		}
		fires += f2
		active += a2
	}
	if !pr.Readout {
		c.fired = c.fired[:f+fires]
	}
	c.cnt.NeuronFire += uint64(fires)
	c.cnt.NeuronActive += active
	c.cnt.NeuronIdle += uint64(m-fires) - active
	return true
}

// membraneInput is pass 1: in[j] = decay(v[j]) + bias[j], act[j] = 0.
func membraneInput(mode int, k *profConsts, in []int64, act, vs, bias []int32) {
	in, act, bias = in[:len(vs)], act[:len(vs)], bias[:len(vs)]
	clear(act)
	f := k.f
	switch mode {
	case passMul12:
		for j, v := range vs {
			in[j] = int64(v)*f/4096 + int64(bias[j]) // x/4096 truncates toward zero
		}
	case passMul12Nearest:
		for j, v := range vs {
			in[j] = mul12Nearest(int64(v), f) + int64(bias[j])
		}
	case passShift:
		d := uint(f) & 63
		for j, v := range vs {
			in[j] = shiftDecayBF(int64(v), d) + int64(bias[j])
		}
	case passLinear:
		for j, v := range vs {
			x := int64(v)
			in[j] = x - min(max(x, -f), f) + int64(bias[j])
		}
	default:
		for j, v := range vs {
			in[j] = int64(v) + int64(bias[j])
		}
	}
}

// mul12Nearest is sign(x)·((|x|·f + 2048) >> 12), computed as
// (p + 2048 − [p < 0]) >> 12 with p = x·f: for p < 0 the floor of
// (p + 2047)/4096 is −((−p + 2048) >> 12).
func mul12Nearest(x, f int64) int64 {
	p := x * f
	return (p + 2048 + p>>63) >> 12
}

// shiftDecayBF is shiftDecay without branches: x − (x >> d), the
// decrement 1 where it would be 0 for a positive x; for x ≤ 0, x >> d ≥ x,
// so max(x >> d, min(x, 1)) is the decrement for every x.
func shiftDecayBF(x int64, d uint) int64 {
	return x - max(x>>(d&63), min(x, 1))
}

// currents is pass 2 for one synapse type.
func currents(mode int, k *profConsts, in []int64, act, us, as []int32) {
	in, act, as = in[:len(us)], act[:len(us)], as[:len(us)]
	f, sh, fs, lo, hi := k.f, uint(k.sh)&63, uint(k.fitSh)&63, k.lo, k.hi
	switch mode {
	case passInstant:
		for j, a := range as {
			u := min(max((int64(a)<<sh)<<fs>>fs, lo), hi)
			us[j] = int32(u)
			in[j] += u
			act[j] |= a
			as[j] = 0
		}
	case passMul12:
		for j, a := range as {
			u := min(max((int64(us[j])*f/4096+int64(a)<<sh)<<fs>>fs, lo), hi)
			us[j] = int32(u)
			in[j] += u
			act[j] |= a
			as[j] = 0
		}
	case passMul12Nearest:
		for j, a := range as {
			u := min(max((mul12Nearest(int64(us[j]), f)+int64(a)<<sh)<<fs>>fs, lo), hi)
			us[j] = int32(u)
			in[j] += u
			act[j] |= a
			as[j] = 0
		}
	case passShift:
		d := uint(f) & 63
		for j, a := range as {
			u := min(max((shiftDecayBF(int64(us[j]), d)+int64(a)<<sh)<<fs>>fs, lo), hi)
			us[j] = int32(u)
			in[j] += u
			act[j] |= a
			as[j] = 0
		}
	case passLinear:
		for j, a := range as {
			x := int64(us[j])
			u := min(max((x-min(max(x, -f), f)+int64(a)<<sh)<<fs>>fs, lo), hi)
			us[j] = int32(u)
			in[j] += u
			act[j] |= a
			as[j] = 0
		}
	default:
		for j, a := range as {
			u := min(max((int64(us[j])+int64(a)<<sh)<<fs>>fs, lo), hi)
			us[j] = int32(u)
			in[j] += u
			act[j] |= a
			as[j] = 0
		}
	}
}

// thresholdMembranes is pass 4 for deterministic neurons: v = fit(in)
// unless refractory, fire = v > cmp, reset. It writes lo+j to fired[k] for
// every neuron j and advances k past the firing ones, and returns their
// number and that of the neurons that had input but did not fire.
func thresholdMembranes(k *profConsts, fired []uint32, lo uint32, vs, refs []int32, in []int64, act []int32) (fires int, active uint64) {
	fs, vMin, vMax := uint(k.fitSh)&63, k.lo, k.hi
	cmp, vth, keep, refr := k.cmp, k.vth, k.keep, int32(k.refr)
	refs, in, act, fired = refs[:len(vs)], in[:len(vs)], act[:len(vs)], fired[:len(vs)]
	n := 0
	for j, v32 := range vs {
		r := refs[j]
		held := int64(-r) >> 63 // −1 while refractory
		vOld := int64(v32)
		v := clampBF(in[j]<<fs>>fs, vMin, vMax)
		fire := (cmp - v) >> 63 &^ held
		vr := clampBF((v-vth)<<fs>>fs, vMin, vMax) & keep
		v ^= (v ^ vr) & fire
		v ^= (v ^ vOld) & held
		vs[j] = int32(v)
		refs[j] = (r-1)&int32(held) | refr&int32(fire)
		fired[n] = lo + uint32(j)
		f := int(fire & 1)
		n += f
		x := uint32(act[j])
		active += uint64((x|-x)>>31) &^ uint64(f)
	}
	return n, active
}

// escapeMembranes is thresholdMembranes with the escape-table decision
// fire = rnd < table[clamp(((v − vth) >> shift) + offset)].
func escapeMembranes(k *profConsts, fired []uint32, lo uint32, vs, refs []int32, in []int64, act []int32, rnd, table []uint32) (fires int, active uint64) {
	fs, vMin, vMax := uint(k.fitSh)&63, k.lo, k.hi
	vth, keep, refr := k.vth, k.keep, int32(k.refr)
	eShift, eOff, eLast := uint(k.eShift)&63, k.eOff, k.eLast
	refs, in, act, fired, rnd = refs[:len(vs)], in[:len(vs)], act[:len(vs)], fired[:len(vs)], rnd[:len(vs)]
	table = table[:eLast+1]
	n := 0
	for j, v32 := range vs {
		r := refs[j]
		held := int64(-r) >> 63
		vOld := int64(v32)
		v := clampBF(in[j]<<fs>>fs, vMin, vMax)
		i := clampBF((v-vth)>>eShift+eOff, 0, eLast)
		fire := (int64(rnd[j]) - int64(table[i])) >> 63 &^ held
		vr := clampBF((v-vth)<<fs>>fs, vMin, vMax) & keep
		v ^= (v ^ vr) & fire
		v ^= (v ^ vOld) & held
		vs[j] = int32(v)
		refs[j] = (r-1)&int32(held) | refr&int32(fire)
		fired[n] = lo + uint32(j)
		f := int(fire & 1)
		n += f
		x := uint32(act[j])
		active += uint64((x|-x)>>31) &^ uint64(f)
	}
	return n, active
}

// readoutMembranes is pass 4 for readout neurons: v = fit(in) unless
// refractory, vmax = max(vmax, v), no spike. It returns the number of
// neurons that had input.
func readoutMembranes(k *profConsts, vs, refs, vmax []int32, in []int64, act []int32) (active uint64) {
	fs, vMin, vMax := uint(k.fitSh)&63, k.lo, k.hi
	refs, vmax, in, act = refs[:len(vs)], vmax[:len(vs)], in[:len(vs)], act[:len(vs)]
	for j, v32 := range vs {
		r := refs[j]
		held := int64(-r) >> 63
		vOld := int64(v32)
		v := clampBF(in[j]<<fs>>fs, vMin, vMax)
		v ^= (v ^ vOld) & held
		vs[j] = int32(v)
		m := int64(vmax[j])
		vmax[j] = int32(m ^ (m^max(m, v))&^held)
		refs[j] = (r - 1) & int32(held)
		x := uint32(act[j])
		active += uint64((x | -x) >> 31)
	}
	return active
}

// fits32 reports whether every intermediate of the fused kernel fits a
// 32-bit lane for this datapath and profile (kv: its membrane constants):
// currents decay(u) + a << act_shift, the membrane input decay(v) + Σ_k u_k
// + bias, v − vth and the
// escape-table index, each bounded from the widths (an accumulator value
// is within acc_bits when read) and the core's largest |bias|.
func (c *core) fits32(dp *Datapath, pr *Profile, kv *profConsts) bool {
	const lim = 1<<31 - 1
	if !profVector || dp.accBits+dp.actShift > 40 || dp.uBits > 31 || dp.vBits > 31 {
		return false
	}
	if !c.pk.biasKnown {
		for _, b := range c.bias {
			c.pk.biasMax = max(c.pk.biasMax, int64(b), -int64(b))
		}
		c.pk.biasKnown = true
	}
	uAbs := int64(1) << (dp.uBits - 1)
	vAbs := int64(1) << (dp.vBits - 1)
	aAbs := int64(1) << (dp.accBits - 1 + dp.actShift)
	dvth := vAbs + max(kv.vth, -kv.vth)
	eOff := max(kv.eOff, -kv.eOff)
	return uAbs+aAbs <= lim && vAbs+int64(c.types)*uAbs+c.pk.biasMax <= lim && dvth+1 <= lim && dvth+eOff <= lim
}
