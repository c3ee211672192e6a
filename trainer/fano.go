package trainer

import (
	"math"

	"github.com/aerie-neuro/aerie/trainer/dataset"
)

// Fano returns, per hidden layer, the Fano factor of spike counts across
// noise trials (Gygax & Zenke 2025, the reference's trial-to-trial
// variability measure): sample s of set is run trials times with fresh
// noise; per neuron the spikes in every window of window steps (sliding by
// one step) are counted; Fano = variance/mean over trials (population
// variance); the result is the mean over windows and neurons where the mean
// count is positive (NaN when there is none, e.g. a silent layer). A
// deterministic network gives 0 wherever it fires.
func Fano(m *Model, set *dataset.Set, s, trials, window int, seed uint64) []float64 {
	T := set.Steps
	if window > T {
		window = T
	}
	p := bind(&m.Spec, tensorViews(m, flatParams(m)))
	p.prepare()
	w := newWork(&m.Spec, &p, T)
	nwin := T - window + 1
	out := make([]float64, len(m.Spec.Hidden))
	type acc struct{ sum, sq []float64 }
	accs := make([]acc, len(m.Spec.Hidden))
	for l, h := range m.Spec.Hidden {
		accs[l] = acc{make([]float64, h.Size*nwin), make([]float64, h.Size*nwin)}
	}
	smp := &set.Samples[s]
	for r := 0; r < trials; r++ {
		w.forward(smp.Events, noiseKey(seed, evalEpoch(r)^0x66616e6f, uint64(s)))
		for l := range w.ls {
			st := &w.ls[l]
			n := st.n
			cum := make([]float64, (T+1)*n) // cum[t·n+i] = spikes of i before step t
			for t := 0; t < T; t++ {
				copy(cum[(t+1)*n:(t+2)*n], cum[t*n:(t+1)*n])
				for _, i := range st.idx[st.off[t]:st.off[t+1]] {
					cum[(t+1)*n+int(i)]++
				}
			}
			a := &accs[l]
			for i := 0; i < n; i++ {
				for k := 0; k < nwin; k++ {
					c := cum[(k+window)*n+i] - cum[k*n+i]
					a.sum[i*nwin+k] += c
					a.sq[i*nwin+k] += c * c
				}
			}
		}
	}
	for l := range accs {
		a := &accs[l]
		tot, cnt := 0.0, 0
		for j := range a.sum {
			mean := a.sum[j] / float64(trials)
			if mean <= 0 {
				continue
			}
			v := a.sq[j]/float64(trials) - mean*mean
			tot += math.Max(v, 0) / mean
			cnt++
		}
		out[l] = math.NaN()
		if cnt > 0 {
			out[l] = tot / float64(cnt)
		}
	}
	return out
}

// flatParams returns the model's parameters as one slice (a copy).
func flatParams(m *Model) []float32 {
	f := make([]float32, 0, m.NumParams())
	for _, t := range m.Params {
		f = append(f, t.Data...)
	}
	return f
}
