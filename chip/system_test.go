package chip

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// randomProgram builds a program that exercises every path of the engine:
// several cores, deterministic and stochastic profiles, delays, negative
// weight exponents, Poisson and regular generators, an input and an output
// port.
var poisson15 = []uint32{958336741, 2395841851, 3473970685, 4013035101, 4215184257, 4275829004, 4290990191, 4294239017}

func randomProgram(cfg *Config, seed uint64, cores, neurons int) *Program {
	rng := rand.New(rand.NewPCG(seed, 7))
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x/20000)) }
	p := &Program{Seed: seed, Cores: make([]CoreProgram, cores)}
	for ci := range p.Cores {
		cp := &p.Cores[ci]
		cp.Profiles = []Profile{
			{Du: [4]uint16{80, 40}, Dv: 20, Vth: 2000, Refractory: 3},
			{Du: [4]uint16{200, 100}, Dv: 50, Vth: 1500, Escape: SampleEscape(sig, 64, 12, 32)},
		}
		for i := 0; i < neurons; i++ {
			cp.Neurons = append(cp.Neurons, Neuron{Profile: uint16(i % 2), BiasMant: int32(rng.IntN(1500)), BiasExp: 2, V: int32(rng.IntN(100000)), NoiseKey: uint32(ci*neurons + i)})
		}
		for a := 0; a < neurons; a++ {
			ax := Axon{WeightExp: int8(rng.IntN(4) - 1)}
			for j := 0; j < 8; j++ {
				ax.Synapses = append(ax.Synapses, Synapse{Neuron: uint32(rng.IntN(neurons)), Type: uint8(rng.IntN(2)),
					Delay: uint8(rng.IntN(5)), Weight: 2 * int32(rng.IntN(200)-90)}) // even: Loihi's mixed-sign rows
			}
			cp.Axons = append(cp.Axons, ax)
		}
		key := uint32(1<<30 + 4*ci)
		cp.Generators = []Generator{{Prob: 3000, NoiseKey: key, Out: []AxonRef{{uint32(ci), 0}}}, {Period: 7, Phase: 2, Out: []AxonRef{{uint32((ci + 1) % cores), 1}}},
			{Seed: 99, Prob: 2000, NoiseKey: key + 1, Out: []AxonRef{{uint32(ci), 2}}},
			// a Poisson source of mean 1.5 spikes per tick: P(K ≤ k)·2^32 for k = 0…7
			{Counts: poisson15, NoiseKey: key + 2, Out: []AxonRef{{uint32(ci), 3}}}}
	}
	for ci := range p.Cores {
		for i := range p.Cores[ci].Neurons {
			for k := 0; k < 3; k++ {
				dc := rng.IntN(cores)
				p.Cores[ci].Neurons[i].Out = append(p.Cores[ci].Neurons[i].Out, AxonRef{uint32(dc), uint32(rng.IntN(neurons))})
			}
		}
	}
	in := InputPort{Name: "in"}
	for ch := 0; ch < 4; ch++ {
		in.Channels = append(in.Channels, []AxonRef{{uint32(ch % cores), uint32(ch)}})
	}
	p.Inputs = []InputPort{in}
	out := OutputPort{Name: "out"}
	for i := 0; i < 5; i++ {
		out.Neurons = append(out.Neurons, NeuronRef{uint32(i % cores), uint32(i)})
	}
	p.Outputs = []OutputPort{out}
	return p
}

type periodicInput struct{}

func (periodicInput) Events(t uint64, dst []PortEvent) ([]PortEvent, error) {
	if t%5 == 0 {
		dst = append(dst, PortEvent{Port: 0, Channel: uint32(t/5) % 4})
	}
	if t == 17 {
		dst = append(dst, PortEvent{Port: 3, Channel: 0}) // no such port: counted, not fatal
	}
	return dst, nil
}

type collectOutput struct{ got []uint64 }

func (c *collectOutput) Spikes(t uint64, ev []PortEvent) error {
	for _, e := range ev {
		c.got = append(c.got, t<<8|uint64(e.Channel))
	}
	return nil
}

