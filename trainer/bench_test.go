package trainer

import (
	"syscall"
	"testing"

	"github.com/aerie-neuro/aerie/trainer/dataset"
)

// benchTrain measures training throughput (forward + backward + optimizer
// step) on batches of set, reporting samples/s.
func benchTrain(b *testing.B, spec Spec, set *dataset.Set, batch int) {
	m, err := NewModel(spec)
	if err != nil {
		b.Fatal(err)
	}
	m.Init(InitConfig{}, 1)
	tr, err := NewTrainer(m, TrainConfig{Epochs: 1, Batch: batch, Seed: 1, Reg: Regularizer{Strength: 0.1, Threshold: 7}})
	if err != nil {
		b.Fatal(err)
	}
	sz := shardSizeFor(batch)
	eng := newEngine32(m, set.Steps, workers(0), sz, (batch+sz-1)/sz, true)
	idx := permutation(len(set.Samples), 1, 0)[:batch]
	lc := lossCfg{tr.Cfg.Loss, tr.Cfg.Reg}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		eng.run(set, idx, 1, uint64(i), lc, 1/float64(batch))
		clear(tr.grad)
		for s := range eng.grads {
			add(eng.grads[s], tr.grad)
		}
		tr.opt.step(tr.flat, tr.grad, tr.scale, 0.001)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
	// CPU time per sample is what the machine's other load does not change
	// much: samples/s on an idle machine ≈ cores / (cpu-µs/sample).
	b.ReportMetric(float64(cpuTime()-cpu0)/1e3/float64(b.N*batch), "cpu-µs/sample")
}

// BenchmarkTrainRandman: 20 inputs, 128 hidden, 10 readout, 100 steps,
// batch 250, stochastic (sigmoid escape noise, escape surrogate) and
// deterministic (SuperSpike).
func BenchmarkTrainRandman(b *testing.B) {
	cfg := dataset.DefaultRandman()
	cfg.SamplesPerClass = 100
	set, err := dataset.Randman(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, st := range []struct {
		name string
		on   bool
	}{{"stochastic", true}, {"deterministic", false}} {
		b.Run(st.name, func(b *testing.B) { benchTrain(b, randmanSpec(st.on, 128), set, 250) })
	}
}

// BenchmarkTrainMNIST: latency-coded MNIST (784 inputs, 50 steps), 256
// hidden, 10 readout, batch 256. Skipped when the IDX files are not found
// (see dataset.MNISTDir).
func BenchmarkTrainMNIST(b *testing.B) {
	set, _, err := dataset.MNIST(dataset.MNISTConfig{Limit: 2048})
	if err != nil {
		b.Skip(err)
	}
	for _, st := range []struct {
		name string
		on   bool
	}{{"stochastic", true}, {"deterministic", false}} {
		b.Run(st.name, func(b *testing.B) {
			spec := Spec{Inputs: 784, Steps: set.Steps, Hidden: []LayerSpec{{Size: 256}}, Readout: ReadoutSpec{Size: 10}, Stochastic: st.on}
			benchTrain(b, spec, set, 256)
		})
	}
}

// cpuTime is the process's user + system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
