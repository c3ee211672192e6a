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
