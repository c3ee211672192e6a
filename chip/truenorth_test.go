package chip

import (
	"errors"
	"strings"
	"testing"
)

// TestStochasticThresholdExact holds the escape table of StochasticThreshold
// to a direct simulation of TrueNorth's masked threshold, fire when
// v ≥ vth + (ρ & M) (v > … for compare "gt"), over every 16-bit random
// number and every distance to threshold around the ramp: draw for draw
// when ρ & M is taken as the top maskBits bits of the chip's draw, and in
// distribution (equal counts over all 65,536 draws) when it is taken as
// the low bits, as the hardware's mask does.
func TestStochasticThresholdExact(t *testing.T) {
	for _, compare := range []string{"ge", "gt"} {
		for _, m := range []int{0, 1, 3, 8, 12} {
			e, err := StochasticThreshold(m, compare)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(e.Table), 1<<m+1; got != want {
				t.Fatalf("mask %d: %d entries, want %d", m, got, want)
			}
			mask := uint32(1)<<m - 1
			fires := func(x int64, r uint32) bool {
				if compare == "ge" {
					return x >= int64(r)
				}
				return x > int64(r)
			}
			for x := int64(-3); x <= int64(1<<m)+3; x++ {
				var nTable, nLow int
				for r := uint32(0); r < 1<<16; r++ {
					table := r < e.prob(x)
					if top := fires(x, r>>(16-m)); table != top {
						t.Fatalf("%s mask %d, v−vth = %d, draw %d: table says %v, masked threshold (top bits) %v", compare, m, x, r, table, top)
					}
					if table {
						nTable++
					}
					if fires(x, r&mask) {
						nLow++
					}
				}
				if nTable != nLow {
					t.Fatalf("%s mask %d, v−vth = %d: table fires on %d of 65536 draws, the low-bit mask on %d", compare, m, x, nTable, nLow)
				}
				// the documented ramp
				want := x + 1
				if compare == "gt" {
					want = x
				}
				want = min(max(want, 0), 1<<m)
				if int64(nTable) != want<<(16-m) {
					t.Fatalf("%s mask %d, v−vth = %d: P(fire)·65536 = %d, want %d", compare, m, x, nTable, want<<(16-m))
				}
			}
		}
	}
	for _, bad := range []struct {
		bits    int
		compare string
	}{{-1, "ge"}, {17, "ge"}, {4, "lt"}} {
		if _, err := StochasticThreshold(bad.bits, bad.compare); err == nil {
			t.Errorf("StochasticThreshold(%d, %q): no error", bad.bits, bad.compare)
		}
	}
}

// TestStochasticThresholdDatapath runs the table through Datapath.Step on
// the truenorth preset (instant current, linear leak, ≥): the neuron fires
// exactly when v ≥ vth + the top mask bits of its draw.
func TestStochasticThresholdDatapath(t *testing.T) {
	cfg := mustPreset(t, "truenorth")
	dp := NewDatapath(cfg)
	const m = 6
	e, err := StochasticThreshold(m, cfg.Neuron.Compare)
	if err != nil {
		t.Fatal(err)
	}
	pr := &Profile{Vth: 500, Escape: e}
	for v := int64(480); v < 600; v++ {
		for r := 0; r < 1<<16; r += 97 {
			var s NeuronState
			in := StepInput{Bias: v, Rand: uint16(r)}
			got := dp.Step(&s, pr, &in)
			want := v >= 500+int64(r>>(16-m))
			if got != want {
				t.Fatalf("v %d, draw %d: fired %v, want %v", v, r, got, want)
			}
		}
	}
}

// truenorthProgram is a core program that keeps TrueNorth's crossbar rules:
// every axon one type and delay, one weight per neuron and axon type, one
// target per neuron.
func truenorthProgram() *Program {
	w := [4][8]int32{}
	for g := range w {
		for j := range w[g] {
			w[g][j] = int32(10*g - 15 + 3*j)
		}
	}
	cp := CoreProgram{Profiles: []Profile{{Vth: 40}}}
	for j := 0; j < 8; j++ {
		cp.Neurons = append(cp.Neurons, Neuron{BiasMant: 3, Out: []AxonRef{{0, uint32(j % 6)}}})
	}
	for a := 0; a < 6; a++ {
		g := a % 4
		ax := Axon{}
		for j := a % 2; j < 8; j += 2 {
			ax.Synapses = append(ax.Synapses, Synapse{Neuron: uint32(j), Type: uint8(g), Delay: uint8(a % 3), Weight: w[g][j]})
		}
		cp.Axons = append(cp.Axons, ax)
	}
	return &Program{Cores: []CoreProgram{cp}}
}

func TestCrossbarRules(t *testing.T) {
	cfg := mustPreset(t, "truenorth")
	if _, err := Load(cfg, truenorthProgram(), Options{}); err != nil {
		t.Fatalf("a program that keeps the crossbar rules: %v", err)
	}
	tests := []struct {
		name string
		edit func(p *Program)
		want string
		rule bool // a *RuleError (else a *ResourceError)
	}{
		{"two types on one axon", func(p *Program) { p.Cores[0].Axons[1].Synapses[2].Type = 3 },
			"core 0: axon 1 synapse 2 type = 3: want 1, the type of the axon's synapse 0", true},
		{"two delays on one axon", func(p *Program) { p.Cores[0].Axons[2].Synapses[1].Delay = 0 },
			"core 0: axon 2 synapse 1 delay = 0: want 2, the delay of the axon's synapse 0", true},
		{"a crosspoint twice", func(p *Program) {
			ax := &p.Cores[0].Axons[0]
			ax.Synapses = append(ax.Synapses, ax.Synapses[0])
		}, "core 0: axon 0 synapse 4 neuron = 0: want a neuron the axon has no other synapse onto", true},
		{"two weights for one axon type", func(p *Program) { p.Cores[0].Axons[4].Synapses[3].Weight++ },
			"core 0: neuron 6 weight for axon type 0 (axon 4 synapse 3) = 4: want 3, its weight from axon 0", true},
		{"two targets", func(p *Program) { p.Cores[0].Neurons[5].Out = append(p.Cores[0].Neurons[5].Out, AxonRef{0, 0}) },
			"core 0: neuron 5 output axons = 2 exceeds 1 (core.max_targets)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := truenorthProgram()
			tt.edit(p)
			_, err := Load(cfg, p, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			var re *RuleError
			var rs *ResourceError
			if tt.rule && !errors.As(err, &re) {
				t.Errorf("%v is not a *RuleError", err)
			}
			if !tt.rule && !errors.As(err, &rs) {
				t.Errorf("%v is not a *ResourceError", err)
			}
		})
	}
	// Without the crossbar option the same programs load.
	free := *cfg
	free.Synapse.Crossbar, free.Core.MaxTargets = "none", 0
	for _, tt := range tests {
		p := truenorthProgram()
		tt.edit(p)
		if _, err := Load(&free, p, Options{}); err != nil {
			t.Errorf("%s, crossbar = \"none\": %v", tt.name, err)
		}
	}
}
