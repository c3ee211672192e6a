package chip

import (
	"encoding/binary"
	"math/bits"
)

// kernelConsts are the broadcast constants of the vector kernel, one row of
// eight lanes each (see loihi2_amd64.s for the layout).
type kernelConsts [12][8]int32

// useVectorKernel lets tests compare the vector kernel with the scalar loop.
var useVectorKernel = hasVectorKernel

// vectorOK reports whether the vector kernel computes this run exactly:
// the Loihi path with u wrapping, states of at most 29 bits and biases
// below 2^29, so every intermediate fits a 32-bit lane.
func (c *core) vectorOK(dp *Datapath, lo, hi int) bool {
	if !hasVectorKernel || !dp.uWrap || dp.vWrap || dp.uBits > 29 || dp.vBits > 29 || hi-lo < 8 {
		return false
	}
	for _, b := range c.bias[lo:hi] {
		if b >= 1<<29 || b <= -(1<<29) {
			return false
		}
	}
	return true
}

// newKernelConsts broadcasts a profile's constants for the vector kernel.
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
	row := [10]int32{4095, 4096 - int32(pr.Du[0]) - dp.uOffset, 4096 - int32(pr.Du[1]) - dp.uOffset, 4096 - int32(pr.Dv),
		int32(dp.vMin), int32(dp.vMax), int32(cmp), int32(pr.Refractory), int32(vth), keep}
	for i, x := range row {
		for j := range k[i] {
			k[i][j] = x
		}
	}
	k[10][0] = int32(dp.actShift)
	k[11][0] = int32(32 - dp.uBits)
	return k
}

func (c *core) updateLoihi2Vector(dp *Datapath, pr *Profile, k *kernelConsts, lo, hi int, acc []int32) {
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
	c.cnt.NeuronIdle += uint64(zeroIn - zeroInFired - pad)
	c.cnt.NeuronActive += uint64(blocks*8-zeroIn) - uint64(fired-zeroInFired)
	c.cnt.NeuronFire += uint64(fired)
	if rest := lo + blocks*8; rest < hi {
		c.updateLoihi2(dp, pr, rest, hi, acc)
	}
}
