package chip

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNoiseSplit holds the split of the noise contract to Noise itself.
func TestNoiseSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		seed, key, tick := rng.Uint64(), rng.Uint32(), rng.Uint64()>>rng.IntN(64)
		if got, want := noiseAt(noiseBase(seed, key), tick), Mix64(Mix64((seed^noiseSalt)+uint64(key)*noisePhi)+(tick+1)*noisePsi); got != want {
			t.Fatalf("noiseAt(noiseBase(%d, %d), %d) = %d, want %d", seed, key, tick, got, want)
		}
	}
}

// TestStochFastPathMatchesStep drives cores of stochastic (and, between
// them, deterministic) runs through core.update and the reference
// Datapath.Step with Rand16 under the same random states and inputs, and
// compares every neuron's state, every spike and every count, tick by
// tick, with each stochastic kernel this CPU has (AVX-512, AVX2, the
// portable loop), forced in turn, and without them ("generic": the profile
// kernels, then updateGeneric); escape tables of many sizes, shifts and
// offsets, random states with saturated and wrapped values, runs at every
// alignment. The deterministic runs between them take loihiKernel, the best
// deterministic kernel.
func TestStochFastPathMatchesStep(t *testing.T) {
	loihi, err := Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	edits := map[string]func(c *Config){
		"default":    nil,
		"loihi":      func(c *Config) { *c = *loihi },
		"ge":         func(c *Config) { c.Neuron.Compare = "ge" },
		"subtract":   func(c *Config) { c.Neuron.Reset = "subtract" },
		"u saturate": func(c *Config) { c.Neuron.UOverflow = "saturate" },
		"v wrap":     func(c *Config) { c.Neuron.VOverflow = "wrap" },
		"subtract wrap": func(c *Config) {
			c.Neuron.Reset, c.Neuron.VOverflow, c.Neuron.UOverflow = "subtract", "wrap", "saturate"
		},
		"narrow states": func(c *Config) { c.Neuron.UBits, c.Neuron.VBits, c.Neuron.VthBits = 14, 14, 7 },
		"29-bit states": func(c *Config) {
			c.Neuron.UBits, c.Neuron.VBits, c.Neuron.VthBits, c.Synapse.AccBits = 29, 29, 23, 24
			c.Neuron.Reset, c.Neuron.EscapeEntries = "subtract", 4096
		},
		// not the kernel's datapath: update must route these to updateGeneric
		"nearest":     func(c *Config) { c.Neuron.Rounding = "nearest" },
		"shift decay": func(c *Config) { c.Neuron.Decay, c.Neuron.DecayBits = "shift", 4; c.Neuron.UDecayOffset = 0 },
	}
	defer func() { useStochKernel, stochKernel = true, bestStochKernel }()
	variants := []string{"generic"}
	for _, k := range cpuKernels() {
		variants = append(variants, k.String())
	}
	for _, v := range variants {
		useStochKernel = v != "generic"
		for _, k := range cpuKernels() {
			if k.String() == v {
				stochKernel = k
			}
		}
		for name, edit := range edits {
			for _, n := range []int{157, 160, 301, 1000} {
				testStochFastPath(t, fmt.Sprintf("%s/%s/n=%d", name, v, n), edit, n)
			}
		}
	}
}

