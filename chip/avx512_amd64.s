//go:build amd64 && !purego

#include "textflag.h"

// The AVX-512 kernels of the Loihi-class datapath: two decaying synapse
// types, mul12 decay truncated toward zero, u wrapping, v saturating, u and
// v at most 29 bits (so every intermediate fits a 32-bit lane). Sixteen
// neurons per vector; a run's last, partial vector runs under a lane mask
// (K7): loads zero the lanes past the run (and do not fault there), stores
// skip them, and they are kept out of every count. Exactly Datapath.Step:
//
//   decay(x, f) = trunc(x·f / 4096)
//               = 16·f·hi + ((lo·f + (x < 0 ? 4095 : 0)) >> 12)   (arithmetic)
//   hi = (x + 2^15) >> 16, lo = x − hi·2^16 ∈ [−2^15, 2^15),
//
// since x·f = 16·f·hi·4096 + lo·f and truncation toward zero is the floor
// of x·f + 4095 for a negative product. lo is x's low 16 bits read as a
// signed number and hi the upper 16 bits of x + 2^15, so VPMADDWD (16-bit
// multiplies summed in pairs) yields lo·f from x against (f, 0) and hi·f
// from x + 2^15 against (0, f) — one port-0 operation of latency 5 each,
// where a 32-bit VPMULLD takes two of latency 10. For 29-bit states every
// product and sum fits 32 bits.

// kernelConsts rows (32 bytes apart; each row's first element is
// broadcast):
//   0 4095   32 f0   64 f1   96 fv   128 vmin   160 vmax   192 vthcmp
//   224 refractory   256 vth   288 keep (−1: subtract reset, 0: zero reset)
//   320 act shift   352 32 − u_bits (AVX2 only)   384 escape shift
//   416 escape offset   448 last escape entry   512 2^u_bits − 1
//   544 2^(u_bits−1)   576, 640, 704 f0, f1, fv as f << 16, in 16 lanes
//   768 2^15
//
// Port 0 is the bottleneck of 512-bit code on Intel cores (every shift and
// multiply runs there, and port 1 does not take 512-bit operations), so the
// kernels keep work off it where an equal form exists: signs from compares
// into mask registers (port 5) rather than VPMOVD2M, u wrapped as
// ((u & (2^b − 1)) ^ 2^(b−1)) − 2^(b−1) (VPTERNLOGD, VPSUBD) rather than two
// shifts, and counts kept in a vector rather than moved out of masks.
//
// Registers common to both kernels:
//   SI a0 (accumulator slot, type 0), R9 stride in bytes (type 1 = +R9),
//   R8 u0, R10 v, R11 bias, R12 ref, R13 fired (advances), CX neurons left,
//   R14 k, Z31 4095, Z30 f0, Z29 f1, Z28 fv, Z27 vmin, Z26 vmax,
//   Z24 refractory, Z23 vth, Z22 keep, Z21 neuron indices, Z20 16, Z19 −1,
//   Z18 0, Z13 idle counts per lane, Z12 2^u_bits − 1, X11 act shift,
//   K7 lanes in the run.

// iota16 is 0, 1, …, 15: the lane offsets of neuron indices.
DATA iota16<>+0(SB)/4, $0
DATA iota16<>+4(SB)/4, $1
DATA iota16<>+8(SB)/4, $2
DATA iota16<>+12(SB)/4, $3
DATA iota16<>+16(SB)/4, $4
DATA iota16<>+20(SB)/4, $5
DATA iota16<>+24(SB)/4, $6
DATA iota16<>+28(SB)/4, $7
DATA iota16<>+32(SB)/4, $8
DATA iota16<>+36(SB)/4, $9
DATA iota16<>+40(SB)/4, $10
DATA iota16<>+44(SB)/4, $11
DATA iota16<>+48(SB)/4, $12
DATA iota16<>+52(SB)/4, $13
DATA iota16<>+56(SB)/4, $14
DATA iota16<>+60(SB)/4, $15
GLOBL iota16<>(SB), RODATA|NOPTR, $64

