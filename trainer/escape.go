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
	// fast selects fastExp (float32 engines); float64 engines, which the
	// gradient checks use, take math.Exp.
	fast bool
}

// fastExp is exp(x) with a relative error below 2e−7 (float32 precision):
// 2^n · e^f with f in [−ln2/2, ln2/2] and a degree-6 Taylor polynomial.
func fastExp(x float64) float64 {
	y := x * math.Log2E
	if y < -1020 {
		return 0
	}
	if y > 1020 {
		return math.Inf(1)
	}
	// round to nearest without a call: adding 1.5·2⁵² leaves the integer
	// part in the mantissa (|y| ≤ 1020 here).
	const magic = 6755399441055744.0
	n := (y + magic) - magic
	f := (y - n) * math.Ln2
	p := 1 + f*(1+f*(1.0/2+f*(1.0/6+f*(1.0/24+f*(1.0/120+f*(1.0/720))))))
	return p * math.Float64frombits(uint64(int64(n)+1023)<<52)
}

func (f *spikeFn) exp(x float64) float64 {
	if f.fast {
		return fastExp(x)
	}
	return math.Exp(x)
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
		return math.Min(1, f.p0*f.exp(x/f.du))
	}
	return 1 / (1 + f.exp(-f.beta*x))
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
		s := 1 / (1 + f.exp(-f.sBeta*x))
		return f.sBeta * s * (1 - s)
	case surrArctan:
		z := math.Pi * f.sAlpha * x / 2
		return f.sAlpha / 2 / (1 + z*z)
	default: // surrTriangle
		return f.sGam * math.Max(0, 1-math.Abs(x)/f.sWid)
	}
}

// The sigmoid of the float32 engines is a table with linear interpolation,
// as the chip's escape table is (DESIGN.md): 256 entries per unit of z on
// [−16, 16], absolute error below 1e−6 (float32 resolution of the
// probabilities that matter), 0 and 1 outside (σ(±16) is 1e−7 from them).
const (
	sigTabRange = 16
	sigTabRes   = 256
	sigTabLen   = 2*sigTabRange*sigTabRes + 2
)

var sigTab = func() (t [sigTabLen]float32) {
	for i := range t {
		z := float64(i)/sigTabRes - sigTabRange
		t[i] = float32(1 / (1 + math.Exp(-z)))
	}
	return t
}()

// sigmoidFast is σ(z) from the table.
func sigmoidFast(z float32) float32 {
	y := (z + sigTabRange) * sigTabRes
	if !(y > 0) { // also NaN
		return 0
	}
	if y >= 2*sigTabRange*sigTabRes {
		return 1
	}
	i := int(y)
	f := y - float32(i)
	a, b := sigTab[i], sigTab[i+1]
	return a + f*(b-a)
}
