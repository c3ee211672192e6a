package chip

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// profileVariants are the descriptions TestProfileKernelsMatchStep runs:
// every preset as it is, each with stochastic neurons enabled, and the
// presets with one mode changed — each decay mode and rounding, instant
// currents, each compare, reset and overflow mode, 1 to 4 synapse types,
// narrow states and a refractory counter where the preset has none.
func profileVariants(t testing.TB) map[string]*Config {
	t.Helper()
	out := map[string]*Config{}
	add := func(name, preset string, edit func(n *NeuronSpec)) {
		c, err := Preset(preset)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(&c.Neuron)
		}
		if err := c.Validate(); err != nil {
			if c.Neuron.SynapseTypes == 1 {
				// a chip whose weights take their sign from the synapse
				// type (SpiNNaker) needs two types
				t.Logf("variant %s skipped: %v", name, err)
				return
			}
			t.Fatalf("variant %s: %v", name, err)
		}
		out[name] = c
	}
	stoch := func(n *NeuronSpec) {
		if !n.Stochastic {
			n.Stochastic, n.EscapeEntries = true, 128
		}
	}
	with := func(edits ...func(n *NeuronSpec)) func(n *NeuronSpec) {
		return func(n *NeuronSpec) {
			for _, e := range edits {
				e(n)
			}
		}
	}
	for _, p := range Presets() {
		add(p, p, nil)
		add(p+"+stochastic", p, stoch)
	}
	decay := func(mode string, bits int) func(n *NeuronSpec) {
		return func(n *NeuronSpec) {
			n.Decay, n.DecayBits = mode, bits
			if mode != "mul12" {
				n.UDecayOffset = 0
			}
		}
	}
	types := func(k int) func(n *NeuronSpec) { return func(n *NeuronSpec) { n.SynapseTypes = k } }
	for _, p := range []string{"default", "spinnaker", "truenorth", "xylo"} {
		add(p+"/mul12 trunc", p, with(stoch, decay("mul12", 12), func(n *NeuronSpec) { n.Rounding = "trunc" }))
		add(p+"/mul12 nearest", p, with(stoch, decay("mul12", 12), func(n *NeuronSpec) { n.Rounding = "nearest" }))
		add(p+"/shift", p, with(stoch, decay("shift", 5)))
		add(p+"/linear", p, with(stoch, decay("linear", 9)))
		add(p+"/none", p, with(stoch, decay("none", 4)))
		add(p+"/types 1", p, with(stoch, types(1)))
		add(p+"/types 3", p, with(stoch, types(3)))
		add(p+"/types 4", p, with(stoch, types(4)))
		add(p+"/gt", p, with(stoch, func(n *NeuronSpec) { n.Compare = "gt" }))
		add(p+"/ge", p, with(stoch, func(n *NeuronSpec) { n.Compare = "ge" }))
		add(p+"/subtract", p, with(stoch, func(n *NeuronSpec) { n.Reset = "subtract" }))
		add(p+"/zero", p, with(stoch, func(n *NeuronSpec) { n.Reset = "zero" }))
		add(p+"/u wrap v wrap", p, with(stoch, func(n *NeuronSpec) { n.UOverflow, n.VOverflow = "wrap", "wrap" }))
		add(p+"/u saturate v wrap subtract", p, with(stoch, func(n *NeuronSpec) { n.UOverflow, n.VOverflow, n.Reset = "saturate", "wrap", "subtract" }))
		add(p+"/u wrap v saturate", p, with(stoch, func(n *NeuronSpec) { n.UOverflow, n.VOverflow = "wrap", "saturate" }))
		add(p+"/refractory", p, with(stoch, func(n *NeuronSpec) { n.RefractoryBits = 4 }))
	}
	add("default/instant", "default", with(stoch, func(n *NeuronSpec) { n.Current = "instant" }))
	add("default/instant linear types 4", "default", with(stoch, decay("linear", 9), types(4), func(n *NeuronSpec) { n.Current = "instant" }))
	add("default/narrow", "default", with(stoch, func(n *NeuronSpec) { n.UBits, n.VBits, n.VthBits = 14, 14, 7 }))
	add("truenorth/decay current", "truenorth", with(stoch, func(n *NeuronSpec) { n.Current = "decay" }))
	add("xylo/narrow wrap", "xylo", with(stoch, func(n *NeuronSpec) { n.UBits, n.VBits, n.VthBits, n.UOverflow, n.VOverflow = 9, 9, 8, "wrap", "wrap" }))
	return out
}

