//go:build amd64 && !purego

#include "textflag.h"

// The vector kernel of the common datapath: deterministic neurons, two
// decaying synapse types, mul12 decay truncated toward zero, u wrapping,
// v saturating, u and v at most 29 bits (so every intermediate fits 32-bit
// lanes). Eight neurons per iteration, exactly Datapath.Step:
//
//   decay(x, f) = sign(x)·(hi·f + (lo·f >> 12)),  |x| = hi·4096 + lo
//
// which equals sign(x)·((|x|·f) >> 12) without a 64-bit product.
//
// kernelConsts (8 × int32 each, broadcast by the Go side):
//   0 mask4095   32 f0   64 f1   96 fv   128 vmin   160 vmax
//   192 vthcmp   224 refractory   256 vthsub   288 keep (−1: subtract reset, 0: zero reset)
//   320 act shift (low 64 bits)   352 32 − u_bits (low 64 bits)

#define DECAY(X, F) \
	VPABSD X, Y4 \
	VPSRLD $12, Y4, Y5 \
	VPAND  Y15, Y4, Y4 \
	VPMULLD F, Y5, Y5 \
	VPMULLD F, Y4, Y4 \
	VPSRLD $12, Y4, Y4 \
	VPADDD Y4, Y5, Y5 \
	VPSIGND X, Y5, X

// func loihi2AVX2(a0, a1, u0, u1, v, bias, ref *int32, masks *uint8, blocks int, k *kernelConsts) (zeroIn, zeroInFired int)
//
// a1 − a0 must equal u1 − u0 (type-major arrays with one stride): the
// second type is addressed as the first plus that stride, which keeps every
// counter in a register.
TEXT ·loihi2AVX2(SB), NOSPLIT, $0-96
	MOVQ a0+0(FP), SI
	MOVQ a1+8(FP), R9
	SUBQ SI, R9 // stride in bytes
	MOVQ u0+16(FP), R8
	MOVQ v+32(FP), R10
	MOVQ bias+40(FP), R11
	MOVQ ref+48(FP), R12
	MOVQ masks+56(FP), R13
	MOVQ blocks+64(FP), CX
	MOVQ k+72(FP), DX
	XORQ DI, DI // zeroIn | zeroInFired << 32
	VMOVDQU 0(DX), Y15
	VPXOR Y14, Y14, Y14
	VMOVQ 320(DX), X13
	VMOVQ 352(DX), X12

loop:
	TESTQ CX, CX
	JZ done

	VMOVDQU (SI), Y0      // a0
	VMOVDQU (SI)(R9*1), Y1 // a1
	VMOVDQU Y14, (SI)
	VMOVDQU Y14, (SI)(R9*1)
	VPOR Y0, Y1, Y2
	VPCMPEQD Y14, Y2, Y2 // no input this tick

	VMOVDQU (R8), Y3 // u0
	DECAY(Y3, 32(DX))
	VPSLLD X13, Y0, Y0
	VPADDD Y0, Y3, Y3
	VPSLLD X12, Y3, Y3
	VPSRAD X12, Y3, Y3
	VMOVDQU Y3, (R8)

	VMOVDQU (R8)(R9*1), Y6 // u1
	DECAY(Y6, 64(DX))
	VPSLLD X13, Y1, Y1
	VPADDD Y1, Y6, Y6
	VPSLLD X12, Y6, Y6
	VPSRAD X12, Y6, Y6
	VMOVDQU Y6, (R8)(R9*1)

	VMOVDQU (R12), Y7     // ref
	VPCMPGTD Y14, Y7, Y8  // Y8 = ref > 0: refractory
	VPADDD Y8, Y7, Y7     // ref−− where refractory

	VMOVDQU (R10), Y9 // v (old)
	VMOVDQU Y9, Y10
	DECAY(Y10, 96(DX))
	VPADDD Y3, Y10, Y10
	VPADDD Y6, Y10, Y10
	VPADDD (R11), Y10, Y10 // + bias
	VPMAXSD 128(DX), Y10, Y10
	VPMINSD 160(DX), Y10, Y10

	VPCMPGTD 192(DX), Y10, Y11 // fire = v > vth
	VPANDN Y11, Y8, Y11        // … and not refractory
	VPBLENDVB Y8, Y9, Y10, Y10 // refractory neurons keep v

	VPSUBD 256(DX), Y10, Y0 // subtract reset: v − vth
	VPAND 288(DX), Y0, Y0
	VPAND Y11, Y0, Y0
	VPANDN Y10, Y11, Y10 // zero where fired
	VPOR Y0, Y10, Y10
	VMOVDQU Y10, (R10)

	VPBLENDVB Y11, 224(DX), Y7, Y7 // fired: refractory counter restarts
	VMOVDQU Y7, (R12)

	VMOVMSKPS Y11, AX
	MOVB AX, (R13)
	VMOVMSKPS Y2, BX
	ANDL BX, AX
	POPCNTL BX, BX
	ADDQ BX, DI
	POPCNTL AX, AX
	SHLQ $32, AX
	ADDQ AX, DI

	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	INCQ R13
	DECQ CX
	JMP loop

done:
	MOVL DI, AX
	MOVQ AX, zeroIn+80(FP)
	SHRQ $32, DI
	MOVQ DI, zeroInFired+88(FP)
	VZEROUPPER
	RET
