package firmware

// The quantizer: the one place where physical units (ms, mV, Hz) and float
// weights become the chip's integers. The network TOML (nettoml.go), the
// benchmarks and the trainer's deploy all call it; docs/networks.md is its
// manual, with every conversion, its rounding and its error bound.
//
// # The model and its exact-integration form
//
// A population is a current-based LIF neuron (PyNN's IF_curr_exp, Brian's
// CUBA):
//
//	τm dV/dt = −(V − E) + Σ_k g_k        dg_k/dt = −g_k/τ_k,  g_k += w on a spike
//
// with E the resting potential (v_rest, plus τm·i_offset/cm), the currents g
// and the weights w in mV, and τ_k = 0 meaning a delta synapse (V += w on a
// spike). The chip's datapath (chip/doc.go) is
//
//	u_k ← λ_k·u_k + a_k·2^act_shift          λ = 1 − (d + offset)/4096 (mul12) or 1 − 2^−d (shift)
//	v   ← λm·v + Σ_k u_k + bias
//
// which integrates the model when the chip's membrane is measured from the
// reset potential in a unit of U units per mV and
//
//	u_k  = c_k·g_k·U   with c_k = κ·(1 − λ_k)/(−ln λ_k)
//	bias = κ·(E − v_reset)·U
//
// κ = 1 − λm being the membrane's realised leak per tick and λ_k the
// current's realised decay. So a weight w on an exponential synapse makes
// u jump by c_k·w·U, and on a delta synapse (cleared every tick) by w·U:
// the accumulator receives mant·2^exp with mant·2^exp·2^act_shift = that
// jump. Using the realised κ, not dt/τm, keeps the steady state exact: a
// constant g moves the membrane to exactly E + g whatever the rounding of
// the decay constant. The factor (1 − λ_k)/(−ln λ_k) = (1 − λ_k)·τ_k/dt
// makes a current's charge exact: the chip adds the current at its value
// after the tick's decay, so with κ alone a PSC's charge is too large by
// about dt/(2τ_k), 1 % at τ = 5 ms but 10 % at PD14's 0.5 ms (dt 0.1 ms),
// which drove PD14's L6E to 0.62 Hz against the published 0.99–1.14. With
// it, c_k equals the exact propagator's τ_k(λm − λ_k)/(τm − τ_k) to 0.02 %:
// the chip's PSP is the exact one at every tick, one tick early.
//
// # The voltage unit
//
// U is chosen per target population (QuantizeLIF), because a population's
// threshold and its incoming weights share one integer scale:
//
//   - fixed weights (at most maxFixedValues distinct jumps into the
//     population, as in CUBA's 1.62 and −9 mV): the mantissa M of the
//     largest |jump| is searched over 1 … 2^weight_bits − 1, the others being
//     round(M·ratio), for the smallest largest relative error of the weight
//     ratios (ties: the larger M); U then follows from M. CUBA's w_e = 36,
//     w_i = −201 (201/36 within 4.3·10⁻⁵ of the jumps' ratio) come out of this search. If a
//     row into the population mixes signs on a chip with Loihi's sign
//     modes (Afferent.Mixed, "Weight grids" below), M and the others are
//     even, M ≤ 2^weight_bits − 2.
//   - distributed weights: U maps the largest |jump| to the largest
//     mantissa (of the mixed grid, if a row mixes signs).
//   - no incoming weights: U is the largest the membrane allows.
//
// In every case the mantissas sit at the smallest exponent that loses no bits
// (0, or weight_exp_min if that is positive): a negative exponent is a right
// shift of each synapse's mantissa and throws bits away, and a larger one
// only buys threshold resolution at the price of accumulator headroom.
// U is then capped by what the membrane must hold: the threshold mantissa
// within vth_bits, the threshold within ±(2^(v_bits−1) − 1), and as much
// room below the lowest of reset and rest as there is between it and the
// threshold (so inhibition can push the membrane below rest by one full
// threshold span before it saturates), and the bias within bias_bits <<
// bias_exp_max. If the cap binds, the fixed-weight search runs again with
// a smaller mantissa bound, so the ratios stay as exact as the cap allows.

import (
	"errors"
	"fmt"
	"math"

	"github.com/aerie-neuro/aerie/chip"
)

// maxFixedValues is how many distinct weight values into one population
// still count as "fixed weights", for which the ratio search runs: enough
// for hand-written networks with a few projections, far below what a
// distribution produces.
const maxFixedValues = 16

// ratioTie is the tolerance under which two ratio errors are equal and the
// larger mantissa wins: far above float rounding of the ratios (1e-16), far
// below any ratio error worth having (one part in 2^16 is 1.5e-5).
const ratioTie = 1e-9

// Scale is the voltage unit of a population: the chip's membrane value of a
// potential V (mV) is (V − OriginMV)·UnitsPerMV. OriginMV is the reset
// potential, so that reset-to-zero is exact.
type Scale struct {
	UnitsPerMV float64
	OriginMV   float64
}

// Units returns the chip's membrane value (unrounded) of potential mv.
func (s Scale) Units(mv float64) float64 { return (mv - s.OriginMV) * s.UnitsPerMV }

// MV returns the potential of membrane value units.
func (s Scale) MV(units float64) float64 { return units/s.UnitsPerMV + s.OriginMV }

// decayModeOK reports whether the description's decay arithmetic is
// multiplicative (an exponential leak), which the LIF model needs.
func decayModeOK(cfg *chip.Config) error {
	switch cfg.Neuron.Decay {
	case "mul12", "shift":
		return nil
	}
	return fmt.Errorf("firmware: chip %s has decay %q: the LIF model needs a multiplicative decay (mul12 or shift); a %s leak has no time constant",
		cfg.Name, cfg.Neuron.Decay, cfg.Neuron.Decay)
}

