package chip

import (
	"context"
	"encoding/binary"
	"testing"
)

// programFromBytes builds a small program whose every field comes from the
// fuzzer's bytes, out-of-range values included.
func programFromBytes(b []byte) *Program {
	next := func() uint32 {
		if len(b) < 4 {
			b = nil
			return 0
		}
		v := binary.LittleEndian.Uint32(b)
		b = b[4:]
		return v
	}
	p := &Program{Seed: uint64(next())}
	cores := int(next() % 5)
	p.Cores = make([]CoreProgram, cores)
	for ci := range p.Cores {
		cp := &p.Cores[ci]
		for i := int(next() % 4); i > 0; i-- {
			pr := Profile{Du: [4]uint16{uint16(next()), uint16(next())}, Dv: uint16(next()), Vth: int32(next()), Refractory: uint16(next())}
			if next()%3 == 0 {
				n := int(next() % 70)
				pr.Escape = &Escape{Shift: uint8(next()), Offset: int32(next()), Table: make([]uint32, n)}
				for j := range pr.Escape.Table {
					pr.Escape.Table[j] = next() % 70000
				}
			}
			cp.Profiles = append(cp.Profiles, pr)
		}
		for i := int(next() % 40); i > 0; i-- {
			nr := Neuron{Profile: uint16(next() % 5), BiasMant: int32(next()), BiasExp: uint8(next()), V: int32(next())}
			for k := int(next() % 3); k > 0; k-- {
				nr.Out = append(nr.Out, AxonRef{next() % 6, next() % 40})
			}
			cp.Neurons = append(cp.Neurons, nr)
		}
		for a := int(next() % 40); a > 0; a-- {
			ax := Axon{WeightExp: int8(next())}
			for k := int(next() % 6); k > 0; k-- {
				ax.Synapses = append(ax.Synapses, Synapse{Neuron: next() % 45, Type: uint8(next() % 3), Delay: uint8(next() % 70), Weight: int32(next()%600) - 300})
			}
			cp.Axons = append(cp.Axons, ax)
		}
		for g := int(next() % 3); g > 0; g-- {
			cp.Generators = append(cp.Generators, Generator{Seed: uint64(next()), Prob: next() % 70000, Period: next() % 5, Phase: next() % 5,
				Out: []AxonRef{{next() % 6, next() % 40}}})
		}
	}
	if next()%2 == 0 {
		p.Inputs = []InputPort{{Name: "in", Channels: [][]AxonRef{{{next() % 6, next() % 40}}}}}
	}
	if next()%2 == 0 {
		p.Outputs = []OutputPort{{Name: "out", Neurons: []NeuronRef{{next() % 6, next() % 45}, {next() % 6, next() % 45}}}}
	}
	return p
}

// FuzzProgram: no program, however malformed, panics Check, Load or Run;
// whatever loads runs deterministically on 1 and 3 workers.
func FuzzProgram(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 64))
	seed := make([]byte, 2048)
	for i := range seed {
		seed[i] = byte(i*7 + 3)
	}
	f.Add(seed)
	cfg := Default()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := programFromBytes(b)
		var spikes [2]int
		for i, w := range []int{1, 3} {
			s, err := Load(cfg, p, Options{Workers: w})
			if err != nil {
				return // rejected, with an error: fine
			}
			rec, _ := s.RecordSpikes(nil)
			s.SetInput(periodicInput{})
			if err := s.Run(context.Background(), 40); err != nil {
				t.Fatalf("run: %v", err)
			}
			spikes[i] = len(rec.Spikes)
		}
		if spikes[0] != spikes[1] {
			t.Fatalf("%d spikes on 1 worker, %d on 3", spikes[0], spikes[1])
		}
	})
}
