package firmware

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
)

func preset(t testing.TB, name string) *chip.Config {
	t.Helper()
	c, err := chip.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDecayConstantMul12(t *testing.T) {
	cfg := chip.Default() // mul12, u_decay_offset 1
	tests := []struct {
		tau     float64
		current bool
		d       uint16
		tauEff  float64 // ms, to 3 decimals
	}{
		{20, false, 20, 20.430}, // CUBA's membrane: round(4096·(1 − e^−0.005)) = 20
		{5, true, 80, 5.007},    // 81 − 1
		{10, true, 40, 9.940},   // 41 − 1
		{0, true, 4095, 0},      // delta: cleared every tick
		{1, false, 390, 0.999},
	}
	for _, tt := range tests {
		d, eff, err := DecayConstant(tt.tau, 0.1, tt.current, cfg)
		if err != nil {
			t.Fatalf("τ %g: %v", tt.tau, err)
		}
		if d != tt.d || math.Abs(eff-tt.tauEff) > 5e-4 {
			t.Errorf("τ %g ms (current %v): got d %d, τ_eff %.4f; want %d, %.3f", tt.tau, tt.current, d, eff, tt.d, tt.tauEff)
		}
		if got := EffectiveTau(d, 0.1, tt.current, cfg); math.Abs(got-eff) > 1e-12 {
			t.Errorf("EffectiveTau(%d) = %g, DecayConstant said %g", d, got, eff)
		}
	}
	// The documented bound: |τ_eff/τ − 1| ≤ about τ·e^(dt/τ)/(8192·dt).
	for _, tau := range []float64{0.5, 1, 2, 3, 5, 7, 10, 20, 50, 100} {
		_, eff, err := DecayConstant(tau, 0.1, false, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if rel, bound := math.Abs(eff/tau-1), tau*math.Exp(0.1/tau)/(8192*0.1)*1.05; rel > bound {
			t.Errorf("τ %g ms: τ_eff %g, relative error %.3g above the bound %.3g", tau, eff, rel, bound)
		}
	}
}

func TestDecayConstantShift(t *testing.T) {
	cfg := preset(t, "xylo") // shift decay, 4 bits, no offset
	for _, tt := range []struct {
		tau float64
		d   uint16
	}{{0.15, 1}, {0.35, 2}, {0.75, 3}, {1.6, 4}, {100, 10}, {1e9, 15}} {
		d, eff, err := DecayConstant(tt.tau, 0.1, true, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if d != tt.d {
			t.Errorf("τ %g ms: shift %d (τ_eff %g ms), want %d", tt.tau, d, eff, tt.d)
		}
		if want := -0.1 / math.Log1p(-math.Ldexp(1, -int(d))); math.Abs(eff-want) > 1e-12 {
			t.Errorf("τ_eff %g, want %g", eff, want)
		}
	}
	if d, eff, err := DecayConstant(0, 0.1, true, cfg); err != nil || d != 0 || eff != 0 {
		t.Errorf("delta synapse on shift decay: %d, %g, %v; want 0, 0, nil", d, eff, err)
	}
}

func TestDecayConstantErrors(t *testing.T) {
	tests := []struct {
		chip    string
		tau     float64
		current bool
		want    string
	}{
		{"truenorth", 20, false, "needs a multiplicative decay"},
		{"truenorth", 5, true, "no synaptic current state"},
		{"default", 1e5, false, "too long for the 12-bit decay grid"},
		{"default", 1e4, true, "too long"}, // the hidden +1 sets a floor on current decay
		{"default", 0, false, "must be > 0"},
		{"default", -1, true, "want finite"},
		{"default", math.NaN(), true, "want finite"},
	}
	for _, tt := range tests {
		_, _, err := DecayConstant(tt.tau, 0.1, tt.current, preset(t, tt.chip))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "firmware: ") {
			t.Errorf("%s τ %g: got %v, want an error containing %q", tt.chip, tt.tau, err, tt.want)
		}
	}
	// truenorth: instant currents accept delta synapses
	if _, _, err := DecayConstant(0, 1, true, preset(t, "truenorth")); err != nil {
		t.Errorf("delta synapse on instant currents: %v", err)
	}
}

func TestQuantizeWeights(t *testing.T) {
	cfg := chip.Default() // 8-bit mantissas, exponents −8 … 7
	mant, exp, err := QuantizeWeights([]float64{1, -0.5, 0.25, 0.001}, 255, signedGrid(cfg), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{255, -128, 64, 0}; exp != 0 || !equalInt32(mant, want) {
		t.Errorf("got %v·2^%d, want %v·2^0 (−127.5 rounds away from zero)", mant, exp, want)
	}
	// larger weights take the smallest exponent that fits
	mant, exp, err = QuantizeWeights([]float64{1000, 10}, 1, signedGrid(cfg), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if exp != 2 || mant[0] != 250 || mant[1] != 3 {
		t.Errorf("got %v·2^%d, want [250 3]·2^2", mant, exp)
	}
	// the relative error bound 1/(2|mant| − 1)
	w := []float64{0.3, 0.77, -0.91, 0.05}
	mant, exp, _ = QuantizeWeights(w, 300, signedGrid(cfg), cfg)
	for i := range w {
		got := float64(mant[i]) * math.Ldexp(1, int(exp)) / 300
		if e := math.Abs(got-w[i]) / math.Abs(w[i]); e > 1/(2*math.Abs(float64(mant[i]))-1)+1e-12 {
			t.Errorf("weight %g: %d·2^%d, relative error %g", w[i], mant[i], exp, e)
		}
	}
	if _, _, err := QuantizeWeights([]float64{0.001, -0.002}, 10, signedGrid(cfg), cfg); !errors.Is(err, ErrWeightsVanish) {
		t.Errorf("tiny weights: %v, want ErrWeightsVanish", err)
	}
	if _, _, err := QuantizeWeights([]float64{1e9}, 1, signedGrid(cfg), cfg); err == nil || !strings.Contains(err.Error(), "exceed") {
		t.Errorf("huge weight: %v", err)
	}
	if _, _, err := QuantizeWeights([]float64{math.Inf(1)}, 1, signedGrid(cfg), cfg); err == nil {
		t.Error("infinite weight accepted")
	}
	if _, _, err := QuantizeWeights([]float64{1}, 0, signedGrid(cfg), cfg); err == nil {
		t.Error("zero scale accepted")
	}
}

func equalInt32(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestQuantizeBiasAndThreshold(t *testing.T) {
	cfg := chip.Default() // bias 13 bits signed << 0 … 7, vth 17 bits << 6
	unit := 45 * 64 * 4096 / (20 * 1.62)
	m, e, err := QuantizeBias(11*20.0/4096*unit, cfg)
	if err != nil || m != 2444 || e != 3 {
		t.Errorf("CUBA bias: %d << %d (%v), want 2444 << 3", m, e, err)
	}
	if m, e, _ := QuantizeBias(-4095, cfg); m != -4095 || e != 0 {
		t.Errorf("bias −4095: %d << %d", m, e)
	}
	if _, _, err := QuantizeBias(1e7, cfg); err == nil {
		t.Error("a bias beyond 4095 << 7 accepted")
	}
	vth, err := QuantizeThreshold(10*unit, cfg)
	if err != nil || vth != 56889 {
		t.Errorf("CUBA threshold %d (%v), want 56889", vth, err)
	}
	if _, err := QuantizeThreshold(131072<<6, cfg); err == nil {
		t.Error("a threshold beyond 17 bits accepted")
	}
}

func TestRefractoryAndDelayTicks(t *testing.T) {
	cfg := chip.Default() // 6-bit refractory counter, max_delay 62
	for _, tt := range []struct {
		ms   float64
		want uint16
	}{{4.9, 49}, {2, 20}, {0, 0}, {0.04, 0}, {6.3, 63}} {
		if got, err := RefractoryTicks(tt.ms, 0.1, cfg); err != nil || got != tt.want {
			t.Errorf("refractory %g ms: %d (%v), want %d", tt.ms, got, err, tt.want)
		}
	}
	if _, err := RefractoryTicks(6.4, 0.1, cfg); err == nil {
		t.Error("64 refractory ticks accepted on 6 bits")
	}
	if _, err := RefractoryTicks(1, 0.1, preset(t, "xylo")); err == nil || !strings.Contains(err.Error(), "no refractory counter") {
		t.Errorf("xylo refractory: %v", err)
	}
	for _, tt := range []struct {
		ms   float64
		want uint8
	}{{0.1, 0}, {1.5, 14}, {0.14, 0}, {6.3, 62}} {
		if got, err := DelayTicks(tt.ms, 0.1, cfg); err != nil || got != tt.want {
			t.Errorf("delay %g ms: %d (%v), want %d", tt.ms, got, err, tt.want)
		}
	}
	for _, ms := range []float64{0.04, 0, -1, 6.4, math.NaN()} {
		if _, err := DelayTicks(ms, 0.1, cfg); err == nil {
			t.Errorf("delay %g ms accepted", ms)
		}
	}
}

// TestQuantizeLIFCUBA reproduces, from the physical parameters alone, the
// integers of the CUBA mapping (internal/bench/doc.go).
func TestQuantizeLIFCUBA(t *testing.T) {
	p := LIF{TauM: 20, TauSyn: [4]float64{5, 10}, VRest: -49, VReset: -60, VThresh: -50, TauRefrac: 4.9}
	in := []Afferent{{Type: 0, Weights: []float64{1.62}}, {Type: 1, Weights: []float64{-9}}}
	q, err := QuantizeLIF(p, 0.1, in, chip.Default())
	if err != nil {
		t.Fatal(err)
	}
	want := chip.Profile{Du: [4]uint16{80, 40}, Dv: 20, Vth: 45969, Refractory: 49}
	if q.Profile != want || q.BiasMant != 3950 || q.BiasExp != 2 {
		t.Errorf("got %+v bias %d<<%d, want %+v bias 3950<<2", q.Profile, q.BiasMant, q.BiasExp, want)
	}
	// the jumps are 1.62·c_e and −9·c_i (c = κ·(1 − λ)/(−ln λ): 0.99008κ
	// and 0.99499κ), whose ratio 5.58309 is 201/36 within 4.4·10⁻⁵
	if !q.Fixed || q.Mantissa != 201 || q.WeightExp != 0 || q.RatioErr > 4.4e-5 {
		t.Errorf("weights: fixed %v, mantissa %d at 2^%d, ratio error %g; want fixed 201 at 2^0, within 4.4e-5", q.Fixed, q.Mantissa, q.WeightExp, q.RatioErr)
	}
	if math.Abs(q.Scale.UnitsPerMV-294202.38) > 0.01 || q.Scale.OriginMV != -60 {
		t.Errorf("scale %+v, want 294202.38 units/mV from −60 mV", q.Scale)
	}
	for k, w := range []float64{1.62, -9} {
		mant, exp, err := QuantizeWeights([]float64{w}, q.WeightScale[k], signedGrid(chip.Default()), chip.Default())
		if err != nil || exp != 0 || mant[0] != []int32{36, -201}[k] {
			t.Errorf("weight %g: %v·2^%d (%v), want %d", w, mant, exp, err, []int32{36, -201}[k])
		}
	}
}

func TestQuantizeLIFUnitChoice(t *testing.T) {
	cfg := chip.Default()
	base := LIF{TauM: 20, TauSyn: [4]float64{5, 5}, VRest: -65, VReset: -65, VThresh: -50, TauRefrac: 2}
	// distributed weights: the largest maps to the largest mantissa
	q, err := QuantizeLIF(base, 0.1, []Afferent{{Weights: []float64{9}, Distributed: true}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if q.Fixed || q.Mantissa != 255 || q.Capped {
		t.Errorf("distributed: fixed %v mantissa %d capped %v", q.Fixed, q.Mantissa, q.Capped)
	}
	if m, _, _ := QuantizeWeights([]float64{9}, q.WeightScale[0], signedGrid(cfg), cfg); m[0] != 255 {
		t.Errorf("largest weight: mantissa %d, want 255", m[0])
	}
	// 2.5 mV on a current against a 15 mV span: the current's jump is
	// c·2.5 mV, so mapping it to 255 would put the threshold beyond 17
	// bits; the membrane caps the unit and the mantissa is smaller
	q, err = QuantizeLIF(base, 0.1, []Afferent{{Weights: []float64{2.5}, Distributed: true}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !q.Capped || q.Mantissa != 106 || q.Profile.Vth != 1<<17-1 {
		t.Errorf("capped distributed: %s; want mantissa 106, vth 131071", q)
	}
	// small delta weights against a wide threshold span: the membrane
	// caps the unit and the ratio search runs within the smaller bound
	wide := base
	wide.TauSyn = [4]float64{}
	wide.VThresh = 50
	q, err = QuantizeLIF(wide, 0.1, []Afferent{{Weights: []float64{0.04, 0.03}}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !q.Capped || !q.Fixed || q.Mantissa != 44 || q.Profile.Vth > 1<<17-1 {
		t.Errorf("capped fixed: %s; want mantissa 44 (= 4·11, the largest multiple of 4 within 45)", q)
	}
	if m, _, _ := QuantizeWeights([]float64{0.04, 0.03}, q.WeightScale[0], signedGrid(cfg), cfg); m[0]*3 != m[1]*4 {
		t.Errorf("the ratio 4:3 is not exact: %v", m)
	}
	// no afferents: the largest unit the membrane allows
	q, err = QuantizeLIF(base, 0.1, nil, cfg)
	if err != nil || !q.Capped {
		t.Fatalf("%v %v", q, err)
	}
	if q.Profile.Vth < 1<<16 {
		t.Errorf("no afferents: vth %d, want near the 17-bit maximum", q.Profile.Vth)
	}
	// threshold below reset, weights too small to represent
	bad := base
	bad.VThresh = -70
	if _, err := QuantizeLIF(bad, 0.1, nil, cfg); err == nil {
		t.Error("threshold below reset accepted")
	}
	if _, err := QuantizeLIF(wide, 0.1, []Afferent{{Weights: []float64{1e-6}}}, cfg); err == nil || !strings.Contains(err.Error(), "too small") {
		t.Errorf("vanishing weights: %v", err)
	}
	if _, err := QuantizeLIF(base, 0.1, []Afferent{{Type: 2, Weights: []float64{1}}}, cfg); err == nil {
		t.Error("synapse type 2 accepted on a two-type chip")
	}
}

func TestRatioSearch(t *testing.T) {
	tests := []struct {
		values      []float64
		bound, step int64
		m           int64
	}{
		{[]float64{1.62, -9}, 255, 1, 250},   // CUBA: −250/45 exact
		{[]float64{0.1, -0.5}, 255, 1, 255},  // Brunel g = 5: 255/51
		{[]float64{1, 1, 1}, 255, 1, 255},    // one value: the largest mantissa
		{[]float64{3, 4}, 255, 1, 252},       // 252 = 4·63: 189/252 exact
		{[]float64{1.62, -9}, 100, 1, 100},   // 100/18 exact within a lower bound
		{[]float64{1, 1.0 / 3}, 255, 1, 255}, // 255/85
		// a mixed Loihi row: even mantissas only, up to 254
		{[]float64{1.62, -9}, 254, 2, 200},  // 200/36 exact (250/45 has an odd 45)
		{[]float64{3, 4}, 254, 2, 248},      // 248/186: both even
		{[]float64{1, 1, 1}, 254, 2, 254},   // the largest even mantissa
		{[]float64{0.1, -0.5}, 254, 2, 250}, // 250/50
	}
	for _, tt := range tests {
		jmax := 0.0
		for _, v := range tt.values {
			jmax = max(jmax, math.Abs(v))
		}
		m, _ := ratioSearch(tt.values, jmax, tt.bound, tt.step)
		if m != tt.m {
			t.Errorf("%v within %d, step %d: M = %d, want %d", tt.values, tt.bound, tt.step, m, tt.m)
		}
		if m%tt.step != 0 {
			t.Errorf("%v: M = %d is not a multiple of %d", tt.values, m, tt.step)
		}
	}
}

func TestPoissonCounts(t *testing.T) {
	for _, lambda := range []float64{1e-4, 0.02, 0.5, 2, 10, 25} {
		c, err := PoissonCounts(lambda)
		if err != nil {
			t.Fatalf("λ %g: %v", lambda, err)
		}
		if len(c) > chip.MaxGeneratorCounts {
			t.Fatalf("λ %g: %d entries", lambda, len(c))
		}
		// the mean and variance of the distribution the chip draws from
		mean, sq := 0.0, 0.0
		prev := 0.0
		for k, e := range c {
			if k > 0 && e < c[k-1] {
				t.Fatalf("λ %g: entry %d decreases", lambda, k)
			}
			pk := float64(e)/(1<<32) - prev // P(K = k)
			prev = float64(e) / (1 << 32)
			mean += float64(k) * pk
			sq += float64(k*k) * pk
		}
		pk := 1 - prev // P(K = len(c)): the chip's top count
		mean += float64(len(c)) * pk
		sq += float64(len(c)*len(c)) * pk
		if v := sq - mean*mean; math.Abs(mean-lambda) > 1e-8*max(1, lambda) || math.Abs(v-lambda) > 1e-7*max(1, lambda) {
			t.Errorf("λ %g: the table's mean %g, variance %g", lambda, mean, v)
		}
		if tail := 1 - float64(c[len(c)-1])/(1<<32); tail > 2*poissonTail {
			t.Errorf("λ %g: tail %g beyond the last entry", lambda, tail)
		}
	}
	for _, lambda := range []float64{0, -1, 40, math.Inf(1), math.NaN()} {
		if _, err := PoissonCounts(lambda); err == nil {
			t.Errorf("λ %g accepted", lambda)
		}
	}
}

// TestPoissonSourceOnChip runs compiled Poisson sources on the emulated chip
// and checks the counts they emit: mean and variance λ per tick (a Bernoulli
// source would give λ(1−λ) at most one per tick), and P(K = 0) = e^−λ.
func TestPoissonSourceOnChip(t *testing.T) {
	const (
		lambda = 2.0 // 20 kHz at dt 0.1 ms, Brunel's external drive
		ticks  = 40000
	)
	src := `
dt = 0.1
seed = 7
[[source]]
name = "ext"
size = 1
rate = 20000.0
`
	net, err := ParseNetwork("poisson.toml", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := chip.Default()
	prog, _, err := Compile(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := chip.Load(cfg, prog, chip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := sys.LogTicks()
	if err := sys.Run(context.Background(), ticks); err != nil {
		t.Fatal(err)
	}
	var sum, sq float64
	zeros := 0
	for _, ts := range log.Ticks {
		k := float64(ts.Spikes)
		sum += k
		sq += k * k
		if ts.Spikes == 0 {
			zeros++
		}
	}
	if got := sys.Stats().Counts.Generated; got != uint64(sum) {
		t.Errorf("Stats counts %d generated spikes, the tick log %g", got, sum)
	}
	mean := sum / ticks
	variance := sq/ticks - mean*mean
	t.Logf("%d ticks: mean %.4f, variance %.4f, P(0) %.4f (Poisson: 2, 2, %.4f)", ticks, mean, variance, float64(zeros)/ticks, math.Exp(-lambda))
	// 5σ of the estimates: sd(mean) = √(λ/n), sd(var) ≈ √((μ4 − σ⁴)/n) with μ4 = λ(1+3λ)
	if tol := 5 * math.Sqrt(lambda/ticks); math.Abs(mean-lambda) > tol {
		t.Errorf("mean %g spikes per tick, want %g ± %.3g", mean, lambda, tol)
	}
	if tol := 5 * math.Sqrt((lambda*(1+3*lambda)-lambda*lambda)/ticks); math.Abs(variance-lambda) > tol {
		t.Errorf("variance %g, want %g ± %.3g", variance, lambda, tol)
	}
	p0 := math.Exp(-lambda)
	if got, tol := float64(zeros)/ticks, 5*math.Sqrt(p0*(1-p0)/ticks); math.Abs(got-p0) > tol {
		t.Errorf("P(no spike) = %g, want e^−2 = %g ± %.3g", got, p0, tol)
	}
}

func TestRegularSource(t *testing.T) {
	g, err := RegularSource(10, 0.3, 0.1)
	if err != nil || g.Period != 100 || g.Phase != 3 {
		t.Errorf("%+v %v, want period 100 phase 3", g, err)
	}
	for _, p := range [][2]float64{{0.04, 0}, {10, -1}, {math.Inf(1), 0}, {1e12, 0}} {
		if _, err := RegularSource(p[0], p[1], 0.1); err == nil {
			t.Errorf("period %g phase %g accepted", p[0], p[1])
		}
	}
}

// signedGrid is cfg's grid for a row that does not mix signs, type 0 on a
// signed chip: ±(2^weight_bits − 1).
func signedGrid(cfg *chip.Config) WeightGrid { return RowGrid(cfg, 0, false, 0) }

// signChip is the default chip with sign encoding sign and weight_bits bits.
func signChip(sign string, bits int) *chip.Config {
	c := chip.Default()
	c.Synapse.Sign, c.Synapse.WeightBits = sign, bits
	if bits > 8 {
		c.Synapse.MaxDelay = 15 // so that a synapse word still fits 32 bits
	}
	return c
}

// TestQuantizeRowSignModes: for every sign encoding, random rows (mixed and
// single-sign, both synapse types, magnitudes from below one LSB to the
// largest exponent) quantize to mantissas the chip's MantissaRange accepts,
// within half a grid step, at the smallest exponent that fits.
func TestQuantizeRowSignModes(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 7))
	for _, mode := range []struct {
		sign string
		bits int
	}{{"signed", 8}, {"row", 8}, {"type", 16}, {"row", 4}} {
		cfg := signChip(mode.sign, mode.bits)
		for trial := 0; trial < 400; trial++ {
			typ := r.IntN(2)
			mixed := mode.sign != "type" && r.IntN(2) == 0
			g := RowGrid(cfg, 0, mixed, typ)
			lo, hi, step := cfg.Synapse.MantissaRange(mixed, typ)
			if g != (WeightGrid{lo, hi, step}) {
				t.Fatalf("%s: RowGrid %v, MantissaRange %d %d %d", mode.sign, g, lo, hi, step)
			}
			// magnitudes up to what the largest exponent holds
			top := float64(g.Max()) * math.Ldexp(1, cfg.Synapse.WeightExpMax) * math.Pow(2, -r.Float64()*20)
			x := make([]float64, 1+r.IntN(40))
			sign := 1.0
			if (mode.sign == "type" && typ == 1) || (mode.sign != "type" && r.IntN(2) == 0) {
				sign = -1
			}
			for j := range x {
				s := sign
				if mixed && r.IntN(2) == 0 {
					s = -s
				}
				x[j] = s * top * r.Float64()
			}
			dst := make([]int32, len(x))
			exp, clipped := QuantizeRow(dst, x, g, cfg)
			if clipped != 0 {
				t.Errorf("%s/%d: %d weights clipped within the range (top %g, exp %d)", mode.sign, mode.bits, clipped, top, exp)
			}
			f := math.Ldexp(1, int(exp))
			for j, m := range dst {
				if m < lo || m > hi || (m-lo)%step != 0 {
					t.Fatalf("%s/%d mixed %v type %d: mantissa %d not in %d…%d step %d", mode.sign, mode.bits, mixed, typ, m, lo, hi, step)
				}
				if e := math.Abs(float64(m)*f - x[j]); e > float64(step)*f/2*(1+1e-12) {
					t.Fatalf("%s/%d: %g → %d·2^%d, error %g > half a step %g", mode.sign, mode.bits, x[j], m, exp, e, float64(step)*f/2)
				}
			}
			// the smallest exponent: one lower, some weight would clip
			if int(exp) > losslessExp(cfg) {
				fits := true
				for _, v := range x {
					if _, c := g.mant(v, int(exp)-1); c {
						fits = false
					}
				}
				if fits {
					t.Errorf("%s/%d: exponent %d, but %d fits", mode.sign, mode.bits, exp, exp-1)
				}
			}
		}
	}
	// beyond the largest exponent: clamped to the grid's ends and counted;
	// a wrong-signed weight on a "type" grid clamps to zero
	cfg := signChip("row", 8)
	dst := make([]int32, 3)
	g := RowGrid(cfg, 0, true, 0)
	if exp, clipped := QuantizeRow(dst, []float64{1e9, -1e9, 3}, g, cfg); exp != 7 || clipped != 2 || dst[0] != 254 || dst[1] != -256 {
		t.Errorf("clamped row: %v·2^%d, %d clipped; want [254 −256 0]·2^7, 2", dst, exp, clipped)
	}
	cfg = signChip("type", 16)
	if _, clipped := QuantizeRow(dst, []float64{-40, 100, 3}, RowGrid(cfg, 0, false, 0), cfg); clipped != 1 || dst[0] != 0 || dst[1] != 100 {
		t.Errorf("a negative weight on an excitatory type: %v, %d clipped", dst, clipped)
	}
	// a narrower width is the chip's encoding at that width
	if g := RowGrid(signChip("row", 8), 4, true, 0); g != (WeightGrid{-16, 14, 2}) || !g.Contains(-16) || g.Contains(15) || g.Contains(-3) {
		t.Errorf("4-bit mixed row grid %v", g)
	}
	if g := RowGrid(signChip("row", 8), 0, false, 1); g != (WeightGrid{-255, 255, 1}) {
		t.Errorf("single-sign row grid %v, want −255…255", g)
	}
	if g := RowGrid(signChip("type", 16), 0, false, 1); g != (WeightGrid{-65535, 0, 1}) || g.Max() != 65535 {
		t.Errorf("inhibitory type grid %v", g)
	}
}

// TestQuantizeWeightsMixedRow: a mixed Loihi row's largest weight maps to
// ±254 (not 255, which is odd), its mantissas are even, and the relative
// error bound doubles to Step/(2|mant| − Step).
func TestQuantizeWeightsMixedRow(t *testing.T) {
	cfg := signChip("row", 8)
	w := []float64{1, -0.5, 0.3, 0.77, -0.91, 0.05}
	g := RowGrid(cfg, 0, true, 0)
	mant, exp, err := QuantizeWeights(w, 254, g, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if exp != 0 || mant[0] != 254 || mant[1] != -128 {
		t.Errorf("got %v·2^%d, want 254, −128, … at 2^0", mant, exp)
	}
	for i := range w {
		if mant[i]%2 != 0 {
			t.Errorf("weight %g: odd mantissa %d on a mixed row", w[i], mant[i])
		}
		got := float64(mant[i]) * math.Ldexp(1, int(exp)) / 254
		if e := math.Abs(got-w[i]) / math.Abs(w[i]); e > 2/(2*math.Abs(float64(mant[i]))-2)+1e-12 {
			t.Errorf("weight %g: %d·2^%d, relative error %g", w[i], mant[i], exp, e)
		}
	}
	// 255 LSBs no longer fit at 2^0 on a mixed row: the exponent goes up
	if _, exp, _ := QuantizeWeights([]float64{1, -1}, 255, g, cfg); exp != 1 {
		t.Errorf("±255 LSBs on a mixed row: exponent %d, want 1", exp)
	}
	if _, _, err := QuantizeWeights([]float64{1, -1}, 100, RowGrid(signChip("type", 16), 0, false, 0), cfg); err == nil || !strings.Contains(err.Error(), "only the other sign") {
		t.Errorf("a negative weight on an excitatory grid: %v", err)
	}
}

// TestCheckSignModes: Network.Check holds a network to the chip's sign
// encoding, per sender and exponent on a "row" chip (across projections),
// per synapse type on a "type" chip, with errors naming the projection, the
// connection and the sender; what Check accepts, the chip accepts.
func TestCheckSignModes(t *testing.T) {
	pops := []Population{{Name: "a", Size: 2}, {Name: "b", Size: 3}, {Name: "c", Size: 3}}
	two := func(w0, w1 int32, e0, e1 int8) *Network {
		return &Network{Populations: pops, Projections: []Projection{
			{Name: "ab", Pre: 0, Post: 1, WeightExp: e0, Conns: []Conn{{Pre: 1, Post: 0, Weight: w0}}},
			{Name: "ac", Pre: 0, Post: 2, Type: 1, WeightExp: e1, Conns: []Conn{{Pre: 1, Post: 2, Weight: w1}}},
		}}
	}
	row := signChip("row", 8)
	tests := []struct {
		name string
		net  *Network
		cfg  *chip.Config
		want string // "" = valid
	}{
		{"mixed row, odd", &Network{Populations: pops, Projections: []Projection{{Name: "ab", Pre: 0, Post: 1, Conns: []Conn{{0, 0, 3, 0}, {0, 1, -6, 0}}}}}, row,
			`projection 0 (ab) connection 0: weight mantissa 3 on a row that mixes signs (neuron 0 of "a" sends weights of both signs at exponent 0): want even -256…254`},
		{"mixed row, even", &Network{Populations: pops, Projections: []Projection{{Name: "ab", Pre: 0, Post: 1, Conns: []Conn{{0, 0, 254, 0}, {0, 1, -256, 0}}}}}, row, ""},
		{"one sign, −256", &Network{Populations: pops, Projections: []Projection{{Name: "ab", Pre: 0, Post: 1, Conns: []Conn{{0, 0, -256, 0}, {0, 1, -3, 0}}}}}, row,
			`connection 0: weight mantissa -256 on a row of one sign (neuron 0 of "a" at exponent 0): want -255…255`},
		{"one sign, odd", &Network{Populations: pops, Projections: []Projection{{Name: "ab", Pre: 0, Post: 1, Conns: []Conn{{0, 0, 255, 0}, {1, 1, -255, 0}}}}}, row, ""},
		{"mixed across projections", two(3, -5, 0, 0), row, `neuron 1 of "a" sends weights of both signs at exponent 0`},
		{"mixed across projections, even", two(4, -6, 0, 0), row, ""},
		{"different exponents are different rows", two(3, -5, 0, 1), row, ""},
		{"signed chip", two(3, -5, 0, 0), signChip("signed", 8), ""},
		{"input port", &Network{Populations: pops, Inputs: []InputPort{{Name: "in", Channels: 2, Post: 1, Conns: []Conn{{1, 0, 7, 0}, {1, 2, -2, 0}}}}}, row,
			`input port 0 (in) connection 0: weight mantissa 7 on a row that mixes signs (channel 1 sends`},
		{"beyond both grids", &Network{Populations: pops, Projections: []Projection{{Pre: 0, Post: 1, Conns: []Conn{{0, 0, 300, 0}}}}}, row, "weight mantissa 300 exceeds ±255"},
		{"type: negative excitatory", two(-3, -5, 0, 0), signChip("type", 16),
			`projection 0 (ab) connection 0: weight mantissa -3 is negative on synapse type 0, which is excitatory`},
		{"type: positive inhibitory", two(3, 5, 0, 0), signChip("type", 16), `projection 1 (ac) connection 0: weight mantissa 5 is positive on synapse type 1, which is inhibitory`},
		{"type: 16-bit magnitudes", two(65535, -65535, 0, 0), signChip("type", 16), ""},
		{"type: beyond 16 bits", two(65536, -1, 0, 0), signChip("type", 16), "weight mantissa 65536 exceeds 0…65535"},
	}
	for _, tt := range tests {
		err := tt.net.Check(tt.cfg)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		case tt.want == "":
			// the chip agrees: its own per-row check passes
			for k := range tt.net.Populations {
				tt.net.Populations[k].Profile = chip.Profile{Vth: 10}
			}
			if _, _, err := Compile(tt.net, tt.cfg); err != nil {
				t.Errorf("%s: Check accepts it, Compile does not: %v", tt.name, err)
			}
		}
	}
}

// TestNetworkTOMLSignModes: the network language quantizes onto each sign
// encoding: on a "row" chip a population whose weights mix signs (a normal
// distribution around 0, or an excitatory and an inhibitory projection)
// gets even mantissas up to ±254, one whose weights share a sign the whole
// range; on a "type" chip a weight whose sign disagrees with its receptor
// is an error naming the projection, and CUBA (signs by receptor) compiles.
func TestNetworkTOMLSignModes(t *testing.T) {
	src := `
seed = 3
dt = 0.1
[[population]]
name = "a"
size = 40
[[population]]
name = "b"
size = 40
[[population]]
name = "x"
size = 40
[[population]]
name = "e"
size = 40
[[projection]]
name = "mixed"
pre = "a"
post = "b"
connector = "fixed_probability"
p = 0.5
weight = { normal = [0.0, 5.0] }
[[projection]]
name = "x-exc"
pre = "x"
post = "b"
connector = "one_to_one"
weight = 0.3
[[projection]]
name = "x-inh"
pre = "x"
post = "e"
connector = "one_to_one"
weight = -0.3
receptor = "inhibitory"
[[projection]]
name = "single"
pre = "e"
post = "x"
connector = "fixed_probability"
p = 0.5
weight = { uniform = [0.0, 20.0] }
`
	row := signChip("row", 8)
	net, err := ParseNetwork("signs.toml", src, row)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Compile(net, row); err != nil {
		t.Fatalf("compile on a row chip: %v", err)
	}
	for _, pr := range net.Projections {
		odd, top := 0, int32(0)
		for _, c := range pr.Conns {
			if c.Weight%2 != 0 {
				odd++
			}
			top = max(top, c.Weight, -c.Weight)
		}
		mixed := pr.Name != "single"
		if mixed && odd > 0 {
			t.Errorf("%s: %d odd mantissas on rows that mix signs", pr.Name, odd)
		}
		if !mixed && (odd == 0 || top != 255) {
			t.Errorf("%s: single-sign rows: %d odd mantissas, largest %d; want the whole range up to 255", pr.Name, odd, top)
		}
		if pr.Name == "mixed" && (top < 250 || top > 256) {
			t.Errorf("%s: largest mantissa %d, want the mixed grid's end (254 or 256)", pr.Name, top)
		}
	}
	// the same network on a signed chip keeps odd mantissas
	signed, err := ParseNetwork("signs.toml", src, signChip("signed", 8))
	if err != nil {
		t.Fatal(err)
	}
	odd := 0
	for _, c := range signed.Projections[0].Conns {
		odd += int(c.Weight & 1)
	}
	if odd == 0 {
		t.Error("a signed chip gave only even mantissas to a normal distribution")
	}
	// a "type" chip: the normal distribution puts negative weights on the
	// excitatory receptor
	typ := signChip("type", 16)
	if _, err := ParseNetwork("signs.toml", src, typ); err == nil || !strings.Contains(err.Error(), `projection "mixed": negative weights on receptor "excitatory" (synapse type 0`) {
		t.Errorf("negative weights on an excitatory receptor of a type chip: %v", err)
	}
	cuba, err := ParseNetwork("cuba.toml", example(t, "cuba"), typ)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Compile(cuba, typ); err != nil {
		t.Errorf("CUBA on a type chip: %v", err)
	}
	// and on the spinnaker preset, whose unsigned 16-bit magnitudes the
	// ratio search uses beyond the old 15-bit signed range
	spin := preset(t, "spinnaker")
	if spin.Synapse.Sign != "type" {
		t.Skipf("the spinnaker preset has sign %q", spin.Synapse.Sign)
	}
	cuba, err = ParseNetwork("cuba.toml", example(t, "cuba"), spin)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Compile(cuba, spin); err != nil {
		t.Errorf("CUBA on spinnaker: %v", err)
	}
	top := int32(0)
	for _, pr := range cuba.Projections {
		for _, c := range pr.Conns {
			if (c.Weight < 0) != (pr.Type != 0) {
				t.Fatalf("projection %s: mantissa %d on synapse type %d", pr.Name, c.Weight, pr.Type)
			}
			top = max(top, c.Weight, -c.Weight)
		}
	}
	if top <= 1<<15-1 || top > 1<<16-1 {
		t.Errorf("CUBA on spinnaker: largest magnitude %d, want the 16-bit range above 32767", top)
	}
}

// BenchmarkCheckSigns10M: Network.Check of 10⁷ synapses on a chip with
// signed mantissas and on one with Loihi's sign modes, whose per-sender
// rule (rowSignErrors) adds a pass over the connections, and a second when
// some sender mixes signs (row-mixed: every other weight negated, all even).
func BenchmarkCheckSigns10M(b *testing.B) {
	net := bigNetwork(10000, 10_000_000)
	mixed := &Network{Populations: net.Populations}
	for _, pr := range net.Projections {
		conns := slices.Clone(pr.Conns)
		for i := range conns {
			conns[i].Weight *= int32(2 * (1 - 2*(i&1)))
		}
		pr.Conns = conns
		mixed.Projections = append(mixed.Projections, pr)
	}
	for _, sign := range []string{"signed", "row", "row-mixed"} {
		b.Run(sign, func(b *testing.B) {
			cfg, net := signChip(sign, 8), net
			if sign == "row-mixed" {
				cfg, net = signChip("row", 8), mixed
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := net.Check(cfg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(10e6, "synapses/op")
		})
	}
}

// TestCurrentChargeExact: a weight w on an exponential synapse injects, over
// the whole PSC, Σ_t u_t = jump/(1 − λ) membrane units, and the model's
// current w·e^(−t/τ) injects κ·w·τ/dt mV of the chip's per-tick leak units
// (a constant g injects κ·g per tick). The two agree to the weight's
// rounding for short and long τ — at PD14's 0.5 ms the coupling κ·w·U
// alone would be 10 % over. A τ the chip clears within one tick (0.01 ms
// at dt 0.1 ms) is one pulse carrying the model's charge, not nothing.
func TestCurrentChargeExact(t *testing.T) {
	cfg := chip.Default()
	for _, tau := range []float64{0.01, 0.5, 2, 5, 10} {
		p := LIF{TauM: 10, TauSyn: [4]float64{tau, tau}, VRest: -65, VReset: -65, VThresh: -50, TauRefrac: 2}
		const w = 3.5124
		q, err := QuantizeLIF(p, 0.1, []Afferent{{Weights: []float64{w}, Distributed: true}}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		mant, exp, err := QuantizeWeights([]float64{w}, q.WeightScale[0], signedGrid(cfg), cfg)
		if err != nil {
			t.Fatal(err)
		}
		jump := math.Ldexp(float64(mant[0]), int(exp)+cfg.Neuron.ActShift)
		lambda := 1 - float64(int(q.Profile.Du[0])+cfg.Neuron.UDecayOffset)/4096
		kappa := float64(q.Profile.Dv) / 4096
		got := jump / (1 - lambda) / q.Scale.UnitsPerMV
		te := q.TauSynEff[0]
		if te == 0 {
			te = tau // cleared every tick: the model's own τ
		}
		want := kappa * w * te / 0.1
		if rel := math.Abs(got/want - 1); rel > 1/(2*float64(mant[0])-1) {
			t.Errorf("τ %g ms: charge %.6g, want %.6g (%.2g off, rounding allows %.2g)", tau, got, want, rel, 1/(2*float64(mant[0])-1))
		}
	}
}