// DecayConstant returns the decay constant, on cfg's grid, of a state with
// time constant tau (ms) at a tick of dt ms, and the time constant it
// realises. current selects a synaptic current u_k (the description's
// u_decay_offset is added by the chip, so it is subtracted here; tau = 0 is
// a delta synapse, cleared every tick) instead of the membrane.
//
//	mul12: d = round(4096·(1 − e^(−dt/τ))) − offset      τ_eff = −dt / ln(1 − (d + offset)/4096)
//	shift: d = the shift s − offset whose τ_eff = −dt / ln(1 − 2^−s) is closest to τ on a log scale
//	       (τ_eff ≈ (2^s − ½)·dt)
//
// mul12's λ is within 1/8192 of e^(−dt/τ), so τ_eff/τ − 1 is within about
// ±τ·e^(dt/τ)/(8192·dt) (±2.5 % for τm = 20 ms at dt = 0.1 ms, where the
// closest constant, dv = 20, realises 20.43 ms); shift realises only
// (2^s − ½)·dt, within a factor √2 of any τ. Linear and no decay have
// no time constant: an error. So are a τ too long for the grid (the
// realised decay would be zero) and, for a chip whose currents have no
// state (current = "instant"), any τ > 0.
func DecayConstant(tau, dt float64, current bool, cfg *chip.Config) (d uint16, tauEff float64, err error) {
	if !finite(tau) || !finite(dt) || tau < 0 || !(dt > 0) {
		return 0, 0, fmt.Errorf("firmware: time constant %g ms at dt %g ms: want finite τ ≥ 0 and dt > 0", tau, dt)
	}
	if !current && tau == 0 {
		return 0, 0, errors.New("firmware: a membrane time constant must be > 0")
	}
	if current && cfg.Neuron.Current == "instant" {
		if tau != 0 {
			return 0, 0, fmt.Errorf("firmware: chip %s has no synaptic current state (neuron.current = \"instant\"): only delta synapses (tau_syn = 0) run on it, not τ = %g ms", cfg.Name, tau)
		}
		return 0, 0, nil
	}
	if err := decayModeOK(cfg); err != nil {
		return 0, 0, err
	}
	off := 0
	if current {
		off = cfg.Neuron.UDecayOffset
	}
	dmax := 1<<cfg.Neuron.DecayBits - 1
	switch cfg.Neuron.Decay {
	case "mul12":
		total := 4096
		if tau > 0 {
			total = int(math.Round(4096 * -math.Expm1(-dt/tau)))
		}
		if total < max(1, off) {
			longest := -dt / math.Log1p(-(float64(max(1, off))-0.5)/4096)
			return 0, 0, fmt.Errorf("firmware: time constant %g ms is too long for the 12-bit decay grid at dt %g ms (the longest is about %.4g ms)", tau, dt, longest)
		}
		if !current {
			dmax = 4096
		} else {
			dmax = 4096 - off
		}
		d := total - off
		if d > dmax {
			d = dmax
		}
		return uint16(d), mul12Tau(d+off, dt), nil
	default: // shift
		if tau == 0 {
			if off > 0 {
				return 0, 0, fmt.Errorf("firmware: chip %s cannot clear a current in one tick (shift decay with u_decay_offset %d): use tau_syn > 0", cfg.Name, off)
			}
			return 0, 0, nil
		}
		best, bestErr := -1, math.Inf(1)
		for s := max(1, off); s <= dmax+off; s++ {
			if e := math.Abs(math.Log(shiftTau(s, dt) / tau)); e < bestErr {
				best, bestErr = s, e
			}
		}
		if best < 0 {
			return 0, 0, fmt.Errorf("firmware: chip %s's shift decay has no constant for τ = %g ms", cfg.Name, tau)
		}
		return uint16(best - off), shiftTau(best, dt), nil
	}
}

func mul12Tau(total int, dt float64) float64 {
	if total >= 4096 {
		return 0
	}
	return -dt / math.Log1p(-float64(total)/4096)
}

func shiftTau(s int, dt float64) float64 {
	if s == 0 {
		return 0
	}
	return -dt / math.Log1p(-math.Ldexp(1, -s))
}

// EffectiveTau is the time constant (ms) that decay constant d realises at
// a tick of dt ms on cfg's datapath (current: a synaptic current, with
// u_decay_offset). 0 means cleared every tick, +Inf no decay.
func EffectiveTau(d uint16, dt float64, current bool, cfg *chip.Config) float64 {
	off := 0
	if current {
		if cfg.Neuron.Current == "instant" {
			return 0
		}
		off = cfg.Neuron.UDecayOffset
	}
	switch cfg.Neuron.Decay {
	case "mul12":
		if int(d)+off == 0 {
			return math.Inf(1)
		}
		return mul12Tau(int(d)+off, dt)
	case "shift":
		return shiftTau(int(d)+off, dt)
	}
	return math.Inf(1)
}

// leakFraction is κ = 1 − λ, the fraction of the membrane that decay
// constant dv removes per tick.
func leakFraction(dv uint16, cfg *chip.Config) float64 {
	if cfg.Neuron.Decay == "shift" {
		return math.Ldexp(1, -int(dv))
	}
	return float64(dv) / 4096
}

// losslessExp is the smallest weight exponent that keeps every mantissa bit:
// 0 if the chip allows it (negative exponents are right shifts of each
// synapse's mantissa), else the allowed exponent closest to 0.
func losslessExp(cfg *chip.Config) int {
	return min(max(0, cfg.Synapse.WeightExpMin), cfg.Synapse.WeightExpMax)
}

// # Weight grids: how a chip encodes a weight's sign
//
// A synapse holds a mantissa whose sign the chip encodes in one of three
// ways (chip.SynapseSpec.Sign, MantissaRange):
//
//   - "signed": every mantissa in ±(2^weight_bits − 1);
//   - "row" (Loihi): an axon row whose weights share one sign has the whole
//     magnitude range, but a row that mixes signs spends a bit on the sign,
//     so its mantissas are even, in [−2^weight_bits, 2^weight_bits − 2]
//     (with 8 bits: −256, −254, …, 254);
//   - "type" (SpiNNaker): an unsigned magnitude, up to 2^weight_bits − 1,
//     whose sign the synapse type gives (type 0 excitatory and positive,
//     the others inhibitory and negative).
//
// WeightGrid is the set one row of one synapse type may hold, and every
// quantizer here rounds onto it: the exponent is the smallest at which the
// row's largest weight of each sign fits the grid (so a mixed Loihi row's
// largest weight maps to ±254, not ±255), each mantissa the nearest grid
// point, within half a grid step (Step·2^exp/2 accumulator LSBs).
//
// Which rows mix. On the chip a row is one sender's synapses onto one core
// at one exponent (Compile, step 3), so whether it mixes signs depends on
// placement. The quantizers decide before placement, and conservatively:
// a sender (a neuron of a population, a channel of an input port) whose
// weights have both signs, over all its projections, quantizes every one
// of its rows on the mixed grid (signRows; the trainer's mixedRows). Every row the compiler cuts
// from it is then valid wherever the network is placed, and placement
// still never changes a run. Network.Check holds networks built by other
// means to the finer rule that implies the chip's own per-row check: per
// sender and exponent, the weights either share one sign or all lie on the
// mixed grid (rowSignErrors). A "type" chip takes a weight of the wrong
// sign for its synapse type as an error naming the projection: a network
// with negative weights on an excitatory receptor is wrong for SpiNNaker.

