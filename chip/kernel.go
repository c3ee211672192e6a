package chip

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// The vector kernels of the Loihi-class datapath (two decaying synapse
// types, mul12 decay truncated toward zero, u wrapping, v saturating, states
// of at most 29 bits): deterministic neurons (loihi2AVX512, loihi2AVX2) and
// stochastic ones (stochAVX512). Each computes exactly what Datapath.Step
// computes, in 32-bit lanes; TestFastPathMatchesStep and
// TestStochFastPathMatchesStep force each kernel this CPU has in turn and
// compare every lane, spike and count with Step.
//
// Which kernel runs is decided per process from the CPU (AVX-512 F, BW, DQ
// and VL, then AVX2, then the Go loops) and per run of neurons at Load
// (runKernel: the run's numbers must fit 32-bit lanes); the result never
// depends on the choice.

// kernelKind names an implementation of a datapath loop.
type kernelKind uint8

const (
	kernelGo     kernelKind = iota // the portable loops (updateLoihi2, updateStoch)
	kernelAVX2                     // 8 lanes (loihi2_amd64.s)
	kernelAVX512                   // 16 lanes with mask registers (avx512_amd64.s)
)

func (k kernelKind) String() string {
	switch k {
	case kernelAVX2:
		return "avx2"
	case kernelAVX512:
		return "avx512"
	}
	return "scalar"
}

// loihiKernel and stochKernel are the kernels update runs for deterministic
// and stochastic Loihi-class runs: the best this CPU has (bestLoihiKernel,
// bestStochKernel, set per platform). Tests and benchmarks force each
// kernel in turn; only kinds in cpuKernels() may be set.
var (
	loihiKernel = bestLoihiKernel
	stochKernel = bestStochKernel
)

// cpuKernels lists the kernels this CPU runs, best first: the deterministic
// and the stochastic Loihi-class kernels come in the same forms.
func cpuKernels() []kernelKind {
	var ks []kernelKind
	if hasAVX512 {
		ks = append(ks, kernelAVX512)
	}
	if hasVectorKernel {
		ks = append(ks, kernelAVX2)
	}
	return append(ks, kernelGo)
}

// kernelConsts are the broadcast constants of the vector kernels, one row of
// eight lanes each (see loihi2_amd64.s and avx512_amd64.s for the layout).
// The AVX2 kernels read rows as whole vectors; the AVX-512 kernels
// broadcast a row's first element, except the decays' 16-lane multipliers
// (rows 18–23, two rows each).
type kernelConsts [25][8]int32

// runKernel returns the vector kernels' constants for a run of neurons lo…hi
// of profile pr, or nil when no vector kernel computes the run exactly: the
// Loihi path (two mul12 types truncated toward zero, no readout), with u
// wrapping, v saturating, states of at most 29 bits and biases below 2^29,
// so that every intermediate fits a 32-bit lane, and for stochastic
// profiles an escape offset within ±2^29, so that the table index does.
func (c *core) runKernel(dp *Datapath, pr *Profile, lo, hi int) *kernelConsts {
	if pr.Readout || c.types != 2 || dp.instant || dp.decay != decayMul12 || dp.nearest || !c.vectorOK(dp, lo, hi) {
		return nil
	}
	if e := pr.Escape; e != nil && (e.Offset > 1<<29 || e.Offset < -(1<<29) || len(e.Table) == 0 || e.Shift > 31) {
		return nil
	}
	if int64(pr.Vth)<<dp.vthShift >= 1<<30 {
		return nil
	}
	// runs of one profile share its constants (a core of interleaved
	// profiles has as many runs as neurons)
	for _, r := range c.runs {
		if r.kernel != nil && &c.profiles[r.profile] == pr {
			return r.kernel
		}
	}
	return newKernelConsts(dp, pr)
}

// vectorOK reports whether the vector kernels compute this run exactly:
// the Loihi path with u wrapping, states of at most 29 bits and biases
// below 2^29, so every intermediate fits a 32-bit lane.
func (c *core) vectorOK(dp *Datapath, lo, hi int) bool {
	if (!hasVectorKernel && !hasAVX512) || !dp.uWrap || dp.vWrap || dp.uBits > 29 || dp.vBits > 29 || hi <= lo {
		return false
	}
	for _, b := range c.bias[lo:hi] {
		if b >= 1<<29 || b <= -(1<<29) {
			return false
		}
	}
	return true
}

