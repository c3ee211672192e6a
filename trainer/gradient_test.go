package trainer

import (
	"fmt"
	"math"
	"testing"

	"github.com/aerie-neuro/aerie/trainer/dataset"
)

// gradTol is the relative error allowed between BPTT and central finite
// differences in float64 (see the stencil below for the error budget).
const gradTol = 1e-6

// randomSample draws a sorted raster with about density·units·steps events.
func randomSample(units, steps int, density float64, label int, seed uint64) dataset.Sample {
	s := dataset.Sample{Label: label}
	rng := newNormal(seed)
	for t := 0; t < steps; t++ {
		for u := 0; u < units; u++ {
			if rng.uniform() < density {
				s.Events = append(s.Events, dataset.Event{Step: int32(t), Unit: int32(u)})
			}
		}
	}
	return s
}

// f64 is a float64 copy of a model's parameters with an engine on them.
type f64 struct {
	data [][]float64
	p    netParams[float64]
	w    *work[float64]
}

func newF64(m *Model, T int, graded bool) *f64 {
	e := &f64{}
	for _, t := range m.Params {
		d := make([]float64, len(t.Data))
		for i, x := range t.Data {
			d[i] = float64(x)
		}
		e.data = append(e.data, d)
	}
	e.p = bind(&m.Spec, e.data)
	e.w = newWork(&m.Spec, &e.p, T)
	e.w.graded = graded
	return e
}

func (e *f64) loss(s *dataset.Sample, lc lossCfg, key uint64) float64 {
	sc := make([]float64, 4*e.p.roN+len(e.p.layers))
	e.p.prepare()
	l, _ := e.w.sampleGrad(s, key, lc, 1, nil, sc)
	return l
}

func (e *f64) grad(m *Model, s *dataset.Sample, lc lossCfg, key uint64) (float64, [][]float64) {
	g := make([][]float64, len(e.data))
	for i := range g {
		g[i] = make([]float64, len(e.data[i]))
	}
	gp := bind(&m.Spec, g)
	sc := make([]float64, 4*e.p.roN+len(e.p.layers))
	e.p.prepare()
	l, _ := e.w.sampleGrad(s, key, lc, 1, &gp, sc)
	return l, g
}

// TestGradientFiniteDifference checks BPTT against central differences on
// networks whose spikes are replaced by their probabilities f(v − θ) (graded
// mode): then the network is smooth, ψ = f′ is the exact derivative, and the
// hand-written backward pass must equal the true gradient of every
// non-spiking part: synaptic and membrane filters, both synapse types,
// recurrence, bias, differentiable resets, readout, both losses and the
// regulariser.
func TestGradientFiniteDifference(t *testing.T) {
	const T = 12
	cases := []struct {
		name   string
		hidden []LayerSpec
		loss   Loss
		reg    Regularizer
	}{
		{"readout only", nil, LossMaxOverTime, Regularizer{}},
		{"one layer, no reset", []LayerSpec{{Size: 7, Reset: resetNone}}, LossMaxOverTime, Regularizer{}},
		{"two layers, recurrent, bias, sum-over-time", []LayerSpec{
			{Size: 6, Reset: resetNone, Recurrent: true, Bias: true},
			{Size: 5, Reset: resetNone, TauSyn2: 0.004}}, LossSumOverTime, Regularizer{}},
		{"zero reset through the gradient, regulariser", []LayerSpec{
			{Size: 6, Reset: ResetZero, DiffReset: true, Recurrent: true, TauSyn2: 0.03, Bias: true}},
			LossMaxOverTime, Regularizer{Strength: 0.3, Threshold: 0.5}},
		{"subtract reset through the gradient", []LayerSpec{
			{Size: 5, Reset: ResetSubtract, DiffReset: true, Theta: 0.5}, {Size: 4, Reset: ResetSubtract, DiffReset: true, Recurrent: true}},
			LossSumOverTime, Regularizer{Strength: 0.1, Threshold: 0.2}},
	}
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := NewModel(Spec{Inputs: 5, Steps: T, Hidden: c.hidden, Readout: ReadoutSpec{Size: 3, TauMem: 0.05},
				Stochastic: true, Escape: Escape{Beta: 2}})
			if err != nil {
				t.Fatal(err)
			}
			m.Init(InitConfig{SigmaU: 3}, uint64(ci))
			rng := newNormal(99)
			for i := range m.Params {
				for j := range m.Params[i].Data {
					m.Params[i].Data[j] += float32(0.3 * rng.next()) // biases too
				}
			}
			s := randomSample(5, T, 0.3, 1, uint64(ci+7))
			lc := lossCfg{c.loss, c.reg}
			e := newF64(m, T, true)
			_, g := e.grad(m, &s, lc, 0)
			// five-point stencil: truncation error O(h⁴) ≈ 1e−16, rounding
			// error O(ε/h) ≈ 1e−12 relative to the loss.
			const h = 1e-4
			maxAbs := 0.0
			fd := make([][]float64, len(g))
			for i := range e.data {
				fd[i] = make([]float64, len(e.data[i]))
				for j := range e.data[i] {
					x := e.data[i][j]
					at := func(d float64) float64 {
						e.data[i][j] = x + d
						return e.loss(&s, lc, 0)
					}
					fd[i][j] = (8*(at(h)-at(-h)) - (at(2*h) - at(-2*h))) / (12 * h)
					e.data[i][j] = x
					maxAbs = math.Max(maxAbs, math.Abs(fd[i][j]))
				}
			}
			if maxAbs == 0 {
				t.Fatal("all finite differences are zero: the test network is dead")
			}
			for i := range fd {
				for j := range fd[i] {
					got, want := g[i][j], fd[i][j]
					// relative to the entry, with a floor at 1e−4 of the
					// largest entry for entries that are nearly zero.
					if err := math.Abs(got-want) / math.Max(math.Abs(want), 1e-4*maxAbs); err > gradTol {
						t.Errorf("%s[%d]: BPTT %.10g, finite difference %.10g (relative error %.2g)", m.Params[i].Name, j, got, want, err)
					}
				}
			}
		})
	}
}

var _ = fmt.Sprint
