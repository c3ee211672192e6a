// Package firmware is the one way into a chip: networks as data, their
// compiler to chip programs, and the configuration image that carries a
// compiled network to the emulator.
//
//	network TOML ──ParseNetwork──┐
//	trainer.Deploy ──────────────┼──► Network ──Compile──► chip.Program + Placement ──► Image (bytes)
//	Go code (tests, benchmarks) ─┘        (integers on the chip's grid)               ──► chip.Load
//
// # Networks
//
// A Network holds populations of neurons (a chip.Profile each, per-neuron
// biases, initial membranes and noise keys), populations of on-chip spike
// sources (Population.Source: Poisson or regular generators), projections
// of explicit connections (integer weight mantissa, delay, synapse type,
// one weight exponent per projection or per presynaptic row), named input
// ports (channels onto neurons, through synapses like a projection's) and
// output ports (channels from neurons), and free-form provenance. Every
// number is already an integer of the chip's datapath: the quantizer
// (quantize.go) is the only place where physical units (ms, mV, Hz) or float
// weights become integers, and both the network language and the trainer's
// deploy call it. The network language — PyNN-like TOML for networks
// written by hand — is documented in nettoml.go and docs/networks.md;
// examples/networks/ holds CUBA, Brunel, the relay and the Potjans–Diesmann
// microcircuit (pd14.toml, for examples/chips/pd14.toml).
//
// # Compiling
//
// Compile (CompileWith for options) turns a Network into a chip.Program for
// a chip description in five steps:
//
//  1. Check: names, sizes and references, and every integer against the
//     chip's field widths (weights, delays, exponents, synapse types) and
//     its weight sign encoding (quantize.go, "Weight grids"),
//     with errors naming the population, projection or port and the
//     connection. Connections of weight zero are dropped and counted.
//  2. Placement: neurons are laid out population by population, in order,
//     onto cores in topology order (core 0, 1, …): a population's pieces
//     are consecutive slots on consecutive cores. A core takes the next
//     neuron while every per-core limit holds — its share of neurons
//     (⌈N / cores⌉ by default, so work spreads over the chip and ticks stay
//     short; Options.NeuronsPerCore packs instead), synapse memory (the
//     neuron's incoming synapses), input axons (counted exactly: one per
//     distinct (sender, weight exponent) reaching the core) and profiles
//     (one per population on the core) — and otherwise the neuron opens
//     the next core. A neuron too large for an empty core, or a network
//     that needs more cores than the chip has, is an error naming the
//     population, the neuron, the resource, the need and the limit.
//     Sources go to the core that holds their first target, so a Poisson
//     drive stays local, or the next core with a free generator slot.
//  3. Synapse grouping: every (sender, destination core, weight exponent)
//     becomes one input axon on the destination core, whose row holds the
//     synapses sorted by target slot, and one output-axon entry of the
//     sender (Loihi's model: one message per destination core, fan-out
//     inside it). The grouping is two stable counting sorts (by target,
//     then by sender), linear in the number of synapses, so ten million
//     synapses compile in about a second (docs/networks.md).
//  4. Ports: an input channel becomes a list of input axons, one per
//     destination core; an output channel names its neuron.
//  5. chip.Program.Check; its ResourceErrors are returned with the
//     populations on the offending core named.
//
// Placement answers both directions (Locate, Refs, Owner) and reports each
// core's usage, so no caller rebuilds the mapping. Placement never changes
// which spikes happen: a stochastic neuron draws with its noise key, which
// the compiler takes from the neuron's place in the network (populations
// laid end to end, or Population.NoiseKeys), not from its core or slot
// (the noise contract is chip/noise.go); TestPlacementDoesNotChangeResults
// runs one network spread, packed and scattered over two chips and
// compares every spike.
//
// Routing tables: a chip description whose [noc] routes by key/mask tables
// gets them from the router package at load, generated from the program's
// senders and destination cores (keys per population piece, ordered-covering
// minimisation, capacity checked per router); they are a pure function of
// the program, so the image's routers section stays empty and an image
// needs no recompiling when only the network-on-chip changes.
//
// # Images
//
// Image is the binary configuration image: header, section table and
// sections (cores, escape tables, ports, routers, placement, provenance),
// each with a CRC-32C, drawn with its version history in image.go. An
// image records the fingerprint of the chip description it was compiled
// for (chip.Config.Fingerprint: a frozen list of the fields that change what
// runs, not names or costs), and decoding validates every field before
// anything is loaded.
package firmware
