//go:build amd64 && !purego

package chip

import "golang.org/x/sys/cpu"

// hasAVX512 reports whether this machine runs the AVX-512 kernels
// (avx512_amd64.s): they use F (mask registers, compress, gather), DQ
// (VPMULLQ, VPMOVD2M), BW and VL, and POPCNT.
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL && cpu.X86.HasPOPCNT

// loihi2AVX512 updates n deterministic neurons; see avx512_amd64.s.
//
//go:noescape
func loihi2AVX512(a0, u0, v, bias, ref *int32, stride int, fired *uint32, n, base int, k *kernelConsts) (idle, fires int)

// stochAVX512 updates n stochastic neurons; see avx512_amd64.s.
//
//go:noescape
func stochAVX512(a0, u0, v, bias, ref *int32, stride int, fired *uint32, n, base int, k *kernelConsts, bases *uint64, tp uint64, table *uint32) (idle, fires int)