// hiDwords picks the upper 32 bits of each 64-bit lane of two vectors
// (VPERMT2D indices: table one is 0–15, table two 16–31).
DATA hiDwords<>+0(SB)/4, $1
DATA hiDwords<>+4(SB)/4, $3
DATA hiDwords<>+8(SB)/4, $5
DATA hiDwords<>+12(SB)/4, $7
DATA hiDwords<>+16(SB)/4, $9
DATA hiDwords<>+20(SB)/4, $11
DATA hiDwords<>+24(SB)/4, $13
DATA hiDwords<>+28(SB)/4, $15
DATA hiDwords<>+32(SB)/4, $17
DATA hiDwords<>+36(SB)/4, $19
DATA hiDwords<>+40(SB)/4, $21
DATA hiDwords<>+44(SB)/4, $23
DATA hiDwords<>+48(SB)/4, $25
DATA hiDwords<>+52(SB)/4, $27
DATA hiDwords<>+56(SB)/4, $29
DATA hiDwords<>+60(SB)/4, $31
GLOBL hiDwords<>(SB), RODATA|NOPTR, $64

// DECAY16 sets D = decay(X, F) (FH: f in the upper 16 bits of each lane);
// clobbers Z4, Z5, K1.
#define DECAY16(X, F, FH, D) \
	VPADDD.BCST 768(R14), X, Z5 \
	VPMADDWD    FH, Z5, Z5 \
	VPSLLD      $4, Z5, Z5 \
	VPMADDWD    F, X, Z4 \
	VPCMPGTD    X, Z18, K1 \
	VPADDD      Z31, Z4, K1, Z4 \
	VPSRAD      $12, Z4, Z4 \
	VPADDD      Z4, Z5, D

// WRAPU fits X to u_bits: ((X & (2^b − 1)) ^ 2^(b−1)) − 2^(b−1).
#define WRAPU(X) \
	VPTERNLOGD.BCST $0x6a, 544(R14), Z12, X \
	VPSUBD.BCST     544(R14), X, X

// PROLOGUE loads the registers common to both kernels; R14 holds k.
#define PROLOGUE \
	MOVQ a0+0(FP), SI \
	MOVQ u0+8(FP), R8 \
	MOVQ v+16(FP), R10 \
	MOVQ bias+24(FP), R11 \
	MOVQ ref+32(FP), R12 \
	MOVQ stride+40(FP), R9 \
	SHLQ $2, R9 \
	MOVQ fired+48(FP), R13 \
	MOVQ n+56(FP), CX \
	MOVQ base+64(FP), AX \
	MOVQ k+72(FP), R14 \
	VPBROADCASTD AX, Z21 \
	VPADDD       iota16<>(SB), Z21, Z21 \
	MOVL         $16, AX \
	VPBROADCASTD AX, Z20 \
	VPBROADCASTD 0(R14), Z31 \
	VPBROADCASTD 32(R14), Z30 \
	VPBROADCASTD 64(R14), Z29 \
	VPBROADCASTD 96(R14), Z28 \
	VPBROADCASTD 128(R14), Z27 \
	VPBROADCASTD 160(R14), Z26 \
	VPBROADCASTD 224(R14), Z24 \
	VPBROADCASTD 256(R14), Z23 \
	VPBROADCASTD 288(R14), Z22 \
	VPBROADCASTD 512(R14), Z12 \
	VMOVQ        320(R14), X11 \
	VPTERNLOGD   $0xff, Z19, Z19, Z19 \
	VPXORD       Z18, Z18, Z18 \
	VPXORD       Z13, Z13, Z13 \
	MOVL         $0xffff, AX \
	KMOVW        AX, K7

// FH0, FH1, FHV are the decays' (0, 2f) vectors.
#define FH0 576(R14)
#define FH1 640(R14)
#define FHV 704(R14)

// CURRENTS reads and clears both accumulators, updates u0 (Z3) and u1 (Z6)
// and leaves a0 | a1 in Z2.
#define CURRENTS \
	VMOVDQU32.Z (SI), K7, Z0 \
	VMOVDQU32.Z (SI)(R9*1), K7, Z1 \
	VMOVDQU32   Z18, K7, (SI) \
	VMOVDQU32   Z18, K7, (SI)(R9*1) \
	VPORD       Z0, Z1, Z2 \
	VMOVDQU32.Z (R8), K7, Z3 \
	DECAY16(Z3, Z30, FH0, Z3) \
	VPSLLD      X11, Z0, Z0 \
	VPADDD      Z0, Z3, Z3 \
	WRAPU(Z3) \
	VMOVDQU32   Z3, K7, (R8) \
	VMOVDQU32.Z (R8)(R9*1), K7, Z6 \
	DECAY16(Z6, Z29, FH1, Z6) \
	VPSLLD      X11, Z1, Z1 \
	VPADDD      Z1, Z6, Z6 \
	WRAPU(Z6) \
	VMOVDQU32   Z6, K7, (R8)(R9*1)

