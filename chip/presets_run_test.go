package chip

import (
	"context"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// limitedProgram builds a small random program inside every limit of cfg,
// so each preset's datapath runs end to end: weights obey the preset's sign
// mode (MantissaRange), a binary crossbar gets one type and delay per axon
// and one weight per neuron and axon type, and TrueNorth's stochastic
// profile is its masked threshold (StochasticThreshold).
func limitedProgram(cfg *Config, seed uint64) *Program {
	rng := rand.New(rand.NewPCG(seed, 11))
	cores := min(4, cfg.Cores())
	n := min(32, cfg.Core.Neurons)
	axons := min(32, cfg.Core.InputAxons)
	dp := NewDatapath(cfg)
	wmax := int64(1)<<cfg.Synapse.WeightBits - 1
	biasMax := int64(1)<<(cfg.Neuron.BiasBits-1) - 1
	vth := min(int64(1)<<(cfg.Neuron.VthBits-2)-1, 4*biasMax+4*wmax)
	crossbar := cfg.Synapse.Crossbar == "binary"
	types := cfg.Neuron.SynapseTypes
	// weight draws a mantissa allowed for a synapse of type typ in a row
	// that mixes signs or not
	weight := func(mixed bool, typ int) int32 {
		lo, hi, step := cfg.Synapse.MantissaRange(mixed, typ)
		return lo + step*int32(rng.Int64N(int64(hi-lo)/int64(step)+1))
	}
	p := &Program{Seed: seed, Cores: make([]CoreProgram, cores)}
	for ci := range p.Cores {
		cp := &p.Cores[ci]
		prof := Profile{Vth: int32(vth), Refractory: uint16(min(2, int(dp.refMax)))}
		for k := 0; k < types; k++ {
			prof.Du[k] = uint16(rng.Int64N(int64(dp.decayMax) + 1))
		}
		prof.Dv = uint16(rng.Int64N(int64(dp.decayMax)/8 + 1))
		cp.Profiles = []Profile{prof}
		if cfg.Neuron.Stochastic {
			q := prof
			q.Escape = &Escape{Shift: uint8(max(0, cfg.Neuron.VthBits-8)), Offset: 1, Table: []uint32{1000, 30000, 65536}}
			if crossbar {
				e, err := StochasticThreshold(4, cfg.Neuron.Compare)
				if err != nil {
					panic(err)
				}
				q.Escape = e
			}
			cp.Profiles = append(cp.Profiles, q)
		}
		for i := 0; i < n; i++ {
			cp.Neurons = append(cp.Neurons, Neuron{Profile: uint16(i % len(cp.Profiles)), BiasMant: int32(rng.Int64N(biasMax/2 + 1)),
				BiasExp: uint8(rng.IntN(cfg.Neuron.BiasExpMax + 1))})
		}
		// a crossbar neuron's weight per axon type
		var typeWeight [4][]int32
		for k := 0; k < types; k++ {
			for i := 0; i < n; i++ {
				typeWeight[k] = append(typeWeight[k], weight(false, k))
			}
		}
		for a := 0; a < axons; a++ {
			ax := Axon{WeightExp: int8(cfg.Synapse.WeightExpMin + rng.IntN(cfg.Synapse.WeightExpMax-cfg.Synapse.WeightExpMin+1))}
			mixed := rng.IntN(2) == 0
			if crossbar {
				ax.WeightExp = int8(cfg.Synapse.WeightExpMin)
				typ, delay := rng.IntN(types), uint8(rng.IntN(cfg.Synapse.MaxDelay+1))
				for _, j := range rng.Perm(n)[:4] {
					ax.Synapses = append(ax.Synapses, Synapse{Neuron: uint32(j), Type: uint8(typ), Delay: delay, Weight: typeWeight[typ][j]})
				}
			} else {
				positive := rng.IntN(2) == 0 // the sign of a single-sign row
				for j := 0; j < 4; j++ {
					typ := rng.IntN(types)
					w := weight(mixed, typ)
					if !mixed && cfg.Synapse.Sign == "row" && (w < 0) == positive {
						w = -w
					}
					ax.Synapses = append(ax.Synapses, Synapse{Neuron: uint32(rng.IntN(n)), Type: uint8(typ),
						Delay: uint8(rng.IntN(cfg.Synapse.MaxDelay + 1)), Weight: w})
				}
			}
			cp.Axons = append(cp.Axons, ax)
		}
		if cfg.Core.Generators > 0 {
			cp.Generators = []Generator{{Prob: 20000, Out: []AxonRef{{uint32(ci), 0}}}}
		}
	}
	for ci := range p.Cores {
		for i := range p.Cores[ci].Neurons {
			p.Cores[ci].Neurons[i].Out = []AxonRef{{uint32(rng.IntN(cores)), uint32(rng.IntN(axons))}}
		}
	}
	p.Inputs = []InputPort{{Name: "in", Channels: [][]AxonRef{{{0, 0}}, {{0, 1}}, {{0, 2}}, {{0, 3}}}}}
	return p
}

func TestEveryPresetRuns(t *testing.T) {
	for _, name := range Presets() {
		t.Run(name, func(t *testing.T) {
			cfg := mustPreset(t, name)
			p := limitedProgram(cfg, 3)
			var results [][]Spike
			var stats []Stats
			for _, w := range []int{1, 3} {
				s, err := Load(cfg, p, Options{Workers: w})
				if err != nil {
					t.Fatal(err)
				}
				rec, _ := s.RecordSpikes(nil)
				s.SetInput(periodicInput{})
				if err := s.Run(context.Background(), 300); err != nil {
					t.Fatal(err)
				}
				results = append(results, rec.Spikes)
				stats = append(stats, s.Stats())
			}
			if len(results[0]) == 0 {
				t.Fatal("no spikes")
			}
			if !reflect.DeepEqual(results[0], results[1]) || !reflect.DeepEqual(stats[0], stats[1]) {
				t.Error("results depend on the worker count")
			}
			if stats[0].Cycles == 0 || stats[0].Energy.Total <= 0 {
				t.Errorf("cycles %d, energy %v: want both positive", stats[0].Cycles, stats[0].Energy.Total)
			}
			if cfg.Neuron.Stochastic {
				fired := 0 // spikes of the stochastic profile's neurons (odd slots)
				for _, sp := range results[0] {
					fired += int(sp.Neuron & 1)
				}
				if fired == 0 {
					t.Error("no stochastic neuron fired")
				}
			}
		})
	}
}

// FuzzParseConfig: no chip description, however broken, panics the parser
// or the validator, and whatever parses loads an empty program.
func FuzzParseConfig(f *testing.F) {
	for _, name := range Presets() {
		src, _ := PresetSource(name)
		f.Add(src)
	}
	f.Add("name = 1\n[core\n")
	f.Fuzz(func(t *testing.T, src string) {
		c, err := ParseConfig("fuzz.toml", src)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "chip: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		if c.Cores() > 1<<16 {
			return // valid but too large to load in a fuzz iteration
		}
		if _, err := Load(c, &Program{}, Options{}); err != nil {
			t.Fatalf("valid description cannot load an empty program: %v", err)
		}
	})
}
