package trainer

import (
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
	eng := newEngine32(m, set.Steps, workers(0), (batch+shardSize-1)/shardSize, true)
	idx := permutation(len(set.Samples), 1, 0)[:batch]
	lc := lossCfg{tr.Cfg.Loss, tr.Cfg.Reg}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		eng.run(set, idx, 1, uint64(i), lc, 1/float64(batch))
		clear(tr.grad)
		for s := range eng.grads {
			for j, g := range eng.grads[s] {
				tr.grad[j] += g
			}
		}
		tr.opt.step(tr.flat, tr.grad, tr.scale, 0.001)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
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