// TestProfileKernelsMatchStep loads, for every description of
// profileVariants, cores of random programs — deterministic, stochastic and
// readout runs of every alignment (a run of one neuron, runs that start and
// end off the vector blocks, a last run that ends the core), random
// parameters, initial membranes and biases — and steps each with the
// profile kernels and, in a twin core, with updateGeneric, under the same
// random input, comparing every neuron's state and readout register, every
// spike and every count, tick by tick, across a change of seed.
func TestProfileKernelsMatchStep(t *testing.T) {
	variants := profileVariants(t)
	names := make([]string, 0, len(variants))
	for name := range variants {
		names = append(names, name)
	}
	slices.Sort(names)
	vectors := []bool{false}
	if profVectorCPU {
		vectors = append(vectors, true)
	}
	defer setProfVector(profVectorCPU)
	for _, vec := range vectors {
		setProfVector(vec)
		for _, name := range names {
			cfg := variants[name]
			for _, n := range []int{157, 160, 256} {
				n = min(n, cfg.Core.Neurons)
				// Xylo's and TrueNorth's datapaths fit 32-bit lanes,
				// SpiNNaker's 32-bit states do not
				lanes32 := -1
				switch {
				case strings.HasPrefix(name, "spinnaker"):
					lanes32 = 0
				case name == "xylo" || name == "truenorth" || name == "xylo+stochastic" || name == "truenorth+stochastic":
					lanes32 = 1
				}
				t.Run(fmt.Sprintf("%s/vector=%v/n=%d", name, vec, n), func(t *testing.T) { testProfileKernel(t, cfg, n, lanes32) })
			}
		}
	}
}

