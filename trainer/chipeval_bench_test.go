package trainer

import (
	"context"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/trainer/dataset"
)

// BenchmarkEvaluateOnChipMNIST: latency-coded MNIST test samples (784
// inputs, 50 steps) through a 784-256-10 network deployed on the default
// chip, one sample per chip.System.Reset, as aerie train eval --chip does
// (parity off, as a deployment would run). The network is initialised, not
// trained: speed depends on the rates, which fluctuation-driven
// initialisation puts near a trained network's. Reports test samples per
// second; the target is 10,000 samples in ≤ 30 s (≥ 333/s).
func BenchmarkEvaluateOnChipMNIST(b *testing.B) {
	_, test, err := dataset.MNIST(dataset.MNISTConfig{Limit: 1000})
	if err != nil {
		b.Skip(err)
	}
	for _, st := range []struct {
		name string
		on   bool
	}{{"stochastic", true}, {"deterministic", false}} {
		b.Run(st.name, func(b *testing.B) {
			spec := Spec{Inputs: 784, Steps: test.Steps, Hidden: []LayerSpec{{Size: 256}}, Readout: ReadoutSpec{Size: 10}, Stochastic: st.on}
			m, err := NewModel(spec)
			if err != nil {
				b.Fatal(err)
			}
			m.Init(InitConfig{NuIn: InputRate(test, 0.002)}, 1)
			net, _, err := Deploy(m, chip.Default(), DeployOptions{Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var rate, hz float64
			for i := 0; i < b.N; i++ {
				res, err := EvaluateOnChip(context.Background(), net, chip.Default(), test, ChipEvalConfig{Seed: 1, Workers: 1})
				if err != nil {
					b.Fatal(err)
				}
				rate += res.SamplesPerS
				hz += res.RatesHz[0]
			}
			b.ReportMetric(rate/float64(b.N), "samples/s")
			b.ReportMetric(hz/float64(b.N), "hidden-Hz")
		})
	}
}
