package firmware

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
)

func TestCompilePlacesAndWires(t *testing.T) {
	cfg := chip.Default()
	prof := chip.Profile{Du: [4]uint16{4095, 4095}, Dv: 4096, Vth: 1}
	net := &Network{
		Populations: []Population{
			{Name: "a", Size: 40, Profile: prof},
			{Name: "b", Size: 30, Profile: prof},
			{Name: "clock", Size: 1, Source: &chip.Generator{Period: 10}},
		},
		Projections: []Projection{
			{Pre: 0, Post: 1, Conns: []Conn{{Pre: 0, Post: 29, Weight: 100}, {Pre: 0, Post: 0, Weight: 100}, {Pre: 39, Post: 5, Weight: 50, Delay: 2}, {Pre: 1, Post: 1, Weight: 0}}},
			{Pre: 2, Post: 0, Conns: []Conn{{Pre: 0, Post: 0, Weight: 100}}},
		},
	}
	prog, pl, err := Compile(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 70 neurons over 16 cores: 5 per core, 14 cores used
	if len(prog.Cores) != 14 || len(prog.Cores[0].Neurons) != 5 {
		t.Fatalf("%d cores, %d neurons on core 0; want 14 and 5", len(prog.Cores), len(prog.Cores[0].Neurons))
	}
	if got := pl.Locate(1, 29); got != (chip.NeuronRef{Core: 13, Neuron: 4}) {
		t.Errorf("b[29] placed at %+v, want core 13 neuron 4", got)
	}
	if p, i, ok := pl.Owner(chip.NeuronRef{Core: 13, Neuron: 4}); !ok || p != 1 || i != 29 {
		t.Errorf("owner of core 13 neuron 4 = %d, %d, %v; want b[29]", p, i, ok)
	}
	// the clock source sits on the core of its target a[0]
	if got := pl.Locate(2, 0); got != (chip.NeuronRef{Core: 0, Neuron: chip.GeneratorID(0)}) {
		t.Errorf("clock placed at %+v, want core 0 generator 0", got)
	}
	// a[0] reaches two destination cores (b[0] on core 8, b[29] on core 13): two axons
	if out := prog.Cores[0].Neurons[0].Out; len(out) != 2 {
		t.Errorf("a[0] has %d output axons, want 2", len(out))
	}
	if pl.DroppedSynapses != 1 || pl.Synapses != 4 {
		t.Errorf("dropped %d, placed %d synapses; want 1 and 4", pl.DroppedSynapses, pl.Synapses)
	}
	// run it: the clock drives a[0] (Vth 1 with act/vth shifts: 100<<6 > 1<<6), a[0] drives b[0] and b[29]
	s, err := chip.Load(cfg, prog, chip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := s.RecordSpikes([]chip.NeuronRef{pl.Locate(0, 0), pl.Locate(1, 0), pl.Locate(1, 29)})
	if err := s.Run(context.Background(), 12); err != nil {
		t.Fatal(err)
	}
	var ticks []uint64
	for _, sp := range rec.Spikes {
		ticks = append(ticks, sp.Tick)
	}
	if want := []uint64{1, 2, 2, 11}; !reflect.DeepEqual(ticks, want) {
		t.Errorf("spike ticks %v, want %v: a[0] at 1 and 11 (clock at 0 and 10), b[0] and b[29] at 2", ticks, want)
	}
}

func TestCompileErrors(t *testing.T) {
	cfg := chip.Default()
	prof := chip.Profile{Vth: 1}
	pop := func(name string, n int) Population { return Population{Name: name, Size: n, Profile: prof} }
	tests := []struct {
		name string
		net  *Network
		want string
	}{
		{"too many neurons", &Network{Populations: []Population{pop("big", 16*1024+1)}}, `population "big" does not fit default: neuron 16384 of 16385`},
		{"bad population", &Network{Populations: []Population{pop("a", 2)}, Projections: []Projection{{Pre: 0, Post: 3}}}, "projection 0: populations 0 → 3 out of range"},
		{"bad neuron", &Network{Populations: []Population{pop("a", 2)}, Projections: []Projection{{Name: "x", Conns: []Conn{{Pre: 2, Weight: 1}}}}}, "projection 0 (x) connection 0: 2 → 0 out of range (2 → 2)"},
		{"weight too large", &Network{Populations: []Population{pop("a", 2)}, Projections: []Projection{{Conns: []Conn{{Weight: 300}}}}}, "weight mantissa 300 exceeds ±255"},
		{"delay too long", &Network{Populations: []Population{pop("a", 2)}, Projections: []Projection{{Conns: []Conn{{Weight: 3, Delay: 63}}}}}, "delay 63 ticks exceeds 62"},
		{"fan-in too large for one core", &Network{Populations: []Population{pop("a", 1)}, Projections: []Projection{{Conns: slices.Repeat([]Conn{{Weight: 1}}, 40000)}}}, `population "a" neuron 0 receives 40000 synapses; a core of default holds 32768`},
		{"duplicate name", &Network{Populations: []Population{pop("a", 1), pop("a", 1)}}, `population 1: duplicate name "a"`},
		{"zero size", &Network{Populations: []Population{pop("a", 0)}}, `population "a": size 0`},
		{"source as target", &Network{Populations: []Population{pop("a", 1), {Name: "s", Size: 1, Source: &chip.Generator{Prob: 1}}}, Projections: []Projection{{Pre: 0, Post: 1}}}, `target "s" is a source population`},
		{"output outside population", &Network{Populations: []Population{pop("a", 3)}, Outputs: []OutputPort{{Name: "o", Neurons: []uint32{0, 3}}}}, `output port 0 (o) channel 1: neuron 3 outside "a" (3 neurons)`},
		{"wrong synapse type", &Network{Populations: []Population{pop("a", 3)}, Projections: []Projection{{Type: 2}}}, "synapse type 2, the chip has 2"},
		{"exponent out of range", &Network{Populations: []Population{pop("a", 3)}, Projections: []Projection{{WeightExp: 9}}}, "weight exponent 9, want -8…7"},
		{"too many generators", &Network{Populations: []Population{{Name: "s", Size: 16*64 + 1, Source: &chip.Generator{Prob: 1}}}}, `source population "s" does not fit default: source 1024 of 1025`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Compile(tt.net, cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestCompileSplitsAtLimits: a population larger than what one core holds
// (by neurons, synapse memory or input axons) is split over consecutive
// cores, and the placement answers both ways.
func TestCompileSplitsAtLimits(t *testing.T) {
	cfg := chip.Default()
	cfg.Core.SynapseBytes = 4 * 1000 // 1000 synapses per core
	cfg.Core.InputAxons = 300
	prof := chip.Profile{Vth: 1}
	rng := rand.New(rand.NewPCG(1, 2))
	var conns []Conn
	for post := uint32(0); post < 200; post++ {
		for k := 0; k < 20; k++ { // 20 synapses per neuron: 50 neurons per core by memory
			conns = append(conns, Conn{Pre: uint32(rng.IntN(1000)), Post: post, Weight: 1})
		}
	}
	net := &Network{
		Populations: []Population{{Name: "src", Size: 1000, Profile: prof}, {Name: "dst", Size: 200, Profile: prof}},
		Projections: []Projection{{Pre: 0, Post: 1, Conns: conns}},
	}
	prog, pl, err := CompileWith(net, cfg, Options{NeuronsPerCore: 1024})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range pl.Cores {
		if u.Synapses > 1000 || u.InputAxons > 300 || u.Neurons > 1024 {
			t.Errorf("core %d over its limits: %+v", u.Core, u)
		}
	}
	dst := pl.Populations[1]
	cores := dst.Cores()
	for i := 1; i < len(cores); i++ {
		if cores[i] != cores[i-1]+1 {
			t.Errorf("dst's pieces are not on consecutive cores: %v", cores)
		}
	}
	if len(cores) < 4 {
		t.Errorf("dst on %d cores %v; 4000 synapses need at least 4 of 1000", len(cores), cores)
	}
	// input axons bind before synapse memory: 20 synapses from ~20 distinct
	// senders per neuron, 300 axons per core → ~15 neurons per core
	n := 0
	for p := range pl.Populations {
		for i := 0; i < pl.Populations[p].Size; i++ {
			r := pl.Locate(p, i)
			gp, gi, ok := pl.Owner(r)
			if !ok || gp != p || gi != i {
				t.Fatalf("owner of %+v = %d/%d/%v, want %d/%d", r, gp, gi, ok, p, i)
			}
			if int(r.Neuron) >= len(prog.Cores[r.Core].Neurons) {
				t.Fatalf("%+v outside core %d's %d neurons", r, r.Core, len(prog.Cores[r.Core].Neurons))
			}
			n++
		}
	}
	if n != 1200 {
		t.Errorf("%d members located, want 1200", n)
	}
	if refs := pl.Refs(1); len(refs) != 200 || refs[199] != pl.Locate(1, 199) {
		t.Errorf("Refs(dst) has %d entries, last %+v", len(refs), refs[len(refs)-1])
	}
}

// TestCompilePorts: an input port channel reaches its targets through input
// axons, an event of tick t is integrated at t+1, and the output port
// carries the spikes.
func TestCompilePorts(t *testing.T) {
	cfg := chip.Default()
	prof := chip.Profile{Du: [4]uint16{4095, 4095}, Dv: 4095, Vth: 10}
	net := &Network{
		Populations: []Population{{Name: "r", Size: 20, Profile: prof}},
		Inputs:      []InputPort{{Name: "in", Channels: 4, Post: 0, Conns: []Conn{{Pre: 0, Post: 0, Weight: 100}, {Pre: 1, Post: 19, Weight: 100}, {Pre: 1, Post: 18, Weight: 100}}}},
		Outputs:     []OutputPort{{Name: "out", Pop: 0, Neurons: []uint32{19, 0, 18}}},
	}
	prog, _, err := Compile(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(prog.Inputs[0].Channels[1]); got != 1 {
		t.Errorf("channel 1 has %d axons, want 1 (both targets share a core)", got)
	}
	s, err := chip.Load(cfg, prog, chip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.SetInput(eventsAt{3: {{Port: 0, Channel: 1}}, 5: {{Port: 0, Channel: 0}, {Port: 0, Channel: 3}}})
	out := &outRec{}
	s.SetOutput(out)
	if err := s.Run(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	want := []string{"4:0/2", "4:0/0", "6:0/1"} // within a tick in (core, neuron) order: b[18] before b[19]
	if !reflect.DeepEqual(out.got, want) {
		t.Errorf("output %v, want %v", out.got, want)
	}
}

type eventsAt map[uint64][]chip.PortEvent

func (e eventsAt) Events(t uint64, dst []chip.PortEvent) ([]chip.PortEvent, error) {
	return append(dst, e[t]...), nil
}

type outRec struct{ got []string }

func (o *outRec) Spikes(t uint64, ev []chip.PortEvent) error {
	for _, e := range ev {
		o.got = append(o.got, fmt.Sprintf("%d:%d/%d", t, e.Port, e.Channel))
	}
	return nil
}

// randomNetwork is a recurrent network of two populations with delays,
// driven by a Poisson source; stochastic neurons when esc is set.
func randomNetwork(seed uint64, esc *chip.Escape) *Network {
	rng := rand.New(rand.NewPCG(seed, 3))
	prof := chip.Profile{Du: [4]uint16{200, 400}, Dv: 100, Vth: 400, Refractory: 2, Escape: esc}
	conns := func(pre, post, n int, w int32) []Conn {
		var cs []Conn
		for i := 0; i < n; i++ {
			cs = append(cs, Conn{Pre: uint32(rng.IntN(pre)), Post: uint32(rng.IntN(post)), Weight: w * int32(1+rng.IntN(4)), Delay: uint8(rng.IntN(5))})
		}
		return cs
	}
	v0 := make([]int32, 300)
	for i := range v0 {
		v0[i] = int32(rng.IntN(400 << 6))
	}
	return &Network{
		Seed: seed,
		Populations: []Population{
			{Name: "e", Size: 300, Profile: prof, BiasMant: 10, V0: v0},
			{Name: "i", Size: 100, Profile: prof, BiasMant: 5},
			{Name: "ext", Size: 50, Source: &chip.Generator{Prob: 6000}},
		},
		Projections: []Projection{
			{Pre: 0, Post: 0, Conns: conns(300, 300, 6000, 30)},
			{Pre: 0, Post: 1, Conns: conns(300, 100, 2000, 30)},
			{Pre: 1, Post: 0, Type: 1, Conns: conns(100, 300, 2000, -60)},
			{Pre: 1, Post: 1, Type: 1, Conns: conns(100, 100, 500, -60)},
			{Pre: 2, Post: 0, Conns: conns(50, 300, 1500, 60)},
			{Pre: 2, Post: 1, Conns: conns(50, 100, 500, 60)},
		},
	}
}

// spikesByMember runs a compiled network and names each spike by
// (population, member), so runs under different placements compare.
func spikesByMember(t *testing.T, net *Network, cfg *chip.Config, opt Options, workers int, ticks uint64) []string {
	t.Helper()
	prog, pl, err := CompileWith(net, cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	s, err := chip.Load(cfg, prog, chip.Options{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := s.RecordSpikes(nil)
	if err := s.Run(context.Background(), ticks); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sp := range rec.Spikes {
		p, i, ok := pl.Owner(chip.NeuronRef{Core: sp.Core, Neuron: sp.Neuron})
		if !ok {
			t.Fatalf("spike of unplaced %d/%d", sp.Core, sp.Neuron)
		}
		out = append(out, fmt.Sprintf("%06d:%s[%d]", sp.Tick, net.Populations[p].Name, i))
	}
	slices.Sort(out)
	return out
}

// TestPlacementDoesNotChangeResults: the same network spread over 16 cores,
// packed onto few, scattered at 7 neurons per core, or on a chip of 128
// cores spikes identically — deterministic and stochastic neurons alike,
// since a draw is keyed by the neuron's place in the network, not on chip.
func TestPlacementDoesNotChangeResults(t *testing.T) {
	loihi, err := chip.Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	esc := chip.SampleEscape(func(x float64) float64 { return 1 / (1 + math.Exp(-x/3000)) }, 64, 9, 32)
	for _, tc := range []struct {
		name string
		esc  *chip.Escape
	}{{"deterministic", nil}, {"stochastic", esc}} {
		t.Run(tc.name, func(t *testing.T) {
			net := randomNetwork(7, tc.esc)
			ref := spikesByMember(t, net, chip.Default(), Options{}, 1, 600)
			if len(ref) < 500 {
				t.Fatalf("only %d spikes: the network is too quiet to test anything", len(ref))
			}
			for _, v := range []struct {
				name    string
				cfg     *chip.Config
				opt     Options
				workers int
			}{
				{"packed", chip.Default(), Options{NeuronsPerCore: 1024}, 1},
				{"7 per core, 3 workers", loihi, Options{NeuronsPerCore: 7}, 3},
				{"loihi spread, 2 workers", loihi, Options{}, 2},
			} {
				got := spikesByMember(t, net, v.cfg, v.opt, v.workers, 600)
				if !slices.Equal(got, ref) {
					n := min(len(got), len(ref))
					for i := 0; i < n; i++ {
						if got[i] != ref[i] {
							t.Fatalf("%s: first difference at spike %d: %s vs %s (of %d / %d)", v.name, i, got[i], ref[i], len(got), len(ref))
						}
					}
					t.Fatalf("%s: %d spikes vs %d", v.name, len(got), len(ref))
				}
			}
		})
	}
}

// bigNetwork has n neurons in two populations and about syn synapses with
// delays, for the compile benchmark.
func bigNetwork(n, syn int) *Network {
	rng := rand.New(rand.NewPCG(1, 1))
	prof := chip.Profile{Du: [4]uint16{100, 100}, Dv: 100, Vth: 1000}
	ne := n * 4 / 5
	per := syn / n
	net := &Network{Populations: []Population{{Name: "e", Size: ne, Profile: prof}, {Name: "i", Size: n - ne, Profile: prof}}}
	for pre := 0; pre < 2; pre++ {
		for post := 0; post < 2; post++ {
			size := net.Populations[post].Size
			npre := net.Populations[pre].Size
			k := per * npre / n
			conns := make([]Conn, 0, size*k)
			for j := 0; j < size; j++ {
				for c := 0; c < k; c++ {
					conns = append(conns, Conn{Pre: uint32(rng.IntN(npre)), Post: uint32(j), Weight: int32(1 + rng.IntN(100)), Delay: uint8(rng.IntN(15))})
				}
			}
			net.Projections = append(net.Projections, Projection{Pre: pre, Post: post, Type: uint8(pre), Conns: conns})
		}
	}
	return net
}

// BenchmarkCompile10M compiles 10⁷ synapses (10,000 neurons, 1,000
// synapses each, delays 0–14) onto a chip with large cores.
func BenchmarkCompile10M(b *testing.B) {
	cfg := chip.Default()
	cfg.Core.SynapseBytes = 1 << 25
	cfg.Core.InputAxons = 1 << 16
	cfg.Core.OutputAxons = 1 << 20
	net := bigNetwork(10000, 10_000_000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Compile(net, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(10e6, "synapses/op")
}

// BenchmarkParsePD14 draws and quantizes the Potjans–Diesmann microcircuit
// at 5 % of its neurons with the in-degrees kept: 1.5×10⁷ synapses, a
// twentieth of the full model (aerie bench pd14 measures full scale).
func BenchmarkParsePD14(b *testing.B) {
	cfg := pd14Chip(b)
	src := example(b, "pd14")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseNetworkWith("pd14.toml", src, cfg, ParseOptions{Scale: 0.05}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompilePD14 compiles the microcircuit at 5 % (1.5×10⁷ synapses)
// onto examples/chips/pd14.toml.
func BenchmarkCompilePD14(b *testing.B) {
	cfg := pd14Chip(b)
	net, _, err := ParseNetworkWith("pd14.toml", example(b, "pd14"), cfg, ParseOptions{Scale: 0.05})
	if err != nil {
		b.Fatal(err)
	}
	syn := 0
	for _, pr := range net.Projections {
		syn += len(pr.Conns)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Compile(net, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(syn), "synapses/op")
}