// WeightGrid is the set of weight mantissas a synapse may hold: Lo, Lo+Step,
// …, Hi (Lo ≤ 0 ≤ Hi, Step 1 or 2).
type WeightGrid struct {
	Lo, Hi, Step int32
}

// RowGrid is the grid of a synapse of type typ on cfg, in a row that mixes
// signs (mixed) or does not, with mantissas of at most bits magnitude bits
// (0 or ≥ synapse.weight_bits: the chip's width). A narrower grid is the
// chip's encoding at that width, a subset of the chip's own grid: a mixed
// Loihi row at 4 bits holds −16, −14, …, 14.
func RowGrid(cfg *chip.Config, bits int, mixed bool, typ int) WeightGrid {
	s := cfg.Synapse
	if bits > 0 && bits < s.WeightBits {
		s.WeightBits = bits
	}
	lo, hi, step := s.MantissaRange(mixed, typ)
	return WeightGrid{Lo: lo, Hi: hi, Step: max(step, 1)}
}

// Contains reports whether mantissa m is on the grid.
func (g WeightGrid) Contains(m int32) bool {
	return m >= g.Lo && m <= g.Hi && (m-g.Lo)&(g.Step-1) == 0 // Step is 1 or 2
}

// Max is the largest magnitude the grid holds for the sign(s) it has:
// 2^bits − 1, or 2^bits − 2 on a mixed row (whose negative end, −2^bits,
// only a negative weight reaches).
func (g WeightGrid) Max() int32 {
	switch {
	case g.Lo == 0:
		return g.Hi
	case g.Hi == 0:
		return -g.Lo
	}
	return min(-g.Lo, g.Hi)
}

// String is the grid for messages: "−255…255", "even −256…254".
func (g WeightGrid) String() string {
	if g.Step == 2 {
		return fmt.Sprintf("even %d…%d", g.Lo, g.Hi)
	}
	return fmt.Sprintf("%d…%d", g.Lo, g.Hi)
}

// mant returns the mantissa of x accumulator LSBs at exponent e on g: the
// nearest grid point to x/2^e (ties away from zero), or at a negative
// exponent (the chip adds mant >> −e) round(x) << −e; and whether x lay
// beyond the grid and was clamped to its end (a weight of the sign a "type"
// grid lacks clamps to zero).
func (g WeightGrid) mant(x float64, e int) (int32, bool) {
	lo, hi, step := float64(g.Lo), float64(g.Hi), float64(g.Step)
	sh := 0
	if e < 0 {
		// every k << −e is even, so only the range binds
		sh = -e
		f := math.Ldexp(1, sh)
		lo, hi, step = -math.Floor(-lo/f), math.Floor(hi/f), 1
	} else {
		x = x / math.Ldexp(1, e)
	}
	q := step * math.Round(x/step)
	clipped := false
	if q > hi {
		q, clipped = hi, true
	} else if q < lo {
		q, clipped = lo, true
	}
	return int32(q) << uint(sh), clipped
}

// rowExp is the smallest exponent from losslessExp up at which weights from
// xlo ≤ 0 to xhi ≥ 0 accumulator LSBs round onto g unclamped (a side the
// grid lacks is ignored), and whether they do at the exponent returned
// (false: not even at weight_exp_max).
func (g WeightGrid) rowExp(xlo, xhi float64, cfg *chip.Config) (int8, bool) {
	e := losslessExp(cfg)
	for {
		_, clo := g.mant(xlo, e)
		_, chi := g.mant(xhi, e)
		fits := (!clo || g.Lo == 0) && (!chi || g.Hi == 0)
		if fits || e < 0 || e >= cfg.Synapse.WeightExpMax {
			return int8(e), fits
		}
		e++
	}
}

// weightExp returns the exponent, on grid g, for weights whose largest
// magnitude is xmax accumulator LSBs, of either sign: the smallest from
// losslessExp up at which ±xmax rounds onto the grid.
func weightExp(xmax float64, g WeightGrid, cfg *chip.Config) (int8, error) {
	e, ok := g.rowExp(-xmax, xmax, cfg)
	if ok {
		return e, nil
	}
	if e < 0 {
		return 0, fmt.Errorf("firmware: weights up to %.4g accumulator LSBs exceed %s >> %d (synapse.weight_bits, weight_exp_max %d)", xmax, g, -e, cfg.Synapse.WeightExpMax)
	}
	return 0, fmt.Errorf("firmware: weights up to %.4g accumulator LSBs exceed %s·2^%d (synapse.weight_bits, weight_exp_max)", xmax, g, cfg.Synapse.WeightExpMax)
}

// weightMant is the mantissa of x accumulator LSBs at exponent e on grid g
// (e chosen by weightExp, so it fits).
func weightMant(x float64, e int8, g WeightGrid) int32 {
	m, _ := g.mant(x, int(e))
	return m
}

// QuantizeRow quantizes one row of weights sharing an exponent onto grid g:
// x[i] accumulator LSBs become dst[i]·2^exp, exp the smallest exponent from
// 0 (or weight_exp_min if positive) at which every x rounds onto g, dst[i]
// the nearest grid point — within ±½·g.Step·2^exp LSBs of x (±½ LSB at a
// negative exponent). If the row does not fit even at weight_exp_max, the
// weights beyond the grid are clamped to its ends (and, on a "type" grid,
// weights of the wrong sign to zero) and counted in clipped. dst must have
// len(x) entries.
func QuantizeRow(dst []int32, x []float64, g WeightGrid, cfg *chip.Config) (exp int8, clipped int) {
	xlo, xhi := 0.0, 0.0
	for _, v := range x {
		xlo, xhi = min(xlo, v), max(xhi, v)
	}
	exp, _ = g.rowExp(xlo, xhi, cfg)
	for i, v := range x {
		m, c := g.mant(v, int(exp))
		dst[i] = m
		if c {
			clipped++
		}
	}
	return exp, clipped
}

// Signs is a set of weight signs: SignPos, SignNeg or both (a sender's
// weights, to decide whether its rows mix signs).
type Signs uint8

// The members of Signs.
const (
	SignPos Signs = 1 << iota // some weight > 0
	SignNeg                   // some weight < 0
)

