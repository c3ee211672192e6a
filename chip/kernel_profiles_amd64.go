//go:build amd64 && !purego

package chip

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// profVectorCPU reports whether this machine runs the profile kernels'
// vector loops (kernel_profiles_amd64.s): AVX-512 F, DQ, BW and VL.
var profVectorCPU = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasPOPCNT

// profVector switches the vector loops (tests compare both).
var profVector = profVectorCPU

func setProfVector(on bool) { profVector = on && profVectorCPU }

//go:noescape
func profRand16AVX512(r *uint32, bases *uint64, tp uint64, blocks int)

// rand16sVec computes the draws of the run's whole blocks and returns how
// many it did (0 without the vector loops).
func rand16sVec(r []uint32, bases []uint64, t uint64) int {
	b := len(bases) / 8
	if !profVector || b == 0 {
		return 0
	}
	_ = r[8*b-1]
	profRand16AVX512(&r[0], &bases[0], (t+1)*noisePsi, b)
	return 8 * b
}

// fusedConsts are profFusedAVX512's constants (offsets in
// kernel_profiles_amd64.s; keep the order).
type fusedConsts struct {
	fv, vMode, uMode, kind int64
	actShift               int64
	uFitSh, uLo, uHi       int64
	vFitSh, vLo, vHi       int64
	cmp, vth, keep, refr   int64
	eShift, eOff, eLast    int64
	table                  unsafe.Pointer
	active                 int64
	types                  int64
	fu                     [4]int64
	vmaxOff                int64 // set by the kernel
	step                   int64 // lanes per block
	fires                  int64 // spikes written (set by the kernel)
	base                   int64 // index of the first neuron
	iota                   [16]int32
	mask4095               int64
}

//go:noescape
func profFusedAVX512(k *fusedConsts, v, bias, ref, u, a *int32, stride int, fired *uint32, rnd *uint32, blocks int, vmax *int32)

//go:noescape
func profFused32AVX512(k *fusedConsts, v, bias, ref, u, a *int32, stride int, fired *uint32, rnd *uint32, blocks int, vmax *int32)

// fusedVec runs the whole blocks of a run through the fused kernel, in
// 32-bit lanes (blocks of sixteen neurons) if lanes32 says that the
// run's intermediates fit them (core.fits32), else in 64-bit lanes: it
// writes the firing neurons' indices to fired in order and returns their
// number, the number of neurons that had input and did not fire, and how
// many neurons it did (0 without the vector loops). fired needs room for
// sixteen entries past the run's neurons: each block stores a whole vector. u and a are the run's
// first type, the others follow at stride; table and rnd are nil for
// deterministic runs, vmax non-nil (and fired nil) for readout runs.
func fusedVec(lanes32 bool, mode, umode int, fu *[4]int64, types, stride int, k, ku *profConsts, fired []uint32, lo uint32, vs, bias, refs, u, a, vmax []int32, rnd, table []uint32) (fires int, active uint64, done int) {
	lanes := 8
	if lanes32 {
		lanes = 16
	}
	b := len(vs) / lanes
	if !profVector || b == 0 {
		return 0, 0, 0
	}
	nb := lanes * b // neurons done
	_, _ = bias[nb-1], refs[nb-1]
	// the other types' rows: u[(types−1)·stride + nb − 1] must exist
	_, _ = u[(types-1)*stride+nb-1], a[(types-1)*stride+nb-1]
	f := fusedConsts{fv: k.f, vMode: int64(mode), uMode: int64(umode), actShift: ku.sh,
		uFitSh: ku.fitSh, uLo: ku.lo, uHi: ku.hi, vFitSh: k.fitSh, vLo: k.lo, vHi: k.hi,
		cmp: k.cmp, vth: k.vth, keep: k.keep, refr: k.refr, types: int64(types), fu: *fu,
		step: int64(lanes), base: int64(lo), mask4095: 4095}
	for i := range f.iota {
		f.iota[i] = int32(i)
	}
	if lanes32 {
		// wrapping shifts by 32 − bits; bounds that never bind in 32 bits
		for _, x := range []struct{ sh, lo, hi *int64 }{{&f.uFitSh, &f.uLo, &f.uHi}, {&f.vFitSh, &f.vLo, &f.vHi}} {
			if *x.sh != 0 {
				*x.sh -= 32
				*x.lo, *x.hi = -(1<<31 - 1), 1<<31-1
			}
		}
	}
	var r, fd *uint32
	vm := &vs[0] // unused unless readout
	switch {
	case vmax != nil:
		_ = vmax[nb-1]
		f.kind = 2
		vm = &vmax[0]
	case table != nil:
		_, _ = rnd[nb-1], fired[nb+15]
		fd = &fired[0]
		f.kind, f.eShift, f.eOff, f.eLast = 1, k.eShift, k.eOff, k.eLast
		f.table = unsafe.Pointer(&table[0])
		r = &rnd[0]
	default:
		_ = fired[nb+15]
		fd = &fired[0]
	}
	if lanes32 {
		profFused32AVX512(&f, &vs[0], &bias[0], &refs[0], &u[0], &a[0], 4*stride, fd, r, b, vm)
	} else {
		profFusedAVX512(&f, &vs[0], &bias[0], &refs[0], &u[0], &a[0], 4*stride, fd, r, b, vm)
	}
	return int(f.fires), uint64(f.active), nb
}

// The assembly reads fusedConsts by offset: these fail to compile if the
// layout moves.
var (
	_ = [1]struct{}{}[unsafe.Offsetof(fusedConsts{}.table)-144]
	_ = [1]struct{}{}[unsafe.Offsetof(fusedConsts{}.active)-152]
	_ = [1]struct{}{}[unsafe.Offsetof(fusedConsts{}.fu)-168]
	_ = [1]struct{}{}[unsafe.Offsetof(fusedConsts{}.vmaxOff)-200]
	_ = [1]struct{}{}[unsafe.Offsetof(fusedConsts{}.base)-224]
	_ = [1]struct{}{}[unsafe.Offsetof(fusedConsts{}.iota)-232]
	_ = [1]struct{}{}[unsafe.Offsetof(fusedConsts{}.mask4095)-296]
)
