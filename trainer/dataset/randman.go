package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// RandmanConfig sets up a Randman spike-timing classification set (Zenke &
// Vogels 2021; the generator of Gygax & Zenke 2025, see the package doc).
//
// A zero field takes the value of DefaultRandman, except OffsetFrac and Seed,
// whose zero is a value. Negative or out-of-range fields are errors.
type RandmanConfig struct {
	Classes         int     // C: number of classes, one manifold (per spike) each
	Units           int     // N: input units (embedding dimension)
	Dim             int     // D: manifold dimension
	Alpha           float64 // α: smoothness, the spectrum falls off as 1/((f+1)^α + 1)
	SamplesPerClass int     // M
	SpikesPerUnit   int     // K: spikes per unit per sample, one manifold each
	Steps           int     // T: time steps per sample
	// StepFrac and OffsetFrac place spikes at ⌊T·(StepFrac·(1−OffsetFrac)·y + OffsetFrac)⌋
	// for y ∈ [0,1). The paper's code uses StepFrac 0.5, OffsetFrac 0: all spikes
	// fall in the first half of the T steps and the second half is silent
	// (time for the network to respond).
	StepFrac   float64 // in (0, 1]; default 0.5
	OffsetFrac float64 // in [0, 1); default 0
	Seed       uint64
}

// DefaultRandman returns the configuration of aerie's Randman target: 10
// classes, 20 units, D = 1, α = 1, 1000 samples per class, one spike per unit,
// 100 steps (of 2 ms in the trainer) with StepFrac 0.5 (spikes in steps
// 0…49), OffsetFrac 0, seed 1.
func DefaultRandman() RandmanConfig {
	return RandmanConfig{
		Classes: 10, Units: 20, Dim: 1, Alpha: 1, SamplesPerClass: 1000, SpikesPerUnit: 1,
		Steps: 100, StepFrac: 0.5, OffsetFrac: 0, Seed: 1,
	}
}

// PaperRandman returns the configuration of the Randman experiment of Gygax &
// Zenke 2025 (seed-method §8): DefaultRandman with 15 classes and α = 0.5.
func PaperRandman() RandmanConfig {
	c := DefaultRandman()
	c.Classes, c.Alpha = 15, 0.5
	return c
}

// Constants of the generator, as in fzenke/randman (torch_randman.py) and
// stork's make_tempo_randman.
const (
	randmanPrec = 1e-3 // precision that sets the frequency cutoff F
	randmanMaxF = 1000 // cap on F
	randmanEps  = 1e-7 // added to max−min in the per-class normalisation

	// Caps that turn absurd configurations into errors before allocation.
	maxRandmanEvents = 1 << 28 // C·M·N·K
	maxRandmanParams = 1 << 24 // C·K·N·D·F (three float64 each)
)

// withDefaults fills zero fields and checks ranges.
func (c RandmanConfig) withDefaults() (RandmanConfig, error) {
	d := DefaultRandman()
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{
		{"classes", &c.Classes, d.Classes}, {"units", &c.Units, d.Units}, {"dim", &c.Dim, d.Dim},
		{"samples per class", &c.SamplesPerClass, d.SamplesPerClass},
		{"spikes per unit", &c.SpikesPerUnit, d.SpikesPerUnit}, {"steps", &c.Steps, d.Steps},
	} {
		switch {
		case *f.v == 0:
			*f.v = f.def
		case *f.v < 0:
			return c, fmt.Errorf("dataset: randman: %s is %d, want > 0", f.name, *f.v)
		}
	}
	if c.Alpha == 0 {
		c.Alpha = d.Alpha
	}
	if c.StepFrac == 0 {
		c.StepFrac = d.StepFrac
	}
	switch {
	case !(c.Alpha > 0) || math.IsInf(c.Alpha, 1):
		return c, fmt.Errorf("dataset: randman: alpha is %v, want a finite value > 0", c.Alpha)
	case !(c.StepFrac > 0 && c.StepFrac <= 1):
		return c, fmt.Errorf("dataset: randman: step frac is %v, want (0, 1]", c.StepFrac)
	case !(c.OffsetFrac >= 0 && c.OffsetFrac < 1):
		return c, fmt.Errorf("dataset: randman: offset frac is %v, want [0, 1)", c.OffsetFrac)
	case c.Steps > math.MaxInt32 || c.Units > math.MaxInt32:
		return c, fmt.Errorf("dataset: randman: steps %d or units %d exceed int32", c.Steps, c.Units)
	}
	events := float64(c.Classes) * float64(c.SamplesPerClass) * float64(c.Units) * float64(c.SpikesPerUnit)
	if events > maxRandmanEvents {
		return c, fmt.Errorf("dataset: randman: %d classes × %d samples × %d units × %d spikes = %.3g events, more than the cap %d",
			c.Classes, c.SamplesPerClass, c.Units, c.SpikesPerUnit, events, maxRandmanEvents)
	}
	params := float64(c.Classes) * float64(c.SpikesPerUnit) * float64(c.Units) * float64(c.Dim) * float64(randmanCutoff(c.Alpha))
	if params > maxRandmanParams {
		return c, fmt.Errorf("dataset: randman: %.3g manifold parameters (classes·spikes·units·dim·F), more than the cap %d",
			params, maxRandmanParams)
	}
	return c, nil
}