// Of adds the sign of w (nothing for zero).
func (s Signs) Of(w float64) Signs {
	switch {
	case w > 0:
		return s | SignPos
	case w < 0:
		return s | SignNeg
	}
	return s
}

// Mixed reports whether the set holds both signs.
func (s Signs) Mixed() bool { return s == SignPos|SignNeg }

// ErrWeightsVanish is returned (wrapped) when every non-zero weight of a set
// quantizes to a zero mantissa: at the chosen scale the weights are below
// half a mantissa LSB and could never change a run.
var ErrWeightsVanish = errors.New("every weight quantizes to zero")

// QuantizeWeights maps float weights onto mantissas sharing one exponent on
// grid g (RowGrid): w[i]·scale accumulator LSBs become mant[i]·2^exp, with
// exp the smallest exponent (from 0, or weight_exp_min if positive) at
// which the largest |w|·scale fits the grid, of either sign, and mant[i]
// the nearest grid point to w[i]·scale/2^exp. Each weight is then within
// ±½·g.Step·2^exp LSBs of w·scale: a relative error of at most
// g.Step/(2·|mant| − g.Step), about 1/(2·(2^weight_bits − 1)) for the
// largest on a signed grid and twice that on a mixed Loihi row.
//
// scale is accumulator LSBs per unit of w; for weights in mV onto a
// population quantized by QuantizeLIF it is QuantizedLIF.WeightScale of the
// synapse type. Errors: a non-finite weight or scale, a weight of the sign
// a "type" grid lacks, weights too large for weight_exp_max, and every
// non-zero weight rounding to zero (ErrWeightsVanish).
func QuantizeWeights(w []float64, scale float64, g WeightGrid, cfg *chip.Config) (mant []int32, exp int8, err error) {
	if !(scale > 0) || !finite(scale) {
		return nil, 0, fmt.Errorf("firmware: weight scale %g: want a finite scale > 0", scale)
	}
	xmax := 0.0
	for i, x := range w {
		if !finite(x) {
			return nil, 0, fmt.Errorf("firmware: weight %d is %g", i, x)
		}
		if (x > 0 && g.Hi == 0) || (x < 0 && g.Lo == 0) {
			return nil, 0, fmt.Errorf("firmware: weight %d is %g, but the grid %s holds only the other sign (synapse.sign = \"type\": the synapse type gives the sign)", i, x, g)
		}
		xmax = max(xmax, math.Abs(x*scale))
	}
	exp, err = weightExp(xmax, g, cfg)
	if err != nil {
		return nil, 0, err
	}
	mant = make([]int32, len(w))
	nonzero := false
	for i, x := range w {
		mant[i] = weightMant(x*scale, exp, g)
		nonzero = nonzero || mant[i] != 0
	}
	if !nonzero && xmax > 0 {
		return nil, 0, fmt.Errorf("firmware: %w: the largest |w| is %.3g accumulator LSBs (scale %.4g per unit), below half a grid step", ErrWeightsVanish, xmax, scale)
	}
	return mant, exp, nil
}

// QuantizeBias maps a bias of units membrane units per tick onto the chip's
// mantissa and exponent: the smallest exponent (0 … bias_exp_max) at which
// round(units/2^exp) fits bias_bits signed. The bias is then within
// ±2^(exp−1) units per tick (exact at exp 0).
func QuantizeBias(units float64, cfg *chip.Config) (mant int32, exp uint8, err error) {
	if !finite(units) {
		return 0, 0, fmt.Errorf("firmware: bias %g units", units)
	}
	n := cfg.Neuron
	bmax := float64(int64(1)<<(n.BiasBits-1) - 1)
	for e := 0; e <= n.BiasExpMax; e++ {
		m := math.Round(units / math.Ldexp(1, e))
		if math.Abs(m) <= bmax && math.Abs(m*math.Ldexp(1, e)) <= math.MaxInt32 {
			return int32(m), uint8(e), nil
		}
	}
	return 0, 0, fmt.Errorf("firmware: bias %.4g units per tick does not fit %d bits << %d (neuron.bias_bits, bias_exp_max)", units, n.BiasBits, n.BiasExpMax)
}

// QuantizeThreshold maps a threshold of units membrane units onto the
// chip's mantissa, compared as vth << vth_shift: round(units/2^vth_shift),
// within ±2^(vth_shift−1) units.
func QuantizeThreshold(units float64, cfg *chip.Config) (int32, error) {
	n := cfg.Neuron
	m := math.Round(units / math.Ldexp(1, n.VthShift))
	vmax := float64(int64(1)<<n.VthBits - 1)
	if !finite(units) || m < 0 || m > vmax {
		return 0, fmt.Errorf("firmware: threshold %.4g units is %.0f << %d, want 0 … %d (neuron.vth_bits)", units, m, n.VthShift, int64(vmax))
	}
	return int32(m), nil
}

// RefractoryTicks converts a refractory period (ms) to the chip's counter:
// the membrane is held for round(ms/dt) ticks after the spike (NEST's iaf
// convention: a neuron that spikes at tick t integrates again at t+1+n).
// Brian holds one tick less (it integrates again at t + round(ms/dt)), so a
// Brian model's refractory period is written one tick shorter. Exact for
// multiples of dt; otherwise within ±dt/2.
func RefractoryTicks(ms, dt float64, cfg *chip.Config) (uint16, error) {
	if !finite(ms) || ms < 0 || !(dt > 0) {
		return 0, fmt.Errorf("firmware: refractory period %g ms: want a finite value ≥ 0", ms)
	}
	n := math.Round(ms / dt)
	rmax := float64(int64(1)<<cfg.Neuron.RefractoryBits - 1)
	if n > rmax {
		if rmax == 0 {
			return 0, fmt.Errorf("firmware: refractory period %g ms is %.0f ticks; chip %s has no refractory counter (neuron.refractory_bits = 0): use tau_refrac < %g", ms, n, cfg.Name, dt/2)
		}
		return 0, fmt.Errorf("firmware: refractory period %g ms is %.0f ticks, more than %d (neuron.refractory_bits = %d)", ms, n, int64(rmax), cfg.Neuron.RefractoryBits)
	}
	return uint16(n), nil
}

