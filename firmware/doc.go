// Package firmware turns deployable networks into what a chip loads.
//
// Today it holds the first piece of the deploy path: Network, a network of
// integer-parameter populations and explicit connections, and Compile, which
// places it on a chip description and produces a chip.Program:
//
//  1. placement: neurons are laid out population by population, filling
//     cores in order with an equal share (⌈N / cores⌉, capped by
//     core.neurons), so that work spreads over the whole chip;
//  2. profiles: one per (core, population);
//  3. axons: every (source neuron, destination core, weight exponent) with
//     at least one synapse becomes one output-axon entry on the source's
//     core and one input axon on the destination core, whose row holds the
//     synapses (Loihi's axon model: one message per destination core, fan-out
//     inside the core);
//  4. the result is checked by chip.Program.Check, whose errors name the
//     core, the resource and the limit.
//
// Still to come here (see docs/design.md): the network TOML, ports declared
// by name, synapse packing into fewer axons, routing tables for key-based
// interconnects, and the binary configuration image.
package firmware
