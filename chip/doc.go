// Package chip emulates multicore neuromorphic chips, cycle-approximately:
// cores of integer leaky integrate-and-fire neurons that exchange spikes as
// axon messages, with cycles and energy accounted per event.
//
// # Pieces
//
//   - Config: a chip description, loaded from TOML (LoadConfig, ParseConfig)
//     or taken from the embedded presets (Presets: default, loihi, truenorth,
//     spinnaker, xylo — each file in presets/ cites the sources of its
//     numbers). Decoding is strict: unknown or mis-cased keys are errors
//     naming the key and line, and Validate names every out-of-range field
//     with its allowed range.
//   - Datapath: the integer neuron update of a description. Datapath.Step is
//     the reference; the cores run specialised copies of it (branch-free
//     portable loops for every profile and, on amd64, AVX-512 or AVX2 vector
//     kernels: kernel.go, kernel_stoch.go, kernel_profiles.go,
//     docs/kernels.md), and tests hold every one to Step bit for bit.
//   - Presets and their rules: weight sign modes (synapse.sign), TrueNorth's
//     binary crossbar and one target per neuron (truenorth.go), each number's
//     source in docs/presets.md.
//   - Program: what a configuration image loads: per-core profiles, neurons,
//     input axons with their synapse rows, spike generators, and the ports
//     through which events enter and leave. Program.Check rejects a program
//     that does not fit the chip before anything runs, with ResourceError
//     values naming the core, the resource and the limit.
//   - System: a loaded program that steps ticks (Load, Run), with probes
//     (RecordSpikes, TraceNeurons, LogTicks, ObserveSpikes), external input
//     and output (SetInput, SetOutput) and accounting (Stats, Memory).
//
// # The time step
//
// Time is an integer tick. In tick t every core, independently:
//
//  1. adds the axon messages emitted at tick t−1, and the external input
//     events of tick t−1, into its dendritic accumulators: each message
//     walks its axon's synapse row and adds weight·2^exp to slot t+d of the
//     target (d is the synapse's delay);
//  2. reads and clears slot t and updates every neuron with the datapath;
//  3. emits one axon message per output-axon entry of every neuron (and
//     generator) that fired.
//
// So a spike emitted at tick t through a synapse of delay d is integrated at
// tick t+1+d, and so is an input event of tick t: an input port is a source
// population outside the chip, and its events are its spikes (as a
// SpikeSourceArray is in PyNN). Between ticks, on one goroutine, the
// network-on-chip (a router.Network, built at Load from the description's
// [noc] section; router.Ideal without one) carries the tick's messages, the
// tick's cycles are accounted, probes and the output sink see the tick's
// spikes, and the input source is asked for the tick's events.
//
// The network never changes which tick a message lands in unless a failure
// mode that the description enables says so: it decides when in cycles each
// message arrives (its drain time is added to the tick's cycles) and what
// the hops cost (cost.energy_pj.hop_x, hop_y, chip_hop); a message it marks
// late or dropped (a fixed-tick deadline with late = "drop", SpiNNaker-style
// blocked = "reroute" past its second wait) is removed from the outboxes
// before delivery and counted in Stats. Without those modes every run is
// bit-identical to the ideal network, for either timing model and any
// worker count (TestNoCBitIdentical). The events a description prices —
// neuron updates, synaptic operations, messages, hops — are one indexed
// table (events.go), so a new event is a row, not five edits.
//
// # The neuron datapath
//
// Per neuron, with per-profile decay constants du_k, dv, threshold vth and
// refractory period, and a per-neuron bias (mant << exp):
//
//	a_k  = slot value of type k, clipped to acc_bits (counted)
//	u_k  = decay(u_k, du_k + u_decay_offset) + (a_k << act_shift)   wrap or saturate at u_bits
//	       (current = "instant": u_k = a_k << act_shift, TrueNorth)
//	v    = decay(v, dv) + Σ_k u_k + bias                            saturate or wrap at v_bits
//	       (held, no integration and no spike, while the refractory counter runs)
//	fire = v > vth << vth_shift   (compare = "ge": v ≥ …)           deterministic profile
//	fire = Rand16(seed, key, t) < esc[((v − vth<<vth_shift) >> shift) + offset]   stochastic
//	on fire: v = 0 (reset "zero") or v −= vth << vth_shift ("subtract");
//	         the refractory counter starts; u is not reset
//
// decay is "mul12" (sign(x)·((|x|·(4096−d)) >> 12), truncating toward zero
// as Loihi does, or rounding to nearest), "shift" (x − x>>d, at least one
// step toward zero, Xylo), "linear" (d toward zero, TrueNorth) or "none".
// Saturation is symmetric (±(2^(bits−1) − 1)), as Lava clips v. One
// deliberate difference from Lava's bit-accurate model: u wraps as true
// two's complement; Lava leaves +2^23 unwrapped, an off-by-one that affects
// only that single value.
//
// The escape table is the escape-noise function a stochastic network was
// trained with, sampled on the chip's grid (SampleEscape). Rand16 is the
// top of Noise(seed, key, t), a counter-based hash of the run's seed, the
// neuron's logical noise key (Neuron.NoiseKey, set by the firmware from the
// neuron's place in the network) and the tick: stochastic runs depend on
// neither scheduling nor placement, and the trainer reproduces every draw
// (noise.go states the contract).
//
// # Memory layout
//
// A synapse is one 32-bit word: signed weight mantissa at the top (so an
// arithmetic shift extends its sign), then the delay, then the accumulator
// index type·neurons + neuron. Validate rejects descriptions whose fields do
// not fit 32 bits. Each input axon's row starts with one header word
// (length << 8 | weight exponent) followed by its synapses, and fan-out
// entries are resolved at load time to (destination core, row offset), so
// delivering a message touches the row's cache lines and nothing else. The
// accumulator ring has the next power of two above the program's largest
// delay + 1 slots, so a network without delays keeps one slot per type.
// Neuron state and parameters take 32 bytes per neuron for the default chip
// (TestMemoryPerNeuronAndSynapse; docs/chip.md has the figures).
//
// # Timing and energy
//
// A core's busy cycles in a tick are Σ count·cycles over its events: input
// spikes (messages received), synaptic operations, neuron updates (idle: no
// input; active: input, no spike; firing) and messages sent, priced by
// Config.Cost.Cycles. With sync = "barrier" a tick lasts the slowest core's
// busy cycles plus the interconnect's cycles plus the barrier (base + per
// hop × 2 × mesh diameter, a sweep out and back). With sync = "fixed" a tick
// lasts tick_cycles; a tick whose work does not fit is counted in
// Stats.Overruns and lasts as long as its work. Energy is Σ count·pJ from
// Config.Cost.EnergyPJ, plus the interconnect's energy, barrier energy per
// tick and static power over the emulated time. All of it is a pure function
// of the event counts and the description.
//
// # Parallelism and determinism
//
// Cores are single-threaded state machines: no goroutines, clocks or hidden
// random numbers inside. A fixed pool of workers owns disjoint, contiguous
// blocks of cores. Each worker delivers the previous tick's messages to its
// own cores only (a sender files each message under the worker that owns its
// destination, double-buffered by tick parity), updates them and emits; then
// the workers meet at a spinning barrier whose last arrival runs the
// between-ticks work before releasing the rest — one barrier per tick.
// Accumulation is integer addition, so the order in which messages arrive
// cannot change a sum, and every merge (probes, outputs, statistics) runs in
// core order. Results are bit-identical for any worker count and GOMAXPROCS
// (TestDeterministicAcrossWorkers runs 1, 2 and 7 workers and compares every
// spike, state and counter).
//
// With Options.Workers 0 the worker count follows the work per tick
// (AutoWorkers, workers.go: one worker per 1,024 neurons plus synapses/1024,
// measured in docs/scaling.md), and Run then measures, in
// chunks of 256 ticks, whether the workers or one goroutine stepping every
// worker's cores in turn is faster on this machine at this moment (a loaded
// or shared machine may deschedule a partner for tens of microseconds per
// tick), and keeps the faster. Either way the same cores run the same phases
// in the same order, so the choice changes wall time only (System.Schedule
// reports how many ticks ran each way).
//
// Departures from docs/design.md, and why: the accumulator width is applied
// when a slot is read (exact 32-bit sums, a clip counted per read), which is
// order-independent and costs nothing when Load proves a core's worst-case
// input fits; and the between-ticks work rides on the barrier instead of a
// second barrier, halving synchronisation per tick.
package chip
