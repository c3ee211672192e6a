//go:build amd64 && !purego

#include "textflag.h"

// The vector loops of the profile kernels (kernel_profiles.go): the draws
// (profRand16AVX512) and the fused kernel, in 64-bit lanes, eight neurons
// per iteration, so that every product and sum of 32-bit states is exact
// (profFusedAVX512), or in 32-bit lanes, sixteen per iteration, where the
// description proves every intermediate fits them (profFused32AVX512) —
// the same integers as the Go passes. Needs AVX-512 F, DQ, BW and VL, and
// POPCNT (kernel_profiles_amd64.go checks).
//
// Decay modes (kernel_profiles.go): 0 mul12, 1 mul12 nearest, 2 shift,
// 3 linear, 4 none, 5 instant (currents only: no decayed term). The mode is
// tested per state and block: always the same branches, far cheaper than a
// copy of the loop per mode and type count (a first version that tested
// the modes in a chain of five cost TrueNorth's instant currents a quarter
// of its time; see DECAYBY).
//
// The decay macros take the constant in Z30 (f) and X14 (f as a
// shift count), Z31 = 0, Z28 = 2048 and Z21 = 1, and use Z8 and Z9 as
// scratch (LINEAR also Z29, for −f).

// x·f/4096 truncated toward zero: add 4095 to negative products
#define MUL12T(X) \
	VPMULDQ Z30, X, Z8 \
	VPSRAQ  $63, Z8, Z9 \
	VPSRLQ  $52, Z9, Z9 \
	VPADDQ  Z9, Z8, Z8 \
	VPSRAQ  $12, Z8, X

// sign(p)·((|p| + 2048) >> 12), p = x·f, as (p + 2048 − [p < 0]) >> 12
#define MUL12N(X) \
	VPMULDQ Z30, X, Z8 \
	VPSRAQ  $63, Z8, Z9 \
	VPADDQ  Z28, Z8, Z8 \
	VPADDQ  Z9, Z8, Z8 \
	VPSRAQ  $12, Z8, X

// x − dec, dec = max(x >> d, min(x, 1)): x >> d, or 1 where that is 0
// and x > 0 (for x ≤ 0, x >> d ≥ x); Z21 = 1
#define SHIFTD(X) \
	VPSRAQ  X14, X, Z8 \
	VPMINSQ Z21, X, Z9 \
	VPMAXSQ Z9, Z8, Z8 \
	VPSUBQ  Z8, X, X

// x − clamp(x, −d, d)
#define LINEAR(X) \
	VPSUBQ  Z30, Z31, Z29 \
	VPMAXSQ Z29, X, Z8 \
	VPMINSQ Z30, Z8, Z8 \
	VPSUBQ  Z8, X, X

// func profRand16AVX512(r *uint32, bases *uint64, tp uint64, blocks int)
//
// r[i] = Mix64(bases[i] + tp) >> 48 (noise.go's noiseAt with (t+1)·ψ = tp).
TEXT ·profRand16AVX512(SB), NOSPLIT, $0-32
	MOVQ         r+0(FP), DI
	MOVQ         bases+8(FP), SI
	VPBROADCASTQ tp+16(FP), Z20
	MOVQ         blocks+24(FP), CX
	MOVQ         $0xBF58476D1CE4E5B9, AX
	VPBROADCASTQ AX, Z21
	MOVQ         $0x94D049BB133111EB, AX
	VPBROADCASTQ AX, Z22
	TESTQ        CX, CX
	JZ           rdone

rloop:
	VPADDQ    (SI), Z20, Z0
	VPSRLQ    $30, Z0, Z1
	VPXORQ    Z1, Z0, Z0
	VPMULLQ   Z21, Z0, Z0
	VPSRLQ    $27, Z0, Z1
	VPXORQ    Z1, Z0, Z0
	VPMULLQ   Z22, Z0, Z0
	VPSRLQ    $31, Z0, Z1
	VPXORQ    Z1, Z0, Z0
	VPSRLQ    $48, Z0, Z0
	VPMOVQD   Z0, (DI)
	ADDQ      $64, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       rloop

