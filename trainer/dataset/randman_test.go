package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"runtime"
	"strings"
	"testing"
)

// hashSet is a SHA-256 over the shape, labels and events of s, little-endian.
func hashSet(s *Set) string {
	h := sha256.New()
	var b [8]byte
	put := func(v int64) { binary.LittleEndian.PutUint64(b[:], uint64(v)); h.Write(b[:]) }
	put(int64(s.Units))
	put(int64(s.Steps))
	put(int64(s.Classes))
	put(int64(len(s.Samples)))
	for _, smp := range s.Samples {
		put(int64(smp.Label))
		put(int64(len(smp.Events)))
		for _, e := range smp.Events {
			put(int64(e.Step)<<32 | int64(e.Unit))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// smallRandman is a configuration quick enough for every test run.
func smallRandman() RandmanConfig {
	c := DefaultRandman()
	c.Classes, c.Units, c.SamplesPerClass = 3, 8, 50
	return c
}

func mustRandman(t testing.TB, cfg RandmanConfig) *Set {
	t.Helper()
	s, err := Randman(cfg)
	if err != nil {
		t.Fatalf("Randman(%+v): %v", cfg, err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("Randman(%+v) gives an invalid set: %v", cfg, err)
	}
	return s
}

func TestRandmanCutoff(t *testing.T) {
	for _, c := range []struct {
		alpha float64
		want  int
	}{{0.5, 1000}, {1, 1000}, {2, 32}, {3, 10}, {1e-9, 1000}, {100, 2}} {
		if got := randmanCutoff(c.alpha); got != c.want {
			t.Errorf("randmanCutoff(%v) = %d, want %d", c.alpha, got, c.want)
		}
	}
}

func TestRandmanDeterministic(t *testing.T) {
	cfg := smallRandman()
	a, b := mustRandman(t, cfg), mustRandman(t, cfg)
	if ha, hb := hashSet(a), hashSet(b); ha != hb {
		t.Fatalf("same seed, different sets: %s vs %s", ha, hb)
	}
	// Independent of the number of workers.
	prev := runtime.GOMAXPROCS(1)
	c := mustRandman(t, cfg)
	runtime.GOMAXPROCS(prev)
	if hashSet(c) != hashSet(a) {
		t.Fatal("GOMAXPROCS=1 gives a different set")
	}
	cfg.Seed = 2
	if hashSet(mustRandman(t, cfg)) == hashSet(a) {
		t.Fatal("seeds 1 and 2 give the same set")
	}
}

// TestRandmanGolden pins the bytes of a small set, so that a change to the
// generator (RNG streams, draw order, the sine, the step rule) is seen. If a
// change is intended, update the hash and say why in the commit.
func TestRandmanGolden(t *testing.T) {
	const want = "cd385aa329b730c772fa3a16e183442049c1738f1e6bbb69d6647e8dbf7f9989"
	if got := hashSet(mustRandman(t, smallRandman())); got != want {
		t.Errorf("hash of smallRandman = %s, want %s", got, want)
	}
}

func TestRandmanShape(t *testing.T) {
	cfg := smallRandman()
	s := mustRandman(t, cfg)
	if s.Units != cfg.Units || s.Steps != cfg.Steps || s.Classes != cfg.Classes || len(s.Samples) != cfg.Classes*cfg.SamplesPerClass {
		t.Fatalf("shape units=%d steps=%d classes=%d samples=%d, want %d %d %d %d",
			s.Units, s.Steps, s.Classes, len(s.Samples), cfg.Units, cfg.Steps, cfg.Classes, cfg.Classes*cfg.SamplesPerClass)
	}
	st := s.Stats()
	for c, n := range st.PerClass {
		if n != cfg.SamplesPerClass {
			t.Errorf("class %d has %d samples, want %d", c, n, cfg.SamplesPerClass)
		}
	}
	// K = 1: every unit spikes exactly once in every sample.
	for i, smp := range s.Samples {
		if len(smp.Events) != cfg.Units {
			t.Fatalf("sample %d has %d events, want %d", i, len(smp.Events), cfg.Units)
		}
	}
	// Shuffled: the labels of the first samples are not all one class.
	first := s.Samples[0].Label
	mixed := false
	for _, smp := range s.Samples[:20] {
		mixed = mixed || smp.Label != first
	}
	if !mixed {
		t.Error("the first 20 samples have one label: not shuffled")
	}
}

// TestRandmanNormalised checks the per-class min-max normalisation: within a
// class every unit spans the whole step range [offset, ⌊T·(sf(1−of)+of)⌋−1].
func TestRandmanNormalised(t *testing.T) {
	for _, c := range []struct {
		stepFrac, offsetFrac float64
		lo, hi               int32
	}{
		{0.5, 0, 0, 49},
		{1, 0, 0, 99},
		{0.5, 0.2, 20, 59},
	} {
		cfg := smallRandman()
		cfg.StepFrac, cfg.OffsetFrac = c.stepFrac, c.offsetFrac
		s := mustRandman(t, cfg)
		type key struct{ class, unit int }
		lo, hi := map[key]int32{}, map[key]int32{}
		for _, smp := range s.Samples {
			for _, e := range smp.Events {
				k := key{smp.Label, int(e.Unit)}
				if v, ok := lo[k]; !ok || e.Step < v {
					lo[k] = e.Step
				}
				if v, ok := hi[k]; !ok || e.Step > v {
					hi[k] = e.Step
				}
			}
		}
		for cl := range cfg.Classes {
			for u := range cfg.Units {
				k := key{cl, u}
				if lo[k] != c.lo || hi[k] != c.hi {
					t.Errorf("step frac %v offset %v: class %d unit %d spans steps [%d, %d], want [%d, %d]",
						c.stepFrac, c.offsetFrac, cl, u, lo[k], hi[k], c.lo, c.hi)
				}
			}
		}
	}
}

// TestRandmanMerge: with several spikes per unit, collisions are merged and
// each unit keeps between 1 and K spikes.
func TestRandmanMerge(t *testing.T) {
	cfg := smallRandman()
	cfg.SpikesPerUnit, cfg.Steps, cfg.StepFrac = 3, 10, 1
	s := mustRandman(t, cfg) // Validate checks sorted, no duplicates
	merged := 0
	for i, smp := range s.Samples {
		per := make([]int, cfg.Units)
		for _, e := range smp.Events {
			per[e.Unit]++
		}
		for u, n := range per {
			if n < 1 || n > 3 {
				t.Fatalf("sample %d unit %d has %d spikes, want 1..3", i, u, n)
			}
		}
		merged += cfg.Units*3 - len(smp.Events)
	}
	if merged == 0 {
		t.Error("no collision merged in 150 samples of 3 spikes in 10 steps")
	}
}

func TestRandmanConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*RandmanConfig)
		want string
	}{
		{"negative classes", func(c *RandmanConfig) { c.Classes = -1 }, "classes is -1"},
		{"negative units", func(c *RandmanConfig) { c.Units = -3 }, "units is -3"},
		{"NaN alpha", func(c *RandmanConfig) { c.Alpha = math.NaN() }, "alpha"},
		{"step frac > 1", func(c *RandmanConfig) { c.StepFrac = 1.5 }, "step frac"},
		{"offset frac 1", func(c *RandmanConfig) { c.OffsetFrac = 1 }, "offset frac"},
		{"too many events", func(c *RandmanConfig) { c.SamplesPerClass = 1 << 30 }, "cap"},
		{"too many params", func(c *RandmanConfig) { c.Units = 1 << 20 }, "cap"},
	} {
		cfg := DefaultRandman()
		c.edit(&cfg)
		_, err := Randman(cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "dataset: ") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestRandmanZeroMeansDefault(t *testing.T) {
	cfg, err := RandmanConfig{Seed: 1}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg != DefaultRandman() {
		t.Errorf("zero config with seed 1 = %+v, want %+v", cfg, DefaultRandman())
	}
}

func BenchmarkRandman(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  RandmanConfig
	}{
		{"small", smallRandman()},
		{"default", DefaultRandman()},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Randman(c.cfg); err != nil {
					b.Fatal(err)
				}
			}
			sines := float64(c.cfg.Classes*c.cfg.SamplesPerClass*c.cfg.Units*c.cfg.Dim*c.cfg.SpikesPerUnit) * float64(randmanCutoff(c.cfg.Alpha)-1)
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/sines, "ns/sine")
		})
	}
}

