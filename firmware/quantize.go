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
// which is the exponential-Euler (exact for a current held over the tick)
// integration of the model when the chip's membrane is measured from the
// reset potential in a unit of U units per mV and
//
//	u_k  = κ·g_k·U   with κ = 1 − λm, the membrane's realised leak per tick
//	bias = κ·(E − v_reset)·U
//
// So a weight w on an exponential synapse makes u jump by κ·w·U, and on a
// delta synapse (cleared every tick) by w·U: the accumulator receives
// mant·2^exp with mant·2^exp·2^act_shift = that jump. Using the realised κ,
// not dt/τm, keeps the steady state exact: a constant g moves the membrane
// to exactly E + g whatever the rounding of the decay constant.
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
//     ratios (ties: the larger M); U then follows from M. CUBA's w_e = 45,
//     w_i = −250 (−9/1.62 = −250/45, exact) come out of this search.
//   - distributed weights: U maps the largest |jump| to the largest
//     mantissa.
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

// weightExp returns the exponent for weights whose largest magnitude is
// xmax accumulator LSBs: the smallest exponent from losslessExp up at which
// round(xmax/2^exp) fits the mantissa.
func weightExp(xmax float64, cfg *chip.Config) (int8, error) {
	wmax := float64(int64(1)<<cfg.Synapse.WeightBits - 1)
	e := losslessExp(cfg)
	for e >= 0 && e < cfg.Synapse.WeightExpMax && math.Round(xmax/math.Ldexp(1, e)) > wmax {
		e++
	}
	if e < 0 {
		// a chip with only negative exponents: the value added is
		// mant >> −e, so only whole multiples of 2^−e are exact
		if math.Round(xmax) > float64(int64(wmax)>>uint(-e)) {
			return 0, fmt.Errorf("firmware: weights up to %.4g accumulator LSBs exceed ±%d >> %d (synapse.weight_bits, weight_exp_max %d)", xmax, int64(wmax), -e, cfg.Synapse.WeightExpMax)
		}
		return int8(e), nil
	}
	if math.Round(xmax/math.Ldexp(1, e)) > wmax {
		return 0, fmt.Errorf("firmware: weights up to %.4g accumulator LSBs exceed ±%d·2^%d (synapse.weight_bits, weight_exp_max)", xmax, int64(wmax), cfg.Synapse.WeightExpMax)
	}
	return int8(e), nil
}

// weightMant is the mantissa of x accumulator LSBs at exponent e (chosen by
// weightExp, so it fits).
func weightMant(x float64, e int8) int32 {
	if e < 0 {
		return int32(math.Round(x)) << uint(-e)
	}
	return int32(math.Round(x / math.Ldexp(1, int(e))))
}

// ErrWeightsVanish is returned (wrapped) when every non-zero weight of a set
// quantizes to a zero mantissa: at the chosen scale the weights are below
// half a mantissa LSB and could never change a run.
var ErrWeightsVanish = errors.New("every weight quantizes to zero")

// QuantizeWeights maps float weights onto mantissas sharing one exponent:
// w[i]·scale accumulator LSBs become mant[i]·2^exp, with exp the smallest
// exponent (from 0, or weight_exp_min if positive) at which the largest
// |w|·scale fits the mantissa width, and mant[i] = round(w[i]·scale/2^exp).
// Each weight is then within ±½·2^exp LSBs of w·scale: a relative error of
// at most 1/(2·|mant| − 1), about 1/(2·(2^weight_bits − 1)) for the largest.
//
// scale is accumulator LSBs per unit of w; for weights in mV onto a
// population quantized by QuantizeLIF it is QuantizedLIF.WeightScale of the
// synapse type. Errors: a non-finite weight or scale, weights too large for
// weight_exp_max, and every non-zero weight rounding to zero
// (ErrWeightsVanish).
func QuantizeWeights(w []float64, scale float64, cfg *chip.Config) (mant []int32, exp int8, err error) {
	if !(scale > 0) || !finite(scale) {
		return nil, 0, fmt.Errorf("firmware: weight scale %g: want a finite scale > 0", scale)
	}
	xmax := 0.0
	for i, x := range w {
		if !finite(x) {
			return nil, 0, fmt.Errorf("firmware: weight %d is %g", i, x)
		}
		xmax = max(xmax, math.Abs(x*scale))
	}
	exp, err = weightExp(xmax, cfg)
	if err != nil {
		return nil, 0, err
	}
	mant = make([]int32, len(w))
	nonzero := false
	for i, x := range w {
		mant[i] = weightMant(x*scale, exp)
		nonzero = nonzero || mant[i] != 0
	}
	if !nonzero && xmax > 0 {
		return nil, 0, fmt.Errorf("firmware: %w: the largest |w| is %.3g accumulator LSBs (scale %.4g per unit), below ½", ErrWeightsVanish, xmax, scale)
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
}

// QuantizedLIF is a population on the chip's grid, with what the rounding
// realised.
type QuantizedLIF struct {
	Profile  chip.Profile // Du, Dv, Vth, Refractory (no escape table)
	BiasMant int32
	BiasExp  uint8
	Scale    Scale
	// WeightScale is, per synapse type, the accumulator LSBs of one mV of
	// weight (κ·U/2^act_shift for a current, U/2^act_shift for a delta
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
		}
	}
	if q.Profile.Refractory, err = RefractoryTicks(p.TauRefrac, dt, cfg); err != nil {
		return nil, err
	}

	// The jumps of u (in mV·κ) that the unit must represent.
	var values []float64
	distributed := false
	jmax := 0.0
	for _, a := range in {
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

	e0 := losslessExp(cfg)
	lsb := math.Ldexp(1, e0) * act // u units of one mantissa step at e0
	wmax := int64(1)<<cfg.Synapse.WeightBits - 1
	if e0 < 0 {
		lsb = act
		wmax >>= uint(-e0)
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
		if bound < 1 {
			return nil, fmt.Errorf("firmware: the largest weight is %.3g of a mantissa step at the largest unit the membrane allows (%.4g units/mV): the weights are too small for the threshold span", uMax*jmax/lsb, uMax)
		}
		m, rerr := ratioSearch(values, jmax, bound)
		q.Fixed, q.RatioErr, q.Mantissa = true, rerr, int32(m)
		unit = float64(m) * lsb / jmax
	default:
		unit = float64(wmax) * lsb / jmax
		q.Mantissa = int32(wmax)
		if unit > uMax {
			unit = uMax
			q.Capped = true
			q.Mantissa = int32(math.Round(jmax * unit / lsb))
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

// ratioSearch finds the mantissa M ≤ bound of the largest |jump| jmax for
// which the other values' mantissas round(M·v/jmax) keep the ratios v/jmax
// with the smallest largest relative error; ties go to the larger M.
func ratioSearch(values []float64, jmax float64, bound int64) (int64, float64) {
	best, bestErr := int64(0), math.Inf(1)
	for m := int64(1); m <= bound; m++ {
		worst := 0.0
		for _, v := range values {
			x := float64(m) * math.Abs(v) / jmax
			e := math.Abs(math.Round(x)-x) / x
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
