//go:build amd64 && !purego

#include "textflag.h"

// The AVX2 kernels of the common datapath: two decaying synapse types,
// mul12 decay truncated toward zero, u wrapping, v saturating, u and v at
// most 29 bits (so every intermediate fits 32-bit lanes); loihi2AVX2 for
// deterministic neurons, stochAVX2 for stochastic ones. Eight neurons per
// iteration, exactly Datapath.Step. Decay is avx512_amd64.s's form:
//
//   decay(x, f) = 16·f·hi + ((lo·f + (x < 0 ? 4095 : 0)) >> 12)   (arithmetic)
//   hi = (x + 2^15) >> 16, lo = x − hi·2^16 ∈ [−2^15, 2^15),
//
// both products from VPMADDWD (x's signed low half against (f, 0), the
// upper half of x + 2^15 against (0, f)), one operation of latency 5 each
// where VPMULLD takes two of latency 10.
//
// kernelConsts (8 × int32 each, broadcast by the Go side):
//   0 mask4095   32 f0   64 f1   96 fv   128 vmin   160 vmax
//   192 vthcmp   224 refractory   256 vthsub   288 keep (−1: subtract reset, 0: zero reset)
//   320 act shift (low 64 bits)   352 32 − u_bits (low 64 bits)
//   384 escape shift (low 64 bits)   416 escape offset   448 last escape entry
//   576, 640, 704 f0, f1, fv << 16   768 2^15

// DECAY sets X = decay(X, F), FH holding F << 16; clobbers Y4, Y5.
#define DECAY(X, F, FH) \
	VPADDD   768(DX), X, Y5 \
	VPMADDWD FH, Y5, Y5 \
	VPSLLD   $4, Y5, Y5 \
	VPMADDWD F, X, Y4 \
	VPSRAD   $31, X, X \
	VPSRLD   $20, X, X \
	VPADDD   X, Y4, Y4 \
	VPSRAD   $12, Y4, Y4 \
	VPADDD   Y4, Y5, X

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
	DECAY(Y3, 32(DX), 576(DX))
	VPSLLD X13, Y0, Y0
	VPADDD Y0, Y3, Y3
	VPSLLD X12, Y3, Y3
	VPSRAD X12, Y3, Y3
	VMOVDQU Y3, (R8)

	VMOVDQU (R8)(R9*1), Y6 // u1
	DECAY(Y6, 64(DX), 640(DX))
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
	DECAY(Y10, 96(DX), 704(DX))
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

// c1, c1hi, c2, c2hi: SplitMix64's multipliers and their upper halves, four
// 64-bit lanes each.
DATA mixC1<>+0(SB)/8, $0xBF58476D1CE4E5B9
DATA mixC1<>+8(SB)/8, $0xBF58476D1CE4E5B9
DATA mixC1<>+16(SB)/8, $0xBF58476D1CE4E5B9
DATA mixC1<>+24(SB)/8, $0xBF58476D1CE4E5B9
GLOBL mixC1<>(SB), RODATA|NOPTR, $32
DATA mixC1hi<>+0(SB)/8, $0xBF58476D
DATA mixC1hi<>+8(SB)/8, $0xBF58476D
DATA mixC1hi<>+16(SB)/8, $0xBF58476D
DATA mixC1hi<>+24(SB)/8, $0xBF58476D
GLOBL mixC1hi<>(SB), RODATA|NOPTR, $32
DATA mixC2<>+0(SB)/8, $0x94D049BB133111EB
DATA mixC2<>+8(SB)/8, $0x94D049BB133111EB
DATA mixC2<>+16(SB)/8, $0x94D049BB133111EB
DATA mixC2<>+24(SB)/8, $0x94D049BB133111EB
GLOBL mixC2<>(SB), RODATA|NOPTR, $32
DATA mixC2hi<>+0(SB)/8, $0x94D049BB
DATA mixC2hi<>+8(SB)/8, $0x94D049BB
DATA mixC2hi<>+16(SB)/8, $0x94D049BB
DATA mixC2hi<>+24(SB)/8, $0x94D049BB
GLOBL mixC2hi<>(SB), RODATA|NOPTR, $32

// MULC sets Z = Z·C mod 2^64 in each 64-bit lane, from 32-bit products:
// lo(z)·lo(c) + ((hi(z)·lo(c) + lo(z)·hi(c)) << 32); clobbers T1, T2.
#define MULC(Z, C, CH, T1, T2) \
	VPSRLQ   $32, Z, T1 \
	VPMULUDQ C, T1, T1 \
	VPMULUDQ CH, Z, T2 \
	VPADDQ   T2, T1, T1 \
	VPSLLQ   $32, T1, T1 \
	VPMULUDQ C, Z, Z \
	VPADDQ   T1, Z, Z

// MIX48Y leaves the top 16 bits of SplitMix64's finaliser of each lane of Z
// in its top 16 bits (the finaliser's last xor-shift cannot change them).
#define MIX48Y(Z, T1, T2) \
	VPSRLQ $30, Z, T1 \
	VPXOR  T1, Z, Z \
	MULC(Z, mixC1<>(SB), mixC1hi<>(SB), T1, T2) \
	VPSRLQ $27, Z, T1 \
	VPXOR  T1, Z, Z \
	MULC(Z, mixC2<>(SB), mixC2hi<>(SB), T1, T2)

