package trainer

import (
	"math"
	"slices"
	"testing"

	"github.com/aerie-neuro/aerie/trainer/dataset"
)

// TestDatapathOrder runs a hand-computed case through the float32 engine
// to pin the chip's update order: an input event of step t enters layer 0
// at t, v takes the new u of the same step, a spike at t reaches the next
// layer at t + 1, reset to zero leaves u alone.
func TestDatapathOrder(t *testing.T) {
	half := 0.002 / math.Ln2 // τ with λ = exp(−dt/τ) = 0.5
	for _, reset := range []Reset{ResetZero, ResetSubtract} {
		m, err := NewModel(Spec{Inputs: 1, Steps: 6, DT: 0.002,
			Hidden:  []LayerSpec{{Size: 1, TauMem: half, TauSyn: half, Theta: 1, Reset: reset}, {Size: 1, TauMem: half, TauSyn: half, Theta: 1}},
			Readout: ReadoutSpec{Size: 1, TauMem: half, TauSyn: half}})
		if err != nil {
			t.Fatal(err)
		}
		m.Params[0].Data[0] = 0.8 // input → h0
		m.Params[1].Data[0] = 2   // h0 → h1
		m.Params[2].Data[0] = 1   // h1 → readout
		eng := newEngine32(m, 6, 1, 1, 1, false)
		eng.params.prepare()
		w := eng.works[0]
		w.forward([]dataset.Event{{Step: 0, Unit: 0}, {Step: 1, Unit: 0}}, 0)
		// h0: t0 u .8 v .8; t1 u 1.2 v 1.6 → spike, v = 0 (zero) or .6
		// (subtract); t2 u .6, v .6 (zero) or .5·.6 + .6 = .9 (subtract).
		spikes := func(l int) []int {
			var out []int
			st := &w.ls[l]
			for tt := 0; tt < 6; tt++ {
				if st.off[tt+1] > st.off[tt] {
					out = append(out, tt)
				}
			}
			return out
		}
		want0 := []int{1}
		if got := spikes(0); !slices.Equal(got, want0) {
			t.Errorf("%v: layer 0 spikes at %v, want %v", reset, got, want0)
		}
		// h1 gets h0's spike of t = 1 at t = 2: u = v = 2 → spike at 2.
		want1 := []int{2}
		if got := spikes(1); !slices.Equal(got, want1) {
			t.Errorf("%v: layer 1 spikes at %v, want %v", reset, got, want1)
		}
		// ψ = SuperSpike(v − θ) at t2 shows the membrane after the reset
		v2 := 0.6
		if reset == ResetSubtract {
			v2 = 0.9
		}
		d := 10*math.Abs(v2-1) + 1
		if got, want := float64(w.ls[0].psi[2]), 1/(d*d); math.Abs(got-want) > 1e-5 {
			t.Errorf("%v: ψ at step 2 = %v, want %v (v = %v)", reset, got, want, v2)
		}
		if reset == ResetZero {
			// readout: h1's spike at 2 arrives at 3: O = 0, 0, 0, 1, 0.5+0.5, 0.5+0.25
			want := []float32{0, 0, 0, 1, 1, 0.75}
			for tt, x := range want {
				if got := w.out[tt]; math.Abs(float64(got-x)) > 1e-6 {
					t.Errorf("readout O[%d] = %v, want %v", tt, got, x)
				}
			}
		}
	}
}
