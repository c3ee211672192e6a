// Package bench measures networks on aerie's chips: the statistics that say
// the integer emulator reproduces the published float networks, and the
// speed and accounting figures. It builds no network itself — benchmark
// networks are data (examples/networks/*.toml, parsed and quantized by
// package firmware) — and measures any compiled one: Run loads a program,
// runs it and reports per population spikes, rate and CV(ISI) (gathered
// online, without a spike record), with cycles, energy, wall time and the
// real-time factor.
//
// CUBA (Brette et al. 2007, J Comput Neurosci 23:349; the Brian variant,
// brian2 examples/CUBA.py) is examples/networks/cuba.toml; RunCUBA runs it
// with statistics over 0.1 s … the end, as the reference runs were. How its
// float parameters become the chip's integers — decay constants on the
// 12-bit grid, the weights 36 and −201 (their ratio within 4·10⁻⁵), the voltage unit, the
// refractory count of 49 — is derived in docs/networks.md.
//
// The scaling benchmark (scale.go, aerie bench scale) grows CUBA's statistics
// to any size with CUBA's in-degree of 80 kept, so rates stay CUBA's while
// the network grows; the Potjans–Diesmann microcircuit (pd14.go, aerie bench
// pd14) is examples/networks/pd14.toml on examples/chips/pd14.toml.
package bench
