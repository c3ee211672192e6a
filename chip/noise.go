package chip

// The noise contract. Every random number on a chip — a stochastic neuron's
// draw, a Poisson source's count — is a pure function of three integers:
//
//	Noise(seed, key, t) = mix(mix(seed ⊕ c₀ + key·φ) + (t+1)·ψ)
//
// with mix the SplitMix64 finaliser (Steele, Lea & Flood 2014), φ =
// 0x9E3779B97F4A7C15, ψ = 0xD1B54A32D192ED03 and c₀ = 0x243F6A8885A308D3.
// seed is the program's (or a generator's own) seed, key the neuron's or
// generator's logical noise key, set by the firmware from its place in the
// network, and t the tick. Nothing else enters: not the core, not the slot,
// not the worker, so a run is identical for any placement and scheduling,
// and the trainer reproduces every draw by calling the same function.
//
// The constant c₀ and the +1 on t keep the all-zero input away from mix's
// fixed point (mix(0) = 0): Noise(0, 0, 0) is not 0.
//
// This file is the one place that defines it; trainer and firmware call it.

const (
	noisePhi  = 0x9E3779B97F4A7C15
	noisePsi  = 0xD1B54A32D192ED03
	noiseSalt = 0x243F6A8885A308D3
)

// Noise is the 64-bit counter-based random number of (seed, key, t).
func Noise(seed uint64, key uint32, t uint64) uint64 {
	return noiseAt(noiseBase(seed, key), t)
}

// noiseBase is the part of Noise that depends on (seed, key) only: a core
// computes it once per neuron (core.seedNoise) and draws with noiseAt.
func noiseBase(seed uint64, key uint32) uint64 {
	return Mix64((seed ^ noiseSalt) + uint64(key)*noisePhi)
}

// noiseAt completes Noise from its base: Noise(seed, key, t) ==
// noiseAt(noiseBase(seed, key), t).
func noiseAt(base, t uint64) uint64 {
	return Mix64(base + (t+1)*noisePsi)
}

// Rand16 is the 16-bit draw of a stochastic neuron: the top 16 bits of
// Noise. A neuron fires when Rand16 is below its escape-table entry.
func Rand16(seed uint64, key uint32, t uint64) uint16 {
	return uint16(Noise(seed, key, t) >> 48)
}

// Mix64 is the SplitMix64 finaliser, a bijection on 64-bit words. It is
// exported so that the host-side code that must agree with the chip
// (trainer, firmware) uses this copy and no other.
func Mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}
