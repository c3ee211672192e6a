package dataset

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSumSin(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 100000 {
		// Arguments as Randman makes them: f·x·B + P, f < 1000.
		tt := rng.Float64()
		if i%2 == 1 {
			tt = 1000*rng.Float64()*rng.Float64() + rng.Float64()
		}
		got := sumSin([]float64{1}, []float64{tt}, []float64{0}, 1)
		// Reference: reduce to whole turns exactly (t − round(t) is exact),
		// so math.Sin sees an argument in [−π, π] and no large rounding.
		want := math.Sin(2 * math.Pi * (tt - math.Round(tt)))
		const tol = 1e-15
		if math.Abs(got-want) > tol {
			t.Fatalf("sin(2π·%v) = %v, want %v (±%g)", tt, got, want, tol)
		}
	}
	// Exact points.
	for _, c := range []struct{ t, want float64 }{{0, 0}, {0.25, 1}, {0.5, 0}, {0.75, -1}, {1, 0}, {123.25, 1}, {1.0 / 2048, math.Sin(math.Pi / 1024)}} {
		if got := sumSin([]float64{1}, []float64{c.t}, []float64{0}, 1); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("sin(2π·%v) = %v, want %v", c.t, got, c.want)
		}
	}
}

var sinSink float64

func sinInputs() (amp, freq, phase []float64) {
	rng := rand.New(rand.NewPCG(1, 1))
	amp, freq, phase = make([]float64, 999), make([]float64, 999), make([]float64, 999)
	for f := range amp {
		amp[f], freq[f], phase[f] = rng.Float64(), float64(f+1)*rng.Float64(), rng.Float64()
	}
	return
}

// BenchmarkSumSin and BenchmarkMathSin compare the table sine of Randman
// with math.Sin on Randman-like arguments (999 frequencies, one unit).
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