// randmanCutoff is the number of frequencies F = min(⌈prec^(−1/α)⌉, 1000).
func randmanCutoff(alpha float64) int {
	f := math.Ceil(math.Pow(randmanPrec, -1/alpha))
	if !(f < randmanMaxF) { // also catches +Inf
		return randmanMaxF
	}
	return max(int(f), 1)
}

// manifold is one random smooth manifold R: [0,1)^D → ℝ^N, with the
// per-(unit, dimension, frequency) constants of
//
//	y_n(x) = Π_d Σ_f A[n,d,f]·s_f·sin(2π(f·x_d·B[n,d,f] + P[n,d,f]))
//
// precomputed as amp = A·s_f, freq = f·B and phase = P. The f = 0 term is
// dropped: A[·,·,0] = 0 (use_bias=False in fzenke/randman).
type manifold struct {
	units, dim, nf   int       // N, D, F−1
	amp, freq, phase []float64 // index ((n·D)+d)·nf + (f−1)
}

// newManifold draws A, B, P ~ U[0,1) in the layout of torch_randman's params
// tensor (N, D, 3, F): for each unit n and dimension d, F values of A, then B,
// then P. Manifold (class, k) draws from its own PCG stream.
func newManifold(cfg *RandmanConfig, class, k int) *manifold {
	F := randmanCutoff(cfg.Alpha)
	m := &manifold{units: cfg.Units, dim: cfg.Dim, nf: F - 1}
	size := cfg.Units * cfg.Dim * m.nf
	m.amp, m.freq, m.phase = make([]float64, size), make([]float64, size), make([]float64, size)
	spect := make([]float64, F)
	for f := range spect {
		spect[f] = 1 / (math.Pow(float64(f+1), cfg.Alpha) + 1)
	}
	rng := rand.New(newPCG(cfg.Seed, streamManifold, uint64(class), uint64(k)))
	abp := make([]float64, 3*F)
	for nd := range cfg.Units * cfg.Dim {
		for i := range abp {
			abp[i] = rng.Float64()
		}
		a, b, p := abp[:F], abp[F:2*F], abp[2*F:]
		base := nd * m.nf
		for f := 1; f < F; f++ {
			m.amp[base+f-1] = a[f] * spect[f]
			m.freq[base+f-1] = float64(f) * b[f]
			m.phase[base+f-1] = p[f]
		}
	}
	return m
}

// eval writes y(x) for one latent point x (len D) into dst (len N).
func (m *manifold) eval(dst, x []float64) {
	for n := range m.units {
		prod := 1.0
		for d, xd := range x {
			base := (n*m.dim + d) * m.nf
			prod *= sumSin(m.amp[base:base+m.nf], m.freq[base:base+m.nf], m.phase[base:base+m.nf], xd)
		}
		dst[n] = prod
	}
}

// sinTable holds sin and cos of 2π·i/sinTableSize, i = 0…sinTableSize−1
// (16 KiB: it stays in the L1 cache).
const sinTableSize = 1024

var sinTable = func() (tab [sinTableSize][2]float64) {
	for i := range tab {
		tab[i][0], tab[i][1] = math.Sincos(2 * math.Pi * float64(i) / sinTableSize)
	}
	return tab
}()

// sumSin returns Σ_f amp[f]·sin(2πt_f), t_f = freq[f]·x + phase[f], for
// |t_f·1024| < 2^51. Each sine is within about 1e-15 of sin(2πt_f) for the
// rounded t_f (checked against math.Sin in TestSumSin):
//
//	u = 1024·t (exact),  k = round(u),  i = k mod 1024,  δ = 2π(u − k)/1024, |δ| ≤ π/1024
//	sin(2πt) = sin(2πi/1024)·cos δ + cos(2πi/1024)·sin δ
//
// with cos δ and sin δ from their Taylor series to δ⁴ and δ⁵ (the first
// omitted terms are below 1e-17). Rounding uses the 1.5·2⁵² trick, whose low
// mantissa bits then hold k, so no float-integer conversion is needed. This is
// about 2.4 times faster than math.Sin(2π·t) on the project's machine, which
// matters because Randman takes N·D·F sines per sample (2·10⁸ for the default
// set). It is written inline because the compiler would not inline a helper
// of this size into the loop.
func sumSin(amp, freq, phase []float64, x float64) float64 {
	const magic = 0x1.8p52
	freq, phase = freq[:len(amp)], phase[:len(amp)]
	sum := 0.0
	for f, a := range amp {
		u := (freq[f]*x + phase[f]) * sinTableSize
		k := u + magic
		e := &sinTable[math.Float64bits(k)&(sinTableSize-1)]
		d := (u - (k - magic)) * (2 * math.Pi / sinTableSize)
		d2 := d * d
		sinD := d * (1 - d2*(1.0/6-d2*(1.0/120)))
		cosD := 1 - d2*(0.5-d2*(1.0/24))
		sum += a * (e[0]*cosD + e[1]*sinD)
	}
	return sum
}

