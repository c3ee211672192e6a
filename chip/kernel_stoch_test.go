package chip

import (
	"context"
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
// Datapath.Step with Rand16 under the same random inputs, and compares
// every neuron's state, every spike and every count, tick by tick, with the
// stochastic kernel and with updateGeneric.
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
		// not the kernel's datapath: update must route these to updateGeneric
		"nearest":     func(c *Config) { c.Neuron.Rounding = "nearest" },
		"shift decay": func(c *Config) { c.Neuron.Decay, c.Neuron.DecayBits = "shift", 4; c.Neuron.UDecayOffset = 0 },
	}
	defer func() { useStochKernel = true }()
	for _, kernel := range []bool{true, false} {
		useStochKernel = kernel
		for name, edit := range edits {
			for _, n := range []int{157, 160, 301} {
				testStochFastPath(t, fmt.Sprintf("%s/kernel=%v/n=%d", name, kernel, n), edit, n)
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
		// stochastic of another profile, 1 deterministic, the rest
		// stochastic: runs of every alignment, one shorter than a draw
		// block, one of a single neuron, and a last run that ends the core.
		bounds := []int{13, 29, 32, 40, 41, n}
		stoch := []bool{true, false, true, true, false, true}
		var profs []Profile
		for p := range bounds {
			vth := rng.Int64N(vthMax/2) + 1
			pr := Profile{Du: [4]uint16{uint16(rng.Int64N(dmax)), uint16(rng.Int64N(dmax))}, Dv: uint16(rng.Int64N(dmax)),
				Vth: int32(vth), Refractory: uint16(p % 4)}
			if stoch[p] {
				// a table around threshold: a sigmoid sampled with a shift
				// near the threshold's scale, its ends pinned at 0 and
				// 65536 in some profiles, or a random table
				entries := 1 + rng.IntN(cfg.Neuron.EscapeEntries)
				scale := float64(vth<<cfg.Neuron.VthShift) / 4
				shift := uint8(max(0, int(math.Log2(scale))-rng.IntN(4)))
				off := int32(rng.IntN(entries + 1))
				switch p % 3 {
				case 0:
					pr.Escape = SampleEscape(func(x float64) float64 { return 1 / (1 + math.Exp(-x/scale)) }, entries, shift, off)
				case 1:
					pr.Escape = SampleEscape(func(x float64) float64 { return 1.2/(1+math.Exp(-x/scale)) - 0.1 }, entries, shift, off)
				default:
					pr.Escape = &Escape{Shift: shift, Offset: off, Table: make([]uint32, entries)}
					for i := range pr.Escape.Table {
						pr.Escape.Table[i] = uint32(rng.IntN(65537))
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
			density := 1 + int(tick/100)%4 // from dense input to sparse
			for i := range in {
				for k := 0; k < 2; k++ {
					in[i][k] = 0
					if rng.IntN(density) == 0 {
						in[i][k] = rng.Int64N(2*amax) - amax
					}
					c.acc[k*c.stride+i] = int32(in[i][k])
				}
			}
			c.cnt = Counts{}
			c.update(dp, seed, tick)
			var want Counts
			firedRef = firedRef[:0]
			for i := range ref {
				si := StepInput{A: [4]int64{in[i][0], in[i][1]}, Bias: int64(c.bias[i])}
				pr := &profs[profileOf(i)]
				if pr.Escape != nil {
					si.Rand = Rand16(seed, cp.Neurons[i].NoiseKey, tick)
				}
				switch {
				case dp.Step(&ref[i], pr, &si):
					want.NeuronFire++
					firedRef = append(firedRef, uint32(i))
				case in[i][0] != 0 || in[i][1] != 0:
					want.NeuronActive++
				default:
					want.NeuronIdle++
				}
			}
			for i := range ref {
				got := NeuronState{U: [4]int32{c.u[i], c.u[c.stride+i]}, V: c.v[i], Ref: c.ref[i]}
				if got != ref[i] {
					t.Fatalf("tick %d neuron %d (profile %d): core %+v, reference %+v", tick, i, profileOf(i), got, ref[i])
				}
			}
			if !slices.Equal(c.fired, firedRef) {
				t.Fatalf("tick %d: core fired %v, reference %v", tick, c.fired, firedRef)
			}
			if c.cnt != want {
				t.Fatalf("tick %d: counts %+v, reference %+v", tick, c.cnt, want)
			}
			fires += want.NeuronFire
		}
		if fires == 0 {
			t.Fatal("no neuron fired: the test exercises nothing")
		}
		fast := cfg.Neuron.SynapseTypes == 2 && !dp.instant && dp.decay == decayMul12 && !dp.nearest
		if ran := c.nb.x != nil; ran != (useStochKernel && fast) {
			t.Fatalf("stochastic kernel ran: %v, want %v", ran, useStochKernel && fast)
		}
	})
}

// TestStochWorkers runs a multi-core stochastic program (randomProgram:
// stochastic and deterministic runs, generators, delays, input) with the
// stochastic kernel on 1 and 3 workers and with updateGeneric on 1, across
// a Reset to a new seed, and compares spikes, final states and counts.
func TestStochWorkers(t *testing.T) {
	defer func() { useStochKernel = true }()
	type result struct {
		spikes []Spike
		states []NeuronState
		counts Counts
	}
	run := func(kernel bool, workers int) result {
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
		rec, err := s.RecordSpikes(nil)
		if err != nil {
			t.Fatal(err)
		}
		s.SetInput(periodicInput{})
		if err := s.Run(context.Background(), 250); err != nil {
			t.Fatal(err)
		}
		s.Reset(424242)
		if err := s.Run(context.Background(), 250); err != nil {
			t.Fatal(err)
		}
		var r result
		r.spikes = rec.Spikes
		for ci := range p.Cores {
			for i := range p.Cores[ci].Neurons {
				st, err := s.State(NeuronRef{uint32(ci), uint32(i)})
				if err != nil {
					t.Fatal(err)
				}
				r.states = append(r.states, st)
			}
		}
		r.counts = s.Stats().Counts
		return r
	}
	ref := run(false, 1)
	if ref.counts.NeuronFire == 0 {
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
		if got.counts != ref.counts {
			t.Errorf("kernel, %d workers: counts %+v, updateGeneric %+v", w, got.counts, ref.counts)
		}
	}
}

// BenchmarkNeuronUpdateStochastic measures the neuron datapath of one core
// of 1024 stochastic neurons (the default chip, BenchmarkNeuronUpdate's
// program with an escape table), with the stochastic kernel and with
// updateGeneric: "sparse" is BenchmarkNeuronUpdate's refractory period and a
// sigmoid around threshold (under 1% of updates fire), "dense" a
// refractory period of 2 and P(spike) = 0.2 everywhere (about 14% fire,
// holds and spikes in random order).
func BenchmarkNeuronUpdateStochastic(b *testing.B) {
	for _, kernel := range []bool{true, false} {
		for _, dense := range []bool{false, true} {
			name := map[bool]string{true: "kernel", false: "generic"}[kernel] + map[bool]string{false: "/sparse", true: "/dense"}[dense]
			b.Run(name, func(b *testing.B) {
				useStochKernel = kernel
				defer func() { useStochKernel = true }()
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