rdone:
	VZEROUPPER
	RET

// The fused kernel: passes 1, 2 and 4 in one loop for deterministic and
// stochastic runs, so that the membrane input stays in a register.
// fusedConsts offsets (int64 each, kernel_profiles_amd64.go):
//   0 fv   8 v mode   16 u mode   24 kind (0 threshold, 1 escape)
//   32 act shift   40 u fit shift   48 u lo   56 u hi
//   64 v fit shift   72 v lo   80 v hi   88 cmp   96 vth   104 keep
//   112 refractory   120 escape shift   128 escape offset   136 escape last
//   144 table   152 active (added to)   160 types   168 f per type (4)
//   200 vmax − v in bytes (readout; set here)   208 lanes per block
//   216 spikes written (added to)   224 index of the first neuron
//   232 0, 1, …, 15 (int32)   296 4095 (mul12 in 32-bit lanes)
// The firing neurons' indices are compressed into fired (VPCOMPRESSD), a
// whole vector per block: fired needs room for a block past its spikes.
// Kinds: 0 threshold, 1 escape table, 2 readout (no spike; vmax =
// max(vmax, v)).
//
// Registers: Z31 zero, Z28 2048, Z30/X14 the decay constant (f, f as a
// shift count) of the state being decayed, X12/Z27/Z26 u's fit,
// X10/Z18/Z17 v's fit, X13 act shift, Z25 cmp, Z24 vth, Z23 keep, Z22
// refractory, Z21 ones, X11/Z20/Z19 escape shift, offset and last index.
// Z16 the membrane input, Y7 the OR of the block's inputs, Z15 the
// block's neuron indices, DI the next free entry of fired. Masks: K2
// refractory (held), K3 not held, K1 fire, K4 the gather's.

// fit X: wrap (x<<s>>s) if the fit shift at off(DX) is nonzero, else
// saturate to [LO, HI]; labels LW, LD
#define FITW(X, S, LO, HI, off, LW, LD) \
	CMPQ    off(DX), $0 \
	JNE     LW \
	VPMAXSQ LO, X, X \
	VPMINSQ HI, X, X \
	JMP     LD \
LW: \
	VPSLLQ  S, X, X \
	VPSRAQ  S, X, X \
LD:

// decay Z0 by the mode at off(DX) (a two-level test: shift first, then
// mul12 or nearest below it, linear, instant or none above), the constant
// in Z30/X14; ends at L
#define DECAYBY(off, L, M0, M1, M2, M3, HI) \
	CMPQ off(DX), $2 \
	JEQ  M2 \
	JGT  HI \
	CMPQ off(DX), $0 \
	JEQ  M0 \
	JMP  M1 \
HI: \
	CMPQ off(DX), $3 \
	JEQ  M3 \
	CMPQ off(DX), $5 \
	JNE  L \
	VPXORQ Z0, Z0, Z0 \
	JMP  L \
M0: \
	MUL12T(Z0) \
	JMP L \
M1: \
	MUL12N(Z0) \
	JMP L \
M2: \
	SHIFTD(Z0) \
	JMP L \
M3: \
	LINEAR(Z0) \
L:

