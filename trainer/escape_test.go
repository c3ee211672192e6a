package trainer

import (
	"math"
	"testing"
)

func TestFastFunctions(t *testing.T) {
	for z := -40.0; z <= 40; z += 0.0137 {
		want := 1 / (1 + math.Exp(-z))
		if got := float64(sigmoidFast(float32(z))); math.Abs(got-want) > 1e-6 {
			t.Fatalf("sigmoidFast(%v) = %v, want %v", z, got, want)
		}
		if got, want := fastExp(z), math.Exp(z); math.Abs(got-want) > 2e-7*want {
			t.Fatalf("fastExp(%v) = %v, want %v", z, got, want)
		}
	}
}

// TestPSPEnergy checks ε̂ of this datapath's kernel against the reference's
// value for stork's kernel (0.0020356 s for 20/10 ms at 2 ms) through the
// weight mapping w_here = (1 − λ_m)·w_stork.
func TestPSPEnergy(t *testing.T) {
	got := pspEnergy(0.002, 0.02, 0.01)
	lm := decay(0.002, 0.02)
	stork := got * (1 - lm) * (1 - lm)
	if math.Abs(stork-0.0020356) > 2e-7 {
		t.Errorf("ε̂ = %.6g s, in stork's units %.7g s, want 0.0020356 s", got, stork)
	}
	if math.Abs(got-0.2243) > 5e-4 {
		t.Errorf("ε̂ = %.6g s, want 0.2243 s (package doc)", got)
	}
}