type runResult struct {
	spikes []Spike
	stats  Stats
	out    []uint64
	states []NeuronState
}

func runProgram(t *testing.T, cfg *Config, p *Program, workers int, ticks uint64) runResult {
	t.Helper()
	s, err := Load(cfg, p, Options{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if s.Workers() != min(workers, len(p.Cores)) {
		t.Fatalf("workers = %d, want %d", s.Workers(), workers)
	}
	rec, err := s.RecordSpikes(nil)
	if err != nil {
		t.Fatal(err)
	}
	out := &collectOutput{}
	s.SetInput(periodicInput{})
	s.SetOutput(out)
	// two Run calls must equal one
	if err := s.Run(context.Background(), ticks/2); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), ticks-ticks/2); err != nil {
		t.Fatal(err)
	}
	r := runResult{spikes: rec.Spikes, stats: s.Stats(), out: out.got}
	for ci := range p.Cores {
		for i := range p.Cores[ci].Neurons {
			st, _ := s.State(NeuronRef{uint32(ci), uint32(i)})
			r.states = append(r.states, st)
		}
	}
	return r
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	cfg := Default()
	p := randomProgram(cfg, 42, 9, 64)
	want := runProgram(t, cfg, p, 1, 600)
	if len(want.spikes) < 500 || len(want.out) == 0 {
		t.Fatalf("test network too quiet: %d spikes, %d output events", len(want.spikes), len(want.out))
	}
	if want.stats.Counts.Generated == 0 || want.stats.InputDropped != 1 {
		t.Fatalf("generators %d, dropped inputs %d: want some, and 1", want.stats.Counts.Generated, want.stats.InputDropped)
	}
	for _, w := range []int{2, 7} {
		got := runProgram(t, cfg, p, w, 600)
		if !reflect.DeepEqual(got.spikes, want.spikes) {
			t.Errorf("workers=%d: spikes differ (%d vs %d)", w, len(got.spikes), len(want.spikes))
		}
		if !reflect.DeepEqual(got.states, want.states) {
			t.Errorf("workers=%d: final states differ", w)
		}
		if !reflect.DeepEqual(got.out, want.out) {
			t.Errorf("workers=%d: output events differ", w)
		}
		if !reflect.DeepEqual(got.stats, want.stats) {
			t.Errorf("workers=%d: stats differ:\n got %+v\nwant %+v", w, got.stats, want.stats)
		}
	}
	// another seed changes the run
	other := runProgram(t, cfg, randomProgram(cfg, 43, 9, 64), 2, 600)
	if reflect.DeepEqual(other.spikes, want.spikes) {
		t.Error("seed 43 gave the same spikes as seed 42")
	}
}