// testProfileKernel runs one description; lanes32 says whether the 32-bit
// fused kernel must run (1), must not (0) or may (−1).
func testProfileKernel(t *testing.T, cfg *Config, n, lanes32 int) {
	dp := NewDatapath(cfg)
	rng := rand.New(rand.NewPCG(9, uint64(n)))
	type kind int
	const (
		det kind = iota
		stoch
		readout
	)
	bounds := []int{13, 29, 32, 40, 41, 77, 100, n}
	kinds := []kind{det, stoch, readout, det, stoch, det, readout, stoch}
	if !cfg.Neuron.Stochastic {
		kinds = []kind{det, readout, det, readout, det, det, readout, det}
	}
	vthBits := cfg.Neuron.VthBits
	var profs []Profile
	for p := range bounds {
		// thresholds from 2 to 2^vth_bits, log-uniform, so that each scale
		// of input reaches some of them
		vth := int64(1) << (1 + rng.IntN(vthBits))
		vth = min(vth+rng.Int64N(vth), int64(1)<<vthBits-1)
		pr := Profile{Vth: int32(vth), Refractory: uint16(rng.Int64N(int64(dp.refMax) + 1))}
		for k := 0; k < cfg.Neuron.SynapseTypes; k++ {
			pr.Du[k] = uint16(rng.Int64N(int64(dp.decayMax) + 1))
		}
		dvMax := int64(dp.decayMax)
		if dp.decay == decayMul12 {
			dvMax = 4096
		}
		pr.Dv = uint16(rng.Int64N(dvMax + 1))
		if p == 3 {
			pr.Du, pr.Dv = [4]uint16{}, 0 // no decay: states run into their bounds
		}
		switch kinds[p] {
		case readout:
			pr.Readout = true
		case stoch:
			entries := 1 + rng.IntN(cfg.Neuron.EscapeEntries)
			scale := float64(vth<<cfg.Neuron.VthShift) / 4
			shift := uint8(min(31, max(0, int(math.Log2(scale))-rng.IntN(4))))
			off := int32(rng.IntN(entries + 1))
			switch p % 3 {
			case 0:
				pr.Escape = SampleEscape(func(x float64) float64 { return 1 / (1 + math.Exp(-x/scale)) }, entries, shift, off)
			case 1: // a ramp, as TrueNorth's stochastic threshold
				pr.Escape = SampleEscape(func(x float64) float64 { return x/(4*scale) + 0.5 }, entries, shift, off)
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
	biasMax := int64(1)<<(cfg.Neuron.BiasBits-1) - 1
	vMax := dp.vMax
	cp := CoreProgram{Profiles: profs}
	for i := 0; i < n; i++ {
		e := rng.IntN(cfg.Neuron.BiasExpMax + 1)
		bm := min(biasMax, int64(1)<<max(0, 30-e)-1) >> rng.IntN(cfg.Neuron.BiasBits)
		nr := Neuron{Profile: uint16(profileOf(i)), BiasMant: int32(rng.Int64N(2*bm+1) - bm), BiasExp: uint8(e),
			V: int32(rng.Int64N(2*vMax+1) - vMax), NoiseKey: rng.Uint32()}
		if i%5 == 0 {
			nr.V = 0
		}
		if i%17 == 3 {
			nr.NoiseKey = 4242 // shared keys draw alike
		}
		cp.Neurons = append(cp.Neurons, nr)
	}
	// one axon that every neuron targets: chips with routing tables
	// (SpiNNaker) want a route for every source
	cp.Axons = []Axon{{Synapses: []Synapse{{Neuron: 0, Weight: 1}}}}
	for i := range cp.Neurons {
		cp.Neurons[i].Out = []AxonRef{{0, 0}}
	}
	prog := &Program{Seed: 31, Cores: []CoreProgram{cp}}
	load := func() *core {
		sys, err := Load(cfg, prog, Options{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		return sys.cores[0]
	}
	c, ref := load(), load()
	defer func() { useProfileKernel = true }()
	accMax := dp.accMax
	types := cfg.Neuron.SynapseTypes
	var fires, kernelRuns uint64
	for tick := uint64(0); tick < 300; tick++ {
		seed := uint64(31)
		if tick >= 150 {
			seed = 0xC0FFEE
		}
		// from dense input at full scale to sparse small input
		density := 1 + int(tick/30)%4
		scale := uint(rng.IntN(bitsFor(int(accMax)) + 1))
		for i := 0; i < n; i++ {
			for k := 0; k < types; k++ {
				var a int64
				if rng.IntN(density) == 0 {
					m := min(accMax, int64(1)<<scale)
					a = rng.Int64N(2*m+1) - m
				}
				c.acc[k*c.stride+i] = int32(a)
				ref.acc[k*ref.stride+i] = int32(a)
			}
		}
		c.cnt, ref.cnt = Counts{}, Counts{}
		useProfileKernel = true
		before := c.pk.runs
		c.update(dp, seed, tick)
		kernelRuns += c.pk.runs - before
		useProfileKernel = false
		ref.update(dp, seed, tick)
		for i := 0; i < n; i++ {
			for k := 0; k < types; k++ {
				if got, want := c.u[k*c.stride+i], ref.u[k*ref.stride+i]; got != want {
					t.Fatalf("tick %d neuron %d (profile %d %+v): u[%d] = %d, generic %d", tick, i, profileOf(i), profs[profileOf(i)], k, got, want)
				}
				if c.acc[k*c.stride+i] != 0 {
					t.Fatalf("tick %d neuron %d: accumulator of type %d not cleared", tick, i, k)
				}
			}
			if c.v[i] != ref.v[i] || c.ref[i] != ref.ref[i] {
				t.Fatalf("tick %d neuron %d (profile %d %+v): v %d ref %d, generic v %d ref %d", tick, i, profileOf(i), profs[profileOf(i)], c.v[i], c.ref[i], ref.v[i], ref.ref[i])
			}
			if c.vmax != nil && c.vmax[i] != ref.vmax[i] {
				t.Fatalf("tick %d neuron %d: vmax %d, generic %d", tick, i, c.vmax[i], ref.vmax[i])
			}
		}
		if !slices.Equal(c.fired, ref.fired) {
			t.Fatalf("tick %d: fired %v, generic %v", tick, c.fired, ref.fired)
		}
		if c.cnt != ref.cnt {
			t.Fatalf("tick %d: counts %+v, generic %+v", tick, c.cnt, ref.cnt)
		}
		fires += c.cnt.NeuronFire
	}
	if fires == 0 {
		t.Fatal("no neuron fired: the test exercises nothing")
	}
	if kernelRuns == 0 {
		t.Fatal("the profile kernels never ran")
	}
	if lanes32 >= 0 && profVector && (c.pk.lanes32 > 0) != (lanes32 == 1) {
		t.Fatalf("32-bit lanes updated %d neurons, want them used: %v", c.pk.lanes32, lanes32 == 1)
	}
}

// BenchmarkNeuronUpdateProfiles measures the neuron datapath of one core of
// each preset (as many neurons as the preset's core holds, at most 1024)
// for each kind of profile it has — deterministic, stochastic (an escape
// table) and readout — with the profile kernels (their AVX-512 loops,
// "avx512", where the CPU has them; the portable loops, "go") and with
// updateGeneric ("generic"). The program is BenchmarkNeuronUpdate's
// bias-driven one scaled to each chip's ranges (benchProfileProgram), with
// random input on a third of the (neuron, type) pairs. The Loihi-class
// presets (default, loihi) run only their readout profile here: the other
// kernels take their deterministic and stochastic runs. Besides wall time
// per neuron it reports the benchmark thread's CPU time per neuron
// (cpu-ns/neuron), the figure to compare on a shared machine.
func BenchmarkNeuronUpdateProfiles(b *testing.B) {
	for _, p := range Presets() {
		cfg, err := Preset(p)
		if err != nil {
			b.Fatal(err)
		}
		for _, kind := range []string{"deterministic", "stochastic", "readout"} {
			if kind == "stochastic" && !cfg.Neuron.Stochastic {
				continue
			}
			loihiClass := cfg.Neuron.SynapseTypes == 2 && cfg.Neuron.Current == "decay" && cfg.Neuron.Decay == "mul12" && cfg.Neuron.Rounding == "trunc"
			if loihiClass && kind != "readout" {
				continue // updateLoihi2 and updateStoch (BenchmarkNeuronUpdate…)
			}
			for _, variant := range []string{"avx512", "go", "generic"} {
				if variant == "avx512" && !profVectorCPU {
					continue
				}
				b.Run(p+"/"+kind+"/"+variant, func(b *testing.B) {
					defer func() { useProfileKernel = true; setProfVector(profVectorCPU) }()
					useProfileKernel = variant != "generic"
					setProfVector(variant == "avx512")
					s, err := Load(cfg, benchProfileProgram(cfg, kind), Options{Workers: 1})
					if err != nil {
						b.Fatal(err)
					}
					c := s.cores[0]
					n := c.n
					// random input for a third of the (neuron, type) pairs,
					// copied into the slot before each update (the copy is
					// timed, in both variants)
					rng := rand.New(rand.NewPCG(1, 2))
					in := make([]int32, len(c.acc))
					m := min(s.dp.accMax, 1<<12)
					for i := range in {
						if i%c.stride < n && rng.IntN(3) == 0 {
							in[i] = int32(rng.Int64N(2*m+1) - m)
						}
					}
					c.update(s.dp, 0, 0) // allocates the scratch, seeds the bases
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					cpu0, cpuOK := threadCPU()
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						copy(c.acc, in)
						c.update(s.dp, 0, uint64(i+1))
					}
					b.StopTimer()
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/neuron")
					b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "updates/s")
					// the thread's own CPU time: what the update costs when
					// the machine is shared (wall time counts the waits too)
					if cpu1, ok := threadCPU(); ok && cpuOK {
						b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/neuron")
					}
				})
			}
		}
	}
}

// benchProfileProgram is one core of min(1024, core.neurons) neurons of one
// profile of the given kind, scaled to cfg: a threshold a quarter of the
// way up its range, a bias that reaches it in some tens of ticks, spread
// initial membranes.
func benchProfileProgram(cfg *Config, kind string) *Program {
	dp := NewDatapath(cfg)
	n := min(1024, cfg.Core.Neurons)
	vth := int64(1)<<(cfg.Neuron.VthBits-2) - 1
	vthFull := vth << cfg.Neuron.VthShift
	biasMax := int64(1)<<(cfg.Neuron.BiasBits-1) - 1
	pr := Profile{Vth: int32(vth), Refractory: uint16(min(int64(dp.refMax), 2))}
	for k := 0; k < cfg.Neuron.SynapseTypes; k++ {
		pr.Du[k] = uint16(min(int64(dp.decayMax), 3))
	}
	pr.Dv = uint16(min(int64(dp.decayMax), 2))
	switch kind {
	case "readout":
		pr.Readout, pr.Refractory = true, 0
	case "stochastic":
		sc := float64(vthFull) / 8
		pr.Escape = SampleEscape(func(x float64) float64 { return 1 / (1 + math.Exp(-x/sc)) }, cfg.Neuron.EscapeEntries,
			uint8(max(0, int(math.Log2(sc))-4)), int32(cfg.Neuron.EscapeEntries/2))
	}
	cp := CoreProgram{Profiles: []Profile{pr}, Axons: []Axon{{Synapses: []Synapse{{Neuron: 0, Weight: 1}}}}}
	for i := 0; i < n; i++ {
		e := cfg.Neuron.BiasExpMax
		bias := max(1, vthFull/40) >> e
		cp.Neurons = append(cp.Neurons, Neuron{BiasMant: int32(min(bias*int64(1+i%3), biasMax)), BiasExp: uint8(e),
			V: int32(int64(i) * 997 % max(1, vthFull)), NoiseKey: uint32(i), Out: []AxonRef{{0, 0}}})
	}
	return &Program{Cores: []CoreProgram{cp}}
}

// TestProfileKernelsSystem runs every preset's limitedProgram end to end
// (delivery, delays, generators, input, a Reset to a new seed) with the
// profile kernels on 1 and 3 workers and with updateGeneric on 1, and
// compares spikes, final states and counts.
func TestProfileKernelsSystem(t *testing.T) {
	defer func() { useProfileKernel = true }()
	type result struct {
		resetRun
		runs uint64 // runs the profile kernels took
	}
	for _, name := range Presets() {
		cfg, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		p := limitedProgram(cfg, 5)
		run := func(kernel bool, workers int) result {
			useProfileKernel = kernel
			s, err := Load(cfg, p, Options{Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			r := result{resetRun: runResetRun(t, s, p, periodicInput{}, 120, 99)}
			for _, c := range s.cores {
				r.runs += c.pk.runs
			}
			return r
		}
		ref := run(false, 1)
		if ref.stats.Counts.NeuronFire == 0 {
			t.Errorf("%s: no neuron fired", name)
		}
		for _, w := range []int{1, 3} {
			got := run(true, w)
			if !slices.Equal(got.spikes, ref.spikes) {
				t.Errorf("%s, %d workers: %d spikes differ from updateGeneric's %d", name, w, len(got.spikes), len(ref.spikes))
			}
			if !slices.Equal(got.states, ref.states) {
				t.Errorf("%s, %d workers: final states differ from updateGeneric's", name, w)
			}
			if got.stats.Counts != ref.stats.Counts {
				t.Errorf("%s, %d workers: counts %+v, updateGeneric %+v", name, w, got.stats.Counts, ref.stats.Counts)
			}
			loihiClass := cfg.Neuron.SynapseTypes == 2 && cfg.Neuron.Current == "decay" && cfg.Neuron.Decay == "mul12" && cfg.Neuron.Rounding == "trunc"
			if ran := got.runs > 0; ran == loihiClass {
				t.Errorf("%s: profile kernels ran: %v, want %v", name, ran, !loihiClass)
			}
		}
	}
}