// DelayTicks converts a synaptic delay (ms) to the chip's delay field: a
// delay of n = round(ms/dt) ticks (a spike at t acts at t+n) is the field
// n − 1, since the chip's smallest delay is one tick. n must lie in
// 1 … synapse.max_delay + 1. Exact for multiples of dt; otherwise within
// ±dt/2.
func DelayTicks(ms, dt float64, cfg *chip.Config) (uint8, error) {
	if !finite(ms) || !(dt > 0) {
		return 0, fmt.Errorf("firmware: delay %g ms", ms)
	}
	n := math.Round(ms / dt)
	if n < 1 {
		return 0, fmt.Errorf("firmware: delay %g ms is below one tick (dt %g ms)", ms, dt)
	}
	if n > float64(cfg.Synapse.MaxDelay+1) {
		return 0, fmt.Errorf("firmware: delay %g ms is %.0f ticks, more than %d (synapse.max_delay + 1)", ms, n, cfg.Synapse.MaxDelay+1)
	}
	return uint8(n - 1), nil
}

// poissonTail is where a count table stops: the probability of more spikes
// than its last entry is below 2^−32, less than one draw's resolution.
var poissonTail = math.Ldexp(1, -32)

// PoissonCounts returns the count table of a Poisson source with mean
// lambda spikes per tick: entry k = round(P(K ≤ k)·2^32) (capped at
// 2^32 − 1), up to the first k whose tail P(K > k) is below 2^−32. The chip
// emits, per tick, the number of entries ≤ the top 32 bits of its draw
// (chip.Generator), so P(emit ≤ k) is entry k / 2^32: every probability is
// within 2^−33 of Poisson's, and the mean within about (entries)·2^−33.
// A Bernoulli source (chip.Generator.Prob) would cap the rate at one spike
// per tick and under-disperse it; the table does neither. The table has at
// most chip.MaxGeneratorCounts entries, which holds means up to about 28
// spikes per tick.
func PoissonCounts(lambda float64) ([]uint32, error) {
	if !(lambda > 0) || !finite(lambda) {
		return nil, fmt.Errorf("firmware: Poisson mean %g spikes per tick: want a finite mean > 0", lambda)
	}
	var out []uint32
	pk := math.Exp(-lambda)
	cdf := 0.0
	for k := 0; ; k++ {
		if k == chip.MaxGeneratorCounts {
			return nil, fmt.Errorf("firmware: Poisson mean %.4g spikes per tick needs more than %d count entries (at most %d spikes per tick): lower the rate or split the source", lambda, chip.MaxGeneratorCounts, chip.MaxGeneratorCounts)
		}
		cdf += pk
		c := math.Round(cdf * (1 << 32))
		if c > math.MaxUint32 {
			c = math.MaxUint32
		}
		out = append(out, uint32(c))
		if 1-cdf < poissonTail {
			return out, nil
		}
		pk *= lambda / float64(k+1)
	}
}

// PoissonSource returns a generator that emits Poisson spikes at rateHz at a
// tick of dt ms (mean λ = rateHz·dt/1000 per tick; see PoissonCounts).
func PoissonSource(rateHz, dt float64) (chip.Generator, error) {
	if !(rateHz > 0) || !finite(rateHz) {
		return chip.Generator{}, fmt.Errorf("firmware: rate %g Hz: want a finite rate > 0", rateHz)
	}
	counts, err := PoissonCounts(rateHz * dt / 1000)
	if err != nil {
		return chip.Generator{}, err
	}
	return chip.Generator{Counts: counts}, nil
}

// RegularSource returns a generator that fires every period ms, first at
// phase ms: Period = round(period/dt) ≥ 1 ticks, Phase = round(phase/dt),
// each within ±dt/2.
func RegularSource(period, phase, dt float64) (chip.Generator, error) {
	if !finite(period) || !finite(phase) || phase < 0 || !(dt > 0) {
		return chip.Generator{}, fmt.Errorf("firmware: period %g ms, phase %g ms: want finite values, phase ≥ 0", period, phase)
	}
	p, ph := math.Round(period/dt), math.Round(phase/dt)
	if p < 1 || p > math.MaxUint32 || ph > math.MaxUint32 {
		return chip.Generator{}, fmt.Errorf("firmware: period %g ms is %.0f ticks and phase %g ms %.0f ticks: want 1 … %d and 0 … %d", period, p, phase, ph, uint32(math.MaxUint32), uint32(math.MaxUint32))
	}
	return chip.Generator{Period: uint32(p), Phase: uint32(ph)}, nil
}

// LIF is a current-based LIF population in physical units (see the top of
// this file for the model). Potentials are in mV, times in ms.
type LIF struct {
	TauM float64
	// TauSyn is the current time constant of each synapse type (0: delta
	// synapses); types beyond the chip's synapse_types are ignored.
	TauSyn [4]float64
	// VRest is the potential the membrane relaxes to (v_rest plus
	// τm·i_offset/cm); VReset the reset; VThresh the threshold.
	VRest, VReset, VThresh float64
	TauRefrac              float64
}

// Afferent is one set of weights (mV) arriving at a population on synapse
// type Type: the values the population's unit must represent. For fixed
// weights the distinct values suffice; Distributed says the weights come
// from a distribution (or are too many to treat as fixed), and then only
// the largest |w| of Weights matters.
type Afferent struct {
	Type        uint8
	Weights     []float64
	Distributed bool
	// Mixed says the weights arrive on rows that mix signs on a "row"
	// chip (see "Weight grids"): the unit then maps the largest weight to
	// the mixed grid's largest mantissa (2^weight_bits − 2, even).
	Mixed bool
}

// QuantizedLIF is a population on the chip's grid, with what the rounding
// realised.
type QuantizedLIF struct {
	Profile  chip.Profile // Du, Dv, Vth, Refractory (no escape table)
	BiasMant int32
	BiasExp  uint8
	Scale    Scale
	// WeightScale is, per synapse type, the accumulator LSBs of one mV of
	// weight (c_k·U/2^act_shift for a current, U/2^act_shift for a delta
	// synapse): the scale to pass to QuantizeWeights.
	WeightScale [4]float64
	// TauMEff and TauSynEff are the realised time constants (ms).
	TauMEff   float64
	TauSynEff [4]float64
	// VthErrMV is the threshold's rounding error; BiasErrMV the rest
	// potential's (the bias error over κ·U).
	VthErrMV, BiasErrMV float64
	// Fixed says the unit came from the fixed-weight ratio search; RatioErr
	// is then its largest relative ratio error, and Mantissa the mantissa
	// of the largest |weight| (at exponent WeightExp).
	Fixed     bool
	RatioErr  float64
	Mantissa  int32
	WeightExp int8
	// Capped says the membrane's range, not the weights, set the unit.
	Capped bool
	// Types is the chip's number of synapse types (the entries used above).
	Types int
}

