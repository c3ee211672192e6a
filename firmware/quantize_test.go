package firmware

import (
	"context"
	"errors"
	"math"
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
	mant, exp, err := QuantizeWeights([]float64{1, -0.5, 0.25, 0.001}, 255, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{255, -128, 64, 0}; exp != 0 || !equalInt32(mant, want) {
		t.Errorf("got %v·2^%d, want %v·2^0 (−127.5 rounds away from zero)", mant, exp, want)
	}
	// larger weights take the smallest exponent that fits
	mant, exp, err = QuantizeWeights([]float64{1000, 10}, 1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if exp != 2 || mant[0] != 250 || mant[1] != 3 {
		t.Errorf("got %v·2^%d, want [250 3]·2^2", mant, exp)
	}
	// the relative error bound 1/(2|mant| − 1)
	w := []float64{0.3, 0.77, -0.91, 0.05}
	mant, exp, _ = QuantizeWeights(w, 300, cfg)
	for i := range w {
		got := float64(mant[i]) * math.Ldexp(1, int(exp)) / 300
		if e := math.Abs(got-w[i]) / math.Abs(w[i]); e > 1/(2*math.Abs(float64(mant[i]))-1)+1e-12 {
			t.Errorf("weight %g: %d·2^%d, relative error %g", w[i], mant[i], exp, e)
		}
	}
	if _, _, err := QuantizeWeights([]float64{0.001, -0.002}, 10, cfg); !errors.Is(err, ErrWeightsVanish) {
		t.Errorf("tiny weights: %v, want ErrWeightsVanish", err)
	}
	if _, _, err := QuantizeWeights([]float64{1e9}, 1, cfg); err == nil || !strings.Contains(err.Error(), "exceed") {
		t.Errorf("huge weight: %v", err)
	}
	if _, _, err := QuantizeWeights([]float64{math.Inf(1)}, 1, cfg); err == nil {
		t.Error("infinite weight accepted")
	}
	if _, _, err := QuantizeWeights([]float64{1}, 0, cfg); err == nil {
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
	want := chip.Profile{Du: [4]uint16{80, 40}, Dv: 20, Vth: 56889, Refractory: 49}
	if q.Profile != want || q.BiasMant != 2444 || q.BiasExp != 3 {
		t.Errorf("got %+v bias %d<<%d, want %+v bias 2444<<3", q.Profile, q.BiasMant, q.BiasExp, want)
	}
	if !q.Fixed || q.Mantissa != 250 || q.WeightExp != 0 || q.RatioErr > 1e-12 {
		t.Errorf("weights: fixed %v, mantissa %d at 2^%d, ratio error %g; want fixed 250 at 2^0, exact", q.Fixed, q.Mantissa, q.WeightExp, q.RatioErr)
	}
	if math.Abs(q.Scale.UnitsPerMV-364088.89) > 0.01 || q.Scale.OriginMV != -60 {
		t.Errorf("scale %+v, want 364088.89 units/mV from −60 mV", q.Scale)
	}
	for k, w := range []float64{1.62, -9} {
		mant, exp, err := QuantizeWeights([]float64{w}, q.WeightScale[k], chip.Default())
		if err != nil || exp != 0 || mant[0] != []int32{45, -250}[k] {
			t.Errorf("weight %g: %v·2^%d (%v), want %d", w, mant, exp, err, []int32{45, -250}[k])
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
	if m, _, _ := QuantizeWeights([]float64{9}, q.WeightScale[0], cfg); m[0] != 255 {
		t.Errorf("largest weight: mantissa %d, want 255", m[0])
	}
	// 2.5 mV on a current against a 15 mV span: the current's jump is
	// κ·2.5 mV, so mapping it to 255 would put the threshold beyond 17
	// bits; the membrane caps the unit and the mantissa is smaller
	q, err = QuantizeLIF(base, 0.1, []Afferent{{Weights: []float64{2.5}, Distributed: true}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !q.Capped || q.Mantissa != 107 || q.Profile.Vth != 1<<17-1 {
		t.Errorf("capped distributed: %s; want mantissa 107, vth 131071", q)
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
	if m, _, _ := QuantizeWeights([]float64{0.04, 0.03}, q.WeightScale[0], cfg); m[0]*3 != m[1]*4 {
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
		values []float64
		bound  int64
		m      int64
	}{
		{[]float64{1.62, -9}, 255, 250},   // CUBA: −250/45 exact
		{[]float64{0.1, -0.5}, 255, 255},  // Brunel g = 5: 255/51
		{[]float64{1, 1, 1}, 255, 255},    // one value: the largest mantissa
		{[]float64{3, 4}, 255, 252},       // 252 = 4·63: 189/252 exact
		{[]float64{1.62, -9}, 100, 100},   // 100/18 exact within a lower bound
		{[]float64{1, 1.0 / 3}, 255, 255}, // 255/85
	}
	for _, tt := range tests {
		jmax := 0.0
		for _, v := range tt.values {
			jmax = max(jmax, math.Abs(v))
		}
		if m, _ := ratioSearch(tt.values, jmax, tt.bound); m != tt.m {
			t.Errorf("%v within %d: M = %d, want %d", tt.values, tt.bound, m, tt.m)
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
