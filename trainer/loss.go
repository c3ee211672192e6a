package trainer

import (
	"fmt"
	"math"
)

// Loss selects how the readout membrane O[t] (T×C) becomes a loss.
type Loss int

const (
	// LossMaxOverTime is softmax cross-entropy on m_c = max_t O_c[t] (the
	// default; stork's MaxOverTimeCrossEntropy). The gradient flows only
	// through each class's argmax step.
	LossMaxOverTime Loss = iota
	// LossSumOverTime is −log of the time-averaged softmax:
	// L = −log((1/T)·Σ_t softmax(O[t])_y); the prediction is the argmax of
	// Σ_t softmax(O[t]).
	LossSumOverTime
)

// ParseLoss maps "max_over_time" and "sum_over_time" to a Loss.
func ParseLoss(s string) (Loss, error) {
	switch s {
	case "", "max_over_time":
		return LossMaxOverTime, nil
	case "sum_over_time":
		return LossSumOverTime, nil
	}
	return 0, fmt.Errorf("trainer: unknown loss %q (want max_over_time or sum_over_time)", s)
}

// MarshalText and UnmarshalText let a Loss appear as text in JSON.
func (l Loss) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText parses the names accepted by ParseLoss.
func (l *Loss) UnmarshalText(b []byte) error {
	v, err := ParseLoss(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

func (l Loss) String() string {
	if l == LossSumOverTime {
		return "sum_over_time"
	}
	return "max_over_time"
}

// softmaxTo writes softmax(x) into dst (float64) and returns log Σ exp(x).
func softmaxTo[F Float](dst []float64, x []F) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	s := 0.0
	for i, v := range x {
		dst[i] = math.Exp(float64(v) - m)
		s += dst[i]
	}
	for i := range dst {
		dst[i] /= s
	}
	return m + math.Log(s)
}

// lossGrad computes the loss of one sample with readout trace out (T×C) and
// label y, writes ∂L/∂O into gOut (scaled by scale) and returns the loss
// and the predicted class. scratch holds at least 4C float64.
func lossGrad[F Float](kind Loss, out, gOut []F, T, C, y int, scale float64, scratch []float64) (float64, int) {
	clear(gOut)
	sm, acc := scratch[:C], scratch[C:2*C]
	switch kind {
	case LossSumOverTime:
		clear(acc)
		for t := 0; t < T; t++ {
			softmaxTo(sm, out[t*C:(t+1)*C])
			for c := range acc {
				acc[c] += sm[c]
			}
		}
		py := acc[y] / float64(T)
		loss := -math.Log(math.Max(py, 1e-300))
		// ∂L/∂O_c[t] = −(1/(T·p_y))·s_y[t]·(δ_cy − s_c[t])
		for t := 0; t < T; t++ {
			softmaxTo(sm, out[t*C:(t+1)*C])
			k := -scale * sm[y] / (float64(T) * math.Max(py, 1e-300))
			for c := 0; c < C; c++ {
				d := -sm[c]
				if c == y {
					d += 1
				}
				gOut[t*C+c] = F(k * d)
			}
		}
		return loss, argmax(acc)
	default:
		m, arg := scratch[2*C:3*C], scratch[3*C:4*C]
		for c := 0; c < C; c++ {
			best, bt := out[c], 0
			for t := 1; t < T; t++ {
				if v := out[t*C+c]; v > best {
					best, bt = v, t
				}
			}
			m[c], arg[c] = float64(best), float64(bt)
		}
		lse := softmaxTo(sm, m)
		loss := lse - float64(m[y])
		for c := 0; c < C; c++ {
			d := sm[c]
			if c == y {
				d -= 1
			}
			gOut[int(arg[c])*C+c] = F(scale * d)
		}
		return loss, argmax(sm)
	}
}

func argmax(x []float64) int {
	b := 0
	for i, v := range x {
		if v > x[b] {
			b = i
		}
	}
	return b
}

// Regularizer is the upper bound on activity: per sample and hidden layer,
// n̄ = population mean of the per-neuron spike counts, penalty
// Strength·max(0, n̄ − Threshold)² (the reference: 0.1 and 7).
type Regularizer struct {
	Strength  float64 `toml:"strength" json:"strength"`
	Threshold float64 `toml:"threshold" json:"threshold"`
}

// penalty returns the penalty of a layer with total spike count count over
// n neurons and its derivative with respect to each spike.
func (r Regularizer) penalty(count float64, n int) (float64, float64) {
	mean := count / float64(n)
	if r.Strength == 0 || mean <= r.Threshold {
		return 0, 0
	}
	d := mean - r.Threshold
	return r.Strength * d * d, 2 * r.Strength * d / float64(n)
}