// Randman generates a Randman spike-timing set (seed-method §8):
//
//  1. Per class c and spike k, a manifold with its own seed (newManifold).
//  2. Per class, M latent points x ~ U[0,1)^D shared by its K manifolds.
//  3. y = manifold(x); each unit normalised over the class's M samples:
//     y ← (y − min)/(max − min + 1e−7).
//  4. Unit n fires at step ⌊T·(StepFrac·(1 − OffsetFrac)·y + OffsetFrac)⌋,
//     clipped to [0, T−1]; collisions of one unit's K spikes merge.
//  5. Classes are concatenated and the set is shuffled with Shuffle(Seed).
//
// The caller splits the result, e.g. Split(0.8, 0.1, 0.1). The output is a
// pure function of cfg: it does not depend on GOMAXPROCS.
func Randman(cfg RandmanConfig) (*Set, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	C, K, M, N, D := cfg.Classes, cfg.SpikesPerUnit, cfg.SamplesPerClass, cfg.Units, cfg.Dim

	// Phase 1: manifolds and latent points. Each depends only on its indices.
	mans := make([]*manifold, C*K)
	parallel(C*K, func(i int) { mans[i] = newManifold(&cfg, i/K, i%K) })
	latent := make([]float64, C*M*D)
	for c := range C {
		rng := rand.New(newPCG(cfg.Seed, streamLatent, uint64(c)))
		for i := range latent[c*M*D : (c+1)*M*D] {
			latent[c*M*D+i] = rng.Float64()
		}
	}

	// Phase 2: evaluate, in blocks of samples so that the work spreads over
	// the workers whatever C·K is. y index: ((c·K + k)·M + m)·N + n.
	const block = 64
	blocks := (M + block - 1) / block
	y := make([]float64, C*K*M*N)
	parallel(C*K*blocks, func(i int) {
		ck, b := i/blocks, i%blocks
		c, man := ck/K, mans[ck]
		for m := b * block; m < min((b+1)*block, M); m++ {
			man.eval(y[(ck*M+m)*N:(ck*M+m+1)*N], latent[(c*M+m)*D:(c*M+m+1)*D])
		}
	})

	// Phase 3: normalise per (class, k, unit) over the class's samples and
	// turn values into steps, in place (as float64, exact for int32 range).
	T := float64(cfg.Steps)
	scale, offset := cfg.StepFrac*(1-cfg.OffsetFrac), cfg.OffsetFrac
	for ck := range C * K {
		yc := y[ck*M*N : (ck+1)*M*N]
		for n := range N {
			lo, hi := math.Inf(1), math.Inf(-1)
			for m := range M {
				lo, hi = min(lo, yc[m*N+n]), max(hi, yc[m*N+n])
			}
			for m := range M {
				v := (yc[m*N+n] - lo) / (hi - lo + randmanEps)
				yc[m*N+n] = min(max(math.Floor(T*(scale*v+offset)), 0), T-1)
			}
		}
	}

	// Phase 4: events, sorted and merged, in one backing array.
	set := &Set{
		Name:  fmt.Sprintf("randman c%d n%d d%d a%g m%d k%d t%d seed%d", C, N, D, cfg.Alpha, M, K, cfg.Steps, cfg.Seed),
		Units: N, Steps: cfg.Steps, Classes: C,
		Samples: make([]Sample, C*M),
	}
	arena := make([]Event, C*M*N*K)
	for c := range C {
		for m := range M {
			ev := arena[(c*M+m)*N*K : (c*M+m+1)*N*K : (c*M+m+1)*N*K]
			for k := range K {
				yc := y[((c*K+k)*M+m)*N:]
				for n := range N {
					ev[k*N+n] = Event{Step: int32(yc[n]), Unit: int32(n)}
				}
			}
			ev = sortEvents(ev)
			set.Samples[c*M+m] = Sample{Label: c, Events: ev[:len(ev):len(ev)]}
		}
	}
	set.Shuffle(cfg.Seed)
	return set, nil
}