// func profFusedAVX512(k *fusedConsts, v, bias, ref, u, a *int32, stride int, fired *uint32, rnd *uint32, blocks int, vmax *int32)
TEXT ·profFusedAVX512(SB), NOSPLIT, $0-88
	MOVQ k+0(FP), DX
	MOVQ v+8(FP), R8
	MOVQ bias+16(FP), R9
	MOVQ ref+24(FP), R10
	MOVQ u+32(FP), R11
	MOVQ a+40(FP), R12
	MOVQ stride+48(FP), R13
	MOVQ fired+56(FP), DI
	MOVQ rnd+64(FP), SI
	MOVQ blocks+72(FP), CX
	MOVQ 160(DX), BX
	MOVQ vmax+80(FP), AX
	SUBQ R8, AX
	MOVQ AX, 200(DX)
	VPXORQ       Z31, Z31, Z31
	VPBROADCASTD 224(DX), Z15
	VPADDD       232(DX), Z15, Z15
	MOVQ         $2048, AX
	VPBROADCASTQ AX, Z28
	MOVQ         $1, AX
	VPBROADCASTQ AX, Z21
	VMOVQ        32(DX), X13
	VMOVQ        40(DX), X12
	VPBROADCASTQ 48(DX), Z27
	VPBROADCASTQ 56(DX), Z26
	VMOVQ        64(DX), X10
	VPBROADCASTQ 72(DX), Z18
	VPBROADCASTQ 80(DX), Z17
	VPBROADCASTQ 88(DX), Z25
	VPBROADCASTQ 96(DX), Z24
	VPBROADCASTQ 104(DX), Z23
	VPBROADCASTQ 112(DX), Z22
	VMOVQ        120(DX), X11
	VPBROADCASTQ 128(DX), Z20
	VPBROADCASTQ 136(DX), Z19
	TESTQ CX, CX
	JZ   fdone

floop:
	// pass 1: Z16 = decay(v) + bias
	VPMOVSXDQ    (R8), Z0
	VPBROADCASTQ 0(DX), Z30
	VMOVQ        0(DX), X14
	DECAYBY(8, fvdone, fvm0, fvm1, fvm2, fvm3, fvhi)
	VPMOVSXDQ (R9), Z16
	VPADDQ    Z0, Z16, Z16
	VPXOR     Y7, Y7, Y7

	// pass 2: every type
	XORQ R15, R15
	XORQ R14, R14

ftype:
	CMPQ         16(DX), $5
	JNE          fdecay
	VPXORQ       Z0, Z0, Z0 // instant: no decayed term, no load
	JMP          fudone

fdecay:
	VPMOVSXDQ    (R11)(R14*1), Z0
	VPBROADCASTQ 168(DX)(R15*8), Z30
	VMOVQ        168(DX)(R15*8), X14
	DECAYBY(16, fudone, fum0, fum1, fum2, fum3, fuhi)
	VMOVDQU   (R12)(R14*1), Y1
	VPOR      Y1, Y7, Y7
	VMOVDQU32 Y31, (R12)(R14*1)
	VPMOVSXDQ Y1, Z2
	CMPQ      32(DX), $0
	JEQ       fshifted
	VPSLLQ    X13, Z2, Z2

fshifted:
	VPADDQ    Z2, Z0, Z0
	FITW(Z0, X12, Z27, Z26, 40, fuw, fuf)
	VPMOVQD   Z0, (R11)(R14*1)
	VPADDQ    Z0, Z16, Z16
	ADDQ      R13, R14
	INCQ      R15
	CMPQ      R15, BX
	JLT       ftype

	// pass 4: the membrane (K2: held, refractory; K3: not held)
	FITW(Z16, X10, Z18, Z17, 64, fvw, fvf)
	VPMOVSXDQ (R10), Z1
	VPTESTMQ  Z1, Z1, K2
	KNOTB     K2, K3
	VPSUBQ    Z24, Z16, Z5 // v − vth
	CMPQ      24(DX), $2
	JEQ       freadout
	CMPQ      24(DX), $0
	JNE       fescape
	VPCMPGTQ  Z25, Z16, K3, K1 // fire: v > cmp, not held
	JMP       fdecided

fescape:
	VPSRAQ     X11, Z5, Z6
	VPADDQ     Z20, Z6, Z6
	VPMAXSQ    Z31, Z6, Z6
	VPMINSQ    Z19, Z6, Z6
	MOVQ       144(DX), AX
	KXNORW     K4, K4, K4
	VPXOR      Y8, Y8, Y8
	VPGATHERQD (AX)(Z6*4), K4, Y8
	VPMOVZXDQ  Y8, Z8
	VPMOVZXDQ  (SI), Z9
	VPCMPGTQ   Z9, Z8, K3, K1 // fire: entry > rnd, not held

