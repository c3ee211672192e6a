package firmware

import (
	"fmt"
	"sort"

	"github.com/aerie-neuro/aerie/chip"
)

// Network is a deployable network with integer parameters.
type Network struct {
	Seed        uint64
	Populations []Population
	Projections []Projection
	// Generators are on-chip spike sources, placed on the first core of the
	// population they target most (see Generator).
	Generators []Generator
}

// Population is a group of neurons sharing one profile.
type Population struct {
	Name     string
	Size     int
	Profile  chip.Profile
	BiasMant int32
	BiasExp  uint8
	// V0 holds initial membranes (len Size), or nil for zeros.
	V0 []int32
}

// Projection is a set of connections from population Pre to population Post.
type Projection struct {
	Pre, Post int // population indices
	Type      uint8
	WeightExp int8
	Conns     []Conn
}

// Conn is one synapse of a projection, between neuron Pre of the source and
// neuron Post of the target population.
type Conn struct {
	Pre, Post uint32
	Weight    int32
	Delay     uint8
}

// Generator is a spike source with its own targets.
type Generator struct {
	Seed                uint64 // see chip.Generator
	Prob, Period, Phase uint32
	Post                int // target population
	Type                uint8
	WeightExp           int8
	Targets             []Conn // Pre is ignored
}

// Placement says where a population's neurons went.
type Placement struct {
	// Neurons[p][i] is the location of neuron i of population p.
	Neurons [][]chip.NeuronRef
}

type axonKey struct {
	srcCore, srcNeuron uint32 // srcNeuron = chip.GeneratorID(g) for generators
	dstCore            uint32
	exp                int8
}

// Compile places net on the chip described by cfg and returns the program
// with its placement. It fails with the chip's resource errors when the
// network does not fit.
func Compile(net *Network, cfg *chip.Config) (*chip.Program, *Placement, error) {
	total := 0
	for i, p := range net.Populations {
		if p.Size < 0 || (p.V0 != nil && len(p.V0) != p.Size) {
			return nil, nil, fmt.Errorf("firmware: population %d (%s): size %d, %d initial membranes", i, p.Name, p.Size, len(p.V0))
		}
		total += p.Size
	}
	ncores := cfg.Cores()
	per := (total + ncores - 1) / ncores
	per = max(1, min(per, cfg.Core.Neurons))
	used := (total + per - 1) / per
	if used > ncores {
		return nil, nil, fmt.Errorf("firmware: %d neurons need %d cores of %d neurons; %s has %d", total, used, per, cfg.Name, ncores)
	}
	prog := &chip.Program{Seed: net.Seed, Cores: make([]chip.CoreProgram, used)}
	pl := &Placement{Neurons: make([][]chip.NeuronRef, len(net.Populations))}
	profileOf := map[[2]int]uint16{} // (core, population) → profile
	core, slot := 0, 0
	for pi, p := range net.Populations {
		pl.Neurons[pi] = make([]chip.NeuronRef, p.Size)
		for i := 0; i < p.Size; i++ {
			if slot == per {
				core, slot = core+1, 0
			}
			cp := &prog.Cores[core]
			key := [2]int{core, pi}
			prof, ok := profileOf[key]
			if !ok {
				prof = uint16(len(cp.Profiles))
				profileOf[key] = prof
				cp.Profiles = append(cp.Profiles, p.Profile)
			}
			nr := chip.Neuron{Profile: prof, BiasMant: p.BiasMant, BiasExp: p.BiasExp}
			if p.V0 != nil {
				nr.V = p.V0[i]
			}
			cp.Neurons = append(cp.Neurons, nr)
			pl.Neurons[pi][i] = chip.NeuronRef{Core: uint32(core), Neuron: uint32(slot)}
			slot++
		}
	}

	// Gather synapses per axon key, then number axons in a fixed order.
	rows := map[axonKey][]chip.Synapse{}
	for j, pr := range net.Projections {
		if pr.Pre < 0 || pr.Pre >= len(net.Populations) || pr.Post < 0 || pr.Post >= len(net.Populations) {
			return nil, nil, fmt.Errorf("firmware: projection %d: populations %d → %d out of range", j, pr.Pre, pr.Post)
		}
		pre, post := pl.Neurons[pr.Pre], pl.Neurons[pr.Post]
		for ci, c := range pr.Conns {
			if int(c.Pre) >= len(pre) || int(c.Post) >= len(post) {
				return nil, nil, fmt.Errorf("firmware: projection %d connection %d: neuron %d → %d out of range (%d → %d neurons)", j, ci, c.Pre, c.Post, len(pre), len(post))
			}
			s, d := pre[c.Pre], post[c.Post]
			k := axonKey{s.Core, s.Neuron, d.Core, pr.WeightExp}
			rows[k] = append(rows[k], chip.Synapse{Neuron: d.Neuron, Type: pr.Type, Delay: c.Delay, Weight: c.Weight})
		}
	}
	for g, gen := range net.Generators {
		if gen.Post < 0 || gen.Post >= len(net.Populations) {
			return nil, nil, fmt.Errorf("firmware: generator %d: population %d out of range", g, gen.Post)
		}
		post := pl.Neurons[gen.Post]
		if len(post) == 0 {
			continue
		}
		home := post[0].Core
		for ci, c := range gen.Targets {
			if int(c.Post) >= len(post) {
				return nil, nil, fmt.Errorf("firmware: generator %d target %d: neuron %d out of range", g, ci, c.Post)
			}
			d := post[c.Post]
			k := axonKey{home, chip.GeneratorID(g), d.Core, gen.WeightExp}
			rows[k] = append(rows[k], chip.Synapse{Neuron: d.Neuron, Type: gen.Type, Delay: c.Delay, Weight: c.Weight})
		}
	}
	keys := make([]axonKey, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		x, y := keys[a], keys[b]
		if x.srcCore != y.srcCore {
			return x.srcCore < y.srcCore
		}
		if x.srcNeuron != y.srcNeuron {
			return x.srcNeuron < y.srcNeuron
		}
		if x.dstCore != y.dstCore {
			return x.dstCore < y.dstCore
		}
		return x.exp < y.exp
	})
	genOf := map[[2]uint32]int{} // (core, generator id) → index in that core's generators
	for _, k := range keys {
		dst := &prog.Cores[k.dstCore]
		ax := uint32(len(dst.Axons))
		syn := rows[k]
		sort.Slice(syn, func(a, b int) bool { return syn[a].Neuron < syn[b].Neuron })
		dst.Axons = append(dst.Axons, chip.Axon{WeightExp: k.exp, Synapses: syn})
		ref := chip.AxonRef{Core: k.dstCore, Axon: ax}
		src := &prog.Cores[k.srcCore]
		if k.srcNeuron&(1<<31) == 0 {
			src.Neurons[k.srcNeuron].Out = append(src.Neurons[k.srcNeuron].Out, ref)
			continue
		}
		g := int(k.srcNeuron &^ (1 << 31))
		id := [2]uint32{k.srcCore, uint32(g)}
		gi, ok := genOf[id]
		if !ok {
			gen := net.Generators[g]
			gi = len(src.Generators)
			genOf[id] = gi
			src.Generators = append(src.Generators, chip.Generator{Seed: gen.Seed, Prob: gen.Prob, Period: gen.Period, Phase: gen.Phase})
		}
		src.Generators[gi].Out = append(src.Generators[gi].Out, ref)
	}
	if err := prog.Check(cfg); err != nil {
		return nil, nil, fmt.Errorf("firmware: network does not fit %s: %w", cfg.Name, err)
	}
	return prog, pl, nil
}
