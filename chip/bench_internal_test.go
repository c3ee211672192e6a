package chip

import (
	"testing"
)

// benchCore builds one loaded core of n deterministic neurons with two
// synapse types, driven by bias so that they fire.
func benchProgram(n, synPerAxon int) *Program {
	cp := CoreProgram{Profiles: []Profile{{Du: [4]uint16{80, 40}, Dv: 20, Vth: 56889, Refractory: 50}}}
	for i := 0; i < n; i++ {
		cp.Neurons = append(cp.Neurons, Neuron{BiasMant: 2444, BiasExp: 3, V: int32(i * 997 % 3000000)})
	}
	for a := 0; a < n; a++ {
		var row []Synapse
		for j := 0; j < synPerAxon; j++ {
			row = append(row, Synapse{Neuron: uint32((a*7 + j*13) % n), Type: uint8(j & 1), Weight: int32(45-300*(j&1))/1 + 0})
		}
		for j := range row {
			if row[j].Weight < -255 {
				row[j].Weight = -250
			}
		}
		cp.Axons = append(cp.Axons, Axon{Synapses: row})
	}
	return &Program{Cores: []CoreProgram{cp}}
}

func BenchmarkNeuronUpdate(b *testing.B) {
	cfg := Default()
	const n = 1024
	s, err := Load(cfg, benchProgram(n, 4), Options{Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	c := s.cores[0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.update(s.dp, 0, uint64(i))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/neuron")
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "updates/s")
}