// MEMBRANE reads ref (Z7, K3 = refractory lanes, K5 = the others in the
// run, ref−− on K3) and v (Z9 old), and sets Z10 = decay(v) + u0 + u1 +
// bias, saturated.
#define MEMBRANE \
	VMOVDQU32.Z (R12), K7, Z7 \
	VPTESTMD    Z7, Z7, K3 \
	VPTESTNMD   Z7, Z7, K7, K5 \
	VPADDD      Z19, Z7, K3, Z7 \
	VMOVDQU32.Z (R10), K7, Z9 \
	DECAY16(Z9, Z28, FHV, Z10) \
	VPADDD      Z3, Z10, Z10 \
	VPADDD      Z6, Z10, Z10 \
	VMOVDQU32.Z (R11), K7, Z0 \
	VPADDD      Z0, Z10, Z10 \
	VPMAXSD     Z27, Z10, Z10 \
	VPMINSD     Z26, Z10, Z10

// FINISH stores v (Z10, held on K3, reset from Z0 on K4) and ref (Z7,
// restarted on K4), compresses the indices of the firing lanes (K4) into
// fired, counts the idle lanes (in the run, no input, not fired), and
// advances to the next vector.
#define FINISH \
	VMOVDQA32   Z9, K3, Z10 \
	VMOVDQA32   Z0, K4, Z10 \
	VMOVDQU32   Z10, K7, (R10) \
	VMOVDQA32   Z24, K4, Z7 \
	VMOVDQU32   Z7, K7, (R12) \
	VPCOMPRESSD Z21, K4, Z0 \
	VMOVDQU32   Z0, (R13) \
	KMOVW       K4, AX \
	POPCNTL     AX, AX \
	LEAQ        (R13)(AX*4), R13 \
	VPORD       Z19, Z2, K4, Z2 \
	VPTESTNMD   Z2, Z2, K7, K2 \
	VPSUBD      Z19, Z13, K2, Z13 \
	VPADDD      Z20, Z21, Z21 \
	ADDQ        $64, SI \
	ADDQ        $64, R8 \
	ADDQ        $64, R10 \
	ADDQ        $64, R11 \
	ADDQ        $64, R12

// EPILOGUE returns the idle count (the lanes of Z13 summed) at IDLE and the
// number of fired neurons (R13's advance) at FIRES.
#define EPILOGUE(IDLE, FIRES) \
	VEXTRACTI64X4 $1, Z13, Y0 \
	VPADDD        Y0, Y13, Y13 \
	VEXTRACTI128  $1, Y13, X0 \
	VPADDD        X0, X13, X13 \
	VPSHUFD       $0x4e, X13, X0 \
	VPADDD        X0, X13, X13 \
	VPSHUFD       $0xb1, X13, X0 \
	VPADDD        X0, X13, X13 \
	VMOVD         X13, AX \
	MOVQ          AX, IDLE \
	SUBQ          fired+48(FP), R13 \
	SHRQ          $2, R13 \
	MOVQ          R13, FIRES \
	VZEROUPPER \
	RET

// func loihi2AVX512(a0, u0, v, bias, ref *int32, stride int, fired *uint32, n, base int, k *kernelConsts) (idle, fires int)
//
// Updates the n deterministic neurons base…base+n−1: a0, u0, v, bias and
// ref point at neuron base's entries (type 1 of a0 and u0 at +stride
// entries). Writes the indices of the neurons that fired to fired, which
// must have room for n + 15 entries (whole vectors are stored), and returns
// how many fired and how many neither fired nor had input.
TEXT ·loihi2AVX512(SB), NOSPLIT, $0-96
	PROLOGUE
	VPBROADCASTD 192(R14), Z25 // vthcmp

loop:
	CMPQ CX, $16
	JLT  tail

