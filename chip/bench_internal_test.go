package chip

import (
	"testing"
)

// benchProgram builds a one-core program of n deterministic neurons with two
// synapse types, driven by bias so that they fire.
func benchProgram(n, synPerAxon int) *Program {
	cp := CoreProgram{Profiles: []Profile{{Du: [4]uint16{80, 40}, Dv: 20, Vth: 56889, Refractory: 50}}}
	for i := 0; i < n; i++ {
		cp.Neurons = append(cp.Neurons, Neuron{BiasMant: 2444, BiasExp: 3, V: int32(i * 997 % 3000000)})
	}
	for a := 0; a < n; a++ {
		var row []Synapse
		for j := 0; j < synPerAxon; j++ {
			w := int32(46) // CUBA's excitatory and inhibitory weights, alternating (even: a mixed-sign Loihi row)
			if j&1 == 1 {
				w = -250
			}
			row = append(row, Synapse{Neuron: uint32((a*7 + j*13) % n), Type: uint8(j & 1), Weight: w})
		}
		cp.Axons = append(cp.Axons, Axon{Synapses: row})
	}
	return &Program{Cores: []CoreProgram{cp}}
}

// BenchmarkNeuronUpdate measures the neuron datapath of one core of 1024
// neurons (the default chip), with each kernel this CPU has: AVX-512, AVX2
// and the scalar loop.
func BenchmarkNeuronUpdate(b *testing.B) {
	for _, k := range cpuKernels() {
		b.Run(k.String(), func(b *testing.B) {
			loihiKernel = k
			defer func() { loihiKernel = bestLoihiKernel }()
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
		})
	}
}

// BenchmarkDelivery measures synaptic delivery on one core whose targets
// stay in cache: rows of 64 synapses into 1024 neurons × 2 types, with
// delay 0 (one accumulator slot) and with delays up to 15 (16 slots).
func BenchmarkDelivery(b *testing.B) {
	for _, maxDelay := range []int{0, 15} {
		b.Run(map[int]string{0: "delay=0", 15: "delay=0-15"}[maxDelay], func(b *testing.B) {
			cfg := Default()
			p := benchProgram(1024, 64)
			for a := range p.Cores[0].Axons {
				for j := range p.Cores[0].Axons[a].Synapses {
					p.Cores[0].Axons[a].Synapses[j].Delay = uint8((a + j) % (maxDelay + 1))
				}
			}
			p.Cores[0].Axons = p.Cores[0].Axons[:400]
			s, err := Load(cfg, p, Options{Workers: 1})
			if err != nil {
				b.Fatal(err)
			}
			c := s.cores[0]
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.deliverRow(c.axons[i%400], uint64(i>>10))
			}
			b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/event")
		})
	}
}

// clockChain runs n iterations of three dependent single-cycle operations
// (shift, xor, add): 3n cycles, whatever the core's width.
//
//go:noinline
func clockChain(n int) uint64 {
	x := uint64(1)
	for i := 0; i < n; i++ {
		x = (x>>1 ^ uint64(i)) + x
	}
	return x
}

var clockSink uint64

// BenchmarkClock measures the core's clock from a chain of dependent
// single-cycle operations: the frequency that docs/kernels.md's bound of
// the vector kernels uses (512-bit code runs at this clock or below, which
// only lowers the bound).
func BenchmarkClock(b *testing.B) {
	const n = 1 << 20
	for i := 0; i < b.N; i++ {
		clockSink += clockChain(n)
	}
	b.ReportMetric(3*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GHz")
}
