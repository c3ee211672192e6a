package chip

import (
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