body:
	CURRENTS
	MEMBRANE
	VPCMPGTD Z25, Z10, K5, K4 // fire: v > vth and not refractory
	VPSUBD   Z23, Z10, Z0     // subtract reset: v − vth (v > vth ≥ 0: no saturation)
	VPANDD   Z22, Z0, Z0      // zero reset: 0
	FINISH
	SUBQ     $16, CX
	JMP      loop

tail:
	TESTQ  CX, CX
	JLE    done
	MOVL   $1, AX
	SHLL   CX, AX
	DECL   AX
	KMOVW  AX, K7
	MOVQ   $16, CX
	JMP    body

done:
	EPILOGUE(idle+80(FP), fires+88(FP))

// MIX48 leaves the top 16 bits of SplitMix64's finaliser of Z in Z's top
// 16 bits: z ^= z>>30; z *= c1; z ^= z>>27; z *= c2 (the last step,
// z ^= z>>31, does not change bits 33–63); clobbers T.
#define MIX48(Z, T) \
	VPSRLQ  $30, Z, T \
	VPXORQ  T, Z, Z \
	VPMULLQ Z15, Z, Z \
	VPSRLQ  $27, Z, T \
	VPXORQ  T, Z, Z \
	VPMULLQ Z14, Z, Z

// func stochAVX512(a0, u0, v, bias, ref *int32, stride int, fired *uint32, n, base int, k *kernelConsts, bases *uint64, tp uint64, table *uint32) (idle, fires int)
//
// loihi2AVX512 for stochastic neurons: the draw Rand16 = Mix64(bases[j] +
// tp) >> 48 (tp = (t+1)·ψ, noise.go), and fire = draw < table[clamp(((v −
// vth) >> shift) + offset, 0, last)] for the lanes not refractory, the
// table read with a gather. bases points at neuron base's noise base.
// Besides the common registers: BX bases, DX table, Z17 tp, Z16 hiDwords,
// Z15 and Z14 the finaliser's multipliers, K6 the upper half of K7.
TEXT ·stochAVX512(SB), NOSPLIT, $0-120
	PROLOGUE
	MOVQ         bases+80(FP), BX
	MOVQ         tp+88(FP), AX
	VPBROADCASTQ AX, Z17
	VMOVDQU32    hiDwords<>(SB), Z16
	MOVQ         $0xBF58476D1CE4E5B9, AX
	VPBROADCASTQ AX, Z15
	MOVQ         $0x94D049BB133111EB, AX
	VPBROADCASTQ AX, Z14
	VPBROADCASTD 416(R14), Z25 // escape offset
	MOVQ         table+96(FP), DX
	KSHIFTRW     $8, K7, K6

sloop:
	CMPQ CX, $16
	JLT  stail

sbody:
	// the draws: two vectors of eight 64-bit lanes, their top 16 bits
	// packed into one vector of sixteen 32-bit lanes (Z8)
	VMOVDQU64.Z (BX), K7, Z8
	VMOVDQU64.Z 64(BX), K6, Z9
	VPADDQ      Z17, Z8, Z8
	VPADDQ      Z17, Z9, Z9
	MIX48(Z8, Z4)
	MIX48(Z9, Z5)
	VPERMT2D    Z9, Z16, Z8
	VPSRLD      $16, Z8, Z8
	CURRENTS
	MEMBRANE
	// the escape table: index clamp(((v − vth) >> shift) + offset, 0, last)
	VPSUBD       Z23, Z10, Z0
	VPSRAD       384(R14), Z0, Z1
	VPADDD       Z25, Z1, Z1
	VPMAXSD      Z18, Z1, Z1
	VPMINSD.BCST 448(R14), Z1, Z1
	KMOVW        K5, K1
	VPGATHERDD   (DX)(Z1*4), K1, Z4
	VPCMPGTD     Z8, Z4, K5, K4 // fire: draw < entry and not refractory
	VPMAXSD      Z27, Z0, Z0    // subtract reset: v − vth, saturated
	VPANDD       Z22, Z0, Z0    // zero reset: 0
	FINISH
	ADDQ         $128, BX
	SUBQ         $16, CX
	JMP          sloop

stail:
	TESTQ    CX, CX
	JLE      sdone
	MOVL     $1, AX
	SHLL     CX, AX
	DECL     AX
	KMOVW    AX, K7
	KSHIFTRW $8, K7, K6
	MOVQ     $16, CX
	JMP      sbody

sdone:
	EPILOGUE(idle+104(FP), fires+112(FP))