func testStochFastPath(t *testing.T, name string, edit func(c *Config), n int) {
	t.Run(name, func(t *testing.T) {
		cfg := testConfig(t, edit)
		if !cfg.Neuron.Stochastic {
			t.Fatal("config has no stochastic neurons")
		}
		dp := NewDatapath(cfg)
		rng := rand.New(rand.NewPCG(5, uint64(n)))
		vthMax := int64(1)<<cfg.Neuron.VthBits - 1
		dmax := int64(dp.decayMax)
		// Runs: 13 stochastic, 16 deterministic, 3 stochastic, 8
		// stochastic of another profile, 1 deterministic, and on the
		// larger cores 37 and 1 stochastic, 64 deterministic and 57
		// stochastic; the rest stochastic: runs of every alignment, shorter
		// than a vector, of a single neuron, and a last run that ends the
		// core.
		bounds := []int{13, 29, 32, 40, 41}
		stoch := []bool{true, false, true, true, false}
		if n > 200 {
			bounds = append(bounds, 78, 79, 143, 200)
			stoch = append(stoch, true, true, false, true)
		}
		bounds, stoch = append(bounds, n), append(stoch, true)
		sizes := []int{1, 2, 15, 16, 17, 32, 33, 64, 255, 256, 1000, 4096}
		var profs []Profile
		for p := range bounds {
			vth := rng.Int64N(vthMax/2) + 1
			if p == 3 {
				vth = vthMax
			}
			pr := Profile{Du: [4]uint16{uint16(rng.Int64N(dmax)), uint16(rng.Int64N(dmax))}, Dv: uint16(rng.Int64N(dmax)),
				Vth: int32(vth), Refractory: uint16(p % 4)}
			if stoch[p] {
				// a table around threshold: a sigmoid sampled with a shift
				// near the threshold's scale, its ends pinned at 0 and
				// 65536 in some profiles, or a random table with a random
				// shift and offset (indices clamped at both ends)
				entries := sizes[rng.IntN(len(sizes))]
				for entries > cfg.Neuron.EscapeEntries {
					entries = sizes[rng.IntN(len(sizes))]
				}
				scale := float64(vth<<cfg.Neuron.VthShift) / 4
				shift := uint8(max(0, int(math.Log2(scale))-rng.IntN(4)))
				off := int32(rng.IntN(entries + 1))
				switch p % 3 {
				case 0:
					pr.Escape = SampleEscape(func(x float64) float64 { return 1 / (1 + math.Exp(-x/scale)) }, entries, shift, off)
				case 1:
					pr.Escape = SampleEscape(func(x float64) float64 { return 1.2/(1+math.Exp(-x/scale)) - 0.1 }, entries, shift, off)
				default:
					pr.Escape = &Escape{Shift: uint8(rng.IntN(32)), Offset: int32(rng.IntN(3*entries) - entries), Table: make([]uint32, entries)}
					for i := range pr.Escape.Table {
						pr.Escape.Table[i] = uint32(rng.IntN(65537))
						if rng.IntN(8) == 0 {
							pr.Escape.Table[i] = []uint32{0, 1, 65535, 65536}[rng.IntN(4)]
						}
					}
				}
			}
			profs = append(profs, pr)
		}
		profileOf := func(i int) int {
			p, _ := slices.BinarySearch(bounds, i+1)
			return p
		}
		cp := CoreProgram{Profiles: profs}
		for i := 0; i < n; i++ {
			key := rng.Uint32()
			if i%17 == 5 {
				key = 12345 // shared keys draw alike
			}
			cp.Neurons = append(cp.Neurons, Neuron{Profile: uint16(profileOf(i)), BiasMant: int32(rng.Int64N(200) - 100),
				BiasExp: uint8(rng.IntN(4)), NoiseKey: key, V: int32(rng.Int64N(2000) - 1000)})
		}
		sys, err := Load(cfg, &Program{Seed: 77, Cores: []CoreProgram{cp}}, Options{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		c := sys.cores[0]
		if len(c.runs) != len(bounds) {
			t.Fatalf("%d runs, want %d", len(c.runs), len(bounds))
		}
		vector := dp.uWrap && !dp.vWrap && !dp.nearest && dp.decay == decayMul12 && (hasAVX512 || hasVectorKernel)
		if got := c.runs[0].kernel != nil; got != vector {
			t.Fatalf("stochastic run takes the vector kernel: %v, want %v", got, vector)
		}
		// random states, with edge values (saturated and wrapped currents
		// and membranes, the threshold), after some ticks from the
		// program's initial membranes
		ref := make([]NeuronState, n)
		for i := range ref {
			ref[i].V = cp.Neurons[i].V
		}
		amax := int64(1) << (cfg.Neuron.UBits - cfg.Neuron.ActShift - 1)
		var fires uint64
		in := make([][2]int64, n)
		var firedRef []uint32
		for tick := uint64(0); tick < 600; tick++ {
			// the seed changes mid-run, as Reset(seed) changes it
			seed := uint64(77)
			if tick >= 300 {
				seed = 0xDEADBEEF
			}
			if tick == 150 || tick == 450 {
				randomizeStates(rng, dp, c, ref, profs, profileOf)
			}
			density := 1 + int(tick/100)%4 // from dense input to sparse
			for i := range in {
				for k := 0; k < 2; k++ {
					in[i][k] = 0
					switch rng.IntN(density * 4) {
					case 0, 1:
						in[i][k] = rng.Int64N(2*amax) - amax
					case 2:
						in[i][k] = pickIn(rng, -dp.accMax, dp.accMax, -dp.accMax, dp.accMax)
					}
					c.acc[k*c.stride+i] = int32(in[i][k])
				}
			}
			c.cnt = Counts{}
			c.update(dp, seed, tick)
			var f uint64
			firedRef, f = matchStep(t, c, dp, profs, profileOf, ref, in, func(i int) uint16 { return Rand16(seed, cp.Neurons[i].NoiseKey, tick) }, tick, firedRef)
			fires += f
		}
		if fires == 0 {
			t.Fatal("no neuron fired: the test exercises nothing")
		}
		fast := cfg.Neuron.SynapseTypes == 2 && !dp.instant && dp.decay == decayMul12 && !dp.nearest
		if ran := c.nb.x != nil; ran != (useStochKernel && fast) {
			t.Fatalf("stochastic kernel ran: %v, want %v", ran, useStochKernel && fast)
		}
		if scratch := c.nb.r != nil; scratch && useStochKernel && stochKernel == kernelAVX512 && vector {
			t.Fatal("the portable stochastic loop ran where the vector kernel should have")
		}
	})
}

// TestStochWorkers runs a multi-core stochastic program (randomProgram:
// stochastic and deterministic runs, generators, delays, input) with the
// stochastic kernel on 1 and 3 workers and with updateGeneric on 1, across
// a Reset to a new seed, and compares spikes, final states and counts.
func TestStochWorkers(t *testing.T) {
	defer func() { useStochKernel = true }()
	run := func(kernel bool, workers int) resetRun {
		useStochKernel = kernel
		cfg := Default()
		p := randomProgram(cfg, 11, 5, 97)
		s, err := Load(cfg, p, Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if s.Workers() != workers {
			t.Fatalf("%d workers, want %d", s.Workers(), workers)
		}
		return runResetRun(t, s, p, periodicInput{}, 250, 424242)
	}
	ref := run(false, 1)
	if ref.stats.Counts.NeuronFire == 0 {
		t.Fatal("no neuron fired")
	}
	for _, w := range []int{1, 3} {
		got := run(true, w)
		if !slices.Equal(got.spikes, ref.spikes) {
			t.Errorf("kernel, %d workers: %d spikes differ from updateGeneric's %d", w, len(got.spikes), len(ref.spikes))
		}
		if !slices.Equal(got.states, ref.states) {
			t.Errorf("kernel, %d workers: final states differ from updateGeneric's", w)
		}
		if got.stats.Counts != ref.stats.Counts {
			t.Errorf("kernel, %d workers: counts %+v, updateGeneric %+v", w, got.stats.Counts, ref.stats.Counts)
		}
	}
}

// BenchmarkNeuronUpdateStochastic measures the neuron datapath of one core
// of 1024 stochastic neurons (the default chip, BenchmarkNeuronUpdate's
// program with an escape table), with each stochastic kernel this CPU has
// (avx512, avx2, scalar: the portable specialised loop) and without them
// (generic: the profile kernels, then updateGeneric):
// "sparse" is BenchmarkNeuronUpdate's refractory period and a sigmoid
// around threshold (under 1% of updates fire), "dense" a refractory period
// of 2 and P(spike) = 0.2 everywhere (about 14% fire, holds and spikes in
// random order).
func BenchmarkNeuronUpdateStochastic(b *testing.B) {
	variants := []string{}
	for _, k := range cpuKernels() {
		variants = append(variants, k.String())
	}
	variants = append(variants, "generic")
	for _, v := range variants {
		for _, dense := range []bool{false, true} {
			name := v + map[bool]string{false: "/sparse", true: "/dense"}[dense]
			b.Run(name, func(b *testing.B) {
				useStochKernel = v != "generic"
				for _, k := range cpuKernels() {
					if k.String() == v {
						stochKernel = k
					}
				}
				defer func() { useStochKernel, stochKernel = true, bestStochKernel }()
				cfg := Default()
				const n = 1024
				p := benchProgram(n, 4)
				pr := &p.Cores[0].Profiles[0]
				vth := float64(int64(pr.Vth) << cfg.Neuron.VthShift)
				pr.Escape = SampleEscape(func(x float64) float64 { return 1 / (1 + math.Exp(-x/(vth/8))) }, 256, 14, 128)
				if dense {
					pr.Refractory = 2
					pr.Escape = SampleEscape(func(float64) float64 { return 0.2 }, 256, 14, 128)
				}
				for i := range p.Cores[0].Neurons {
					p.Cores[0].Neurons[i].NoiseKey = uint32(i)
				}
				s, err := Load(cfg, p, Options{Workers: 1})
				if err != nil {
					b.Fatal(err)
				}
				c := s.cores[0]
				c.update(s.dp, 0, 0) // seeds the noise bases, as Load will
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					c.update(s.dp, 0, uint64(i))
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/neuron")
				b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "updates/s")
				b.ReportMetric(float64(c.cnt.NeuronFire)/float64((b.N+1)*n), "fires/update")
			})
		}
	}
}

// TestKernelAllocations holds every kernel to zero allocations per tick in
// steady state, on a core with deterministic and stochastic runs of odd
// lengths (TestSteadyStateAllocations runs the default kernels only).
func TestKernelAllocations(t *testing.T) {
	defer func() { loihiKernel, stochKernel = bestLoihiKernel, bestStochKernel }()
	cfg := Default()
	p := benchProgram(1000, 4)
	cp := &p.Cores[0]
	cp.Profiles = append(cp.Profiles, cp.Profiles[0])
	cp.Profiles[1].Refractory = 2
	cp.Profiles[1].Escape = SampleEscape(func(float64) float64 { return 0.2 }, 256, 14, 128)
	for i := range cp.Neurons {
		if i%300 > 120 {
			cp.Neurons[i].Profile = 1
		}
		cp.Neurons[i].NoiseKey = uint32(i)
	}
	for _, lk := range cpuKernels() {
		for _, sk := range cpuKernels() {
			loihiKernel, stochKernel = lk, sk
			s, err := Load(cfg, p, Options{Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			c := s.cores[0]
			tick := uint64(0)
			step := func() { c.update(s.dp, 1, tick); tick++ }
			for range 50 {
				step()
			}
			fires := c.cnt.NeuronFire
			if a := testing.AllocsPerRun(100, step); a != 0 {
				t.Errorf("%v/%v: %v allocations per tick, want 0", lk, sk, a)
			}
			if c.cnt.NeuronFire == fires {
				t.Errorf("%v/%v: no neuron fired in steady state: the test exercises nothing", lk, sk)
			}
		}
	}
}