fdecided:
	FITW(Z5, X10, Z18, Z17, 64, frw, frf)
	VPANDQ      Z23, Z5, Z5     // the reset: v − vth (subtract) or 0
	VMOVDQA64   Z5, K1, Z16
	VPMOVSXDQ   (R8), K2, Z16   // held: v kept
	VPMOVQD     Z16, (R8)
	VPSUBQ.Z    Z21, Z1, K2, Z1 // held: r − 1, else 0
	VMOVDQA64   Z22, K1, Z1     // fire: the refractory period
	VPMOVQD     Z1, (R10)
	VPCOMPRESSD Y15, K1, Y6
	VMOVDQU     Y6, (DI)
	KMOVB       K1, AX
	POPCNTL     AX, AX
	LEAQ        (DI)(AX*4), DI
	ADDQ        AX, 216(DX)
	VPTESTMD    Y7, Y7, K2
	KANDNB      K2, K1, K3 // had input, did not fire
	KMOVB       K3, AX
	POPCNTL     AX, AX
	ADDQ        AX, 152(DX)

fnext:
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, SI
	VPADDD.BCST 208(DX), Z15, Z15
	DECQ CX
	JNZ  floop

fdone:
	VZEROUPPER
	RET

freadout:
	VPTESTMD  Y7, Y7, K4 // had input
	KMOVB     K4, AX
	POPCNTL   AX, AX
	ADDQ      AX, 152(DX)
	VPMOVSXDQ (R8), K2, Z16 // held: v kept
	VPMOVQD   Z16, (R8)
	MOVQ      200(DX), AX
	VPMOVSXDQ (R8)(AX*1), Z4
	VPMAXSQ   Z16, Z4, K3, Z4 // not held: vmax = max(vmax, v)
	VPMOVQD   Z4, (R8)(AX*1)
	VPSUBQ.Z  Z21, Z1, K2, Z1
	VPMOVQD   Z1, (R10)
	JMP       fnext

// The fused kernel in 32-bit lanes: sixteen neurons per iteration, for
// datapaths whose every intermediate fits 32 bits (core.fits32 proves it
// from the description and the core's biases: Xylo's 16-bit and
// TrueNorth's 20-bit states, Loihi-class 24-bit ones). The same fusedConsts, of which it reads
// the low 32 bits of each field (the Go side fills them for 32-bit lanes:
// fit shifts 32 − bits, non-binding bounds ±(2^31 − 1)), and the same
// registers as profFusedAVX512, Y7 widened to Z7.

// mul12 in 32-bit lanes without a 64-bit product, as the AVX2 kernel
// does: |x| = hi·4096 + lo, (|x|·f + r) >> 12 = hi·f + ((lo·f + r) >> 12)
// (r = 0 truncating, 2048 rounding), exact for |x| < 2^31 and f ≤ 4096;
// the sign is x's (f ≥ 0). 296(DX) holds 4095.
#define MUL12T32(X) \
	VPABSD      X, Z8 \
	VPSRLD      $12, Z8, Z9 \
	VPANDD.BCST 296(DX), Z8, Z8 \
	VPMULLD     Z30, Z9, Z9 \
	VPMULLD     Z30, Z8, Z8 \
	VPSRLD      $12, Z8, Z8 \
	VPADDD      Z8, Z9, Z9 \
	VPSRAD      $31, X, Z8 \
	VPXORD      Z8, Z9, Z9 \
	VPSUBD      Z8, Z9, X

#define MUL12N32(X) \
	VPABSD      X, Z8 \
	VPSRLD      $12, Z8, Z9 \
	VPANDD.BCST 296(DX), Z8, Z8 \
	VPMULLD     Z30, Z9, Z9 \
	VPMULLD     Z30, Z8, Z8 \
	VPADDD      Z28, Z8, Z8 \
	VPSRLD      $12, Z8, Z8 \
	VPADDD      Z8, Z9, Z9 \
	VPSRAD      $31, X, Z8 \
	VPXORD      Z8, Z9, Z9 \
	VPSUBD      Z8, Z9, X

