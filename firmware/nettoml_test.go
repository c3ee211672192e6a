package firmware

import (
	"context"

	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/examples/chips"
	"github.com/aerie-neuro/aerie/examples/networks"
)

// largeChip is examples/chips/large.toml, the chip of the Brunel examples.
func largeChip(t testing.TB) *chip.Config {
	t.Helper()
	cfg, err := chip.LoadConfig("../examples/chips/large.toml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// pd14Chip is examples/chips/pd14.toml, the chip of the PD14 example.
func pd14Chip(t testing.TB) *chip.Config {
	t.Helper()
	cfg, err := chips.Config("pd14")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func example(t testing.TB, name string) string {
	t.Helper()
	src, err := networks.Source(name)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestExampleNames(t *testing.T) {
	if got, want := networks.Names(), []string{"brunel", "brunel_sr", "cuba", "pd14", "relay"}; !reflect.DeepEqual(got, want) {
		t.Errorf("examples %v, want %v", got, want)
	}
	if _, err := networks.Source("nope"); err == nil || !strings.Contains(err.Error(), "cuba") {
		t.Errorf("unknown example: %v", err)
	}
}

func TestLargeChip(t *testing.T) {
	cfg := largeChip(t)
	def := chip.Default()
	if cfg.Name != "large" || cfg.MaxSynapses() != 2<<20 || cfg.Core.InputAxons != 65536 || cfg.Core.OutputAxons != 65536 || cfg.Core.Generators != 1024 {
		t.Errorf("large chip: %+v", cfg.Core)
	}
	// the datapath and the costs are the default chip's
	if cfg.Neuron != def.Neuron || cfg.Synapse != def.Synapse || cfg.Cost != def.Cost || cfg.Mesh != def.Mesh {
		t.Error("the large chip's datapath, synapses, costs or mesh differ from the default chip's")
	}
}

// TestExamplesCompile parses every example and compiles it on its chip
// (Brunel on examples/chips/large.toml, skipped with -short, as it has 15.6
// million synapses; brunel_sr, its twin, is only parsed; PD14 on
// examples/chips/pd14.toml at 2 % of its size, as the full 3×10⁸ synapses
// take gigabytes).
func TestExamplesCompile(t *testing.T) {
	for _, name := range networks.Names() {
		t.Run(name, func(t *testing.T) {
			cfg := chip.Default()
			var opt ParseOptions
			if strings.HasPrefix(name, "brunel") {
				if testing.Short() {
					t.Skip("15.6 M synapses; run without -short")
				}
				cfg = largeChip(t)
			}
			if name == "pd14" {
				cfg, opt.Scale = pd14Chip(t), 0.02
			}
			net, _, err := ParseNetworkWith(name+".toml", example(t, name), cfg, opt)
			if err != nil {
				t.Fatal(err)
			}
			if net.Name != name {
				t.Errorf("network name %q, want %q", net.Name, name)
			}
			if name == "brunel_sr" {
				return // brunel's twin: compiling it again proves nothing new
			}
			if _, _, err := Compile(net, cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBrunelNeedsTheLargeChip(t *testing.T) {
	if testing.Short() {
		t.Skip("15.6 M synapses")
	}
	net, err := ParseNetwork("brunel.toml", example(t, "brunel"), chip.Default())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Compile(net, chip.Default()); err == nil {
		t.Fatal("Brunel compiled on the default chip; its comment says it does not fit")
	}
}

// TestCUBANetwork checks the parsed CUBA example against the integers of
// its mapping (TestQuantizeLIFCUBA derives them), and its structure.
func TestCUBANetwork(t *testing.T) {
	net, q, err := ParseNetworkWith("cuba.toml", example(t, "cuba"), chip.Default(), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(net.Populations) != 2 || net.Populations[0].Size != 3200 || net.Populations[1].Size != 800 {
		t.Fatalf("populations %v", net.Populations)
	}
	want := chip.Profile{Du: [4]uint16{80, 40}, Dv: 20, Vth: 45969, Refractory: 49}
	vth := int32(45969) << 6
	for i, p := range net.Populations {
		if p.Profile != want || p.BiasMant != 3950 || p.BiasExp != 2 {
			t.Errorf("%s: %+v bias %d<<%d; want %+v bias 3950<<2", p.Name, p.Profile, p.BiasMant, p.BiasExp, want)
		}
		if len(p.V0) != p.Size {
			t.Fatalf("%s: %d initial membranes", p.Name, len(p.V0))
		}
		lo, hi := slices.Min(p.V0), slices.Max(p.V0)
		if lo < 0 || hi >= vth || hi < vth*9/10 || lo > vth/10 {
			t.Errorf("%s: initial membranes in [%d, %d], want spread over [0, %d) (−60 … −50 mV)", p.Name, lo, hi, vth)
		}
		if q.Populations[i].Scale.OriginMV != -60 {
			t.Errorf("%s: origin %g mV, want v_reset −60", p.Name, q.Populations[i].Scale.OriginMV)
		}
	}
	total := 0
	for _, pr := range net.Projections {
		wantW, wantType := int32(36), uint8(0)
		if net.Populations[pr.Pre].Name == "inh" {
			wantW, wantType = -201, 1
		}
		if pr.Type != wantType || pr.WeightExp != 0 {
			t.Errorf("%s: type %d exponent %d", pr.Name, pr.Type, pr.WeightExp)
		}
		self := 0
		for _, c := range pr.Conns {
			if c.Weight != wantW || c.Delay != 0 {
				t.Fatalf("%s: connection %+v, want weight %d delay 0", pr.Name, c, wantW)
			}
			if pr.Pre == pr.Post && c.Pre == c.Post {
				self++
			}
		}
		// p = 0.02 of every ordered pair
		pairs := float64(net.Populations[pr.Pre].Size * net.Populations[pr.Post].Size)
		if mean, sd := 0.02*pairs, math.Sqrt(0.02*0.98*pairs); math.Abs(float64(len(pr.Conns))-mean) > 5*sd {
			t.Errorf("%s: %d connections, want %.0f ± %.0f", pr.Name, len(pr.Conns), mean, 5*sd)
		}
		if pr.Pre == pr.Post && self == 0 {
			t.Errorf("%s: no self-connections; Brian's connect(p) includes them", pr.Name)
		}
		total += len(pr.Conns)
	}
	if total < 317000 || total > 323000 {
		t.Errorf("%d synapses, want about 320,000", total)
	}
	if net.Seed != 1 || net.DtMS != 0.1 || net.Provenance["dt_ms"] != "0.1" || !strings.Contains(net.Provenance["quantize.exc"], "unit 294202") {
		t.Errorf("seed %d, provenance %v", net.Seed, net.Provenance)
	}
}

// TestBrunelNetwork checks the Brunel example's structure: fixed in-degrees,
// the weights J and −gJ on one scale, the delay, the Poisson drive.
func TestBrunelNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("15.6 M synapses")
	}
	for _, tt := range []struct {
		name string
		wi   int32
	}{{"brunel", -255}, {"brunel_sr", -255}} {
		net, q, err := ParseNetworkWith(tt.name+".toml", example(t, tt.name), largeChip(t), ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		we := int32(51) // g = 5: 255/51; g = 3: 255/85
		if tt.name == "brunel_sr" {
			we = 85
		}
		for _, p := range q.Populations[:2] {
			if p.Profile.Du != [4]uint16{4095, 4095} || p.Profile.Refractory != 20 || p.Profile.Dv != 20 {
				t.Errorf("%s: profile %+v, want delta synapses, 20 refractory ticks", tt.name, p.Profile)
			}
		}
		if g := net.Populations[2].Source; g == nil || len(g.Counts) == 0 || net.Populations[2].Size != 10000 {
			t.Fatalf("%s: ext_e is not a Poisson source of 10,000", tt.name)
		}
		indeg := map[string][]int{}
		for _, pr := range net.Projections {
			w := we
			if pr.Type == 1 {
				w = tt.wi
			}
			counts := make([]int, net.Populations[pr.Post].Size)
			for _, c := range pr.Conns {
				if c.Weight != w || c.Delay != 14 {
					t.Fatalf("%s %s: connection %+v, want weight %d, delay 14 (1.5 ms)", tt.name, pr.Name, c, w)
				}
				counts[c.Post]++
			}
			indeg[pr.Name] = counts
		}
		for name, n := range map[string]int{"e_exc": 1000, "e_inh": 1000, "i_exc": 250, "i_inh": 250, "ext_exc": 1, "ext_inh": 1} {
			for j, k := range indeg[name] {
				if k != n {
					t.Fatalf("%s %s: neuron %d has in-degree %d, want %d", tt.name, name, j, k, n)
				}
			}
		}
	}
}

// relayIO is an input source and output sink for the relay test.
type relayIO struct {
	in  map[uint64][]chip.PortEvent
	out []string
}

func (r *relayIO) Events(t uint64, dst []chip.PortEvent) ([]chip.PortEvent, error) {
	return append(dst, r.in[t]...), nil
}

func (r *relayIO) Spikes(t uint64, ev []chip.PortEvent) error {
	for _, e := range ev {
		r.out = append(r.out, fmt.Sprintf("port %d channel %d tick %d", e.Port, e.Channel, t))
	}
	return nil
}

// TestRelayOneTickLater runs relay.toml: every input event (port 0,
// channel c, tick t) comes out as exactly one output event (port 0, channel
// c, tick t+1), several channels in one tick and one channel on
// consecutive ticks included.
func TestRelayOneTickLater(t *testing.T) {
	cfg := chip.Default()
	net, err := ParseNetwork("relay.toml", example(t, "relay"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	prog, _, err := Compile(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := chip.Load(cfg, prog, chip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	io := &relayIO{in: map[uint64][]chip.PortEvent{}}
	var want []string
	send := func(tick uint64, channels ...uint32) {
		for _, c := range channels {
			io.in[tick] = append(io.in[tick], chip.PortEvent{Port: 0, Channel: c})
		}
	}
	send(0, 0, 1, 63)
	send(1, 0)        // the same channel on consecutive ticks
	send(2, 0, 5)     // and again
	send(3, 7)        // a lone event
	send(5, 63, 1, 2) // out of order within a tick
	send(6, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32)
	send(7, 2)
	for tick := uint64(0); tick < 10; tick++ {
		chans := []uint32{}
		for _, e := range io.in[tick] {
			chans = append(chans, e.Channel)
		}
		slices.Sort(chans) // the sink sees a tick's spikes in neuron order: channel order here
		for _, c := range chans {
			want = append(want, fmt.Sprintf("port 0 channel %d tick %d", c, tick+1))
		}
	}
	sys.SetInput(io)
	sys.SetOutput(io)
	if err := sys.Run(context.Background(), 12); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(io.out, want) {
		t.Errorf("outputs:\n%s\nwant:\n%s", strings.Join(io.out, "\n"), strings.Join(want, "\n"))
	}
}

func TestFromFile(t *testing.T) {
	cfg := chip.Default()
	net, err := LoadNetwork("testdata/networks/fromfile.toml", cfg)
	if err != nil {
		t.Fatal(err)
	}
	ab, ba := net.Projections[0], net.Projections[1]
	// weights 1.5, 0.75, 3, 1.5, −0.375 mV: ratios 1/2, 1/4, −1/8 of the
	// largest; a's rows mix signs on the default chip's Loihi sign modes,
	// so the mantissas are even: exact with 240 = 16·15
	wantAB := []Conn{{0, 0, 120, 0}, {0, 1, 60, 1}, {1, 2, 240, 9}, {3, 0, 120, 0}, {2, 2, -30, 2}}
	if !reflect.DeepEqual(ab.Conns, wantAB) {
		t.Errorf("ab: %v, want %v", ab.Conns, wantAB)
	}
	wantBA := []Conn{{0, 0, -252, 4}, {1, 3, -126, 4}, {2, 1, -63, 4}} // 1 : 1/2 : 1/4, 252 = 4·63
	if !reflect.DeepEqual(ba.Conns, wantBA) || ba.Type != 1 {
		t.Errorf("ba: type %d %v, want type 1 %v", ba.Type, ba.Conns, wantBA)
	}
	// b's initial membranes: normal around −65 mV (5 mV above reset),
	// clipped to [−70, −60]
	q := net.Populations[1].V0
	if len(q) != 3 || slices.Min(q) < 0 {
		t.Errorf("b's initial membranes %v", q)
	}
}

// TestConnectors checks each connector's semantics on small.toml.
func TestConnectors(t *testing.T) {
	cfg := chip.Default()
	src, err := os.ReadFile("testdata/networks/small.toml")
	if err != nil {
		t.Fatal(err)
	}
	net, qz, err := ParseNetworkWith("small.toml", string(src), cfg, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	proj := map[string]*Projection{}
	for i := range net.Projections {
		pr := &net.Projections[i]
		proj[net.Populations[pr.Pre].Name+"→"+net.Populations[pr.Post].Name] = pr
	}
	// one_to_one
	for i, c := range proj["poisson→p"].Conns {
		if c.Pre != uint32(i) || c.Post != uint32(i) {
			t.Fatalf("one_to_one connection %d: %+v", i, c)
		}
	}
	// fixed_probability without self, clipped normal weights, uniform delays
	pp := proj["p→p"]
	delays := map[uint8]bool{}
	for _, c := range pp.Conns {
		if c.Pre == c.Post || c.Weight < 0 || c.Delay > 19 {
			t.Fatalf("p→p connection %+v: want no self, weight ≥ 0, delay ≤ 19 (2 ms)", c)
		}
		delays[c.Delay] = true
	}
	if n := len(pp.Conns); n < 40 || n > 115 || len(delays) < 5 {
		t.Errorf("p→p: %d connections (want about 76), %d distinct delays", n, len(delays))
	}
	// fixed_number_pre without replacement: 5 distinct partners each
	pre := map[uint32][]uint32{}
	for _, c := range proj["p→q"].Conns {
		pre[c.Post] = append(pre[c.Post], c.Pre)
	}
	for j := uint32(0); j < 10; j++ {
		ps := slices.Clone(pre[j])
		slices.Sort(ps)
		if len(ps) != 5 || len(slices.Compact(ps)) != 5 {
			t.Errorf("q[%d] has partners %v, want 5 distinct", j, pre[j])
		}
	}
	if pr := proj["p→q"]; pr.Type != 1 || pr.Conns[0].Weight >= 0 {
		t.Errorf("p→q: type %d weight %d, want inhibitory, negative", pr.Type, pr.Conns[0].Weight)
	}
	// all_to_all without self
	if qq := proj["q→q"]; len(qq.Conns) != 90 {
		t.Errorf("q→q: %d connections, want 90", len(qq.Conns))
	}
	// with replacement: 2 per target, from a source of 2
	if n := len(proj["clock→q"].Conns); n != 20 {
		t.Errorf("clock→q: %d connections, want 20", n)
	}
	// sources
	pois, clock := net.Populations[2], net.Populations[3]
	if pois.Source.Seed != 9 || len(pois.Source.Counts) == 0 || clock.Source.Period != 50 || clock.Source.Phase != 3 {
		t.Errorf("sources: %+v %+v", pois.Source, clock.Source)
	}
	// the input port and the output ports
	if len(net.Inputs) != 1 || net.Inputs[0].Channels != 8 || net.Inputs[0].Post != 1 {
		t.Errorf("inputs %+v", net.Inputs)
	}
	if len(net.Outputs) != 2 || !reflect.DeepEqual(net.Outputs[0].Neurons, []uint32{9, 0, 4}) || net.Outputs[1].Neurons != nil {
		t.Errorf("outputs %+v", net.Outputs)
	}
	// i_offset: p rests at −65 + 20·0.1/0.25 = −57 mV, 13 mV above its reset
	qp := qz.Populations[0]
	bias := float64(int64(qp.BiasMant) << qp.BiasExp)
	if e := bias/(qp.Scale.UnitsPerMV*float64(qp.Profile.Dv)/4096) - 13; math.Abs(e) > 0.01 {
		t.Errorf("p's rest is %g mV off −57 mV", e)
	}
	if net.Provenance["source"] != "firmware tests" {
		t.Errorf("provenance %v", net.Provenance)
	}
	if _, _, err := Compile(net, cfg); err != nil {
		t.Fatal(err)
	}
}

func TestFixedProbabilityStatistics(t *testing.T) {
	src := `
seed = 11
[[population]]
name = "a"
size = 1000
[[projection]]
pre = "a"
post = "a"
connector = "fixed_probability"
p = 0.05
weight = 1.0
`
	net, err := ParseNetwork("fp.toml", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	conns := net.Projections[0].Conns
	mean, sd := 0.05*1e6, math.Sqrt(0.05*0.95*1e6)
	if math.Abs(float64(len(conns))-mean) > 5*sd {
		t.Errorf("%d connections, want %.0f ± %.0f", len(conns), mean, 5*sd)
	}
	// in- and out-degrees are binomial(1000, 0.05): mean 50
	in, out := make([]int, 1000), make([]int, 1000)
	for _, c := range conns {
		in[c.Post]++
		out[c.Pre]++
	}
	for _, deg := range [][]int{in, out} {
		s := 0
		for _, d := range deg[:500] {
			s += d
		}
		if m := float64(s) / 500; math.Abs(m-50) > 1.5 {
			t.Errorf("mean degree of the first half %g, want 50", m)
		}
	}
}

func TestReproducible(t *testing.T) {
	src, err := os.ReadFile("testdata/networks/small.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := chip.Default()
	a, err1 := ParseNetwork("small.toml", string(src), cfg)
	b, err2 := ParseNetwork("small.toml", string(src), cfg)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two parses of one file differ")
	}
	// another weight distribution changes weights, never connectivity or delays
	other := strings.Replace(string(src), "weight = { normal = [0.5, 0.1], clip = [0.0, 1.0] }", "weight = { uniform = [0.2, 0.9] }", 1)
	c, err := ParseNetwork("small.toml", other, cfg)
	if err != nil {
		t.Fatal(err)
	}
	same := true
	for j := range a.Projections {
		for i, x := range a.Projections[j].Conns {
			y := c.Projections[j].Conns[i]
			if x.Pre != y.Pre || x.Post != y.Post || x.Delay != y.Delay {
				t.Fatalf("projection %d connection %d: %+v became %+v", j, i, x, y)
			}
			same = same && x.Weight == y.Weight
		}
	}
	if same {
		t.Error("the new weight distribution changed no weight")
	}
	// a seed override changes the draws that name no seed of their own
	seed := uint64(12345)
	d, _, err := ParseNetworkWith("small.toml", string(src), cfg, ParseOptions{Seed: &seed})
	if err != nil {
		t.Fatal(err)
	}
	if d.Seed != seed || reflect.DeepEqual(d.Projections[1].Conns, a.Projections[1].Conns) {
		t.Error("the seed override did not change the network's seed and p→p's draws")
	}
	if !reflect.DeepEqual(d.Projections[2].Conns, a.Projections[2].Conns) {
		t.Error("the seed override changed p→q, which names its own seed")
	}
}

// TestParseErrors: every problem is an error naming what and where, never
// a panic.
func TestParseErrors(t *testing.T) {
	pop := "[[population]]\nname = \"a\"\nsize = 10\n"          // lines 1–3
	pop2 := "[[population]]\nname = \"b\"\nsize = 10\n"         // lines 4–6 after pop
	src := "[[source]]\nname = \"s\"\nsize = 10\nrate = 10.0\n" // lines 7–10 after pop, pop2
	proj := func(lines string) string {
		return pop + pop2 + src + "[[projection]]\n" + lines // the projection's table at line 11
	}
	oneType := *chip.Default()
	oneType.Neuron.SynapseTypes = 1
	tests := []struct {
		name string
		src  string
		cfg  *chip.Config
		want []string
	}{
		{"syntax", "name = \n", nil, []string{"x.toml:1:"}},
		{"unknown key", pop + "tau_mm = 3.0\n", nil, []string{"x.toml:4:", `unknown key "population.tau_mm"`, "tau_m"}},
		{"mis-cased key", pop + "Tau_m = 3.0\n", nil, []string{"x.toml:4:", `did you mean "tau_m"`}},
		{"mis-cased top key", "Seed = 3\n", nil, []string{"x.toml:1:", "did you mean"}},
		{"unknown distribution key", pop + "v_init = { uniformm = [1.0, 2.0] }\n", nil, []string{"x.toml:4:", "uniformm"}},
		{"wrong type", pop + "tau_m = \"fast\"\n", nil, []string{"line 4", "tau_m"}},
		{"zero size", "[[population]]\nname = \"a\"\nsize = 0\n", nil, []string{"x.toml:3:", `population "a": size = 0, want 1 … 16777216`}},
		{"negative size", "\n[[population]]\nname = \"a\"\nsize = -4\n", nil, []string{"x.toml:4:", "size = -4"}},
		{"no name", "[[population]]\nsize = 3\n", nil, []string{"x.toml:1:", "population 0: want a name"}},
		{"duplicate name", pop + "[[source]]\nname = \"a\"\nsize = 1\nrate = 1.0\n", nil, []string{"x.toml:5:", `"a": the name is already`}},
		{"threshold below reset", pop + "v_thresh = -70.0\n", nil, []string{"x.toml:4:", "v_thresh -70 mV ≤ v_reset -65 mV"}},
		{"tau_m zero", pop + "tau_m = 0.0\n", nil, []string{"x.toml:4:", "tau_m = 0: want > 0"}},
		{"tau_syn negative", pop + "tau_syn_i = -1.0\n", nil, []string{"x.toml:4:", "tau_syn_i = -1: want ≥ 0"}},
		{"tau_m too long", pop + "tau_m = 1e6\n", nil, []string{"x.toml:4:", "too long for the 12-bit decay grid"}},
		{"refractory too long", pop + "tau_refrac = 100.0\n", nil, []string{"x.toml:4:", "1000 ticks, more than 63"}},
		{"NaN", pop + "v_rest = nan\n", nil, []string{"x.toml:4:", "v_rest", "NaN", "finite"}},
		{"Inf dt", "dt = inf\n", nil, []string{"x.toml:1:", "dt", "Inf", "finite"}},
		{"Inf weight", proj("pre = \"a\"\npost = \"b\"\nconnector = \"one_to_one\"\nweight = -inf\n"), nil, []string{"x.toml:15:", "weight = -Inf"}},
		{"missing population", proj("pre = \"nope\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = 1.0\n"), nil, []string{"x.toml:12:", `pre = "nope" is not a population or source (declared: a, b, s)`}},
		{"source as target", proj("pre = \"a\"\npost = \"s\"\nconnector = \"all_to_all\"\nweight = 1.0\n"), nil, []string{"x.toml:13:", `post = "s" is a source`}},
		{"no connector", proj("pre = \"a\"\npost = \"b\"\nweight = 1.0\n"), nil, []string{"x.toml:11:", "want a connector"}},
		{"bad connector", proj("pre = \"a\"\npost = \"b\"\nconnector = \"fixed_indegree\"\nweight = 1.0\n"), nil, []string{"x.toml:14:", `connector "fixed_indegree"`}},
		{"p outside", proj("pre = \"a\"\npost = \"b\"\nconnector = \"fixed_probability\"\np = 1.5\nweight = 1.0\n"), nil, []string{"x.toml:15:", "p = 1.5, want 0 ≤ p ≤ 1"}},
		{"p for another connector", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\np = 0.5\nweight = 1.0\n"), nil, []string{"x.toml:15:", "p is for connector fixed_probability"}},
		{"n too large", proj("pre = \"a\"\npost = \"b\"\nconnector = \"fixed_number_pre\"\nn = 11\nweight = 1.0\n"), nil, []string{"x.toml:15:", "n = 11 without replacement, but only 10"}},
		{"n without self", proj("pre = \"a\"\npost = \"a\"\nconnector = \"fixed_number_pre\"\nn = 10\nallow_self = false\nweight = 1.0\n"), nil, []string{"x.toml:15:", "only 9"}},
		{"one_to_one sizes", pop + "[[population]]\nname = \"c\"\nsize = 3\n[[projection]]\npre = \"a\"\npost = \"c\"\nconnector = \"one_to_one\"\nweight = 1.0\n", nil, []string{"x.toml:10:", "one_to_one needs equal sizes, not 10 → 3"}},
		{"no weight", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\n"), nil, []string{"x.toml:11:", "want a weight"}},
		{"zero weight", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = 0.0\n"), nil, []string{"x.toml:15:", "weight 0 mV"}},
		{"bad distribution", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = { uniform = [2.0, 1.0] }\n"), nil, []string{"x.toml:15:", "want lo ≤ hi"}},
		{"delay too long", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = 1.0\ndelay = 10.0\n"), nil, []string{"x.toml:16:", "delay 10 ms is 100 ticks, more than 63"}},
		{"delay below a tick", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = 1.0\ndelay = 0.01\n"), nil, []string{"x.toml:16:", "below one tick"}},
		{"delay distribution out of range", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = 1.0\ndelay = { normal = [1.0, 5.0] }\n"), nil, []string{"x.toml:16:", "connection"}},
		{"receptor", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = 1.0\nreceptor = \"gaba\"\n"), nil, []string{"x.toml:16:", `receptor "gaba"`}},
		{"weights vanish", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = 10.0\n[[projection]]\nname = \"tiny\"\npre = \"s\"\npost = \"b\"\nconnector = \"one_to_one\"\nweight = 1e-5\n"), nil,
			[]string{"x.toml:21:", `projection "tiny"`, "every weight quantizes to zero", "units/mV"}},
		{"too many synapses", "[[population]]\nname = \"big\"\nsize = 100000\n[[projection]]\npre = \"big\"\npost = \"big\"\nconnector = \"all_to_all\"\nweight = 1.0\n", nil, []string{"x.toml:4:", "more than the cap of 2147483648"}},
		{"rate too high", "[[source]]\nname = \"fast\"\nsize = 1\nrate = 500000.0\n", nil, []string{"x.toml:4:", `source "fast": rate 500000 Hz`, "more than 64 count entries"}},
		{"rate and period", "[[source]]\nname = \"s\"\nsize = 1\nrate = 5.0\nperiod = 3.0\n", nil, []string{"x.toml:4:", "exclude each other"}},
		{"output out of range", pop + "[[output]]\nname = \"o\"\npopulation = \"a\"\nneurons = [0, 10]\n", nil, []string{"x.toml:7:", `channel 1 is neuron 10, outside "a" (10 neurons)`}},
		{"output of a source", src + "[[output]]\nname = \"o\"\npopulation = \"s\"\n", nil, []string{"x.toml:7:", "not a population of neurons"}},
		{"input channels", pop + "[[input]]\nname = \"in\"\nchannels = 0\npost = \"a\"\nconnector = \"all_to_all\"\nweight = 1.0\n", nil, []string{"x.toml:6:", "channels = 0"}},
		{"input allow_self", pop + "[[input]]\nname = \"in\"\nchannels = 3\npost = \"a\"\nconnector = \"all_to_all\"\nweight = 1.0\nallow_self = true\n", nil, []string{"x.toml:10:", `unknown key "input.allow_self"`}},
		{"missing file", pop + "[[projection]]\npre = \"a\"\npost = \"a\"\nconnector = \"from_file\"\nfile = \"nope.csv\"\n", nil, []string{"x.toml:8:", "nope.csv"}},
		{"reserved provenance", "[provenance]\ndt_ms = \"1\"\n", nil, []string{"x.toml:2:", "reserved"}},
		{"reserved provenance scale", "[provenance]\nscale = \"1\"\n", nil, []string{"x.toml:2:", "reserved"}},
		{"total number without n or p", proj("pre = \"a\"\npost = \"b\"\nconnector = \"fixed_total_number\"\nweight = 1.0\n"), nil, []string{"x.toml:14:", "fixed_total_number needs n (synapses) or p"}},
		{"total number n and p", proj("pre = \"a\"\npost = \"b\"\nconnector = \"fixed_total_number\"\nn = 5\np = 0.1\nweight = 1.0\n"), nil, []string{"x.toml:16:", "n (synapses) or p (connection probability), not both"}},
		{"total number p = 1", proj("pre = \"a\"\npost = \"b\"\nconnector = \"fixed_total_number\"\np = 1.0\nweight = 1.0\n"), nil, []string{"x.toml:15:", "p = 1, want 0 ≤ p < 1"}},
		{"total number negative n", proj("pre = \"a\"\npost = \"b\"\nconnector = \"fixed_total_number\"\nn = -3\nweight = 1.0\n"), nil, []string{"x.toml:15:", "n = -3, want 0 …"}},
		{"total number huge n", proj("pre = \"a\"\npost = \"b\"\nconnector = \"fixed_total_number\"\nn = 9000000000\nweight = 1.0\n"), nil, []string{"x.toml:15:", "n = 9000000000"}},
		{"total number with_replacement", proj("pre = \"a\"\npost = \"b\"\nconnector = \"fixed_total_number\"\nn = 3\nwith_replacement = false\nweight = 1.0\n"), nil, []string{"x.toml:16:", "with_replacement is for connector fixed_number_pre"}},
		{"total number no self on one", "[[population]]\nname = \"one\"\nsize = 1\n[[projection]]\npre = \"one\"\npost = \"one\"\nconnector = \"fixed_total_number\"\nn = 2\nallow_self = false\nweight = 1.0\n", nil, []string{"x.toml:9:", "no pair to connect"}},
		{"redraw a uniform", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = { uniform = [1.0, 2.0], redraw_max = 1.5 }\n"), nil, []string{"x.toml:15:", "truncate a normal"}},
		{"redraw and clip", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = { normal = [1.0, 2.0], redraw_min = 0.0, clip = [0.0, 3.0] }\n"), nil, []string{"x.toml:15:", "not both"}},
		{"redraw empty", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = { normal = [1.0, 2.0], redraw_min = 2.0, redraw_max = 2.0 }\n"), nil, []string{"x.toml:15:", "want min < max"}},
		{"redraw string", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = { normal = [1.0, 2.0], redraw_min = \"zero\" }\n"), nil, []string{"redraw_min", "want a number"}},
		{"redraw far tail", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = { normal = [1.0, 0.1], redraw_min = 2.0, redraw_max = 3.0 }\n"), nil, []string{"x.toml:15:", "want at least 0.001"}},
		{"redraw excludes the value", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = { normal = [1.0, 0.0], redraw_min = 2.0 }\n"), nil, []string{"x.toml:15:", "excludes the normal's only value"}},
		{"redrawn delay out of range", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = 1.0\ndelay = { normal = [1.0, 1.0], redraw_min = 0.1, redraw_max = 100.0 }\n"), nil, []string{"x.toml:16:", "more than 63"}},
		{"redrawn delay unbounded", proj("pre = \"a\"\npost = \"b\"\nconnector = \"all_to_all\"\nweight = 1.0\ndelay = { normal = [6.0, 1.0], redraw_min = 0.1 }\n"), nil, []string{"x.toml:16:", "connection"}},
		{"inhibitory on one type", pop + "tau_syn_i = 10.0\n" + "[[projection]]\npre = \"a\"\npost = \"a\"\nconnector = \"all_to_all\"\nweight = -1.0\nreceptor = \"inhibitory\"\n", &oneType,
			[]string{"x.toml:10:", "one synapse type", "tau_syn_i (10 ms) differs"}},
		{"linear decay", pop, preset(t, "truenorth"), []string{"needs a multiplicative decay"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net, err := ParseNetwork("x.toml", tt.src, tt.cfg)
			if err == nil {
				t.Fatalf("parsed %+v, want an error", net)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nlacks %q", msg, w)
				}
			}
			if !strings.HasPrefix(msg, "firmware: ") {
				t.Errorf("error %q lacks the package prefix", msg)
			}
		})
	}
	// one inhibitory projection on a one-type chip is fine when both
	// currents are the same
	if _, err := ParseNetwork("x.toml", pop+"[[projection]]\npre = \"a\"\npost = \"a\"\nconnector = \"all_to_all\"\nweight = -1.0\nreceptor = \"inhibitory\"\n", &oneType); err != nil {
		t.Errorf("inhibitory synapses sharing the one current: %v", err)
	}
}

// TestParseErrorsReportedTogether: the static problems of a file come in one
// error.
func TestParseErrorsReportedTogether(t *testing.T) {
	src := "[[population]]\nname = \"a\"\nsize = 0\n[[population]]\nname = \"b\"\nsize = 5\ntau_m = -1.0\n"
	_, err := ParseNetwork("x.toml", src, nil)
	if err == nil || !strings.Contains(err.Error(), "x.toml:3:") || !strings.Contains(err.Error(), "x.toml:7:") {
		t.Errorf("got %v, want both problems (lines 3 and 7)", err)
	}
}

// fuzzFiles is the file system FuzzNetworkTOML's from_file reads.
var fuzzFiles = map[string]string{
	"conns.csv":  "pre,post,weight,delay\n0,0,1.5,0.1\n0,1,0.75,0.2\n1,2,3.0,1.0\n",
	"conns3.csv": "0,0,-2.0\n1,3,-1.0\n",
}

// FuzzNetworkTOML: no text makes ParseNetwork panic, and every network it
// returns passes Network.Check on the chip it was parsed for.
func FuzzNetworkTOML(f *testing.F) {
	for _, name := range networks.Names() {
		src, err := networks.Source(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	files, _ := filepath.Glob("testdata/networks/*.toml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
		// small variants: each line dropped in turn
		lines := strings.Split(string(b), "\n")
		for i := 0; i < len(lines); i += 7 {
			f.Add(strings.Join(slices.Delete(slices.Clone(lines), i, i+1), "\n"))
		}
	}
	f.Add("[[population]]\nname = \"a\"\nsize = 3\n[[projection]]\npre = \"a\"\npost = \"a\"\nconnector = \"fixed_number_pre\"\nn = 2\nwith_replacement = true\nallow_self = false\nweight = { normal = [1.0, 9.0] }\n")
	f.Add("[[population]]\nname = \"a\"\nsize = 4\n[[population]]\nname = \"b\"\nsize = 3\n[[projection]]\npre = \"a\"\npost = \"b\"\nconnector = \"fixed_total_number\"\np = 0.3\nweight = { normal = [1.0, 0.5], redraw_min = 0.0 }\ndelay = { normal = [0.5, 0.2], redraw_min = 0.1, redraw_max = 1.0 }\n")
	f.Add("[[population]]\nname = \"a\"\nsize = 2\n[[projection]]\npre = \"a\"\npost = \"a\"\nconnector = \"fixed_total_number\"\nn = 7\nallow_self = false\nweight = { normal = [-1.0, 0.1], redraw_max = 0.0 }\nreceptor = \"inhibitory\"\n")
	f.Add("[[source]]\nname = \"s\"\nsize = 2\nperiod = 0.1\n[[population]]\nname = \"a\"\nsize = 2\ntau_syn_e = 0.0\n[[projection]]\npre = \"s\"\npost = \"a\"\nconnector = \"all_to_all\"\nweight = 30.0\n[[output]]\nname = \"o\"\npopulation = \"a\"\n")
	cfg := chip.Default()
	read := func(path string) ([]byte, error) {
		if s, ok := fuzzFiles[filepath.Base(path)]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	opt := ParseOptions{MaxNeurons: 10000, MaxSynapses: 100000, ReadFile: read}
	f.Fuzz(func(t *testing.T, src string) {
		net, _, err := ParseNetworkWith("fuzz.toml", src, cfg, opt)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "firmware: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		if err := net.Check(cfg); err != nil {
			t.Fatalf("the parsed network fails Check: %v\n%s", err, src)
		}
		n := 0
		for _, pr := range net.Projections {
			n += len(pr.Conns)
		}
		for _, in := range net.Inputs {
			n += len(in.Conns)
		}
		if n > 100000 {
			t.Fatalf("%d synapses beyond the cap", n)
		}
	})
}

// BenchmarkParseBrunel measures parsing, drawing and quantizing Brunel's
// 15.6 million synapses.
func BenchmarkParseBrunel(b *testing.B) {
	cfg := largeChip(b)
	src := example(b, "brunel")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseNetwork("brunel.toml", src, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseCUBA: 320,000 synapses by geometric skips.
func BenchmarkParseCUBA(b *testing.B) {
	cfg := chip.Default()
	src := example(b, "cuba")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseNetwork("cuba.toml", src, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFixedTotalNumber: exactly Q synapses, every pair index in range and
// sorted pre-major, no autapses with allow_self = false, Q from p as
// Potjans & Diesmann define it, and pre- and postsynaptic neurons each
// uniform (a chi-square test at a fixed seed).
func TestFixedTotalNumber(t *testing.T) {
	src := `seed = 4
[[population]]
name = "a"
size = 40
[[population]]
name = "b"
size = 25
[[projection]]
pre = "a"
post = "b"
connector = "fixed_total_number"
n = 20000
weight = 1.0
delay = 0.3
[[projection]]
pre = "b"
post = "b"
connector = "fixed_total_number"
n = 5000
allow_self = false
weight = 1.0
[[projection]]
pre = "a"
post = "b"
connector = "fixed_total_number"
p = 0.1
weight = 1.0
[[projection]]
pre = "a"
post = "a"
connector = "fixed_total_number"
p = 0.0
weight = 1.0
`
	net, err := ParseNetwork("total.toml", src, chip.Default())
	if err != nil {
		t.Fatal(err)
	}
	ab, bb, pab, none := net.Projections[0], net.Projections[1], net.Projections[2], net.Projections[3]
	if len(ab.Conns) != 20000 || len(bb.Conns) != 5000 || len(none.Conns) != 0 {
		t.Fatalf("%d, %d and %d synapses, want 20000, 5000 and 0", len(ab.Conns), len(bb.Conns), len(none.Conns))
	}
	// Q = round(ln(1 − 0.1)/ln(1 − 1/(40·25))) = round(105.30)
	if got := len(pab.Conns); got != 105 {
		t.Errorf("p = 0.1 between 40 and 25 neurons: %d synapses, want 105", got)
	}
	preCount, postCount := make([]float64, 40), make([]float64, 25)
	for k, c := range ab.Conns {
		if c.Pre >= 40 || c.Post >= 25 || c.Delay != 2 || c.Weight == 0 {
			t.Fatalf("a→b synapse %d: %+v", k, c)
		}
		if k > 0 {
			p := ab.Conns[k-1]
			if c.Pre < p.Pre || c.Pre == p.Pre && c.Post < p.Post {
				t.Fatalf("a→b synapses %d and %d out of pre-major order: %+v, %+v", k-1, k, p, c)
			}
		}
		preCount[c.Pre]++
		postCount[c.Post]++
	}
	// chi-square with 39 and 24 degrees of freedom: the 99.9 % points are
	// 72.1 and 51.2
	chi2 := func(counts []float64) float64 {
		e := 20000 / float64(len(counts))
		x := 0.0
		for _, n := range counts {
			x += (n - e) * (n - e) / e
		}
		return x
	}
	if x := chi2(preCount); x > 72.1 {
		t.Errorf("presynaptic neurons not uniform: chi-square %.1f on 39 degrees of freedom", x)
	}
	if x := chi2(postCount); x > 51.2 {
		t.Errorf("postsynaptic neurons not uniform: chi-square %.1f on 24 degrees of freedom", x)
	}
	self := 0
	diag := make([]int, 25)
	for _, c := range bb.Conns {
		if c.Pre == c.Post {
			self++
		}
		diag[c.Post]++
	}
	if self != 0 {
		t.Errorf("allow_self = false: %d autapses", self)
	}
	// multapses: 5000 synapses on 600 pairs repeat pairs
	pairs := map[[2]uint32]int{}
	for _, c := range bb.Conns {
		pairs[[2]uint32{c.Pre, c.Post}]++
	}
	if len(pairs) >= 5000 || len(pairs) > 600 {
		t.Errorf("%d distinct pairs of 600 for 5000 synapses", len(pairs))
	}
	// another seed, other synapses; the same seed, the same ones
	seed := uint64(5)
	other, _, err := ParseNetworkWith("total.toml", src, chip.Default(), ParseOptions{Seed: &seed})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(other.Projections[0].Conns, ab.Conns) {
		t.Error("seed 5 drew the synapses of seed 4")
	}
	again, _ := ParseNetwork("total.toml", src, chip.Default())
	if !reflect.DeepEqual(again.Projections, net.Projections) {
		t.Error("two parses of one file differ")
	}
}

// TestRedraw: a normal truncated by drawing again keeps every value in its
// interval and is not clamped onto the bounds (clip would pile mass there).
func TestRedraw(t *testing.T) {
	src := `[[population]]
name = "a"
size = 100
[[projection]]
pre = "a"
post = "a"
connector = "fixed_total_number"
n = 20000
weight = { normal = [1.0, 1.0], redraw_min = 0.0 }
delay = { normal = [0.3, 0.3], redraw_min = 0.1, redraw_max = 0.6 }
[[projection]]
pre = "a"
post = "a"
connector = "fixed_total_number"
n = 20000
weight = { normal = [-1.0, 1.0], redraw_max = 0.0 }
receptor = "inhibitory"
`
	net, q, err := ParseNetworkWith("redraw.toml", src, chip.Default(), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	exc, inh := net.Projections[0], net.Projections[1]
	delays := map[uint8]int{}
	var sum float64
	for _, c := range exc.Conns {
		if c.Weight < 0 || c.Delay > 5 {
			t.Fatalf("excitatory synapse %+v: want weight ≥ 0, delay 0 … 5 (0.1 … 0.6 ms)", c)
		}
		delays[c.Delay]++
		sum += float64(c.Weight) * q.Projections[0].StepMV
	}
	for _, c := range inh.Conns {
		if c.Weight > 0 {
			t.Fatalf("inhibitory synapse %+v: want weight ≤ 0", c)
		}
	}
	// the normal(1, 1) truncated to [0, ∞) has mean 1 + φ(1)/Φ(1) = 1.2876
	if m := sum / float64(len(exc.Conns)); math.Abs(m-1.2876) > 0.03 {
		t.Errorf("mean redrawn weight %.4f mV, want 1.2876", m)
	}
	// clamping normal(0.3, 0.3) at 0.1 ms would put Φ(−0.667) = 25 % of
	// the delays at one tick (0.1 … 0.15 ms: 25 % + 6.6 %); redrawing gives
	// that band 6.6 %/(Φ(1) − Φ(−0.667)) = 11.8 %
	if f := float64(delays[0]) / float64(len(exc.Conns)); f < 0.09 || f > 0.15 {
		t.Errorf("%.3f of the delays at one tick, want about 0.118", f)
	}
}

// TestScale: ParseOptions.Scale shrinks populations and sources and keeps
// in-degrees: fixed_total_number by Q·N'/N, fixed_number_pre by n,
// fixed_probability by p/scale; from_file refuses, and a scale outside
// (0, 1] is an error.
func TestScale(t *testing.T) {
	src := `[[population]]
name = "a"
size = 1000
[[population]]
name = "b"
size = 400
[[source]]
name = "s"
size = 400
rate = 10.0
[[projection]]
pre = "a"
post = "b"
connector = "fixed_total_number"
p = 0.05
weight = 1.0
[[projection]]
pre = "a"
post = "b"
connector = "fixed_number_pre"
n = 30
with_replacement = true
weight = 1.0
[[projection]]
pre = "b"
post = "a"
connector = "fixed_probability"
p = 0.01
weight = 1.0
[[projection]]
pre = "s"
post = "b"
connector = "one_to_one"
weight = 1.0
`
	full, err := ParseNetwork("scale.toml", src, chip.Default())
	if err != nil {
		t.Fatal(err)
	}
	small, _, err := ParseNetworkWith("scale.toml", src, chip.Default(), ParseOptions{Scale: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{250, 100, 100} {
		if got := small.Populations[i].Size; got != want {
			t.Errorf("population %d: %d members at scale 0.25, want %d", i, got, want)
		}
	}
	// in-degrees: Q/N_post, n, p·N_pre
	qFull := len(full.Projections[0].Conns)
	if got, want := len(small.Projections[0].Conns), int(math.Round(float64(qFull)*100/400)); got != want {
		t.Errorf("fixed_total_number: %d synapses at scale 0.25, want %d (the full %d × 100/400)", got, want, qFull)
	}
	if got := len(small.Projections[1].Conns); got != 30*100 {
		t.Errorf("fixed_number_pre: %d synapses, want 3000", got)
	}
	// p/scale = 0.04 over 100 × 250 pairs: 1000 ± 31
	if got := len(small.Projections[2].Conns); got < 870 || got > 1130 {
		t.Errorf("fixed_probability: %d synapses, want about 1000", got)
	}
	if small.Provenance["scale"] != "0.25" || full.Provenance["scale"] != "" {
		t.Errorf("provenance scale %q and %q", small.Provenance["scale"], full.Provenance["scale"])
	}
	for _, bad := range []float64{-0.5, 1.5, math.NaN(), math.Inf(1)} {
		if _, _, err := ParseNetworkWith("scale.toml", src, chip.Default(), ParseOptions{Scale: bad}); err == nil || !strings.Contains(err.Error(), "want 0 < scale ≤ 1") {
			t.Errorf("scale %v: %v", bad, err)
		}
	}
	file := "[[population]]\nname = \"a\"\nsize = 10\n[[projection]]\npre = \"a\"\npost = \"a\"\nconnector = \"from_file\"\nfile = \"c.csv\"\n"
	read := func(string) ([]byte, error) { return []byte("0,1,1.0\n"), nil }
	if _, _, err := ParseNetworkWith("f.toml", file, chip.Default(), ParseOptions{Scale: 0.5, ReadFile: read}); err == nil || !strings.Contains(err.Error(), "f.toml:7:") || !strings.Contains(err.Error(), "cannot be scaled") {
		t.Errorf("from_file at scale 0.5: %v", err)
	}
}

// TestPD14Network: the example at 2 % has the published structure — eight
// populations of round(0.02·N), the in-degrees of the full model (Q/N_post
// with Q = ln(1−C)/ln(1−1/(N_pre·N_post))), one Poisson source per neuron
// at K_ext·8 Hz, excitatory weights positive and inhibitory ones negative,
// and every delay within 1 … 63 ticks.
func TestPD14Network(t *testing.T) {
	cfg := pd14Chip(t)
	const scale = 0.02
	net, q, err := ParseNetworkWith("pd14.toml", example(t, "pd14"), cfg, ParseOptions{Scale: scale})
	if err != nil {
		t.Fatal(err)
	}
	full := []int{20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948}
	if len(net.Populations) != 16 {
		t.Fatalf("%d populations, want 8 and 8 sources", len(net.Populations))
	}
	indeg := make([]float64, 8)
	for _, pr := range net.Projections {
		pre := net.Populations[pr.Pre]
		if pre.IsSource() {
			continue
		}
		indeg[pr.Post] += float64(len(pr.Conns))
		exc := strings.HasSuffix(pre.Name, "E")
		for _, c := range pr.Conns {
			if exc != (c.Weight > 0) || c.Weight == 0 {
				t.Fatalf("%s: synapse %+v: an %s weight of the wrong sign", pr.Name, c, map[bool]string{true: "excitatory", false: "inhibitory"}[exc])
			}
		}
	}
	// full-scale in-degrees (benchmarks.md §3 via Q/N_post)
	want := []float64{4995.1, 5285.0, 2806.4, 5888.4, 4943.9, 2736.0, 2563.6, 2434.1}
	for i, n := range full {
		p := net.Populations[i]
		if p.Size != int(math.Round(scale*float64(n))) || p.V0 == nil {
			t.Errorf("%s: %d neurons (want %d), initial membranes %v", p.Name, p.Size, int(math.Round(scale*float64(n))), p.V0 != nil)
		}
		if k := indeg[i] / float64(p.Size); math.Abs(k-want[i])/want[i] > 0.002 {
			t.Errorf("%s: in-degree %.1f, want %.1f", p.Name, k, want[i])
		}
		src := net.Populations[8+i]
		if !src.IsSource() || src.Size != p.Size || len(src.Source.Counts) == 0 {
			t.Errorf("source %s: %d members, %+v", src.Name, src.Size, src.Source)
		}
	}
	for j, r := range q.Projections {
		if r.Zeroed != 0 || r.MaxRelErr > 0.02 {
			t.Errorf("projection %s: %d weights zeroed, relative error %.3g", net.Projections[j].Name, r.Zeroed, r.MaxRelErr)
		}
	}
	if _, _, err := Compile(net, cfg); err != nil {
		t.Fatal(err)
	}
}
