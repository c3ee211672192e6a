// Package trainer trains stochastic (and deterministic) spiking networks
// offline with surrogate gradients whose surrogate derivative is the
// derivative of the neurons' escape-noise function, following Gygax & Zenke,
// "Elucidating the theoretical underpinnings of surrogate gradient learning
// in spiking neural networks", Neural Computation 37(5):886–925, 2025.
//
// # The model is the chip's datapath without rounding
//
// A network is a stack of hidden layers of current-based LIF neurons
// (feed-forward, optionally recurrent, one or two synapse types) and a
// non-spiking leaky readout. Per step t, per neuron, in the chip's order
// (DESIGN.md, "The neuron datapath"):
//
//	a_k[t] = Σ_j W_kj·S_j[t−1] + Σ_j V_kj·S^self_j[t−1]   (layer 1: + input events of step t)
//	u_k[t] = λ_k·u_k[t−1] + a_k[t]                         λ_k = exp(−dt/τ_syn,k) ≈ 1 − du_k/4096
//	ṽ[t]   = λ_v·v[t−1] + Σ_k u_k[t] + b                    v takes the new u of the same tick
//	S[t]   = H(ṽ[t] − θ)                    deterministic
//	S[t]   ~ Bernoulli(f(ṽ[t] − θ))         stochastic, escape noise f
//	v[t]   = ṽ[t]·(1 − S[t])  (reset to zero)  or  ṽ[t] − θ·S[t]  (subtract); u is not reset
//
// A spike at t reaches the next layer (and the layer itself) at t + 1; an
// input event of step t enters layer 1 at t. The readout integrates the
// last hidden layer's spikes with the same u/v update and no threshold,
// reset or bias; its membrane O[t] is the network output. Spike
// probabilities are drawn from a counter-based hash of (seed, epoch,
// sample index, layer, neuron, step) — rng.go, the only place the float
// trainer draws noise — so results do not depend on batching or worker
// count. These training draws are not the chip's: a deployed network draws
// with the chip's noise contract (chip/noise.go), and the trainer's integer
// evaluation (IntegerNet, below) draws exactly the chip's bits.
//
// Escape functions f (x = ṽ − θ): sigmoid σ(βx) (β = 10 default) and
// exponential min(1, p0·exp(x/Δu)). The float32 engine evaluates σ from a
// table with linear interpolation (error < 1e−6, 0 and 1 beyond |βx| > 16),
// as the chip samples f into its escape table.
//
// # Gradients: smoothed stochastic AD is surrogate-gradient BPTT with ψ = f′
//
// Backpropagation through time is written out by hand (engine.go). For a
// stochastic neuron, smoothed stochastic automatic differentiation replaces
// dS/dṽ by the derivative of the spike's conditional mean given its sampled
// parents, f′(ṽ − θ), evaluated on the sampled (noisy) forward pass; the
// deterministic surrogate gradient is its zero-noise limit. The surrogate
// derivative ψ is selectable: escape (f′ of the configured escape function:
// the default for stochastic networks), superspike 1/(β|x| + 1)² (β = 10: the
// default for deterministic networks), sigmoid βσ(βx)(1 − σ(βx)), arctan
// (α/2)/(1 + (παx/2)²), triangle γ·max(0, 1 − |x|/w).
//
// With gX = ∂L/∂X, r[t] = 1 − S[t] for reset to zero and 1 for subtract
// (the reset is detached from the gradient by default), for t = T−1 … 0:
//
//	gv[t]  = λ_v·gṽ[t+1]                                  (∂L/∂v[t], after the reset)
//	gṽ[t]  = ψ(ṽ[t] − θ)·gS[t] + r[t]·gv[t]
//	gu_k[t] = gṽ[t] + λ_k·gu_k[t+1] = ga_k[t]
//	gW_k  += ga_k[t] ⊗ S_pre[t−1],  gV_k += ga_k[t] ⊗ S_self[t−1],  gb += gṽ[t]
//	gS_pre[t−1] += W_k·ga_k[t],      gS_self[t−1] += V_k·ga_k[t]
//
// gS[t] collects the next layer's (or the readout's) gradient, the
// recurrent gradient and the regulariser. With diff_reset the reset stays in
// the graph: gS[t] −= ṽ[t]·gv[t] (zero) or θ·gv[t] (subtract). The readout
// runs the same recursion with gṽ[t] = ∂L/∂O[t] + λ_v·gṽ[t+1].
//
// This order differs from stork's (the reference implementation), which
// updates U from the old current and scales it by (1 − λ_m): there,
// U[t+1] = λ_m·U[t] + (1 − λ_m)·I[t]. Here the weight absorbs the factor:
// a weight w here acts like w/(1 − λ_m) there, and v reacts one step
// earlier. The tests check this backward pass against float64 central
// finite differences on graded networks (spikes replaced by f(ṽ − θ), which
// makes ψ = f′ exact) to 1e−6, the single stochastic neuron's Monte-Carlo
// derivative of E[S] against ψ = f′, and the reference's toy sigmoid
// network, whose surrogate derivative changes sign against the true one.
//
// # Losses, regulariser, initialisation, optimizers
//
// Max-over-time cross-entropy (default): m_c = max_t O_c[t],
// L = −log softmax(m)_y; sum-over-time: L = −log((1/T)·Σ_t softmax(O[t])_y).
// The activity regulariser adds, per sample and hidden layer,
// s·max(0, n̄ − n₀)² with n̄ the population mean of per-neuron spike counts
// (reference: s = 0.1, n₀ = 7).
//
// Fluctuation-driven initialisation (Rossbroich, Gygax & Zenke 2022): hidden
// weights ~ N(0, σ_w²) with σ_w² = scale·σ_U²·θ²/(N_in·ν·ε̂), target
// σ_U = 1.3 (stochastic) or 1.0 (deterministic), ν the presynaptic rate
// (measured on the data for layer 1, 5 Hz otherwise), scale 0.9/0.1 between
// feed-forward and recurrent weights. ε̂ = Σ_t k[t]²·dt of this datapath's PSP
// kernel (unit jump in a: u[t] = λ_s^t, v[t] = λ_m·v[t−1] + u[t]), computed
// numerically over 10·τ_max (pspEnergy): 0.2243 s for 20/10 ms at 2 ms
// where stork's kernel gives 0.0020356 s — the ratio is (1 − λ_m)², the
// weight mapping above. Readout weights ~ N(0, (1 − λ_m)²/N_in) (stork's
// N(0, 1/N_in) in these units).
//
// SMORMS3 (default, as in the reference; lr 0.01) and Adam (lr 0.001), with
// constant, cosine or step schedules. Each tensor's step is multiplied by
// 1 − λ_m of the layer it feeds, so that the optimizer moves the weights in
// the reference's units and its learning rates carry over.
//
// # Training
//
// A batch is cut into shards of 8 samples (more above batch 512, so that at
// most 64 gradient buffers exist); a fixed pool of workers takes
// whole shards, each shard sums its gradient in its own buffer, and the
// shards are reduced in order: the result is bit-identical for any worker
// count (tested). One worker processes one sample at a time, layer by
// layer over all steps: the input projection is event-driven (a weight row
// per input spike), hidden spikes are stored as index lists per step and a
// bitset, the readout-to-hidden and layer-to-layer gradient products are
// one GEMM over all steps per sample, and the weight gradients add rows
// only where presynaptic spikes were. BPTT memory is T·Σ n·(2 + k) floats
// per worker (BPTTBytes), independent of the batch size.
//
// The epoch's sample order is a pure function of (seed, epoch) and the noise
// of (seed, epoch, sample), so a checkpoint written mid-epoch (on Ctrl-C) or
// at an epoch's end resumes bit-identically. The best model on the
// validation set is kept; early stopping after a patience in epochs; a
// non-finite loss, gradient or parameter stops training with ErrDiverged
// naming the epoch and the layer, leaving the parameters of the last good
// batch.
//
// # Deploying: the trained network on the chip
//
// Deploy quantizes a model for a chip description into a firmware.Network,
// which firmware compiles into a configuration image:
//
//   - one population per hidden layer, with the chip's decay constants for
//     the model's time constants (firmware.DecayConstant: the 12-bit grid,
//     Loihi's hidden +1 on du), threshold, reset and, for stochastic
//     networks, the escape function sampled into the chip's table over the
//     range where it rises from ~0 to ~1 (entry 0 is 0, the last entry is
//     certain; the report gives the largest probability step between
//     entries);
//   - a per-layer scale s (chip membrane units per unit of the float
//     membrane) tied to the threshold — s·θ = 2^(v_bits−1−headroom), two
//     bits of headroom by default — and lowered until the layer's largest
//     weight fits the largest mantissa at the largest exponent; the
//     threshold is then exact (s is chosen so that s·θ is vth << vth_shift);
//   - weights as mantissas of the chosen width with one exponent per
//     presynaptic row (the smallest that fits the row; exponents below 0
//     are not used, since the chip floors each shifted product), each on
//     the chip's sign grid (firmware.RowGrid: with Loihi's sign modes a
//     unit whose weights mix signs has every row on the even grid, see
//     mixedRows; a chip whose synapse type gives the sign is refused),
//     biases per neuron (firmware.QuantizeBias);
//   - calibration (DeployOptions.Calibrate): the integer network runs the
//     calibration samples and a layer's scale is halved while any of its
//     accumulators clip, currents wrap or membranes saturate; the counts are
//     reported and are zero on the shipped examples;
//   - the readout: non-firing readout units on the chip (a
//     chip.Profile.Readout profile) with the readout's time constants; each
//     keeps the largest membrane it reaches in a register, and the class
//     decision is the argmax of those registers — the max-over-time rule of
//     the model's default loss, computed by the chip. The float readout's
//     scale is free (argmax is scale-invariant), so it takes the last hidden
//     layer's, lowered like any other layer's.
//
// The float model integrates an input event in the step it arrives; the
// chip integrates an input event of tick t at t+1 (chip/doc.go). A deployed
// network therefore runs Steps+1 ticks per sample, one tick behind the
// float model throughout, and its decision covers the same time window.
//
// IntegerNet is the trainer's integer evaluation: the deployed network run
// population by population with chip.Datapath.Step and chip.Noise, sharing
// nothing else with the emulator's cores. EvaluateOnChip runs every test
// sample through a chip.System — System.Reset(SampleSeed(seed, sample,
// trial)) between samples, no reload — and, with Parity, through
// IntegerNet too, comparing every spike of every layer, the readout
// registers and the decision (TestDeployParity: bit-exact for deterministic
// and stochastic networks on the default and loihi presets with 1 and 3
// workers). Between the float model and the chip the agreement is
// statistical: an accuracy difference, reported by aerie train eval --chip
// next to the energy, cycles and synaptic events per inference.
//
// Training for a chip (Config.Chip, SnapToChip) moves every time constant
// onto the chip's decay grid before the first epoch and refuses what the
// chip cannot run. Quantization-aware fine-tuning (TrainConfig.QATBits,
// qat.go) trains on the weights a deploy would hold, with the
// straight-through estimator. Not yet built: first layers with two synapse
// types (they need one input port per type), and QAT through the integer
// membrane datapath (QAT rounds weights and biases only).
//
// # Model file format, version 1
//
// Little-endian throughout; encoding is deterministic.
//
//	+-----------+---------+-----------+--------------------+---------+------------+----------+
//	| magic     | version | header    | header             | tensors | tensor ... | CRC-32C  |
//	| "AERIEMD" | u32 = 1 | len u32   | JSON (≤ 1 MiB)     | n u32   |            | u32      |
//	| + 0x1A    |         |           |                    | ≤ 4096  |            |          |
//	+-----------+---------+-----------+--------------------+---------+------------+----------+
//	   8 bytes    4         4           len                  4                      4
//
//	tensor:
//	+-----------+------+--------+--------+--------------------------+
//	| name len  | name | rows   | cols   | rows·cols float32 values |
//	| u16 ≤ 64  |      | u32    | u32    | row-major                |
//	+-----------+------+--------+--------+--------------------------+
//
// The CRC-32C (Castagnoli) covers every byte before it. The JSON header
// holds the kind ("model" or "checkpoint"), the Spec (architecture, time
// constants, θ, reset, escape noise, surrogate), metadata (task, epochs,
// accuracies, the TOML config it was trained from) and, in a checkpoint,
// the training state (position in the run, history, optimizer step count).
// The tensors of a model are its parameters in layout order: per hidden
// layer l "h<l>.w<k>" (inputs × size, one row per presynaptic unit), then
// "h<l>.v<k>" (size × size) if recurrent, "h<l>.b" if biased; last "ro.w".
// A checkpoint appends the optimizer state "opt.0" … (1 × N over all
// parameters) and the best model so far ("best." + name). Decoding checks
// sizes before allocating, the CRC, every shape against the Spec and every
// value for finiteness; errors wrap ErrCorrupt and name a byte offset.
package trainer
