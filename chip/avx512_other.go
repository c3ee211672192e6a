//go:build !amd64 || purego

package chip

const hasAVX512 = false

func loihi2AVX512(a0, u0, v, bias, ref *int32, stride int, fired *uint32, n, base int, k *kernelConsts) (idle, fires int) {
	panic("chip: no AVX-512 kernel on this platform")
}

func stochAVX512(a0, u0, v, bias, ref *int32, stride int, fired *uint32, n, base int, k *kernelConsts, bases *uint64, tp uint64, table *uint32) (idle, fires int) {
	panic("chip: no AVX-512 kernel on this platform")
}
