//go:build amd64 && !purego

package chip

import "golang.org/x/sys/cpu"

// hasVectorKernel reports whether this machine runs the AVX2 kernels of the
// common datapath (loihi2_amd64.s).
var hasVectorKernel = cpu.X86.HasAVX2

// loihi2AVX2 updates blocks·8 neurons; see loihi2_amd64.s. k holds the
// broadcast constants laid out as kernelConsts.
//
//go:noescape
func loihi2AVX2(a0, a1, u0, u1, v, bias, ref *int32, masks *uint8, blocks int, k *kernelConsts) (zeroIn, zeroInFired int)

// stochAVX2 updates blocks·8 stochastic neurons; see loihi2_amd64.s.
//
//go:noescape
func stochAVX2(a0, u0, v, bias, ref *int32, stride int, masks *uint8, blocks int, k *kernelConsts, bases *uint64, tp uint64, table *uint32) (zeroIn, zeroInFired int)
