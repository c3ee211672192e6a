//go:build !amd64 || purego

package chip

const hasVectorKernel = false

func loihi2AVX2(a0, a1, u0, u1, v, bias, ref *int32, masks *uint8, blocks int, k *kernelConsts) (zeroIn, zeroInFired int) {
	panic("chip: no vector kernel on this platform")
}

func stochAVX2(a0, u0, v, bias, ref *int32, stride int, masks *uint8, blocks int, k *kernelConsts, bases *uint64, tp uint64, table *uint32) (zeroIn, zeroInFired int) {
	panic("chip: no vector kernel on this platform")
}