// String is a one-line summary for provenance and messages.
func (q *QuantizedLIF) String() string {
	s := fmt.Sprintf("unit %.6g/mV from %g mV; dv %d (τm %.4g ms); du", q.Scale.UnitsPerMV, q.Scale.OriginMV, q.Profile.Dv, q.TauMEff)
	for k := 0; k < q.Types; k++ {
		s += fmt.Sprintf(" %d (τ %.4g ms)", q.Profile.Du[k], q.TauSynEff[k])
	}
	s += fmt.Sprintf("; vth %d (±%.2g mV); bias %d<<%d (±%.2g mV); refractory %d ticks", q.Profile.Vth, q.VthErrMV, q.BiasMant, q.BiasExp, q.BiasErrMV, q.Profile.Refractory)
	switch {
	case q.Fixed:
		s += fmt.Sprintf("; fixed weights: largest mantissa %d at 2^%d, ratio error %.2g", q.Mantissa, q.WeightExp, q.RatioErr)
	case q.Mantissa != 0:
		s += fmt.Sprintf("; distributed weights: largest mantissa %d at 2^%d", q.Mantissa, q.WeightExp)
	}
	if q.Capped {
		s += " (unit capped by the membrane's range)"
	}
	return s
}

// vHeadroom is the room, in threshold spans (threshold minus the lowest of
// reset and rest), that the membrane keeps below the lowest of reset and
// rest before it saturates: inhibition pushes membranes below rest, and a
// membrane that saturates there loses the inhibition it received.
const vHeadroom = 1.0

// QuantizeLIF maps population p, at a tick of dt ms, onto cfg's datapath:
// decay constants (DecayConstant), the voltage unit (see the top of this
// file: the fixed-weight ratio search or the largest weight, capped by the
// membrane's range), the threshold mantissa, the bias and the refractory
// count. in lists the weights that arrive at the population; their
// mantissas are then QuantizeWeights(w, q.WeightScale[type], cfg), which
// for the weights given here picks exponent q.WeightExp.
func QuantizeLIF(p LIF, dt float64, in []Afferent, cfg *chip.Config) (*QuantizedLIF, error) {
	for _, x := range []float64{p.TauM, p.VRest, p.VReset, p.VThresh, p.TauRefrac, dt, p.TauSyn[0], p.TauSyn[1], p.TauSyn[2], p.TauSyn[3]} {
		if !finite(x) {
			return nil, fmt.Errorf("firmware: LIF parameter %g is not finite", x)
		}
	}
	if !(p.VThresh > p.VReset) {
		return nil, fmt.Errorf("firmware: v_thresh %g mV ≤ v_reset %g mV: want the threshold above the reset", p.VThresh, p.VReset)
	}
	n := cfg.Neuron
	q := &QuantizedLIF{Scale: Scale{OriginMV: p.VReset}, Types: n.SynapseTypes}
	var err error
	if q.Profile.Dv, q.TauMEff, err = DecayConstant(p.TauM, dt, false, cfg); err != nil {
		return nil, fmt.Errorf("%w (tau_m)", err)
	}
	kappa := leakFraction(q.Profile.Dv, cfg)
	coef := [4]float64{}
	for k := 0; k < n.SynapseTypes; k++ {
		if q.Profile.Du[k], q.TauSynEff[k], err = DecayConstant(p.TauSyn[k], dt, true, cfg); err != nil {
			return nil, fmt.Errorf("%w (synapse type %d)", err, k)
		}
		coef[k] = kappa
		if p.TauSyn[k] == 0 {
			coef[k] = 1
		} else if te := q.TauSynEff[k]; te > 0 {
			// c_k: the current's charge exact (the package comment)
			coef[k] = kappa * (1 - math.Exp(-dt/te)) * te / dt
		} else {
			// τ so far below dt that the chip clears the current every
			// tick: a one-tick pulse carrying the model's charge κ·w·τ/dt
			// (the limit above would give none, and every weight 0)
			coef[k] = kappa * p.TauSyn[k] / dt
		}
	}
	if q.Profile.Refractory, err = RefractoryTicks(p.TauRefrac, dt, cfg); err != nil {
		return nil, err
	}

	// The jumps of u (in mV·c_k) that the unit must represent.
	var values []float64
	distributed, mixed := false, false
	jmax := 0.0
	for _, a := range in {
		mixed = mixed || a.Mixed
		if int(a.Type) >= n.SynapseTypes {
			return nil, fmt.Errorf("firmware: weights on synapse type %d; chip %s has %d (neuron.synapse_types)", a.Type, cfg.Name, n.SynapseTypes)
		}
		distributed = distributed || a.Distributed
		for _, w := range a.Weights {
			if !finite(w) {
				return nil, fmt.Errorf("firmware: weight %g", w)
			}
			j := w * coef[a.Type]
			if j == 0 {
				continue
			}
			jmax = max(jmax, math.Abs(j))
			if !distributed && len(values) <= maxFixedValues && !containsFloat(values, j) {
				values = append(values, j)
			}
		}
	}
	if len(values) > maxFixedValues {
		distributed = true
	}

	// The largest unit the membrane allows.
	theta := p.VThresh - p.VReset
	eRel := p.VRest - p.VReset
	act := math.Ldexp(1, n.ActShift)
	vMax := float64(int64(1)<<(n.VBits-1) - 1)
	vthMax := float64(int64(1)<<n.VthBits - 1)
	lo := min(0, eRel)
	uMax := vthMax * math.Ldexp(1, n.VthShift) / theta
	uMax = min(uMax, vMax/theta, vMax/(vHeadroom*(theta-lo)-lo))
	if eRel != 0 {
		bmax := min(float64(int64(1)<<(n.BiasBits-1)-1)*math.Ldexp(1, n.BiasExpMax), math.MaxInt32)
		uMax = min(uMax, bmax/(math.Abs(eRel)*kappa))
	}
	uMax *= 1 - 1e-9 // so that rounding at the cap stays inside it

	// The grid of the mantissas: if any row into the population mixes
	// signs on a "row" chip, the even one (the others then round more
	// finely than the search assumes, never more coarsely).
	g := RowGrid(cfg, 0, mixed && cfg.Synapse.Sign == "row", 0)
	e0 := losslessExp(cfg)
	lsb := math.Ldexp(1, e0) * act // u units of one mantissa step at e0
	wmax, step := int64(g.Max()), int64(g.Step)
	if e0 < 0 {
		lsb = act
		wmax >>= uint(-e0)
		step = 1 // k << −e0 is even whatever k
	}
	var unit float64
	switch {
	case jmax == 0:
		unit = uMax
		q.Capped = true
	case !distributed:
		bound := wmax
		if lim := math.Floor(uMax * jmax / lsb); lim < float64(bound) {
			bound = int64(lim)
			q.Capped = true
		}
		if bound < step {
			return nil, fmt.Errorf("firmware: the largest weight is %.3g of a mantissa step at the largest unit the membrane allows (%.4g units/mV): the weights are too small for the threshold span", uMax*jmax/lsb, uMax)
		}
		m, rerr := ratioSearch(values, jmax, bound, step)
		q.Fixed, q.RatioErr, q.Mantissa = true, rerr, int32(m)
		unit = float64(m) * lsb / jmax
	default:
		unit = float64(wmax) * lsb / jmax
		q.Mantissa = int32(wmax)
		if unit > uMax {
			unit = uMax
			q.Capped = true
			q.Mantissa = int32(float64(step) * math.Round(jmax*unit/lsb/float64(step)))
		}
		if q.Mantissa == 0 {
			return nil, fmt.Errorf("firmware: the largest weight is %.3g of a mantissa step at the largest unit the membrane allows (%.4g units/mV): the weights are too small for the threshold span", uMax*jmax/lsb, uMax)
		}
	}
	q.WeightExp = int8(e0)
	q.Scale.UnitsPerMV = unit
	for k := 0; k < n.SynapseTypes; k++ {
		q.WeightScale[k] = coef[k] * unit / act
	}
	if q.Profile.Vth, err = QuantizeThreshold(theta*unit, cfg); err != nil {
		return nil, err
	}
	if q.Profile.Vth == 0 {
		return nil, fmt.Errorf("firmware: the threshold (%g mV above reset) quantizes to zero at %.4g units/mV: the weights are too large for it", theta, unit)
	}
	q.VthErrMV = math.Abs(float64(int64(q.Profile.Vth)<<n.VthShift)-theta*unit) / unit
	b := eRel * kappa * unit
	if q.BiasMant, q.BiasExp, err = QuantizeBias(b, cfg); err != nil {
		return nil, err
	}
	q.BiasErrMV = math.Abs(float64(int64(q.BiasMant)<<q.BiasExp)-b) / (kappa * unit)
	return q, nil
}

