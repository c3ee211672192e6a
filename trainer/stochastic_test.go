package trainer

import (
	"math"
	"testing"

	"github.com/aerie-neuro/aerie/trainer/dataset"
)

// TestSingleNeuronMonteCarlo checks the claim the method rests on: for one
// stochastic neuron with escape noise f, the derivative of the expected
// output equals the surrogate gradient with ψ = f′ (Gygax & Zenke 2025,
// section 3). The expectation is estimated by sampling the engine itself
// (common random numbers at w ± h), the surrogate gradient is BPTT's.
func TestSingleNeuronMonteCarlo(t *testing.T) {
	for _, esc := range []Escape{{Function: "sigmoid", Beta: 10}, {Function: "exponential", P0: 0.3, DeltaU: 0.4}} {
		for _, w0 := range []float64{0.8, 1.0, 1.15} {
			m, err := NewModel(Spec{Inputs: 2, Steps: 1, Hidden: []LayerSpec{{Size: 1}}, Readout: ReadoutSpec{Size: 1},
				Stochastic: true, Escape: esc})
			if err != nil {
				t.Fatal(err)
			}
			// two inputs fire at step 0; v[0] = w_a + w_b.
			m.Params[0].Data[0], m.Params[0].Data[1] = float32(w0-0.3), 0.3
			s := dataset.Sample{Events: []dataset.Event{{Step: 0, Unit: 0}, {Step: 0, Unit: 1}}}
			e := newF64(m, 1, false)
			// surrogate gradient of S[0] with respect to w_a
			g := make([][]float64, len(e.data))
			for i := range g {
				g[i] = make([]float64, len(e.data[i]))
			}
			gp := bind(&m.Spec, g)
			e.p.prepare()
			e.w.forward(s.Events, 0)
			clear(e.w.gOut)
			e.w.backward(s.Events, &gp, []float64{1})
			sg := g[0][0]
			// Monte-Carlo derivative of E[S[0]]
			const n, h = 200000, 0.02
			mean := func(w float64) float64 {
				e.data[0][0] = w - 0.3
				c := 0
				for k := 0; k < n; k++ {
					e.w.forward(s.Events, noiseKey(5, 0, uint64(k)))
					c += len(e.w.ls[0].idx)
				}
				return float64(c) / n
			}
			hi, lo := mean(w0+h), mean(w0-h)
			mc := (hi - lo) / (2 * h)
			// standard error of the difference of Bernoulli means under common
			// random numbers: the outcomes differ only when the draw falls
			// between the two probabilities.
			se := math.Sqrt(math.Max(hi-lo, 1.0/n)/n) / (2 * h)
			fn := newSpikeFn(&m.Spec)
			bias := math.Abs((fn.prob(w0+h-1)-fn.prob(w0-h-1))/(2*h) - fn.probDeriv(fn.prob(w0-1)))
			if d := math.Abs(mc - sg); d > 4*se+bias {
				t.Errorf("%s escape, w = %v: Monte-Carlo dE[S]/dw = %.4f ± %.4f, surrogate gradient %.4f", esc.Function, w0, mc, se, sg)
			}
		}
	}
}

// TestToySignFlip builds the toy sigmoid network of the reference
// (seed-method §11) out of engine layers and checks the values and the sign
// flip: g = σ_β(w·x), h_i = σ_β(v_i·g), y = σ_β(u1·h1 + u2·h2), β = 100,
// with x = 1, v = (0.05, 0.1), u = (1, −1). Each σ_β node is a graded layer
// with no memory (τ → 0, λ = 0) and bias = θ, so its output is
// f(input) = σ_β(input); the layers' one-step delays put y at step 2.
func TestToySignFlip(t *testing.T) {
	cases := []struct {
		w, y, true_, sg15, sg30 float64
	}{
		{-0.05, 0.302365, -17.495, -2.2890, -12.386},
		{0.00, 0.000990, +0.70250, -1.5842, -2.6893},
		{0.05, 0.334690, +0.50140, -0.75096, +2.8932},
		{0.10, 0.339641, +3.3389e-3, -0.50468, +0.88750},
	}
	grad := func(w float64, surr Surrogate) (float64, float64) {
		const tiny = 1e-9
		layer := func(n int) LayerSpec {
			return LayerSpec{Size: n, TauMem: tiny, TauSyn: tiny, Theta: 1, Bias: true, Reset: resetNone}
		}
		m, err := NewModel(Spec{Inputs: 1, Steps: 3, Hidden: []LayerSpec{layer(1), layer(2), layer(1)},
			Readout: ReadoutSpec{Size: 1}, Stochastic: true, Escape: Escape{Beta: 100}, Surrogate: surr})
		if err != nil {
			t.Fatal(err)
		}
		set := map[string][]float32{"h0.w0": {float32(w)}, "h0.b": {1}, "h1.w0": {0.05, 0.1}, "h1.b": {1, 1},
			"h2.w0": {1, -1}, "h2.b": {1}}
		for i, p := range m.Params {
			copy(m.Params[i].Data, set[p.Name])
		}
		e := newF64(m, 3, true)
		e.data[0][0] = w // exact float64 w
		g := make([][]float64, len(e.data))
		for i := range g {
			g[i] = make([]float64, len(e.data[i]))
		}
		gp := bind(&m.Spec, g)
		s := dataset.Sample{Events: []dataset.Event{{Step: 0, Unit: 0}}}
		e.p.prepare()
		e.w.forward(s.Events, 0)
		clear(e.w.gOut)
		// ∂(Σ_t y[t])/∂w = ∂y[2]/∂w: y[0] and y[1] do not depend on w.
		e.w.backward(s.Events, &gp, []float64{0, 0, 1})
		st := &e.w.ls[2]
		return float64(st.val[st.off[2]]), g[0][0]
	}
	for _, c := range cases {
		y, tg := grad(c.w, Surrogate{Function: "escape"})
		_, g15 := grad(c.w, Surrogate{Function: "sigmoid", Beta: 15})
		_, g30 := grad(c.w, Surrogate{Function: "sigmoid", Beta: 30})
		for _, v := range []struct {
			name      string
			got, want float64
		}{{"y", y, c.y}, {"true dy/dw", tg, c.true_}, {"SG β=15", g15, c.sg15}, {"SG β=30", g30, c.sg30}} {
			// the reference prints five significant digits
			if math.Abs(v.got-v.want) > 5e-5*math.Abs(v.want)+1e-6 {
				t.Errorf("w = %v: %s = %.6g, want %.6g", c.w, v.name, v.got, v.want)
			}
		}
		if c.w >= 0 && (tg > 0) == (g15 > 0) {
			t.Errorf("w = %v: no sign flip: true %.4g, SG β=15 %.4g", c.w, tg, g15)
		}
	}
}
