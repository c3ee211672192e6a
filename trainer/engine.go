package trainer

import (
	"math"

	"github.com/aerie-neuro/aerie/trainer/dataset"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// Float is the element type of an engine: float32 for training, float64 for
// the gradient checks, on the same code.
type Float interface{ ~float32 | ~float64 }

// layerParams are the parameters and constants of one hidden layer.
type layerParams[F Float] struct {
	nin, n, k int
	w, v      [2][]F // per synapse type; v[k] nil unless recurrent
	wT        [2][]F // transposes of w (n × nin), see prepare
	b         []F    // nil without bias
	lamU      [2]F
	lamV      F
	theta     F
	reset     Reset
	diffReset bool
}

// netParams views a parameter list (model tensors or gradient buffers) as
// layers. The slices alias the tensors.
type netParams[F Float] struct {
	layers     []layerParams[F]
	roW        []F
	roWT       []F
	roNin, roN int
	roLamU     F
	roLamV     F
}

// bind slices data (one []F per tensor of layout(s)) into a netParams.
func bind[F Float](s *Spec, data [][]F) netParams[F] {
	var p netParams[F]
	i := 0
	nin := s.Inputs
	for l := range s.Hidden {
		h := &s.Hidden[l]
		lp := layerParams[F]{nin: nin, n: h.Size, k: h.synTypes(), lamV: F(decay(s.DT, h.TauMem)),
			theta: F(h.Theta), reset: h.Reset, diffReset: h.DiffReset}
		lp.lamU[0] = F(decay(s.DT, h.TauSyn))
		if lp.k == 2 {
			lp.lamU[1] = F(decay(s.DT, h.TauSyn2))
		}
		for k := 0; k < lp.k; k++ {
			lp.w[k] = data[i]
			i++
		}
		if h.Recurrent {
			for k := 0; k < lp.k; k++ {
				lp.v[k] = data[i]
				i++
			}
		}
		if h.Bias {
			lp.b = data[i]
			i++
		}
		p.layers = append(p.layers, lp)
		nin = h.Size
	}
	p.roW, p.roNin, p.roN = data[i], nin, s.Readout.Size
	p.roLamU, p.roLamV = F(decay(s.DT, s.Readout.TauSyn)), F(decay(s.DT, s.Readout.TauMem))
	return p
}

// prepare refreshes the transposed weights that the backward GEMMs use
// (a transposed-B GEMM is gonum's slowest); call it after every change of
// the parameters and before running samples.
func (p *netParams[F]) prepare() {
	for l := range p.layers {
		lp := &p.layers[l]
		for k := 0; k < lp.k; k++ {
			lp.wT[k] = transposeTo(lp.wT[k], lp.w[k], lp.nin, lp.n)
		}
	}
	p.roWT = transposeTo(p.roWT, p.roW, p.roNin, p.roN)
}

// transposeTo writes the transpose of the r×c matrix a into dst (reused if
// large enough) and returns it.
func transposeTo[F Float](dst, a []F, r, c int) []F {
	if cap(dst) < r*c {
		dst = make([]F, r*c)
	}
	dst = dst[:r*c]
	for i := 0; i < r; i++ {
		row := a[i*c : (i+1)*c]
		for j, x := range row {
			dst[j*r+i] = x
		}
	}
	return dst
}

// layerState is the per-sample forward record and backward scratch of one
// hidden layer. Spikes are kept twice, compactly: as index lists per step
// (idx[off[t]:off[t+1]], the event-driven input of the next layer and of
// the weight gradients) and as a bitset (the reset factor of BPTT).
type layerState[F Float] struct {
	n, words int
	u        [2][]F
	v        []F
	psi      []F // T×n surrogate derivative at the pre-reset membrane
	vpre     []F // T×n pre-reset membrane, only with diffReset
	off      []int32
	idx      []int32
	val      []F // graded spike values parallel to idx (graded mode only)
	bits     []uint64
	gS       []F    // T×n
	ga       [2][]F // T×n
	gcarry   []F
	gu       [2][]F
}

// work is the scratch space of one worker: everything one sample needs for
// its forward and backward pass: T·Σ n·(2 + k) floats (ψ, gS, ga per
// synapse type; one more with diff_reset), a T×n bitset and the spike index
// lists per hidden layer, independent of the batch size (see BPTTBytes).
type work[F Float] struct {
	fn     spikeFn
	p      *netParams[F]
	T      int
	graded bool // test mode: spikes are the probabilities f(x), no sampling
	ls     []layerState[F]
	// readout
	ru, rv []F
	out    []F // T×C readout membrane
	gOut   []F // T×C
	rga    []F // T×C
	rgc    []F
	rgu    []F
	counts []float64 // spikes per layer of the last sample
	noise  bool
}

func newWork[F Float](s *Spec, p *netParams[F], T int) *work[F] {
	w := &work[F]{fn: newSpikeFn(s), p: p, T: T, noise: s.Stochastic}
	_, w.fn.fast = any(F(0)).(float32)
	for l := range p.layers {
		lp := &p.layers[l]
		st := layerState[F]{n: lp.n, words: (lp.n + 63) / 64}
		for k := 0; k < lp.k; k++ {
			st.u[k] = make([]F, lp.n)
			st.ga[k] = make([]F, T*lp.n)
			st.gu[k] = make([]F, lp.n)
		}
		st.v = make([]F, lp.n)
		st.psi = make([]F, T*lp.n)
		if lp.diffReset {
			st.vpre = make([]F, T*lp.n)
		}
		st.off = make([]int32, T+1)
		st.bits = make([]uint64, T*st.words)
		st.gS = make([]F, T*lp.n)
		st.gcarry = make([]F, lp.n)
		w.ls = append(w.ls, st)
	}
	C := p.roN
	w.ru, w.rv = make([]F, C), make([]F, C)
	w.out, w.gOut, w.rga = make([]F, T*C), make([]F, T*C), make([]F, T*C)
	w.rgc, w.rgu = make([]F, C), make([]F, C)
	w.counts = make([]float64, len(p.layers))
	return w
}

// axpy computes y += a·x (len(y) ≥ len(x)).
func axpy[F Float](a F, x, y []F) {
	switch xs := any(x).(type) {
	case []float32:
		if len(xs) >= 16 {
			blas32.Implementation().Saxpy(len(xs), float32(a), xs, 1, any(y).([]float32), 1)
			return
		}
	case []float64:
		if len(xs) >= 16 {
			blas64.Implementation().Daxpy(len(xs), float64(a), xs, 1, any(y).([]float64), 1)
			return
		}
	}
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

// add computes y += x.
func add[F Float](x, y []F) {
	axpy(1, x, y)
}

// gemm computes C += A·B for row-major A (m×k), B (k×n), C (m×n), one
// row of C at a time as k axpys (gonum's Sgemm would spawn goroutines for
// these per-sample products, competing with the worker pool).
func gemm[F Float](m, n, k int, a []F, lda int, b []F, ldb int, c []F, ldc int) {
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		for l, x := range a[i*lda : i*lda+k] {
			if x != 0 {
				axpy(x, b[l*ldb:l*ldb+n], ci)
			}
		}
	}
}

// gemv computes y += A·x for row-major A (m×n).
func gemv[F Float](m, n int, a []F, x, y []F) {
	switch as := any(a).(type) {
	case []float32:
		blas32.Implementation().Sgemv(blas.NoTrans, m, n, 1, as, n, any(x).([]float32), 1, 1, any(y).([]float32), 1)
	case []float64:
		blas64.Implementation().Dgemv(blas.NoTrans, m, n, 1, as, n, any(x).([]float64), 1, 1, any(y).([]float64), 1)
	}
}

// forward runs one sample through the network. key is noiseKey(seed,
// epoch, sample). Input events at step t enter layer 0 at t; spikes of a
// layer at t enter the next layer (and the layer itself, if recurrent) at
// t + 1.
func (w *work[F]) forward(ev []dataset.Event, key uint64) {
	for l := range w.ls {
		w.forwardLayer(l, ev, layerKey(key, l))
	}
	w.forwardReadout(ev)
}

// addInputs adds the weighted inputs arriving at step t to the currents u.
// Layer l's inputs are the events of step t (l = 0) or the spikes of layer
// l−1 at t−1; ei is the cursor into the sorted events.
func (w *work[F]) addInputs(l, t int, ev []dataset.Event, ei *int, wk [2][]F, k int, u [2][]F, n int) {
	if l == 0 {
		for *ei < len(ev) && int(ev[*ei].Step) == t {
			j := int(ev[*ei].Unit)
			for q := 0; q < k; q++ {
				add(wk[q][j*n:(j+1)*n], u[q])
			}
			*ei++
		}
		return
	}
	if t == 0 {
		return
	}
	w.addSpikes(&w.ls[l-1], t-1, wk, k, u, n)
}

// addSpikes adds the weight rows of the spikes of st at step t to u.
func (w *work[F]) addSpikes(st *layerState[F], t int, wk [2][]F, k int, u [2][]F, n int) {
	a, b := st.off[t], st.off[t+1]
	for e := a; e < b; e++ {
		j := int(st.idx[e])
		if w.graded {
			for q := 0; q < k; q++ {
				axpy(st.val[e], wk[q][j*n:(j+1)*n], u[q])
			}
			continue
		}
		for q := 0; q < k; q++ {
			add(wk[q][j*n:(j+1)*n], u[q])
		}
	}
}

func (w *work[F]) forwardLayer(l int, ev []dataset.Event, key uint64) {
	p := &w.p.layers[l]
	st := &w.ls[l]
	n, T := p.n, w.T
	for k := 0; k < p.k; k++ {
		clear(st.u[k])
	}
	clear(st.v)
	clear(st.bits)
	st.idx, st.val = st.idx[:0], st.val[:0]
	ei := 0
	fn := &w.fn
	fastSigmoid := fn.fast && !w.graded && w.noise && fn.esc == escSigmoid && fn.surr == surrEscape
	fastSuper := fn.fast && !w.graded && !w.noise && fn.surr == surrSuperSpike
	beta32 := float32(fn.beta)
	simple := p.k == 1 && p.b == nil && st.vpre == nil
	for t := 0; t < T; t++ {
		st.off[t] = int32(len(st.idx))
		for k := 0; k < p.k; k++ {
			lam, u := p.lamU[k], st.u[k]
			for i := range u {
				u[i] *= lam
			}
		}
		w.addInputs(l, t, ev, &ei, p.w, p.k, st.u, n)
		if p.v[0] != nil && t > 0 {
			w.addSpikes(st, t-1, p.v, p.k, st.u, n)
		}
		psi := st.psi[t*n : (t+1)*n]
		bits := st.bits[t*st.words : (t+1)*st.words]
		if simple && (fastSigmoid || fastSuper) {
			w.stepFast(p, st, psi, bits, key, t, fastSigmoid)
			continue
		}
		u0, u1 := st.u[0], st.u[1]
		v := st.v
		for i := 0; i < n; i++ {
			vt := p.lamV*v[i] + u0[i]
			if p.k == 2 {
				vt += u1[i]
			}
			if p.b != nil {
				vt += p.b[i]
			}
			if st.vpre != nil {
				st.vpre[t*n+i] = vt
			}
			x := float64(vt - p.theta)
			spike := false
			switch {
			case fastSigmoid:
				// stochastic, sigmoid escape noise, escape-matched surrogate:
				// ψ = f′ = β·p·(1 − p) comes free with p.
				pr := sigmoidFast(beta32 * float32(x))
				psi[i] = F(beta32 * pr * (1 - pr))
				spike = uniform32(key, t, i) < pr
			case fastSuper:
				// deterministic, SuperSpike
				d := fn.sBeta*math.Abs(x) + 1
				psi[i] = F(1 / (d * d))
				spike = x > 0
			case w.graded:
				pr := F(fn.prob(x))
				if fn.surr == surrEscape {
					psi[i] = F(fn.probDeriv(float64(pr)))
				} else {
					psi[i] = F(fn.psi(x))
				}
				st.idx = append(st.idx, int32(i))
				st.val = append(st.val, pr)
				switch p.reset {
				case ResetZero:
					vt *= 1 - pr
				case ResetSubtract:
					vt -= p.theta * pr
				}
				v[i] = vt
				continue
			case w.noise:
				pr := fn.prob(x)
				if fn.surr == surrEscape {
					psi[i] = F(fn.probDeriv(pr))
				} else {
					psi[i] = F(fn.psi(x))
				}
				if fn.fast { // float32 engines draw 24 bits, as stepFast does
					spike = float64(uniform32(key, t, i)) < pr
				} else {
					spike = uniform(key, t, i) < pr
				}
			default:
				psi[i] = F(fn.psi(x))
				spike = x > 0
			}
			if spike {
				st.idx = append(st.idx, int32(i))
				bits[i>>6] |= 1 << (i & 63)
				switch p.reset {
				case ResetZero:
					vt = 0
				case ResetSubtract:
					vt -= p.theta
				}
			}
			v[i] = vt
		}
	}
	st.off[T] = int32(len(st.idx))
	if w.graded {
		s := 0.0
		for _, x := range st.val {
			s += float64(x)
		}
		w.counts[l] = s
	} else {
		w.counts[l] = float64(len(st.idx))
	}
}

func (w *work[F]) forwardReadout(ev []dataset.Event) {
	p := w.p
	C, T := p.roN, w.T
	clear(w.ru)
	clear(w.rv)
	L := len(w.ls)
	ei := 0
	u := [2][]F{w.ru}
	wk := [2][]F{p.roW}
	for t := 0; t < T; t++ {
		for i := range w.ru {
			w.ru[i] *= p.roLamU
		}
		w.addInputs(L, t, ev, &ei, wk, 1, u, C)
		o := w.out[t*C : (t+1)*C]
		for i := range w.rv {
			w.rv[i] = p.roLamV*w.rv[i] + w.ru[i]
			o[i] = w.rv[i]
		}
	}
}

// backward accumulates the gradient of the loss whose derivative with
// respect to the readout membrane is in w.gOut into g. regGrad[l] is the
// regulariser's derivative with respect to each spike of hidden layer l.
func (w *work[F]) backward(ev []dataset.Event, g *netParams[F], regGrad []float64) {
	for l := range w.ls {
		st := &w.ls[l]
		r := F(regGrad[l])
		for i := range st.gS {
			st.gS[i] = r
		}
	}
	w.backwardReadout(ev, g)
	for l := len(w.ls) - 1; l >= 0; l-- {
		w.backwardLayer(l, ev, g)
	}
}

// inputGrads adds ga[t] ⊗ input[t] to the input weight gradients gw of
// layer l (the readout when l = len(w.ls)) and propagates ga to the spikes
// of layer l−1: gS_{l−1}[t−1] += W·ga[t], one GEMM over all steps with the
// transposed weights wT.
func (w *work[F]) inputGrads(l int, ev []dataset.Event, ga [2][]F, k int, wT, gw [2][]F, n int) {
	T := w.T
	if l == 0 {
		for _, e := range ev {
			j, t := int(e.Unit), int(e.Step)
			for q := 0; q < k; q++ {
				add(ga[q][t*n:(t+1)*n], gw[q][j*n:(j+1)*n])
			}
		}
		return
	}
	prev := &w.ls[l-1]
	for t := 1; t < T; t++ {
		a, b := prev.off[t-1], prev.off[t]
		for e := a; e < b; e++ {
			j := int(prev.idx[e])
			for q := 0; q < k; q++ {
				if w.graded {
					axpy(prev.val[e], ga[q][t*n:(t+1)*n], gw[q][j*n:(j+1)*n])
				} else {
					add(ga[q][t*n:(t+1)*n], gw[q][j*n:(j+1)*n])
				}
			}
		}
	}
	nin := prev.n
	for q := 0; q < k; q++ {
		gemm(T-1, nin, n, ga[q][n:], n, wT[q], nin, prev.gS, nin)
	}
}

func (w *work[F]) backwardReadout(ev []dataset.Event, g *netParams[F]) {
	p := w.p
	C, T := p.roN, w.T
	clear(w.rgc)
	clear(w.rgu)
	for t := T - 1; t >= 0; t-- {
		gO := w.gOut[t*C : (t+1)*C]
		ga := w.rga[t*C : (t+1)*C]
		for i := 0; i < C; i++ {
			gv := gO[i] + w.rgc[i] // ∂L/∂v[t]
			w.rgc[i] = p.roLamV * gv
			w.rgu[i] = gv + p.roLamU*w.rgu[i]
			ga[i] = w.rgu[i]
		}
	}
	w.inputGrads(len(w.ls), ev, [2][]F{w.rga}, 1, [2][]F{p.roWT}, [2][]F{g.roW}, C)
}

func (w *work[F]) backwardLayer(l int, ev []dataset.Event, g *netParams[F]) {
	p := &w.p.layers[l]
	gp := &g.layers[l]
	st := &w.ls[l]
	n, T := p.n, w.T
	clear(st.gcarry)
	for k := 0; k < p.k; k++ {
		clear(st.gu[k])
	}
	fast := p.k == 1 && p.b == nil && !p.diffReset && !w.graded
	zero := p.reset == ResetZero
	for t := T - 1; t >= 0; t-- {
		if fast {
			// one synapse type, no bias, detached reset, binary spikes
			gS, psi := st.gS[t*n:(t+1)*n], st.psi[t*n:(t+1)*n]
			bits := st.bits[t*st.words : (t+1)*st.words]
			gc, gu, ga := st.gcarry[:n], st.gu[0][:n], st.ga[0][t*n:(t+1)*n]
			psi, gS = psi[:n], gS[:n]
			lamV, lamU := p.lamV, p.lamU[0]
			for i := range gc {
				r := F(1)
				if zero {
					r = F(1 - bits[i>>6]>>(i&63)&1)
				}
				g := psi[i]*gS[i] + r*gc[i]
				gc[i] = lamV * g
				x := g + lamU*gu[i]
				gu[i] = x
				ga[i] = x
			}
		} else {
			w.backwardStep(p, gp, st, t)
		}
		if p.v[0] != nil && t > 0 {
			for k := 0; k < p.k; k++ {
				gat := st.ga[k][t*n : (t+1)*n]
				gemv(n, n, p.v[k], gat, st.gS[(t-1)*n:t*n])
				a, b := st.off[t-1], st.off[t]
				for e := a; e < b; e++ {
					j := int(st.idx[e])
					if w.graded {
						axpy(st.val[e], gat, gp.v[k][j*n:(j+1)*n])
					} else {
						add(gat, gp.v[k][j*n:(j+1)*n])
					}
				}
			}
		}
	}
	w.inputGrads(l, ev, st.ga, p.k, p.wT, gp.w, n)
}

// backwardStep is the general form of one step of backwardLayer: both
// synapse types, bias, graded spikes and the reset through the gradient.
//
//	∂L/∂ṽ[t] = ψ[t]·(∂L/∂S[t] + reset term) + r[t]·λ_v·∂L/∂ṽ[t+1]
//	∂L/∂u_k[t] = ∂L/∂ṽ[t] + λ_k·∂L/∂u_k[t+1] = ∂L/∂a_k[t]
func (w *work[F]) backwardStep(p *layerParams[F], gp *layerParams[F], st *layerState[F], t int) {
	n := p.n
	gS := st.gS[t*n : (t+1)*n]
	psi := st.psi[t*n : (t+1)*n]
	bits := st.bits[t*st.words : (t+1)*st.words]
	for i := 0; i < n; i++ {
		gv := st.gcarry[i] // ∂L/∂v[t] after reset
		gs := gS[i]
		spiked := bits[i>>6]>>(i&63)&1 != 0
		r := F(1)
		if p.reset == ResetZero {
			switch {
			case w.graded:
				r = 1 - st.val[int(st.off[t])+i]
			case spiked:
				r = 0
			}
		}
		if p.diffReset {
			// v[t] = ṽ[t]·(1 − S[t]) or ṽ[t] − θ·S[t]: ∂v/∂S = −ṽ or −θ.
			switch p.reset {
			case ResetZero:
				gs -= st.vpre[t*n+i] * gv
			case ResetSubtract:
				gs -= p.theta * gv
			}
		}
		gvt := psi[i]*gs + r*gv // ∂L/∂ṽ[t]
		if gp.b != nil {
			gp.b[i] += gvt
		}
		st.gcarry[i] = p.lamV * gvt
		for k := 0; k < p.k; k++ {
			st.gu[k][i] = gvt + p.lamU[k]*st.gu[k][i]
			st.ga[k][t*n+i] = st.gu[k][i]
		}
	}
}

// stepFast is one step of the neuron update for the two common cases, one
// synapse type, no bias, detached reset: stochastic neurons with sigmoid
// escape noise and the escape-matched surrogate (sigmoid from the table,
// ψ = β·p·(1 − p) for free), or deterministic neurons with SuperSpike.
func (w *work[F]) stepFast(p *layerParams[F], st *layerState[F], psi []F, bits []uint64, key uint64, t int, stochastic bool) {
	n := p.n
	u, v := st.u[0][:n], st.v[:n]
	psi = psi[:n]
	lamV, theta := p.lamV, p.theta
	zero := p.reset == ResetZero
	base := key + uint64(t)<<32
	if stochastic {
		// two passes: the membranes and p for all neurons (no branches,
		// independent table lookups), then ψ and the draws.
		beta := float32(w.fn.beta)
		for i := range v {
			vt := lamV*v[i] + u[i]
			v[i] = vt
			psi[i] = F(sigmoidFast(beta * float32(vt-theta)))
		}
		for i := range v {
			pr := float32(psi[i])
			psi[i] = F(beta * pr * (1 - pr))
			// the draw of uniform32(key, t, i)
			if float32(mix64(base+uint64(i))>>40)*(1.0/(1<<24)) < pr {
				st.idx = append(st.idx, int32(i))
				bits[i>>6] |= 1 << (i & 63)
				if zero {
					v[i] = 0
				} else {
					v[i] -= theta
				}
			}
		}
		return
	}
	beta := F(w.fn.sBeta)
	for i := range v {
		vt := lamV*v[i] + u[i]
		x := vt - theta
		d := beta*x + 1
		if x < 0 {
			d = 1 - beta*x
		}
		psi[i] = 1 / (d * d)
		if x > 0 {
			st.idx = append(st.idx, int32(i))
			bits[i>>6] |= 1 << (i & 63)
			if zero {
				vt = 0
			} else {
				vt -= theta
			}
		}
		v[i] = vt
	}
}
