package chip

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPresetsLoad(t *testing.T) {
	want := []string{"default", "loihi", "spinnaker", "truenorth", "xylo"}
	if got := Presets(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("presets %v, want %v", got, want)
	}
	fps := map[uint64]string{}
	for _, name := range want {
		c, err := Preset(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Name != name {
			t.Errorf("preset %s names itself %q", name, c.Name)
		}
		if other, dup := fps[c.Fingerprint()]; dup {
			t.Errorf("%s and %s share a fingerprint", name, other)
		}
		fps[c.Fingerprint()] = name
		// the resolved TOML parses back to the same description
		back, err := ParseConfig(name+"-resolved.toml", c.TOML())
		if err != nil {
			t.Fatalf("%s: resolved TOML does not parse: %v", name, err)
		}
		if back.Fingerprint() != c.Fingerprint() {
			t.Errorf("%s: fingerprint changed through TOML", name)
		}
	}
	checks := []struct {
		name string
		got  int
		want int
	}{
		{"loihi cores", mustPreset(t, "loihi").Cores(), 128},
		{"loihi neurons", mustPreset(t, "loihi").Core.Neurons, 1024},
		{"truenorth cores", mustPreset(t, "truenorth").Cores(), 4096},
		{"truenorth axons", mustPreset(t, "truenorth").Core.InputAxons, 256},
		{"xylo cores", mustPreset(t, "xylo").Cores(), 1},
		{"default cores", Default().Cores(), 16},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func mustPreset(t *testing.T, name string) *Config {
	t.Helper()
	c, err := Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStrictTOML(t *testing.T) {
	src, _ := PresetSource("default")
	tests := []struct {
		name, edit, want string
	}{
		{"unknown key", strings.Replace(src, "neurons = 1024", "neurons = 1024\nneuronz = 3", 1), `unknown key "core.neuronz"`},
		{"mis-cased key", strings.Replace(src, "u_bits = 24", "U_bits = 24", 1), `unknown key "neuron.U_bits" (did you mean "u_bits"?`},
		{"syntax error with position", strings.Replace(src, "v_bits = 24", "v_bits = = 24", 1), "chip.toml:27:10: expected value"},
		{"out of range", strings.Replace(src, "v_bits = 24", "v_bits = 64", 1), "neuron.v_bits = 64: want 2…32"},
		{"bad mode", strings.Replace(src, `decay = "mul12"`, `decay = "exp"`, 1), `neuron.decay = "exp": want one of mul12, shift, linear, none`},
		{"synapse word too wide", strings.Replace(src, "weight_bits = 8", "weight_bits = 16", 1), "synapse word needs 34 bits"},
		{"wrong type", strings.Replace(src, "clock_mhz = 1000.0", `clock_mhz = "fast"`, 1), "chip.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("chip.toml", tt.edit)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if !strings.Contains(strings.Split(src, "\n")[26], "v_bits") {
		t.Fatal("the syntax-error case assumes v_bits on line 27 of default.toml")
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	src, _ := PresetSource("xylo")
	path := filepath.Join(dir, "mine.toml")
	if err := os.WriteFile(path, []byte(strings.Replace(src, `name = "xylo"`, `name = "mine"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ arg, want string }{{"", "default"}, {"loihi", "loihi"}, {path, "mine"}} {
		c, err := LoadConfig(tt.arg)
		if err != nil || c.Name != tt.want {
			t.Errorf("LoadConfig(%q) = %v, %v; want %s", tt.arg, c, err, tt.want)
		}
	}
	if _, err := LoadConfig("lohi"); err == nil || !strings.Contains(err.Error(), "unknown preset \"lohi\" (presets: default, loihi, spinnaker, truenorth, xylo)") {
		t.Errorf("unknown preset error: %v", err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("missing file: no error")
	}
}

// TestWrittenValues: a value a description writes is used or refused with
// its range, never replaced by a default; negative, nan and infinite
// numbers are refused by name; documents over the TOML limits fail fast.
func TestWrittenValues(t *testing.T) {
	src, _ := PresetSource("default")
	edit := func(old, new string) string {
		t.Helper()
		if !strings.Contains(src, old) {
			t.Fatalf("default.toml has no %q", old)
		}
		return strings.Replace(src, old, new, 1)
	}
	tests := []struct {
		name, src, want string
	}{
		{"profiles = 0", edit("profiles = 32", "profiles = 0"), "core.profiles = 0: want 1…65536"},
		{"chips = 0", edit("chips = 1", "chips = 0"), "chips = 0: want 1…65536"},
		{"sync = \"\"", edit(`sync = "barrier"`, `sync = ""`), `sync = "": want one of barrier, fixed`},
		{"decay_bits = 0", edit("decay_bits = 12", "decay_bits = 0"), "neuron.decay_bits = 0: want 12…12"},
		{"synapse_types = 0", edit("synapse_types = 2", "synapse_types = 0"), "neuron.synapse_types = 0: want 1…4"},
		{"tick_cycles = -5", edit(`sync = "barrier"`, "sync = \"fixed\"\ntick_cycles = -5"), `chip.toml:10: key "tick_cycles": -5 is negative`},
		{"tick_cycles too large", edit(`sync = "barrier"`, "sync = \"fixed\"\ntick_cycles = 10000000000000"), "tick_cycles = 10000000000000: want ≤ 1000000000000 cycles"},
		{"negative cycle cost", edit("synop = 4", "synop = -1"), `key "cost.cycles.synop": -1 is negative`},
		{"barrier cycles", edit("barrier_cycles = 113", "barrier_cycles = 2000000000"), "cost.barrier_cycles = 2000000000: want ≤ 1e9 cycles"},
		{"nan clock", edit("clock_mhz = 1000.0", "clock_mhz = nan"), `key "clock_mhz": NaN is not a finite number`},
		{"inf energy", edit("synop = 23.6", "synop = inf"), `key "cost.energy_pj.synop": +Inf is not a finite number`},
		{"negative escape entries", edit("stochastic = true\nescape_entries = 256", "stochastic = false\nescape_entries = -5"), "neuron.escape_entries = -5: want 0…65536"},
		{"nested headers", "[" + strings.Repeat("a.", 50000) + "b]\n", "chip: chip.toml:1: key nested deeper than 16 levels"},
		{"too large", strings.Repeat("# x\n", 17<<20), "chip: chip.toml: 71303168 bytes, more than 64 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("chip.toml", tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// Absent keys take their defaults.
	c, err := ParseConfig("chip.toml", edit("profiles = 32\n", ""))
	if err != nil || c.Core.Profiles != 16 {
		t.Fatalf("profiles absent: got %v, %v; want the default 16", c, err)
	}
}

// TestSignModes: Loihi's sign modes (sign = "row") and SpiNNaker's
// (sign = "type") are enforced at load, with errors naming the core, axon,
// synapse, value and limit, and MantissaRange says what the quantizers may
// use.
func TestSignModes(t *testing.T) {
	loihi, spin := mustPreset(t, "loihi"), mustPreset(t, "spinnaker")
	if loihi.Synapse.Sign != "row" || Default().Synapse.Sign != "row" || spin.Synapse.Sign != "type" || spin.Synapse.WeightBits != 16 {
		t.Fatalf("sign modes: loihi %q, default %q, spinnaker %q (weight_bits %d)", loihi.Synapse.Sign, Default().Synapse.Sign, spin.Synapse.Sign, spin.Synapse.WeightBits)
	}
	for _, tc := range []struct {
		cfg          *Config
		mixed        bool
		typ          int
		lo, hi, step int32
	}{
		{loihi, true, 0, -256, 254, 2},
		{loihi, false, 1, -255, 255, 1},
		{spin, false, 0, 0, 65535, 1},
		{spin, true, 1, -65535, 0, 1},
		{mustPreset(t, "xylo"), true, 1, -127, 127, 1},
	} {
		lo, hi, step := tc.cfg.Synapse.MantissaRange(tc.mixed, tc.typ)
		if lo != tc.lo || hi != tc.hi || step != tc.step {
			t.Errorf("%s MantissaRange(%v, %d) = %d, %d, %d; want %d, %d, %d", tc.cfg.Name, tc.mixed, tc.typ, lo, hi, step, tc.lo, tc.hi, tc.step)
		}
	}
	row := func(ws ...int32) *Program {
		ax := Axon{}
		for i, w := range ws {
			ax.Synapses = append(ax.Synapses, Synapse{Neuron: uint32(i), Type: uint8(i % 2), Weight: w})
		}
		cp := CoreProgram{Profiles: []Profile{{Vth: 100}}, Neurons: make([]Neuron, len(ws)), Axons: []Axon{{}, ax}}
		for i := range cp.Neurons {
			cp.Neurons[i].Out = []AxonRef{{0, 0}} // table-routed chips route every sender
		}
		return &Program{Cores: []CoreProgram{cp}}
	}
	for _, tc := range []struct {
		name string
		cfg  *Config
		p    *Program
		want string // "" loads
	}{
		{"loihi mixed even extremes", loihi, row(-256, 254, 2, -2), ""},
		{"loihi excitatory 255", loihi, row(255, 1, 0), ""},
		{"loihi inhibitory -255", loihi, row(-255, -1), ""},
		{"loihi single-sign row in mixed mode", loihi, row(-256, -2, 0), ""},
		{"loihi -256 with an odd weight", loihi, row(-256, -3), "axon 1 synapse 1 (type 1) weight = -3 exceeds the even values -256…254"},
		{"loihi mixed odd", loihi, row(-256, 7), `core 0: axon 1 synapse 1 (type 1) weight = 7 exceeds the even values -256…254 (synapse.weight_bits; synapse.sign = "row" and axon 1 needs the mixed sign mode)`},
		{"loihi mixed 255", loihi, row(-2, 255), "axon 1 synapse 1 (type 1) weight = 255 exceeds the even values -256…254"},
		{"loihi excitatory 256", loihi, row(256), "axon 1 synapse 0 (type 0) weight = 256 exceeds the even values -256…254"},
		{"spinnaker extremes", spin, row(65535, -65535, 0, 0), ""},
		{"spinnaker inhibitory on type 0", spin, row(-1), `core 0: axon 1 synapse 0 (type 0) weight = -1 exceeds 0…65535 (synapse.weight_bits, synapse.sign = "type": type 0 is excitatory)`},
		{"spinnaker excitatory on type 1", spin, row(5, 3), `axon 1 synapse 1 (type 1) weight = 3 exceeds -65535…0 (synapse.weight_bits, synapse.sign = "type": type 1 is inhibitory)`},
		{"spinnaker beyond 16 bits", spin, row(65536), "weight = 65536 exceeds 0…65535"},
	} {
		_, err := Load(tc.cfg, tc.p, Options{})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// TestSignedPacking: the extremes of each sign mode survive the packed
// synapse word: −256 on Loihi, ±65535 on SpiNNaker arrive as they were
// written (a regular generator spikes at tick 0; at tick 1 the current is
// the weight << act_shift).
func TestSignedPacking(t *testing.T) {
	for _, tc := range []struct {
		preset string
		w      []int32
	}{{"loihi", []int32{-256, 254}}, {"spinnaker", []int32{65535, -65535}}} {
		cfg := mustPreset(t, tc.preset)
		ax := Axon{}
		for k, w := range tc.w {
			ax.Synapses = append(ax.Synapses, Synapse{Neuron: 0, Type: uint8(k), Weight: w})
		}
		cp := CoreProgram{Profiles: []Profile{{Vth: 1<<cfg.Neuron.VthBits - 1}}, Neurons: []Neuron{{Out: []AxonRef{{0, 1}}}}, Axons: []Axon{ax, {}},
			Generators: []Generator{{Period: 1000, Out: []AxonRef{{0, 0}}}}}
		s, err := Load(cfg, &Program{Cores: []CoreProgram{cp}}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.preset, err)
		}
		if err := s.Run(context.Background(), 2); err != nil {
			t.Fatal(err)
		}
		st, err := s.State(NeuronRef{0, 0})
		if err != nil {
			t.Fatal(err)
		}
		for k, w := range tc.w {
			want := min(max(int64(w), -(1<<(cfg.Synapse.AccBits-1))), 1<<(cfg.Synapse.AccBits-1)-1) << cfg.Neuron.ActShift
			if got := int64(st.U[k]); got != want {
				t.Errorf("%s type %d: u = %d, want %d (weight %d)", tc.preset, k, got, want, w)
			}
		}
	}
}

// TestNewFieldsValidate: the sign, crossbar and fan-out keys are checked by
// name.
func TestNewFieldsValidate(t *testing.T) {
	src, _ := PresetSource("default")
	for _, tc := range []struct{ edit, want string }{
		{strings.Replace(src, `sign = "row"`, `sign = "sideways"`, 1), `synapse.sign = "sideways": want one of signed, row, type`},
		{strings.Replace(src, `sign = "row"`, `crossbar = "dense"`, 1), `synapse.crossbar = "dense": want one of none, binary`},
		{strings.Replace(src, `generators = 64`, "generators = 64\nmax_targets = 2000000", 1), "core.max_targets = 2000000: want 0…1048576"},
		{strings.Replace(strings.Replace(src, `sign = "row"`, `sign = "type"`, 1), "synapse_types = 2", "synapse_types = 1", 1), `synapse.sign = "type": want neuron.synapse_types ≥ 2`},
	} {
		if _, err := ParseConfig("chip.toml", tc.edit); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want an error containing %q", err, tc.want)
		}
	}
	c, err := ParseConfig("chip.toml", strings.Replace(src, `sign = "row"`, "", 1))
	if err != nil || c.Synapse.Sign != "signed" || c.Synapse.Crossbar != "none" || c.Core.MaxTargets != 0 {
		t.Fatalf("absent keys: %v, sign %q crossbar %q max_targets %d; want signed, none, 0", err, c.Synapse.Sign, c.Synapse.Crossbar, c.Core.MaxTargets)
	}
}

// TestSpiNNakerEnergyFromCycles: the spinnaker preset's energies are its
// cycle costs at an ARM968 core's share of the chip's peak power,
// 1 W / (18 cores × 180 MHz) per cycle (Painkras et al. 2013): the two
// tables cannot drift apart.
func TestSpiNNakerEnergyFromCycles(t *testing.T) {
	cfg := mustPreset(t, "spinnaker")
	perCycle := 1e12 / (18 * 180e6) // pJ
	cy, en := cfg.Cost.Cycles.arr(), cfg.Cost.EnergyPJ.arr()
	for _, ev := range Events {
		if ev.Cycle < 0 || ev.Energy < 0 {
			continue
		}
		want := float64(cy[ev.Cycle]) * perCycle
		if got := en[ev.Energy]; math.Abs(got-want) > 0.06 {
			t.Errorf("cost.energy_pj.%s = %v, want %.1f (%d cycles × %.1f pJ)", ev.Key, got, want, cy[ev.Cycle], perCycle)
		}
	}
}

// TestStaticPower: each preset's static power is the published (or
// derived) figure its file cites, and Stats reports it apart from the
// dynamic energy: static = static_mw × emulated time.
func TestStaticPower(t *testing.T) {
	want := map[string]float64{"default": 0, "loihi": 0, "spinnaker": 0, "truenorth": 55, "xylo": 0}
	for _, name := range Presets() {
		cfg := mustPreset(t, name)
		if got, ok := want[name]; !ok || cfg.Cost.StaticMW != got {
			t.Errorf("%s: static_mw = %v, want %v", name, cfg.Cost.StaticMW, got)
		}
	}
	cfg := mustPreset(t, "truenorth")
	s, err := Load(cfg, truenorthProgram(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if wantJ := 55e-3 * st.Seconds; math.Abs(st.Energy.Static-wantJ) > 1e-15 || st.Seconds != 0.01 {
		t.Errorf("static energy %v J over %v s, want %v J over 0.01 s", st.Energy.Static, st.Seconds, wantJ)
	}
	dyn := st.Energy.InputSpikes + st.Energy.Synops + st.Energy.Neurons + st.Energy.Messages + st.Energy.Interconnect + st.Energy.Barrier
	if dyn <= 0 || st.Energy.Dynamic != dyn || math.Abs(st.Energy.Total-dyn-st.Energy.Static) > 1e-15 {
		t.Errorf("total %v J, dynamic %v J (reported %v J) + static %v J", st.Energy.Total, dyn, st.Energy.Dynamic, st.Energy.Static)
	}
}
