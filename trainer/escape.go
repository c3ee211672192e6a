package trainer

import "math"

// Escape-noise functions f and surrogate derivatives ψ, resolved from the
// names in Spec into a small struct the inner loops switch on.

type escapeKind uint8

const (
	escSigmoid escapeKind = iota
	escExponential
)

type surrKind uint8

const (
	surrEscape surrKind = iota
	surrSuperSpike
	surrSigmoid
	surrArctan
	surrTriangle
)

// spikeFn holds the resolved escape function and surrogate of a network.
type spikeFn struct {
	esc        escapeKind
	beta       float64 // sigmoid escape steepness
	p0, du     float64 // exponential escape
	surr       surrKind
	sBeta      float64 // superspike / sigmoid surrogate steepness
	sAlpha     float64 // arctan
	sGam, sWid float64 // triangle
}

func newSpikeFn(s *Spec) spikeFn {
	f := spikeFn{beta: s.Escape.Beta, p0: s.Escape.P0, du: s.Escape.DeltaU,
		sBeta: s.Surrogate.Beta, sAlpha: s.Surrogate.Alpha, sGam: s.Surrogate.Gamma, sWid: s.Surrogate.Width}
	if s.Escape.Function == "exponential" {
		f.esc = escExponential
	}
	switch s.Surrogate.Function {
	case "superspike":
		f.surr = surrSuperSpike
	case "sigmoid":
		f.surr = surrSigmoid
	case "arctan":
		f.surr = surrArctan
	case "triangle":
		f.surr = surrTriangle
	}
	return f
}

// prob is the escape function f(x): the spike probability at distance x
// above threshold.
func (f *spikeFn) prob(x float64) float64 {
	if f.esc == escExponential {
		return math.Min(1, f.p0*math.Exp(x/f.du))
	}
	return 1 / (1 + math.Exp(-f.beta*x))
}

// probDeriv is f′(x) given p = f(x) (both escape functions have a derivative
// that is cheap given the value). The clipped exponential has f′ = 0 where it
// is clipped.
func (f *spikeFn) probDeriv(p float64) float64 {
	if f.esc == escExponential {
		if p >= 1 {
			return 0
		}
		return p / f.du
	}
	return f.beta * p * (1 - p)
}

// psi is the surrogate derivative ψ(x). For the escape surrogate it needs
// f′(x) and computes f(x) itself.
func (f *spikeFn) psi(x float64) float64 {
	switch f.surr {
	case surrEscape:
		return f.probDeriv(f.prob(x))
	case surrSuperSpike:
		d := f.sBeta*math.Abs(x) + 1
		return 1 / (d * d)
	case surrSigmoid:
		s := 1 / (1 + math.Exp(-f.sBeta*x))
		return f.sBeta * s * (1 - s)
	case surrArctan:
		z := math.Pi * f.sAlpha * x / 2
		return f.sAlpha / 2 / (1 + z*z)
	default: // surrTriangle
		return f.sGam * math.Max(0, 1-math.Abs(x)/f.sWid)
	}
}
