package trainer

import (
	"math"
	"strings"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
)

func TestSnapToChip(t *testing.T) {
	s := Spec{Inputs: 20, Steps: 100, Hidden: []LayerSpec{{Size: 64, Recurrent: true}}, Readout: ReadoutSpec{Size: 10}, Stochastic: true}
	changes, err := SnapToChip(&s, chip.Default())
	if err != nil {
		t.Fatal(err)
	}
	// 20 ms at 2 ms: dv = round(4096·(1 − e^−0.1)) = 390, realising 19.99 ms
	if c := changes[0]; c.Constant != 390 || math.Abs(c.ToMS-19.988) > 0.01 || math.Abs(s.Hidden[0].TauMem*1000-c.ToMS) > 1e-9 {
		t.Errorf("tau_mem change %+v, spec %.6f s", c, s.Hidden[0].TauMem)
	}
	// the snapped spec deploys with the same constants
	m, err := NewModel(s)
	if err != nil {
		t.Fatal(err)
	}
	net, _, err := Deploy(m, chip.Default(), DeployOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if net.Populations[0].Profile.Dv != 390 {
		t.Errorf("deployed dv %d, want 390", net.Populations[0].Profile.Dv)
	}
	tn, _ := chip.Preset("truenorth")
	small := chip.Default()
	small.Core.SynapseBytes = 4 * 50
	for _, c := range []struct {
		cfg  *chip.Config
		spec Spec
		want string
	}{
		{tn, s, "multiplicative decay"},
		{small, s, "each neuron receives 84 synapses; a core of default holds 50"},
		{chip.Default(), Spec{Inputs: 10, Steps: 10, Hidden: []LayerSpec{{Size: 20000}}, Readout: ReadoutSpec{Size: 2}}, "20002 neurons; chip default has 16384"},
		{chip.Default(), Spec{Inputs: 10, Steps: 10, DT: 0.001, Hidden: []LayerSpec{{Size: 4, TauMem: 100}}, Readout: ReadoutSpec{Size: 2}}, "too long for the 12-bit decay grid"},
	} {
		sp := c.spec
		if _, err := SnapToChip(&sp, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.cfg.Name, err, c.want)
		}
	}
}

// TestConfigChipSection: a training config that names a chip trains with
// the chip's decays, and one the chip cannot run fails in Spec, before any
// epoch.
func TestConfigChipSection(t *testing.T) {
	base := "[task]\ndataset = \"randman\"\nclasses = 3\nunits = 10\nsamples_per_class = 10\nsteps = 20\n\n[network]\nhidden = [8]\n\n[neuron]\ntau_mem = 0.021\n"
	c, err := ParseConfig("c.toml", base+"\n[chip]\nname = \"loihi\"\n")
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Spec(10, 20, 3)
	if err != nil {
		t.Fatal(err)
	}
	// 21 ms at 2 ms: dv = round(4096·(1 − e^(−2/21))) = 372 realises 21.04 ms
	if got := s.Hidden[0].TauMem * 1000; math.Abs(got-21.0) > 0.1 || got == 21.0 {
		t.Errorf("tau_mem %.6f ms: want the grid's value near 21 ms, not 21 exactly", got)
	}
	c, err = ParseConfig("c.toml", base+"\n[chip]\nname = \"truenorth\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Spec(10, 20, 3); err == nil || !strings.Contains(err.Error(), "multiplicative decay") {
		t.Errorf("truenorth: %v", err)
	}
	if _, err := ParseConfig("c.toml", base+"\n[chip]\nname = \"\"\n"); err == nil || !strings.Contains(err.Error(), "chip.name") {
		t.Errorf("empty chip name: %v", err)
	}
}