// TestDelaySemantics checks the step contract: a spike emitted at tick t
// through a synapse with delay d is integrated at tick t+1+d, and so is an
// input event of tick t.
func TestDelaySemantics(t *testing.T) {
	cfg := testConfig(t, func(c *Config) { c.Neuron.ActShift = 0; c.Neuron.VthShift = 0 })
	for _, d := range []uint8{0, 1, 5, 62} {
		// neuron 0 fires on input; neuron 1 receives through delay d
		// and fires on that single input.
		cp := CoreProgram{
			Profiles: []Profile{{Du: [4]uint16{4095, 4095}, Dv: 4096, Vth: 10}},
			Neurons:  []Neuron{{Out: []AxonRef{{0, 1}}}, {}},
			Axons: []Axon{
				{Synapses: []Synapse{{Neuron: 0, Weight: 20}}},
				{Synapses: []Synapse{{Neuron: 1, Weight: 20, Delay: d}}},
			},
		}
		p := &Program{Cores: []CoreProgram{cp}, Inputs: []InputPort{{Name: "in", Channels: [][]AxonRef{{{0, 0}}}}}}
		s, err := Load(cfg, p, Options{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		rec, _ := s.RecordSpikes(nil)
		s.SetInput(inputAt(3))
		if err := s.Run(context.Background(), 80); err != nil {
			t.Fatal(err)
		}
		want := []Spike{{Tick: 4, Neuron: 0}, {Tick: 4 + 1 + uint64(d), Neuron: 1}}
		if !reflect.DeepEqual(rec.Spikes, want) {
			t.Errorf("delay %d: spikes %v, want %v", d, rec.Spikes, want)
		}
	}
}

type inputAt uint64

func (a inputAt) Events(t uint64, dst []PortEvent) ([]PortEvent, error) {
	if t == uint64(a) {
		dst = append(dst, PortEvent{})
	}
	return dst, nil
}

func TestRegularGenerator(t *testing.T) {
	cfg := testConfig(t, func(c *Config) { c.Neuron.ActShift = 0; c.Neuron.VthShift = 0 })
	cp := CoreProgram{
		Profiles:   []Profile{{Du: [4]uint16{4095, 4095}, Dv: 4096, Vth: 10}},
		Neurons:    []Neuron{{}},
		Axons:      []Axon{{Synapses: []Synapse{{Neuron: 0, Weight: 20}}}},
		Generators: []Generator{{Period: 10, Phase: 4, Out: []AxonRef{{0, 0}}}},
	}
	s, err := Load(cfg, &Program{Cores: []CoreProgram{cp}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := s.RecordSpikes(nil)
	if err := s.Run(context.Background(), 40); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, sp := range rec.Spikes {
		got = append(got, sp.Tick)
	}
	if want := []uint64{5, 15, 25, 35}; !reflect.DeepEqual(got, want) {
		t.Errorf("neuron spikes at %v, want %v (generator fires at 4, 14, …)", got, want)
	}
	if g := s.Stats().Counts.Generated; g != 4 {
		t.Errorf("generated = %d, want 4", g)
	}
}

// TestAccountingIdentities checks that the reported figures are the
// documented functions of the event counts.
func TestAccountingIdentities(t *testing.T) {
	cfg := Default()
	p := randomProgram(cfg, 5, 4, 50)
	s, err := Load(cfg, p, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	log := s.LogTicks()
	s.SetInput(periodicInput{})
	const ticks = 300
	if err := s.Run(context.Background(), ticks); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	neurons := uint64(4 * 50)
	if got := st.Counts.NeuronIdle + st.Counts.NeuronActive + st.Counts.NeuronFire; got != neurons*ticks {
		t.Errorf("idle+active+fire = %d, want neurons·ticks = %d", got, neurons*ticks)
	}
	// synops = Σ row lengths of delivered messages; with the ideal
	// interconnect every message sent before the last tick is delivered.
	var sum Counts
	var busy uint64
	for _, cs := range st.Cores {
		sum.add(&cs.Counts)
		busy = max(busy, cs.BusyCycles)
		if cs.Utilisation < 0 || cs.Utilisation > 1 {
			t.Errorf("core %d utilisation %v out of [0, 1]", cs.Core, cs.Utilisation)
		}
		if want := cs.Counts.Cycles(&cfg.Cost.Cycles); cs.BusyCycles != want {
			t.Errorf("core %d busy %d, want Σ count·cycles = %d", cs.Core, cs.BusyCycles, want)
		}
	}
	if sum != st.Counts {
		t.Errorf("core counts sum %+v, system %+v", sum, st.Counts)
	}
	var cyc uint64
	for _, tk := range log.Ticks {
		barrier := cfg.Cost.BarrierCycles + cfg.Cost.BarrierCyclesPerHop*2*uint64(cfg.Diameter())
		if tk.Cycles != tk.MaxCoreBusy+barrier {
			t.Fatalf("tick %d: cycles %d, want max busy %d + barrier %d", tk.Tick, tk.Cycles, tk.MaxCoreBusy, barrier)
		}
		cyc += tk.Cycles
	}
	if cyc != st.Cycles || uint64(len(log.Ticks)) != ticks {
		t.Errorf("Σ tick cycles %d over %d ticks, stats %d", cyc, len(log.Ticks), st.Cycles)
	}
	if math.Abs(st.Seconds-float64(st.Cycles)/(cfg.ClockMHz*1e6)) > 1e-15 {
		t.Errorf("emulated seconds %v, cycles/clock %v", st.Seconds, float64(st.Cycles)/(cfg.ClockMHz*1e6))
	}
	e := cfg.Cost.EnergyPJ
	c := st.Counts
	want := (float64(c.InputSpikes)*e.InputSpike + float64(c.Synops)*e.Synop + float64(c.NeuronIdle)*e.NeuronIdle +
		float64(c.NeuronActive)*e.NeuronActive + float64(c.NeuronFire)*e.NeuronFire + float64(c.Messages)*e.Message) * 1e-12
	if math.Abs(st.Energy.Total-want) > 1e-12*want {
		t.Errorf("energy %v J, want Σ count·pJ = %v J", st.Energy.Total, want)
	}
	// fixed-tick chips count overruns instead of stretching every tick
	fixed := testConfig(t, func(c *Config) { c.Sync = "fixed"; c.TickCycles = 2000 })
	s2, err := Load(fixed, p, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	log2 := s2.LogTicks()
	if err := s2.Run(context.Background(), ticks); err != nil {
		t.Fatal(err)
	}
	var over uint64
	for _, tk := range log2.Ticks {
		if tk.MaxCoreBusy > 2000 {
			over++
		}
	}
	if st2 := s2.Stats(); st2.Overruns != over || over == 0 || over == ticks {
		t.Errorf("overruns %d, want %d (some, not all)", st2.Overruns, over)
	}
}

func TestResourceErrors(t *testing.T) {
	cfg := Default()
	good := func() *Program { return randomProgram(cfg, 1, 2, 10) }
	tests := []struct {
		name string
		edit func(p *Program)
		want string
	}{
		{"too many neurons", func(p *Program) {
			p.Cores[1].Neurons = make([]Neuron, 1025)
		}, "core 1: neurons = 1025 exceeds 1024 (core.neurons)"},
		{"too many synapses", func(p *Program) {
			p.Cores[0].Axons[0].Synapses = make([]Synapse, 40000)
		}, "core 0: synapses = 40072 exceeds 32768 (core.synapse_bytes / 4)"},
		{"too many axons", func(p *Program) {
			p.Cores[0].Axons = append(p.Cores[0].Axons, make([]Axon, 4100)...)
		}, "core 0: input axons = 4110 exceeds 4096 (core.input_axons)"},
		{"delay", func(p *Program) {
			p.Cores[1].Axons[2].Synapses[3].Delay = 63
		}, "core 1: axon 2 synapse 3 delay = 63 exceeds 62 (synapse.max_delay)"},
		{"weight", func(p *Program) {
			p.Cores[0].Axons[0].Synapses[0].Weight = -300
		}, "weight = -300 exceeds the even values -256…254 (synapse.weight_bits"},
		{"dangling axon", func(p *Program) {
			p.Cores[0].Neurons[0].Out = append(p.Cores[0].Neurons[0].Out, AxonRef{1, 99})
		}, "core 0: neuron 0 output target axon = 99 exceeds core 1's 10 axons"},
		{"missing core", func(p *Program) {
			p.Cores[0].Neurons[0].Out = append(p.Cores[0].Neurons[0].Out, AxonRef{5, 0})
		}, "target core = 5"},
		{"too many cores", func(p *Program) {
			p.Cores = make([]CoreProgram, 17)
		}, "system: cores = 17 exceeds 16"},
		{"threshold", func(p *Program) {
			p.Cores[0].Profiles[0].Vth = 1 << 17
		}, "profile 0 vth = 131072 exceeds 0…131071 (neuron.vth_bits)"},
		{"refractory", func(p *Program) {
			p.Cores[0].Profiles[0].Refractory = 64
		}, "refractory = 64 exceeds 63 (neuron.refractory_bits)"},
		{"bias", func(p *Program) {
			p.Cores[0].Neurons[3].BiasMant = 5000
		}, "neuron 3 bias mantissa = 5000 exceeds ±4095 (neuron.bias_bits)"},
		{"output port", func(p *Program) {
			p.Outputs[0].Neurons[0] = NeuronRef{0, 999}
		}, `output port "out" channel 0`},
		{"generator fan-out counts", func(p *Program) {
			p.Cores[0].Generators[0].Out = make([]AxonRef, 4096)
		}, "core 0: output axons (neurons and generators) = 4129 exceeds 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good()
			tt.edit(p)
			_, err := Load(cfg, p, Options{})
			var re *ResourceError
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if !errors.As(err, &re) {
				t.Errorf("error %v is not a *ResourceError", err)
			}
		})
	}
	if _, err := Load(cfg, good(), Options{}); err != nil {
		t.Fatalf("good program: %v", err)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	cfg := Default()
	s, err := Load(cfg, randomProgram(cfg, 1, 4, 20), Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx, 1_000_000); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if s.Tick() > 256 {
		t.Errorf("ran %d ticks after cancel, want ≤ 256", s.Tick())
	}
}

func TestMemoryPerNeuronAndSynapse(t *testing.T) {
	cfg := Default()
	p := benchProgram(1000, 32)
	s, err := Load(cfg, &Program{Cores: []CoreProgram{p.Cores[0]}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := s.Memory()
	perNeuron := float64(m.NeuronBytes) / float64(m.Neurons)
	perSynapse := float64(m.SynapseBytes) / float64(m.Synapses)
	t.Logf("%.1f bytes per neuron, %.2f bytes per synapse (%d synapses)", perNeuron, perSynapse, m.Synapses)
	if perNeuron > 48 {
		t.Errorf("%.1f bytes per neuron, want ≤ 48", perNeuron)
	}
	if perSynapse > 8 {
		t.Errorf("%.2f bytes per synapse, want ≤ 8", perSynapse)
	}
}

func TestSteadyStateAllocations(t *testing.T) {
	cfg := Default()
	s, err := Load(cfg, randomProgram(cfg, 3, 4, 100), Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = s.Run(ctx, 200) // grow buffers
	if a := testing.AllocsPerRun(20, func() { _ = s.Run(ctx, 10) }); a != 0 {
		t.Errorf("%v allocations per 10 ticks in steady state, want 0", a)
	}
}

func TestProbes(t *testing.T) {
	cfg := Default()
	p := randomProgram(cfg, 8, 3, 40)
	all := runProgram(t, cfg, p, 2, 200)
	s, err := Load(cfg, p, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	sel := []NeuronRef{{0, 1}, {2, 39}, {1, 0}}
	rec, err := s.RecordSpikes(sel)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := s.TraceNeurons(sel)
	if err != nil {
		t.Fatal(err)
	}
	s.SetInput(periodicInput{})
	s.SetOutput(&collectOutput{})
	if err := s.Run(context.Background(), 200); err != nil {
		t.Fatal(err)
	}
	want := map[NeuronRef]bool{}
	for _, r := range sel {
		want[r] = true
	}
	var wantSpikes []Spike
	for _, sp := range all.spikes {
		if want[NeuronRef{sp.Core, sp.Neuron}] {
			wantSpikes = append(wantSpikes, sp)
		}
	}
	if !reflect.DeepEqual(rec.Spikes, wantSpikes) || len(wantSpikes) == 0 {
		t.Errorf("selected spikes: got %d, want %d (the subset of the full record)", len(rec.Spikes), len(wantSpikes))
	}
	if len(tr.V) != 200 {
		t.Fatalf("trace has %d ticks, want 200", len(tr.V))
	}
	for j, r := range sel {
		st, _ := s.State(r)
		if tr.V[199][j] != st.V || tr.U[199][j] != st.U {
			t.Errorf("trace of %v after the last tick: v %d u %v, state v %d u %v", r, tr.V[199][j], tr.U[199][j], st.V, st.U)
		}
	}
	if _, err := s.RecordSpikes([]NeuronRef{{9, 0}}); !errors.Is(err, ErrNoSuchNeuron) {
		t.Errorf("probe on a missing core: %v, want ErrNoSuchNeuron", err)
	}
}

// TestGeneratorOwnSeed: a Poisson generator with its own seed fires the same
// ticks whatever the program's seed; one without follows the program's.
func TestGeneratorOwnSeed(t *testing.T) {
	cfg := testConfig(t, func(c *Config) { c.Neuron.ActShift = 0; c.Neuron.VthShift = 0 })
	ticks := func(progSeed, genSeed uint64) []uint64 {
		cp := CoreProgram{
			Profiles:   []Profile{{Du: [4]uint16{4095, 4095}, Dv: 4096, Vth: 10}},
			Neurons:    []Neuron{{}},
			Axons:      []Axon{{Synapses: []Synapse{{Neuron: 0, Weight: 20}}}},
			Generators: []Generator{{Seed: genSeed, Prob: 6554, Out: []AxonRef{{0, 0}}}},
		}
		s, err := Load(cfg, &Program{Seed: progSeed, Cores: []CoreProgram{cp}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rec, _ := s.RecordSpikes(nil)
		if err := s.Run(context.Background(), 500); err != nil {
			t.Fatal(err)
		}
		var out []uint64
		for _, sp := range rec.Spikes {
			out = append(out, sp.Tick)
		}
		return out
	}
	a, b := ticks(1, 77), ticks(2, 77)
	if !reflect.DeepEqual(a, b) || len(a) < 20 || len(a) > 80 {
		t.Errorf("own-seed generator: %d and %d spikes, want the same ≈ 50", len(a), len(b))
	}
	if reflect.DeepEqual(ticks(1, 0), ticks(2, 0)) {
		t.Error("generators without a seed ignore the program seed")
	}
}

func TestOutputNeuronOnce(t *testing.T) {
	cfg := Default()
	p := randomProgram(cfg, 1, 2, 10)
	p.Outputs[0].Neurons[1] = p.Outputs[0].Neurons[0]
	want := `output port "out" channel 1: core 0 neuron 0 is already output port "out" channel 0`
	if err := p.Check(cfg); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Check: %v, want an error containing %q", err, want)
	}
}

// TestReset: a reset system runs a sample exactly as a freshly loaded one
// with that seed, stochastic neurons, Poisson sources and pending delayed
// messages included.
func TestReset(t *testing.T) {
	cfg := Default()
	run := func(s *System, ticks uint64) []Spike {
		rec, _ := s.RecordSpikes(nil)
		s.SetInput(periodicInput{})
		if err := s.Run(context.Background(), ticks); err != nil {
			t.Fatal(err)
		}
		return rec.Spikes
	}
	load := func(seed uint64) *System {
		p := randomProgram(cfg, 5, 3, 40)
		p.Seed = seed
		s, err := Load(cfg, p, Options{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	fresh := run(load(77), 200)
	s := load(5)
	first := run(s, 137) // stop mid-flight: delayed messages and refractory neurons pending
	s.Reset(77)
	again := run(s, 200)
	if !reflect.DeepEqual(again, fresh) {
		t.Fatalf("after Reset(77): %d spikes, fresh system with seed 77: %d", len(again), len(fresh))
	}
	if len(first) == 0 || reflect.DeepEqual(first, fresh[:min(len(first), len(fresh))]) {
		t.Error("seeds 5 and 77 gave the same spikes: the test cannot tell a reset from no reset")
	}
	if s.Tick() != 200 || s.Seed() != 77 {
		t.Errorf("tick %d seed %d after the second run, want 200 and 77", s.Tick(), s.Seed())
	}
}

// TestPoissonCounts: a generator with a count table emits Poisson(1.5)
// spikes per tick: mean and variance within sampling error.
func TestPoissonCounts(t *testing.T) {
	cfg := Default()
	cp := CoreProgram{
		Profiles:   []Profile{{Vth: 1 << 16}},
		Neurons:    []Neuron{{}},
		Axons:      []Axon{{Synapses: []Synapse{{Neuron: 0, Weight: 1}}}},
		Generators: []Generator{{Counts: poisson15, NoiseKey: 3, Out: []AxonRef{{0, 0}}}},
	}
	s, err := Load(cfg, &Program{Seed: 11, Cores: []CoreProgram{cp}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const ticks = 40000
	var sum, sumSq float64
	prev := uint64(0)
	for i := 0; i < ticks; i++ {
		if err := s.Run(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		g := s.Stats().Counts.Generated
		k := float64(g - prev)
		prev = g
		sum += k
		sumSq += k * k
	}
	mean := sum / ticks
	variance := sumSq/ticks - mean*mean
	// standard errors: mean √(λ/n) ≈ 0.006, variance ≈ √((λ + 2λ²)/n) ≈ 0.012
	if math.Abs(mean-1.5) > 0.03 || math.Abs(variance-1.5) > 0.06 {
		t.Errorf("mean %.4f variance %.4f per tick, want 1.5 and 1.5", mean, variance)
	}
}

// TestReadoutNeuron: a readout profile integrates without firing and keeps
// its largest membrane, which Reset clears.
func TestReadoutNeuron(t *testing.T) {
	cfg := testConfig(t, func(c *Config) { c.Neuron.ActShift = 0; c.Neuron.VthShift = 0 })
	cp := CoreProgram{
		Profiles: []Profile{{Du: [4]uint16{4095, 4095}, Dv: 400, Vth: 10, Readout: true}},
		Neurons:  []Neuron{{}},
		Axons:    []Axon{{Synapses: []Synapse{{Neuron: 0, Weight: 50}}}},
	}
	p := &Program{Cores: []CoreProgram{cp}, Inputs: []InputPort{{Name: "in", Channels: [][]AxonRef{{{0, 0}}}}}}
	s, err := Load(cfg, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := s.State(NeuronRef{}); st.VMax != VMaxStart {
		t.Fatalf("VMax %d before any tick, want VMaxStart", st.VMax)
	}
	rec, _ := s.RecordSpikes(nil)
	s.SetInput(eventsAtTicks{2: 1, 3: 1, 9: 1})
	if err := s.Run(context.Background(), 30); err != nil {
		t.Fatal(err)
	}
	// v: 50 at tick 3, trunc(50·3696/4096) + 50 = 95 at tick 4, decays to
	// 55 by tick 9, trunc(55·3696/4096) + 50 = 99 at tick 10, then decays
	st, _ := s.State(NeuronRef{})
	if len(rec.Spikes) != 0 || st.VMax != 99 || st.V >= 50 {
		t.Errorf("spikes %v, VMax %d, v %d; want none, 99 and a decayed membrane", rec.Spikes, st.VMax, st.V)
	}
	s.Reset(0)
	if st, _ := s.State(NeuronRef{}); st.VMax != VMaxStart || st.V != 0 {
		t.Errorf("after Reset: %+v", st)
	}
	cp.Profiles[0].Escape = &Escape{Table: []uint32{1}}
	if _, err := Load(cfg, &Program{Cores: []CoreProgram{cp}}, Options{}); err == nil || !strings.Contains(err.Error(), "a readout profile never fires") {
		t.Errorf("a stochastic readout profile: %v", err)
	}
}

type eventsAtTicks map[uint64]int

func (e eventsAtTicks) Events(t uint64, dst []PortEvent) ([]PortEvent, error) {
	for i := 0; i < e[t]; i++ {
		dst = append(dst, PortEvent{})
	}
	return dst, nil
}

// resetRun is what runResetRun saw: every spike, every neuron's final
// state and the statistics.
type resetRun struct {
	spikes []Spike
	states []NeuronState
	stats  Stats
}

// runResetRun runs s (loaded from p) with input in (nil: none) for ticks
// ticks, resets it to seed and runs ticks more: the run the kernel,
// worker and generator tests compare between two ways of computing it.
func runResetRun(t *testing.T, s *System, p *Program, in InputSource, ticks, seed uint64) resetRun {
	t.Helper()
	rec, err := s.RecordSpikes(nil)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		s.SetInput(in)
	}
	ctx := context.Background()
	if err := s.Run(ctx, ticks); err != nil {
		t.Fatal(err)
	}
	s.Reset(seed)
	if err := s.Run(ctx, ticks); err != nil {
		t.Fatal(err)
	}
	r := resetRun{spikes: rec.Spikes, stats: s.Stats()}
	for ci := range p.Cores {
		for i := range p.Cores[ci].Neurons {
			st, err := s.State(NeuronRef{uint32(ci), uint32(i)})
			if err != nil {
				t.Fatal(err)
			}
			r.states = append(r.states, st)
		}
	}
	return r
}