// TestRandmanLearnable: spike times carry the class. A 1-nearest-neighbour
// classifier on the step vectors, fitted on 80 % and tested on 20 %, must do
// far better than chance (a D = 1 manifold is a curve, densely sampled); it
// would not if labels and samples came apart.
func TestRandmanLearnable(t *testing.T) {
	cfg := smallRandman()
	cfg.Classes, cfg.SamplesPerClass = 5, 200
	parts := mustRandman(t, cfg).Split(0.8, 0.2)
	vec := func(s Sample) []float64 {
		v := make([]float64, cfg.Units)
		for _, e := range s.Events {
			v[e.Unit] = float64(e.Step)
		}
		return v
	}
	train := make([][]float64, len(parts[0].Samples))
	for i, s := range parts[0].Samples {
		train[i] = vec(s)
	}
	correct := 0
	for _, s := range parts[1].Samples {
		v, best, bestD := vec(s), -1, math.Inf(1)
		for i, w := range train {
			d := 0.0
			for u := range v {
				d += (v[u] - w[u]) * (v[u] - w[u])
			}
			if d < bestD {
				best, bestD = parts[0].Samples[i].Label, d
			}
		}
		if best == s.Label {
			correct++
		}
	}
	acc := float64(correct) / float64(len(parts[1].Samples))
	t.Logf("1-NN accuracy %.2f (chance %.2f)", acc, 1/float64(cfg.Classes))
	if acc < 0.6 {
		t.Errorf("1-NN accuracy %.2f, want ≥ 0.6 (chance %.2f)", acc, 1/float64(cfg.Classes))
	}
}
