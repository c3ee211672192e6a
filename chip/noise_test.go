package chip

import (
	"math"
	"testing"
)

func TestNoiseFrozen(t *testing.T) {
	// Frozen values: images, the trainer's integer evaluation and every
	// recorded stochastic run depend on these draws, so a change here is a
	// change of the noise contract (noise.go) and must be deliberate.
	got := []uint16{Rand16(1, 0, 0), Rand16(1, 0, 1), Rand16(1, 7, 11), Rand16(2, 7, 11), Rand16(0, 0, 0)}
	for i := range got {
		if got[i] != golden16[i] {
			t.Errorf("draw %d = %d, want %d", i, got[i], golden16[i])
		}
	}
	if Noise(0, 0, 0) == 0 {
		t.Error("Noise(0, 0, 0) = 0: the all-zero input reached the mixer's fixed point")
	}
}

var golden16 = [5]uint16{27749, 37977, 42000, 43184, 57685}

func TestNoiseUniformAndIndependent(t *testing.T) {
	// mean and lag-1 correlation of many draws over keys and ticks
	const n = 200000
	var sum, prod float64
	prev := 0.0
	for i := 0; i < n; i++ {
		x := float64(Rand16(9, uint32(i%13), uint64(i/13)))/65536 - 0.5
		sum += x
		prod += x * prev
		prev = x
	}
	if m := sum / n; math.Abs(m) > 0.003 {
		t.Errorf("mean draw %.4f off centre, want |m| ≤ 0.003", m)
	}
	if c := prod / n / (1.0 / 12); math.Abs(c) > 0.01 {
		t.Errorf("lag-1 correlation %.4f, want |c| ≤ 0.01", c)
	}
	// neighbouring keys at one tick are not correlated either
	var kprod float64
	for k := uint32(0); k < n; k++ {
		a := float64(Rand16(3, k, 5))/65536 - 0.5
		b := float64(Rand16(3, k+1, 5))/65536 - 0.5
		kprod += a * b
	}
	if c := kprod / n / (1.0 / 12); math.Abs(c) > 0.01 {
		t.Errorf("neighbouring-key correlation %.4f, want |c| ≤ 0.01", c)
	}
}