// newKernelConsts broadcasts a profile's constants for the vector kernels.
func newKernelConsts(dp *Datapath, pr *Profile) *kernelConsts {
	k := new(kernelConsts)
	vth := int64(pr.Vth) << dp.vthShift
	cmp := vth
	if dp.ge {
		cmp--
	}
	keep := int32(0)
	if dp.subtract {
		keep = -1
	}
	row := []int32{4095, 4096 - int32(pr.Du[0]) - dp.uOffset, 4096 - int32(pr.Du[1]) - dp.uOffset, 4096 - int32(pr.Dv),
		int32(dp.vMin), int32(dp.vMax), int32(cmp), int32(pr.Refractory), int32(vth), keep}
	if e := pr.Escape; e != nil {
		row = append(row, 0, 0, 0, e.Offset, int32(len(e.Table)-1))
	}
	for i, x := range row {
		for j := range k[i] {
			k[i][j] = x
		}
	}
	k[10] = [8]int32{int32(dp.actShift)}
	k[11] = [8]int32{int32(32 - dp.uBits)}
	k[16] = [8]int32{int32(1)<<dp.uBits - 1}
	k[17] = [8]int32{int32(1) << (dp.uBits - 1)}
	// the decays' (0, f) multipliers, 16 lanes each (rows 18–23), and 2^15
	for i, f := range []int32{k[1][0], k[2][0], k[3][0]} {
		for j := range 16 {
			k[18+2*i+j/8][j%8] = f << 16
		}
	}
	k[24] = [8]int32{1 << 15, 1 << 15, 1 << 15, 1 << 15, 1 << 15, 1 << 15, 1 << 15, 1 << 15}
	if e := pr.Escape; e != nil {
		k[12] = [8]int32{int32(e.Shift)}
	}
	return k
}

// updateLoihi2Vector runs the best vector kernel loihiKernel allows over a
// run of deterministic neurons.
func (c *core) updateLoihi2Vector(dp *Datapath, pr *Profile, k *kernelConsts, lo, hi int, acc []int32) {
	if loihiKernel == kernelAVX512 {
		c.updateLoihi2AVX512(k, lo, hi, acc)
		return
	}
	c.updateLoihi2AVX2(dp, pr, k, lo, hi, acc)
}

// firedRoom returns room for m more fired neurons and then some: the
// AVX-512 kernels store whole vectors of 16 indices (grows once; no
// allocation in steady state).
func (c *core) firedRoom(m int) []uint32 {
	c.fired = slices.Grow(c.fired, m+16)
	return c.fired[len(c.fired):cap(c.fired)]
}

// updateLoihi2AVX512 runs loihi2AVX512: sixteen neurons per vector, the
// run's tail under a lane mask (no scalar tail, no padding lanes), the
// firing neurons' indices compressed straight into c.fired.
func (c *core) updateLoihi2AVX512(k *kernelConsts, lo, hi int, acc []int32) {
	m := hi - lo
	buf := c.firedRoom(m)
	idle, fires := loihi2AVX512(&acc[lo], &c.u[lo], &c.v[lo], &c.bias[lo], &c.ref[lo], c.stride, &buf[0], m, lo, k)
	c.fired = c.fired[:len(c.fired)+fires]
	c.cnt.NeuronIdle += uint64(idle)
	c.cnt.NeuronActive += uint64(m - idle - fires)
	c.cnt.NeuronFire += uint64(fires)
}

// updateLoihi2AVX2 runs loihi2AVX2 over whole blocks of eight neurons; the
// scalar loop takes the tail of a run that cannot take padding lanes.
func (c *core) updateLoihi2AVX2(dp *Datapath, pr *Profile, k *kernelConsts, lo, hi int, acc []int32) {
	if hi-lo < 8 {
		c.updateLoihi2(dp, pr, lo, hi, acc)
		return
	}
	n := c.stride
	blocks := (hi - lo) / 8
	pad := 0
	if hi == c.n && (hi-lo)%8 != 0 && lo+(blocks+1)*8 <= c.stride && k[6][0] >= 0 {
		// The last run may take the padding lanes: their state, bias and
		// input are always zero, so with a threshold comparison that zero
		// does not pass they stay zero, never fire, and count as idle. A
		// run that does not start on a block boundary may have fewer
		// padding lanes than it would need; the scalar loop takes its tail.
		blocks++
		pad = blocks*8 - (hi - lo)
	}
	if len(c.masks) < blocks+8 {
		c.masks = make([]uint8, blocks+8) // whole 64-bit words to scan
	}
	masks := c.masks[:blocks]
	zeroIn, zeroInFired := loihi2AVX2(&acc[lo], &acc[n+lo], &c.u[lo], &c.u[n+lo], &c.v[lo], &c.bias[lo], &c.ref[lo], &masks[0], blocks, k)
	fired := c.scanMasks(lo, blocks)
	c.cnt.NeuronIdle += uint64(zeroIn - zeroInFired - pad)
	c.cnt.NeuronActive += uint64(blocks*8-zeroIn) - uint64(fired-zeroInFired)
	c.cnt.NeuronFire += uint64(fired)
	if rest := lo + blocks*8; rest < hi {
		c.updateLoihi2(dp, pr, rest, hi, acc)
	}
}

// bestLoihiKernel and bestStochKernel are the fastest kernels this CPU runs.
var (
	bestLoihiKernel = cpuKernels()[0]
	bestStochKernel = cpuKernels()[0]
)

// scanMasks appends to c.fired the neurons whose bits are set in the AVX2
// kernels' masks of blocks·8 neurons from lo, and returns their number.
func (c *core) scanMasks(lo, blocks int) int {
	fired := 0
	for w := 0; w < blocks; w += 8 {
		m := binary.LittleEndian.Uint64(c.masks[w : w+8])
		if w+8 > blocks {
			m &= 1<<(8*uint(blocks-w)) - 1 // bytes past this run are stale
		}
		for m != 0 {
			j := bits.TrailingZeros64(m)
			c.fired = append(c.fired, uint32(lo+w*8+j))
			m &= m - 1
			fired++
		}
	}
	return fired
}
