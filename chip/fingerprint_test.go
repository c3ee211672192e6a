package chip

import (
	"reflect"
	"strings"
	"testing"
)

// fingerprinted are the description fields Fingerprint covers, in its
// order; unfingerprinted are those it leaves out (they change cost or
// labels, never spikes). Every field of Config is in exactly one list.
var (
	fingerprinted = []string{
		"chips", "mesh.width", "mesh.height",
		"core.neurons", "core.input_axons", "core.output_axons", "core.synapse_bytes", "core.profiles", "core.generators",
		"neuron.synapse_types", "neuron.u_bits", "neuron.v_bits", "neuron.u_overflow", "neuron.v_overflow",
		"neuron.current", "neuron.decay", "neuron.rounding", "neuron.decay_bits", "neuron.u_decay_offset",
		"neuron.act_shift", "neuron.vth_shift", "neuron.vth_bits", "neuron.bias_bits", "neuron.bias_exp_max",
		"neuron.compare", "neuron.reset", "neuron.refractory_bits", "neuron.stochastic", "neuron.escape_entries",
		"synapse.weight_bits", "synapse.weight_exp_min", "synapse.weight_exp_max", "synapse.max_delay",
		"synapse.acc_bits", "synapse.acc_overflow",
		"core.max_targets", "synapse.sign", "synapse.crossbar",
	}
	unfingerprinted = []string{
		"name", "description", "clock_mhz", "sync", "tick_cycles",
		"cost.cycles.input_spike", "cost.cycles.synop", "cost.cycles.neuron_idle", "cost.cycles.neuron_active",
		"cost.cycles.neuron_fire", "cost.cycles.message",
		"cost.energy_pj.input_spike", "cost.energy_pj.synop", "cost.energy_pj.neuron_idle",
		"cost.energy_pj.neuron_active", "cost.energy_pj.neuron_fire", "cost.energy_pj.message",
		"cost.barrier_cycles", "cost.barrier_cycles_per_hop", "cost.barrier_pj", "cost.static_mw",
		"cost.energy_pj.hop_x", "cost.energy_pj.hop_y", "cost.energy_pj.chip_hop",
		// the network changes when spikes arrive and what that costs; its
		// failure modes (late, blocked) are run-time policies of the
		// description, counted in Stats, not part of what an image loads
		"noc.model", "noc.topology", "noc.routing", "noc.chips_x", "noc.chips_y", "noc.packet_bits",
		"noc.flit_bits", "noc.hop_cycles_x", "noc.hop_cycles_y", "noc.buffer_flits", "noc.virtual_channels",
		"noc.table_entries", "noc.chip_link.width_bits", "noc.chip_link.hop_cycles", "noc.late",
		"noc.blocked", "noc.wait1_cycles", "noc.wait2_cycles", "noc.cores_per_router",
	}
)

// defaultFingerprint is the frozen fingerprint of the default preset (the
// number was also computed outside Go, by a few lines of Python doing FNV-1a
// 64 over the byte string the doc comment of Fingerprint describes). If
// this test fails, the encoding of Fingerprint changed: either undo the
// change, or (a field that changes what runs was added) bump
// FingerprintVersion and update this number.
//
// The default preset sets synapse.sign = "row", so its byte string carries
// the weight-and-fan-out tail; signedFingerprint is the same description
// with sign = "signed" (every new field at its default), which is the
// fingerprint the default preset had before those fields existed: adding
// them changed no description that does not use them.
const (
	defaultFingerprint = 0xa963e3ee4e66200e
	signedFingerprint  = 0xc30e5d3cc227fe02
)

func TestFingerprintGolden(t *testing.T) {
	c := Default()
	if got := c.Fingerprint(); got != defaultFingerprint {
		t.Errorf("default fingerprint = %#016x, want %#016x (the encoding changed: see the comment on defaultFingerprint)", got, uint64(defaultFingerprint))
	}
	c.Synapse.Sign = "signed"
	if got := c.Fingerprint(); got != signedFingerprint {
		t.Errorf("default with sign = \"signed\": fingerprint = %#016x, want %#016x (the new fields at their defaults must leave the byte string as it was)", got, uint64(signedFingerprint))
	}
	c.Synapse.Sign, c.Synapse.Crossbar = "", ""
	if got := c.Fingerprint(); got != signedFingerprint {
		t.Errorf("empty sign and crossbar (a Config built in Go): fingerprint = %#016x, want %#016x", got, uint64(signedFingerprint))
	}
}

// leaves lists every scalar field of Config by its TOML key.
func leaves(v reflect.Value, prefix string, f func(key string, v reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		key := prefix + strings.Split(t.Field(i).Tag.Get("toml"), ",")[0]
		if fv := v.Field(i); fv.Kind() == reflect.Struct {
			leaves(fv, key+".", f)
		} else {
			f(key, fv)
		}
	}
}

