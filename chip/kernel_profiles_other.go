//go:build !amd64 || purego

package chip

// profVectorCPU reports whether this machine runs the profile kernels'
// vector loops: never on this platform.
const profVectorCPU = false

// profVector switches the vector loops: off.
const profVector = false

func setProfVector(on bool) {}

func rand16sVec(r []uint32, bases []uint64, t uint64) int { return 0 }

func fusedVec(lanes32 bool, mode, umode int, fu *[4]int64, types, stride int, k, ku *profConsts, fired []uint32, lo uint32, vs, bias, refs, u, a, vmax []int32, rnd, table []uint32) (fires int, active uint64, done int) {
	return 0, 0, 0
}
