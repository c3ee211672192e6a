package chip

import (
	"reflect"
	"slices"
	"testing"
)

// directProgram: two cores of Poisson-driven neurons, one generator per
// neuron into a one-synapse row (delays 0…3, both synapse types, several
// exponents), recurrent synapses within and across cores, plus generators
// that must keep messages: one with two targets, one into a row of two
// synapses, one onto the other core.
func directProgram(n int) *Program {
	p := &Program{Seed: 7}
	for ci := 0; ci < 2; ci++ {
		cp := CoreProgram{Profiles: []Profile{{Du: [4]uint16{400, 200}, Dv: 300, Vth: 3000, Refractory: 3}}}
		for i := 0; i < n; i++ {
			cp.Neurons = append(cp.Neurons, Neuron{NoiseKey: uint32(ci*n + i)})
		}
		for i := 0; i < n; i++ { // recurrent: neuron i's axon on this core
			var row []Synapse
			for j := 0; j < 5; j++ {
				w := 2 * int32(10+(i*7+j)%15)
				if j == 4 {
					w = -60
				}
				row = append(row, Synapse{Neuron: uint32((i*13 + j*7) % n), Type: uint8(j & 1), Weight: w, Delay: uint8(j % 3)})
			}
			cp.Axons = append(cp.Axons, Axon{Synapses: row})
		}
		for i := 0; i < n; i++ { // drive rows, one synapse each
			cp.Axons = append(cp.Axons, Axon{WeightExp: int8(i%3 - 1), Synapses: []Synapse{{Neuron: uint32(i), Type: uint8(i & 1), Weight: int32(40 + i%50), Delay: uint8(i % 4)}}})
			cp.Generators = append(cp.Generators, Generator{Counts: poisson15, NoiseKey: uint32(1000 + ci*n + i), Out: []AxonRef{{uint32(ci), uint32(n + i)}}})
		}
		// generators that keep their messages
		cp.Axons = append(cp.Axons, Axon{Synapses: []Synapse{{Neuron: 0, Weight: 30}, {Neuron: 1, Weight: 30}}})
		two := uint32(len(cp.Axons) - 1)
		cp.Generators = append(cp.Generators,
			Generator{Prob: 20000, NoiseKey: uint32(5000 + ci), Out: []AxonRef{{uint32(ci), uint32(n)}, {uint32(ci), uint32(n + 1)}}},
			Generator{Prob: 20000, NoiseKey: uint32(5100 + ci), Out: []AxonRef{{uint32(ci), two}}},
			Generator{Period: 7, Phase: 2, Out: []AxonRef{{uint32(1 - ci), uint32(n + 2)}}})
		p.Cores = append(p.Cores, cp)
	}
	// neuron i of core 0 also drives core 1
	for i := 0; i < n; i++ {
		p.Cores[0].Neurons[i].Out = []AxonRef{{0, uint32(i)}, {1, uint32(i)}}
		p.Cores[1].Neurons[i].Out = []AxonRef{{1, uint32(i)}}
	}
	return p
}

func runDirect(t *testing.T, direct bool, workers int) resetRun {
	t.Helper()
	useDirectGenerators = direct
	defer func() { useDirectGenerators = true }()
	const n = 60
	p := directProgram(n)
	s, err := Load(Default(), p, Options{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	marked := 0
	for _, c := range s.cores {
		for _, g := range c.gens {
			if g.direct {
				marked++
			}
		}
	}
	if want := map[bool]int{true: 2 * n, false: 0}[direct]; marked != want {
		t.Fatalf("direct=%v: %d direct generators, want %d", direct, marked, want)
	}
	// the Reset drops pending direct spikes as it drops the outbox's messages
	return runResetRun(t, s, p, nil, 700, 9)
}

// TestDirectGenerators: adding a local one-synapse generator's spikes
// straight into the accumulator gives the spikes, states, counts, cycles
// and energy of sending them as messages.
func TestDirectGenerators(t *testing.T) {
	for _, w := range []int{1, 2} {
		msg, dir := runDirect(t, false, w), runDirect(t, true, w)
		if len(msg.spikes) == 0 {
			t.Fatal("no spikes")
		}
		if !slices.Equal(msg.spikes, dir.spikes) {
			t.Errorf("workers %d: %d spikes differ from the message path's %d", w, len(dir.spikes), len(msg.spikes))
		}
		if !slices.Equal(msg.states, dir.states) {
			t.Errorf("workers %d: neuron states differ", w)
		}
		if !reflect.DeepEqual(msg.stats, dir.stats) {
			t.Errorf("workers %d: stats differ:\nmessages %+v\ndirect   %+v", w, msg.stats, dir.stats)
		}
	}
}