// TestFingerprintFields changes every field of the default description in
// turn: the fingerprint must change exactly for the fingerprinted fields,
// and a field in neither list (a new one) fails the test.
func TestFingerprintFields(t *testing.T) {
	in := map[string]bool{}
	for _, k := range fingerprinted {
		in[k] = true
	}
	out := map[string]bool{}
	for _, k := range unfingerprinted {
		out[k] = true
	}
	base := Default()
	want := base.Fingerprint()
	seen := map[string]bool{}
	var keys []string
	leaves(reflect.ValueOf(base).Elem(), "", func(key string, _ reflect.Value) { keys = append(keys, key) })
	for _, key := range keys {
		seen[key] = true
		c := *base
		leaves(reflect.ValueOf(&c).Elem(), "", func(k string, v reflect.Value) {
			if k != key {
				return
			}
			switch v.Kind() {
			case reflect.Int:
				v.SetInt(v.Int() + 1)
			case reflect.Uint64:
				v.SetUint(v.Uint() + 1)
			case reflect.Float64:
				v.SetFloat(v.Float()*2 + 1)
			case reflect.String:
				v.SetString(v.String() + "x")
			case reflect.Bool:
				v.SetBool(!v.Bool())
			default:
				t.Fatalf("%s: field kind %s not handled by the test", key, v.Kind())
			}
		})
		changed := c.Fingerprint() != want
		switch {
		case in[key] && !changed:
			t.Errorf("changing %s leaves the fingerprint unchanged", key)
		case out[key] && changed:
			t.Errorf("changing %s changes the fingerprint; it should not (timing, cost or label only)", key)
		case !in[key] && !out[key]:
			t.Errorf("field %s is in neither fingerprint list: if it changes which spikes happen, append it to Fingerprint and bump FingerprintVersion; otherwise list it as left out", key)
		}
	}
	for _, k := range append(append([]string(nil), fingerprinted...), unfingerprinted...) {
		if !seen[k] {
			t.Errorf("listed field %s is not a field of Config", k)
		}
	}
}

func TestFingerprintIgnoresLabelsAndCosts(t *testing.T) {
	base := Default()
	want := base.Fingerprint()
	for _, tc := range []struct {
		name string
		edit func(c *Config)
	}{
		{"name", func(c *Config) { c.Name = "renamed" }},
		{"description", func(c *Config) { c.Description = "another text" }},
		{"clock", func(c *Config) { c.ClockMHz = 1 }},
		{"synop energy", func(c *Config) { c.Cost.EnergyPJ.Synop = 99 }},
		{"synop cycles", func(c *Config) { c.Cost.Cycles.Synop = 99 }},
		{"sync", func(c *Config) { c.Sync, c.TickCycles = "fixed", 1000 }},
	} {
		c := *base
		tc.edit(&c)
		if got := c.Fingerprint(); got != want {
			t.Errorf("%s: fingerprint %016x, want %016x", tc.name, got, want)
		}
	}
	for _, tc := range []struct {
		name string
		edit func(c *Config)
	}{
		{"weight_bits", func(c *Config) { c.Synapse.WeightBits = 7 }},
		{"v_bits", func(c *Config) { c.Neuron.VBits = 23 }},
		{"core.neurons", func(c *Config) { c.Core.Neurons = 512 }},
		{"mesh", func(c *Config) { c.Mesh.Width, c.Mesh.Height = 16, 8 }},
		{"stochastic", func(c *Config) { c.Neuron.Stochastic = false }},
	} {
		c := *base
		tc.edit(&c)
		if got := c.Fingerprint(); got == want {
			t.Errorf("%s changed, fingerprint did not (%016x)", tc.name, got)
		}
	}
}

func TestFingerprintPresetsDistinct(t *testing.T) {
	seen := map[uint64]string{}
	for _, name := range Presets() {
		c, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		fp := c.Fingerprint()
		if other, dup := seen[fp]; dup {
			t.Errorf("presets %s and %s share fingerprint %016x", other, name, fp)
		}
		seen[fp] = name
	}
}

// TestFingerprintLossyNetwork: a network that can drop spikes makes timing
// part of what runs, so it changes the fingerprint, and so do its timing
// fields; a lossless network leaves it as it was.
func TestFingerprintLossyNetwork(t *testing.T) {
	base := Default()
	want := base.Fingerprint()
	count := *base
	count.Sync, count.TickCycles, count.NoC.Late = "fixed", 100000, "count"
	if count.Fingerprint() != want {
		t.Error("a network that only counts late packets changed the fingerprint")
	}
	drop := count
	drop.NoC.Late = "drop"
	fd := drop.Fingerprint()
	if fd == want {
		t.Error("a network that drops late packets left the fingerprint unchanged")
	}
	slower := drop
	slower.TickCycles = 50000
	if slower.Fingerprint() == fd {
		t.Error("with late packets dropped, a shorter tick left the fingerprint unchanged")
	}
}
