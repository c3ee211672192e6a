package trainer

import (
	"math"
	"testing"
)

// TestOptimizersConverge minimises Σ (x − c)² with each optimizer and
// schedule.
func TestOptimizersConverge(t *testing.T) {
	c := []float32{0.3, -0.2, 0.05, 0}
	for _, oc := range []OptimizerConfig{{Kind: "smorms3", LR: 0.01}, {Kind: "adam", LR: 0.01}, {Kind: "adam", LR: 0.02, Schedule: "cosine"}} {
		oc.Defaults()
		if err := oc.Validate(); err != nil {
			t.Fatal(err)
		}
		x := make([]float32, len(c))
		g := make([]float32, len(c))
		scale := []float32{1, 1, 1, 1}
		o := newOptimizer(oc, len(x))
		const steps = 2000
		for s := 0; s < steps; s++ {
			for i := range x {
				g[i] = 2 * (x[i] - c[i])
			}
			o.step(x, g, scale, oc.lrAt(s/100, steps/100))
		}
		for i := range x {
			if math.Abs(float64(x[i]-c[i])) > 0.02 {
				t.Errorf("%s/%s: x[%d] = %v, want %v", oc.Kind, oc.Schedule, i, x[i], c[i])
			}
		}
	}
}

func TestSchedules(t *testing.T) {
	c := OptimizerConfig{LR: 1, Schedule: "cosine", MinFactor: 0.1}
	if c.lrAt(0, 11) != 1 || math.Abs(c.lrAt(10, 11)-0.1) > 1e-12 || math.Abs(c.lrAt(5, 11)-0.55) > 1e-12 {
		t.Errorf("cosine: %v %v %v", c.lrAt(0, 11), c.lrAt(5, 11), c.lrAt(10, 11))
	}
	c = OptimizerConfig{LR: 1, Schedule: "step", Gamma: 0.5, StepEpochs: 3}
	if c.lrAt(2, 10) != 1 || c.lrAt(3, 10) != 0.5 || c.lrAt(6, 10) != 0.25 {
		t.Errorf("step: %v %v %v", c.lrAt(2, 10), c.lrAt(3, 10), c.lrAt(6, 10))
	}
}