// ratioSearch finds the mantissa M ≤ bound, a multiple of step (2 on a
// mixed Loihi row), of the largest |jump| jmax for which the other values'
// mantissas, M·v/jmax rounded to a multiple of step, keep the ratios v/jmax
// with the smallest largest relative error; ties go to the larger M.
func ratioSearch(values []float64, jmax float64, bound, step int64) (int64, float64) {
	best, bestErr := int64(0), math.Inf(1)
	st := float64(step)
	for m := step; m <= bound; m += step {
		worst := 0.0
		for _, v := range values {
			x := float64(m) * math.Abs(v) / jmax
			e := math.Abs(st*math.Round(x/st)-x) / x
			worst = max(worst, e)
		}
		switch {
		case worst < bestErr-ratioTie:
			best, bestErr = m, worst
		case worst <= bestErr+ratioTie: // a tie: the larger mantissa
			best, bestErr = m, min(worst, bestErr)
		}
	}
	return best, bestErr
}

func containsFloat(s []float64, x float64) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// weightGrid is the grid c's weights quantize onto: its synapse type's, on
// the mixed grid if signRows marked its senders as mixing signs.
func (b *builder) weightGrid(c *connWork) WeightGrid {
	return RowGrid(b.cfg, 0, c.mixed, int(c.typ))
}

// signs returns the signs of c's weights: for a distribution, the signs of
// its support when it has one sign, else of its draws (a second pass, which
// weightRand repeats exactly, until both signs are seen).
func (c *connWork) signs() Signs {
	var s Signs
	switch {
	case len(c.conns) == 0:
	case c.fileW != nil:
		for _, w := range c.fileW {
			if s = s.Of(w); s.Mixed() {
				break
			}
		}
	case c.weight == nil:
	case c.weight.scalar:
		s = s.Of(c.weight.value)
	default:
		// a support of one sign needs no draws
		if lo, hi := c.weight.bounds(); lo >= 0 || hi <= 0 {
			return s.Of(lo).Of(hi)
		}
		r := c.weightRand()
		for range c.conns {
			if s = s.Of(c.weight.draw(r)); s.Mixed() {
				break
			}
		}
	}
	return s
}

// signRows applies the chip's sign encoding to the network's connections
// before the populations' units are chosen (see "Weight grids" above). On
// a "row" chip it marks the projections whose senders mix signs — the
// network language decides per presynaptic population, over all its
// projections (an input port is its own senders) — so that their units and
// mantissas target the mixed grid. On a "type" chip a weight whose sign
// disagrees with its receptor is an error naming the projection.
func (b *builder) signRows() error {
	switch b.cfg.Synapse.Sign {
	case "row":
		pre := map[[2]int]Signs{} // (pre population or −1, input port index)
		key := func(c *connWork) [2]int {
			if c.pre < 0 {
				return [2]int{-1, c.idx}
			}
			return [2]int{c.pre, 0}
		}
		sig := make([]Signs, len(b.projs))
		for i, c := range b.projs {
			sig[i] = c.signs()
			pre[key(c)] |= sig[i]
		}
		for _, c := range b.projs {
			c.mixed = pre[key(c)].Mixed()
		}
	case "type":
		for _, c := range b.projs {
			s := c.signs()
			g := RowGrid(b.cfg, 0, false, int(c.typ))
			bad := (s&SignNeg != 0 && g.Lo == 0) || (s&SignPos != 0 && g.Hi == 0)
			if !bad {
				continue
			}
			want, got := "excitatory: weights ≥ 0", "negative"
			if g.Hi == 0 {
				want, got = "inhibitory: weights ≤ 0", "positive"
			}
			return fmt.Errorf("%s: %s: %s weights on receptor %q (synapse type %d, %s); chip %s gives a weight's sign by its synapse type (synapse.sign = \"type\"), so a receptor carries one sign (a distribution keeps one sign with clip or redraw at 0)",
				b.prefix(b.loc.key(c.kind, c.idx, "weight")), c.where, got, c.receptor, c.typ, want, b.cfg.Name)
		}
	}
	return nil
}