// func stochAVX2(a0, u0, v, bias, ref *int32, stride int, masks *uint8, blocks int, k *kernelConsts, bases *uint64, tp uint64, table *uint32) (zeroIn, zeroInFired int)
//
// loihi2AVX2 for stochastic neurons, eight per block: the draw Rand16 =
// Mix64(bases[j] + tp) >> 48 (tp = (t+1)·ψ), and fire = draw <
// table[clamp(((v − vth) >> shift) + offset, 0, last)] unless refractory,
// the table read with a gather. Constants come from k by offset (rows 12–14:
// escape shift, offset, last entry; see avx512_amd64.s), shift counts from
// memory, to leave registers for the 64-bit multiplies.
TEXT ·stochAVX2(SB), NOSPLIT, $0-112
	MOVQ a0+0(FP), SI
	MOVQ u0+8(FP), R8
	MOVQ v+16(FP), R10
	MOVQ bias+24(FP), R11
	MOVQ ref+32(FP), R12
	MOVQ stride+40(FP), R9
	SHLQ $2, R9
	MOVQ masks+48(FP), R13
	MOVQ blocks+56(FP), CX
	MOVQ k+64(FP), DX
	MOVQ bases+72(FP), BX
	MOVQ table+88(FP), R14
	VPBROADCASTQ tp+80(FP), Y13
	XORQ DI, DI
	VPXOR Y14, Y14, Y14

sloop:
	TESTQ CX, CX
	JZ    sdone

	// the draws: two vectors of four 64-bit lanes, their top 16 bits packed
	// into eight 32-bit lanes (Y12)
	VMOVDQU (BX), Y0
	VMOVDQU 32(BX), Y1
	VPADDQ  Y13, Y0, Y0
	VPADDQ  Y13, Y1, Y1
	MIX48Y(Y0, Y2, Y3)
	MIX48Y(Y1, Y2, Y3)
	VSHUFPS $0xdd, Y1, Y0, Y0 // odd dwords: a1 a3 b1 b3 | a5 a7 b5 b7
	VPERMQ  $0xd8, Y0, Y0     // a1 a3 a5 a7 b1 b3 b5 b7
	VPSRLD  $16, Y0, Y12

	VMOVDQU (SI), Y0       // a0
	VMOVDQU (SI)(R9*1), Y1 // a1
	VMOVDQU Y14, (SI)
	VMOVDQU Y14, (SI)(R9*1)
	VPOR    Y0, Y1, Y2
	VPCMPEQD Y14, Y2, Y2 // no input this tick

	VMOVDQU (R8), Y3 // u0
	DECAY(Y3, 32(DX), 576(DX))
	VPSLLD  320(DX), Y0, Y0
	VPADDD  Y0, Y3, Y3
	VPSLLD  352(DX), Y3, Y3
	VPSRAD  352(DX), Y3, Y3
	VMOVDQU Y3, (R8)

	VMOVDQU (R8)(R9*1), Y6 // u1
	DECAY(Y6, 64(DX), 640(DX))
	VPSLLD  320(DX), Y1, Y1
	VPADDD  Y1, Y6, Y6
	VPSLLD  352(DX), Y6, Y6
	VPSRAD  352(DX), Y6, Y6
	VMOVDQU Y6, (R8)(R9*1)

	VMOVDQU  (R12), Y7    // ref
	VPCMPGTD Y14, Y7, Y8  // Y8 = ref > 0: refractory
	VPADDD   Y8, Y7, Y7   // ref−− where refractory

	VMOVDQU (R10), Y9 // v (old)
	VMOVDQU Y9, Y10
	DECAY(Y10, 96(DX), 704(DX))
	VPADDD  Y3, Y10, Y10
	VPADDD  Y6, Y10, Y10
	VPADDD  (R11), Y10, Y10 // + bias
	VPMAXSD 128(DX), Y10, Y10
	VPMINSD 160(DX), Y10, Y10

	// the escape table: index clamp(((v − vth) >> shift) + offset, 0, last)
	VPSUBD     256(DX), Y10, Y0
	VPSRAD     384(DX), Y0, Y1
	VPADDD     416(DX), Y1, Y1
	VPMAXSD    Y14, Y1, Y1
	VPMINSD    448(DX), Y1, Y1
	VPCMPEQD   Y3, Y3, Y3 // gather every lane (the indices are clamped)
	VPGATHERDD Y3, (R14)(Y1*4), Y4
	VPCMPGTD   Y12, Y4, Y11 // fire = draw < entry …
	VPANDN     Y11, Y8, Y11 // … and not refractory
	VPBLENDVB  Y8, Y9, Y10, Y10 // refractory neurons keep v

	VPMAXSD   128(DX), Y0, Y0 // subtract reset: v − vth, saturated
	VPAND     288(DX), Y0, Y0 // zero reset: 0
	VPBLENDVB Y11, Y0, Y10, Y10
	VMOVDQU   Y10, (R10)

	VPBLENDVB Y11, 224(DX), Y7, Y7 // fired: refractory counter restarts
	VMOVDQU   Y7, (R12)

	VMOVMSKPS Y11, AX
	MOVB      AX, (R13)
	VPAND     Y11, Y2, Y5
	VMOVMSKPS Y2, AX
	POPCNTL   AX, AX
	ADDQ      AX, DI
	VMOVMSKPS Y5, AX
	POPCNTL   AX, AX
	SHLQ      $32, AX
	ADDQ      AX, DI

	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $64, BX
	INCQ R13
	DECQ CX
	JMP  sloop

sdone:
	MOVL DI, AX
	MOVQ AX, zeroIn+96(FP)
	SHRQ $32, DI
	MOVQ DI, zeroInFired+104(FP)
	VZEROUPPER
	RET