#define SHIFTD32(X) \
	VPSRAD  X14, X, Z8 \
	VPMINSD Z21, X, Z9 \
	VPMAXSD Z9, Z8, Z8 \
	VPSUBD  Z8, X, X

#define LINEAR32(X) \
	VPSUBD  Z30, Z31, Z29 \
	VPMAXSD Z29, X, Z8 \
	VPMINSD Z30, Z8, Z8 \
	VPSUBD  Z8, X, X

#define FITW32(X, S, LO, HI, off, LW, LD) \
	CMPQ    off(DX), $0 \
	JNE     LW \
	VPMAXSD LO, X, X \
	VPMINSD HI, X, X \
	JMP     LD \
LW: \
	VPSLLD  S, X, X \
	VPSRAD  S, X, X \
LD:

#define DECAYBY32(off, L, M0, M1, M2, M3, HI) \
	CMPQ off(DX), $2 \
	JEQ  M2 \
	JGT  HI \
	CMPQ off(DX), $0 \
	JEQ  M0 \
	JMP  M1 \
HI: \
	CMPQ off(DX), $3 \
	JEQ  M3 \
	CMPQ off(DX), $5 \
	JNE  L \
	VPXORD Z0, Z0, Z0 \
	JMP  L \
M0: \
	MUL12T32(Z0) \
	JMP L \
M1: \
	MUL12N32(Z0) \
	JMP L \
M2: \
	SHIFTD32(Z0) \
	JMP L \
M3: \
	LINEAR32(Z0) \
L:

// func profFused32AVX512(k *fusedConsts, v, bias, ref, u, a *int32, stride int, fired *uint32, rnd *uint32, blocks int, vmax *int32)
TEXT ·profFused32AVX512(SB), NOSPLIT, $0-88
	MOVQ k+0(FP), DX
	MOVQ v+8(FP), R8
	MOVQ bias+16(FP), R9
	MOVQ ref+24(FP), R10
	MOVQ u+32(FP), R11
	MOVQ a+40(FP), R12
	MOVQ stride+48(FP), R13
	MOVQ fired+56(FP), DI
	MOVQ rnd+64(FP), SI
	MOVQ blocks+72(FP), CX
	MOVQ 160(DX), BX
	MOVQ vmax+80(FP), AX
	SUBQ R8, AX
	MOVQ AX, 200(DX)
	VPXORD       Z31, Z31, Z31
	VPBROADCASTD 224(DX), Z15
	VPADDD       232(DX), Z15, Z15
	MOVL         $2048, AX
	VPBROADCASTD AX, Z28
	MOVL         $1, AX
	VPBROADCASTD AX, Z21
	VMOVQ        32(DX), X13
	VMOVQ        40(DX), X12
	VPBROADCASTD 48(DX), Z27
	VPBROADCASTD 56(DX), Z26
	VMOVQ        64(DX), X10
	VPBROADCASTD 72(DX), Z18
	VPBROADCASTD 80(DX), Z17
	VPBROADCASTD 88(DX), Z25
	VPBROADCASTD 96(DX), Z24
	VPBROADCASTD 104(DX), Z23
	VPBROADCASTD 112(DX), Z22
	VMOVQ        120(DX), X11
	VPBROADCASTD 128(DX), Z20
	VPBROADCASTD 136(DX), Z19
	TESTQ CX, CX
	JZ   gdone

gloop:
	VMOVDQU32    (R8), Z0
	VPBROADCASTD 0(DX), Z30
	VMOVQ        0(DX), X14
	DECAYBY32(8, gvdone, gvm0, gvm1, gvm2, gvm3, gvhi)
	VPADDD (R9), Z0, Z16
	VPXORD Z7, Z7, Z7

	XORQ R15, R15
	XORQ R14, R14

gtype:
	CMPQ         16(DX), $5
	JNE          gdecay
	VPXORD       Z0, Z0, Z0 // instant: no decayed term, no load
	JMP          gudone

