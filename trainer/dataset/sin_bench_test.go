package dataset

import (
	"math"
	"math/rand/v2"
	"testing"
)

var sinSink float64

func sinInputs() (amp, freq, phase []float64) {
	rng := rand.New(rand.NewPCG(1, 1))
	amp, freq, phase = make([]float64, 999), make([]float64, 999), make([]float64, 999)
	for f := range amp {
		amp[f], freq[f], phase[f] = rng.Float64(), float64(f+1)*rng.Float64(), rng.Float64()
	}
	return
}

func BenchmarkSumSin(b *testing.B) {
	amp, freq, phase := sinInputs()
	for b.Loop() {
		sinSink += sumSin(amp, freq, phase, 0.3)
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/999, "ns/sine")
}

func BenchmarkMathSin(b *testing.B) {
	amp, freq, phase := sinInputs()
	for b.Loop() {
		s := 0.0
		for f, a := range amp {
			s += a * math.Sin(2*math.Pi*(freq[f]*0.3+phase[f]))
		}
		sinSink += s
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/999, "ns/sine")
}
