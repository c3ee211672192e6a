package trainer

import "github.com/aerie-neuro/aerie/chip"

// This file is the single place where the float trainer draws random
// numbers for stochastic neurons: a draw is a pure function of its
// coordinates (seed, epoch, sample, layer, neuron, step) and never of the
// batch composition, the worker count or the order in which samples are
// processed. These are training draws, not the chip's: a deployed network
// draws with the chip's noise contract (chip/noise.go), which the trainer's
// integer evaluation (IntegerNet) reproduces bit for bit.

// mix64 is the splitmix64 step: the golden-ratio increment, then the
// finaliser (Steele, Lea & Flood 2014), the one copy of which is chip.Mix64.
func mix64(z uint64) uint64 { return chip.Mix64(z + 0x9e3779b97f4a7c15) }

// noiseKey returns the key of one pass of one sample: seed of the run, epoch
// (or evaluation trial, see evalEpoch) and the sample's index in its data set.
func noiseKey(seed, epoch, sample uint64) uint64 {
	return mix64(mix64(mix64(seed)^epoch) ^ sample)
}

// layerKey derives the key of one layer from a pass key.
func layerKey(key uint64, layer int) uint64 {
	return mix64(key ^ (uint64(layer) + 1))
}

// uniform returns the uniform draw in [0, 1) of neuron n at step t of the
// layer with key k: the top 53 bits of splitmix64(k + (t<<32 | n)).
func uniform(k uint64, t, n int) float64 {
	return float64(mix64(k+(uint64(t)<<32|uint64(n)))>>11) * (1.0 / (1 << 53))
}

// uniform32 is uniform with 24 bits, for float32 engines: the top 24 bits
// of the same hash, so both draws order identically against probabilities.
func uniform32(k uint64, t, n int) float32 {
	return float32(mix64(k+(uint64(t)<<32|uint64(n)))>>40) * (1.0 / (1 << 24))
}

// evalEpoch maps an evaluation trial onto the epoch coordinate of the noise,
// far from any training epoch.
func evalEpoch(trial int) uint64 { return 1<<62 + uint64(trial) }