gdecay:
	VMOVDQU32    (R11)(R14*1), Z0
	VPBROADCASTD 168(DX)(R15*8), Z30
	VMOVQ        168(DX)(R15*8), X14
	DECAYBY32(16, gudone, gum0, gum1, gum2, gum3, guhi)
	VMOVDQU32 (R12)(R14*1), Z1
	VPORD     Z1, Z7, Z7
	VMOVDQU32 Z31, (R12)(R14*1)
	CMPQ      32(DX), $0
	JNE       gshift
	VPADDD    Z1, Z0, Z0
	JMP       gshifted

gshift:
	VPSLLD    X13, Z1, Z2
	VPADDD    Z2, Z0, Z0

gshifted:
	FITW32(Z0, X12, Z27, Z26, 40, guw, guf)
	VMOVDQU32 Z0, (R11)(R14*1)
	VPADDD    Z0, Z16, Z16
	ADDQ      R13, R14
	INCQ      R15
	CMPQ      R15, BX
	JLT       gtype

	FITW32(Z16, X10, Z18, Z17, 64, gvw, gvf)
	VMOVDQU32 (R10), Z1
	VPTESTMD  Z1, Z1, K2 // held
	KNOTW     K2, K3
	VPSUBD    Z24, Z16, Z5 // v − vth
	CMPQ      24(DX), $2
	JEQ       greadout
	CMPQ      24(DX), $0
	JNE       gescape
	VPCMPGTD  Z25, Z16, K3, K1 // fire: v > cmp, not held
	JMP       gdecided

gescape:
	VPSRAD     X11, Z5, Z6
	VPADDD     Z20, Z6, Z6
	VPMAXSD    Z31, Z6, Z6
	VPMINSD    Z19, Z6, Z6
	MOVQ       144(DX), AX
	KXNORW     K4, K4, K4
	VPXORD     Z8, Z8, Z8
	VPGATHERDD (AX)(Z6*4), K4, Z8
	VMOVDQU32  (SI), Z9
	VPCMPGTD   Z9, Z8, K3, K1 // fire: entry > rnd, not held

gdecided:
	FITW32(Z5, X10, Z18, Z17, 64, grw, grf)
	VPANDD      Z23, Z5, Z5
	VMOVDQA32   Z5, K1, Z16
	VMOVDQU32   (R8), K2, Z16 // held: v kept
	VMOVDQU32   Z16, (R8)
	VPSUBD.Z    Z21, Z1, K2, Z1
	VMOVDQA32   Z22, K1, Z1
	VMOVDQU32   Z1, (R10)
	VPCOMPRESSD Z15, K1, Z6
	VMOVDQU32   Z6, (DI)
	KMOVW       K1, AX
	POPCNTL     AX, AX
	LEAQ        (DI)(AX*4), DI
	ADDQ        AX, 216(DX)
	VPTESTMD    Z7, Z7, K2
	KANDNW      K2, K1, K3 // had input, did not fire
	KMOVW       K3, AX
	POPCNTL     AX, AX
	ADDQ        AX, 152(DX)

gnext:
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $64, R12
	ADDQ $64, SI
	VPADDD.BCST 208(DX), Z15, Z15
	DECQ CX
	JNZ  gloop

gdone:
	VZEROUPPER
	RET

greadout:
	VPTESTMD  Z7, Z7, K4 // had input
	KMOVW     K4, AX
	POPCNTL   AX, AX
	ADDQ      AX, 152(DX)
	VMOVDQU32 (R8), K2, Z16 // held: v kept
	VMOVDQU32 Z16, (R8)
	MOVQ      200(DX), AX
	VMOVDQU32 (R8)(AX*1), Z4
	VPMAXSD   Z16, Z4, K3, Z4 // not held: vmax = max(vmax, v)
	VMOVDQU32 Z4, (R8)(AX*1)
	VPSUBD.Z  Z21, Z1, K2, Z1
	VMOVDQU32 Z1, (R10)
	JMP       gnext