// weightBounds is the widest range of mantissas cfg's sign encoding allows
// a synapse of type typ, in a row that mixes signs or not: the per-weight
// check of Network.Check (rowSignErrors adds the per-row rule).
func weightBounds(cfg *chip.Config, typ uint8) (lo, hi int32) {
	lo0, hi0, _ := cfg.Synapse.MantissaRange(false, int(typ))
	lo1, hi1, _ := cfg.Synapse.MantissaRange(true, int(typ))
	return min(lo0, lo1), max(hi0, hi1)
}

// weightRangeMsg says why mantissa w lies outside weightBounds lo…hi.
func weightRangeMsg(w, lo, hi int32, typ uint8, cfg *chip.Config) string {
	switch cfg.Synapse.Sign {
	case "type":
		switch {
		case lo == 0 && w < 0:
			return fmt.Sprintf("weight mantissa %d is negative on synapse type %d, which is excitatory (synapse.sign = \"type\": the synapse type gives the sign)", w, typ)
		case hi == 0 && w > 0:
			return fmt.Sprintf("weight mantissa %d is positive on synapse type %d, which is inhibitory (synapse.sign = \"type\": the synapse type gives the sign)", w, typ)
		}
		return fmt.Sprintf("weight mantissa %d exceeds %d…%d (synapse.weight_bits)", w, lo, hi)
	case "row":
		return fmt.Sprintf("weight mantissa %d exceeds ±%d (synapse.weight_bits; a row that mixes signs also holds %d, synapse.sign = \"row\")", w, hi, lo)
	}
	return fmt.Sprintf("weight mantissa %d exceeds ±%d (synapse.weight_bits)", w, hi)
}

// rowSignErrors holds a network for a "row" chip to the rule that makes
// every axon row the compiler can cut from it valid (see "Weight grids"):
// per sender (a neuron, an input channel) and weight exponent, either all
// its weights share one sign (any mantissa in ±(2^weight_bits − 1)) or all
// lie on the mixed grid (even, −2^weight_bits … 2^weight_bits − 2). Errors
// name the projection or port, the connection and the sender. Network.Check
// calls it once the references are known to be good.
func (n *Network) rowSignErrors(cfg *chip.Config) []error {
	if cfg.Synapse.Sign != "row" {
		return nil
	}
	type list struct {
		where  string
		sender string // "neuron %d of …" or "channel %d"
		conns  []Conn
		typ    uint8
		exp    int8
		rowExp []int8
		// sg[2i] and sg[2i+1]: the exponents (a bit each) at which sender
		// i sends positive and negative weights, side by side in memory
		sg []uint64
	}
	bit := func(e int8) uint64 { return 1 << (uint(int(e)-cfg.Synapse.WeightExpMin) & 63) }
	sg := make([][]uint64, len(n.Populations))
	var lists []list
	for j := range n.Projections {
		pr := &n.Projections[j]
		where := fmt.Sprintf("projection %d", j)
		if pr.Name != "" {
			where = fmt.Sprintf("projection %d (%s)", j, pr.Name)
		}
		if sg[pr.Pre] == nil {
			sg[pr.Pre] = make([]uint64, 2*n.Populations[pr.Pre].Size)
		}
		lists = append(lists, list{where: where, sender: fmt.Sprintf("neuron %%d of %q", n.Populations[pr.Pre].Name), conns: pr.Conns, typ: pr.Type, exp: pr.WeightExp, rowExp: pr.RowExp, sg: sg[pr.Pre]})
	}
	for i := range n.Inputs {
		in := &n.Inputs[i]
		s := make([]uint64, 2*in.Channels)
		sg = append(sg, s)
		lists = append(lists, list{where: fmt.Sprintf("input port %d (%s)", i, in.Name), sender: "channel %d", conns: in.Conns, typ: in.Type, exp: in.WeightExp, rowExp: in.RowExp, sg: s})
	}
	exp := func(l *list, cn Conn) int8 {
		if l.rowExp != nil {
			return l.rowExp[cn.Pre]
		}
		return l.exp
	}
	// wmin is a single-sign row's most negative mantissa; below says some
	// mantissa lies below it (which only a mixed row may hold)
	wmin, below := -int32(1)<<cfg.Synapse.WeightBits+1, false
	for li := range lists {
		l := &lists[li]
		s, b := l.sg, bit(l.exp)
		for _, cn := range l.conns {
			if l.rowExp != nil {
				b = bit(l.rowExp[cn.Pre])
			}
			if cn.Weight != 0 {
				s[2*int(cn.Pre)+int(uint32(cn.Weight)>>31)] |= b
			}
			below = below || cn.Weight < wmin
		}
	}
	// no sender mixes signs and no mantissa needs a mixed row: every
	// weight is within the single-sign range, which checkConns has held
	mixes := below
	for _, s := range sg {
		for i := 0; i+1 < len(s) && !mixes; i += 2 {
			mixes = s[i]&s[i+1] != 0
		}
	}
	if !mixes {
		return nil
	}
	var errs []error
	for li := range lists {
		l := &lists[li]
		one, mix := RowGrid(cfg, 0, false, int(l.typ)), RowGrid(cfg, 0, true, int(l.typ))
		b0 := bit(l.exp)
		bad, first := 0, ""
		for ci, cn := range l.conns {
			if cn.Weight == 0 {
				continue
			}
			b := b0
			if l.rowExp != nil {
				b = bit(l.rowExp[cn.Pre])
			}
			mixed := l.sg[2*int(cn.Pre)]&l.sg[2*int(cn.Pre)+1]&b != 0
			g := one
			if mixed {
				g = mix
			}
			if g.Contains(cn.Weight) {
				continue
			}
			e := exp(l, cn)
			if bad == 0 {
				sender := fmt.Sprintf(l.sender, cn.Pre)
				if mixed {
					first = fmt.Sprintf("%s connection %d: weight mantissa %d on a row that mixes signs (%s sends weights of both signs at exponent %d): want %s (synapse.sign = \"row\": a mixed row spends a bit on the sign)", l.where, ci, cn.Weight, sender, e, g)
				} else {
					first = fmt.Sprintf("%s connection %d: weight mantissa %d on a row of one sign (%s at exponent %d): want %s (synapse.sign = \"row\")", l.where, ci, cn.Weight, sender, e, g)
				}
			}
			bad++
		}
		switch {
		case bad == 1:
			errs = append(errs, fmt.Errorf("firmware: %s", first))
		case bad > 1:
			errs = append(errs, fmt.Errorf("firmware: %s (and %d more connections)", first, bad-1))
		}
		if len(errs) >= 20 {
			break
		}
	}
	return errs
}
