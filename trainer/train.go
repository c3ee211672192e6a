package trainer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aerie-neuro/aerie/trainer/dataset"
)

// A batch is cut into shards of shardSizeFor(batch) samples, independent of
// the worker count; workers take whole shards, each shard sums its
// gradient in its own buffer, and shard sums are reduced in shard order: the
// result is bit-identical for any number of workers. Shards hold 8 samples,
// more for batches above 8·maxShards, so that gradient memory stays bounded
// by maxShards parameter copies.
const (
	minShardSize = 8
	maxShards    = 64
	maxBatch     = 1 << 20
)

func shardSizeFor(batch int) int {
	return max(minShardSize, (batch+maxShards-1)/maxShards)
}

// ErrDiverged is returned (wrapped) when the loss or a gradient stops being
// finite.
var ErrDiverged = errors.New("trainer: training diverged")

// TrainConfig holds what a training run needs besides the model and data.
type TrainConfig struct {
	Epochs   int             `json:"epochs"`
	Batch    int             `json:"batch"`
	Workers  int             `json:"-"` // 0 means runtime.GOMAXPROCS(0); results do not depend on it
	Seed     uint64          `json:"seed"`
	Loss     Loss            `json:"loss"`
	Reg      Regularizer     `json:"regularizer"`
	Opt      OptimizerConfig `json:"optimizer"`
	Patience int             `json:"patience,omitempty"` // stop after this many epochs without a better validation accuracy; 0 = never
	// QATBits > 0 fine-tunes quantization-aware for chip QATChip (a
	// preset or a description file): forward and backward passes, and
	// validation, run on the weights a deploy with QATBits-bit mantissas
	// would hold; the optimizer updates the float weights (qat.go).
	QATBits int    `json:"qat_bits,omitempty"`
	QATChip string `json:"qat_chip,omitempty"`
}

// EpochStats are the figures of one finished epoch.
type EpochStats struct {
	Epoch       int       `json:"epoch"` // 1-based
	LR          float64   `json:"lr"`
	TrainLoss   float64   `json:"train_loss"`
	TrainAcc    float64   `json:"train_accuracy"`
	ValLoss     float64   `json:"val_loss,omitempty"`
	ValAcc      float64   `json:"val_accuracy,omitempty"`
	Rates       []float64 `json:"rates_hz,omitempty"` // mean firing rate per hidden layer on validation
	SamplesPerS float64   `json:"train_samples_per_s"`
	Seconds     float64   `json:"seconds"`
}

// Progress is reported after every batch.
type Progress struct {
	Epoch, Epochs    int // Epoch is 1-based
	Batch, Batches   int // batches done in this epoch
	Samples          int // samples done in this epoch
	Loss, Acc        float64
	SamplesPerSecond float64
}

// Trainer is the state of a training run: the model, the optimizer and the
// position in the run. It is what a checkpoint stores, so a run resumed from
// a checkpoint continues exactly as if it had not stopped.
type Trainer struct {
	Model *Model
	Cfg   TrainConfig

	Epoch int // completed epochs
	Batch int // completed batches of epoch Epoch+1
	// running sums of the current epoch
	EpochLoss    float64
	EpochCorrect int
	EpochSeen    int

	History    []EpochStats
	Best       *Model // best model on validation (nil before the first epoch)
	BestEpoch  int
	BestValAcc float64

	opt   *optimizer
	flat  []float32 // all parameters, aliased by Model.Params[i].Data
	grad  []float32
	scale []float32
}

// NewTrainer prepares model m for training with cfg (defaults filled in).
func NewTrainer(m *Model, cfg TrainConfig) (*Trainer, error) {
	cfg.Opt.Defaults()
	if err := cfg.Opt.Validate(); err != nil {
		return nil, err
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	if cfg.Batch > maxBatch {
		return nil, fmt.Errorf("trainer: batch %d exceeds %d", cfg.Batch, maxBatch)
	}
	if cfg.Epochs < 0 {
		return nil, fmt.Errorf("trainer: epochs must be ≥ 0, got %d", cfg.Epochs)
	}
	tr := &Trainer{Model: m, Cfg: cfg}
	tr.flat = make([]float32, m.NumParams())
	tr.scale = make([]float32, len(tr.flat))
	lay := layout(&m.Spec)
	off := 0
	for i := range m.Params {
		t := &m.Params[i]
		n := len(t.Data)
		copy(tr.flat[off:off+n], t.Data)
		t.Data = tr.flat[off : off+n : off+n]
		lam := decay(m.Spec.DT, m.Spec.Readout.TauMem)
		if tg := lay[i].target; tg < len(m.Spec.Hidden) {
			lam = decay(m.Spec.DT, m.Spec.Hidden[tg].TauMem)
		}
		for j := off; j < off+n; j++ {
			tr.scale[j] = float32(1 - lam)
		}
		off += n
	}
	tr.grad = make([]float32, len(tr.flat))
	tr.opt = newOptimizer(cfg.Opt, len(tr.flat))
	return tr, nil
}

func workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// checkSet reports whether set fits spec, before any work starts.
func checkSet(s *Spec, set *dataset.Set) error {
	if set == nil {
		return errors.New("trainer: no data set")
	}
	if err := set.Validate(); err != nil {
		return err
	}
	if set.Units != s.Inputs {
		return fmt.Errorf("trainer: data set %q has %d input units, the network %d", set.Name, set.Units, s.Inputs)
	}
	if set.Classes > s.Readout.Size {
		return fmt.Errorf("trainer: data set %q has %d classes, the readout %d", set.Name, set.Classes, s.Readout.Size)
	}
	return nil
}

// tensorViews splits a flat buffer along the model's layout.
func tensorViews[F Float](m *Model, flat []F) [][]F {
	out := make([][]F, len(m.Params))
	off := 0
	for i, t := range m.Params {
		out[i] = flat[off : off+len(t.Data) : off+len(t.Data)]
		off += len(t.Data)
	}
	return out
}

// lossCfg is what sampleGrad needs to score a sample.
type lossCfg struct {
	kind Loss
	reg  Regularizer
}

// sampleGrad runs one sample forward, scores it and, when g is not nil,
// adds scale times its gradient to g. It returns the loss (including the
// regulariser) and the predicted class.
func (w *work[F]) sampleGrad(s *dataset.Sample, key uint64, lc lossCfg, scale float64, g *netParams[F], scratch []float64) (float64, int) {
	w.forward(s.Events, key)
	loss, pred := lossGrad(lc.kind, w.out, w.gOut, w.T, w.p.roN, s.Label, scale, scratch)
	regGrad := scratch[4*w.p.roN:]
	for l := range w.ls {
		pen, d := lc.reg.penalty(w.counts[l], w.ls[l].n)
		loss += pen
		regGrad[l] = scale * d
	}
	if g != nil {
		w.backward(s.Events, g, regGrad)
	}
	return loss, pred
}

// shardResult is what one shard reports.
type shardResult struct {
	loss    float64
	correct int
	spikes  []float64 // per hidden layer
}

// runShards calls fn(worker, shard) for every shard 0..n−1 on nw workers.
func runShards(n, nw int, fn func(worker, shard int)) {
	nw = min(nw, n)
	if nw <= 1 {
		for s := 0; s < n; s++ {
			fn(0, s)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < nw; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				s := int(next.Add(1) - 1)
				if s >= n {
					return
				}
				fn(w, s)
			}
		}(w)
	}
	wg.Wait()
}

// permutation returns the sample order of an epoch: a Fisher–Yates shuffle
// driven by splitmix64 of (seed, epoch).
func permutation(n int, seed uint64, epoch int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	st := mix64(seed ^ 0x73687566666c65 ^ uint64(epoch)<<20)
	for i := n - 1; i > 0; i-- {
		st += 0x9e3779b97f4a7c15
		j := int(mix64(st) % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// engine32 is the float32 machinery of a run on one data shape.
type engine32 struct {
	shard   int // samples per shard
	params  netParams[float32]
	works   []*work[float32]
	scratch [][]float64
	grads   [][]float32 // per shard, flat
	gviews  []netParams[float32]
	results []shardResult
}

func newEngine32(m *Model, T, nw, shard, shards int, withGrad bool) *engine32 {
	e := &engine32{shard: shard}
	data := make([][]float32, len(m.Params))
	for i := range m.Params {
		data[i] = m.Params[i].Data
	}
	e.params = bind(&m.Spec, data)
	for w := 0; w < nw; w++ {
		e.works = append(e.works, newWork(&m.Spec, &e.params, T))
		e.scratch = append(e.scratch, make([]float64, 4*m.Spec.Readout.Size+len(m.Spec.Hidden)))
	}
	e.results = make([]shardResult, shards)
	for s := range e.results {
		e.results[s].spikes = make([]float64, len(m.Spec.Hidden))
	}
	if withGrad {
		n := m.NumParams()
		for s := 0; s < shards; s++ {
			g := make([]float32, n)
			e.grads = append(e.grads, g)
			e.gviews = append(e.gviews, bind(&m.Spec, tensorViews(m, g)))
		}
	}
	return e
}

// run processes the samples idx of set (at most shard·len(results)),
// with noise epoch epoch, accumulating gradients scaled by gscale when the
// engine has gradient buffers.
func (e *engine32) run(set *dataset.Set, idx []int, seed, epoch uint64, lc lossCfg, gscale float64) {
	e.params.prepare()
	sz := e.shard
	nsh := (len(idx) + sz - 1) / sz
	runShards(nsh, len(e.works), func(wk, s int) {
		w := e.works[wk]
		r := &e.results[s]
		r.loss, r.correct = 0, 0
		clear(r.spikes)
		var g *netParams[float32]
		if e.grads != nil {
			clear(e.grads[s])
			g = &e.gviews[s]
		}
		for _, i := range idx[s*sz : min(len(idx), (s+1)*sz)] {
			smp := &set.Samples[i]
			loss, pred := w.sampleGrad(smp, noiseKey(seed, epoch, uint64(i)), lc, gscale, g, e.scratch[wk])
			r.loss += loss
			if pred == smp.Label {
				r.correct++
			}
			for l, c := range w.counts {
				r.spikes[l] += c
			}
		}
	})
}

// Train runs epochs Epoch+1 … Cfg.Epochs on train, validating on val (may
// be nil) after each. progress (may be nil) is called after every batch;
// checkpoint (may be nil) after every epoch, with the trainer in a state
// that resumes exactly. On cancellation of ctx, Train stops after the
// current batch and returns ctx.Err() with the trainer at that batch (a
// checkpoint then resumes mid-epoch). On divergence it returns an error
// wrapping ErrDiverged and leaves the parameters of the last finite batch.
func (tr *Trainer) Train(ctx context.Context, train, val *dataset.Set, progress func(Progress), checkpoint func(*Trainer) error) error {
	m := tr.Model
	if err := checkSet(&m.Spec, train); err != nil {
		return err
	}
	if val != nil {
		if err := checkSet(&m.Spec, val); err != nil {
			return err
		}
	}
	cfg := tr.Cfg
	B := cfg.Batch
	nw := workers(cfg.Workers)
	sz := shardSizeFor(B)
	eng := newEngine32(m, train.Steps, nw, sz, (B+sz-1)/sz, true)
	lc := lossCfg{cfg.Loss, cfg.Reg}
	n := len(train.Samples)
	batches := (n + B - 1) / B
	backup := make([]float32, len(tr.flat))
	var fq *fakeQuant
	var float []float32 // the float parameters while the quantized ones are in place
	if cfg.QATBits > 0 {
		var err error
		if fq, err = newFakeQuant(m, cfg.QATChip, cfg.QATBits); err != nil {
			return err
		}
		float = make([]float32, len(tr.flat))
	}
	quantize := func() {
		if fq != nil {
			copy(float, tr.flat)
			fq.apply()
		}
	}
	restore := func() {
		if fq != nil {
			copy(tr.flat, float)
		}
	}
	for tr.Epoch < cfg.Epochs {
		ep := tr.Epoch
		lr := cfg.Opt.lrAt(ep, cfg.Epochs)
		perm := permutation(n, cfg.Seed, ep)
		start := time.Now()
		done0 := tr.EpochSeen
		for tr.Batch < batches {
			if err := ctx.Err(); err != nil {
				return err
			}
			idx := perm[tr.Batch*B : min(n, (tr.Batch+1)*B)]
			quantize()
			eng.run(train, idx, cfg.Seed, uint64(ep), lc, 1/float64(len(idx)))
			restore()
			clear(tr.grad)
			nsh := (len(idx) + sz - 1) / sz
			loss, correct := 0.0, 0
			for s := 0; s < nsh; s++ {
				add(eng.grads[s], tr.grad) // in shard order: worker-count independent
				loss += eng.results[s].loss
				correct += eng.results[s].correct
			}
			if err := tr.checkFinite(loss); err != nil {
				return err
			}
			copy(backup, tr.flat)
			tr.opt.step(tr.flat, tr.grad, tr.scale, lr)
			if err := tr.checkParams(); err != nil {
				copy(tr.flat, backup)
				return err
			}
			tr.Batch++
			tr.EpochLoss += loss
			tr.EpochCorrect += correct
			tr.EpochSeen += len(idx)
			if progress != nil {
				el := time.Since(start).Seconds()
				progress(Progress{Epoch: ep + 1, Epochs: cfg.Epochs, Batch: tr.Batch, Batches: batches, Samples: tr.EpochSeen,
					Loss: tr.EpochLoss / float64(tr.EpochSeen), Acc: float64(tr.EpochCorrect) / float64(tr.EpochSeen),
					SamplesPerSecond: float64(tr.EpochSeen-done0) / el})
			}
		}
		el := time.Since(start).Seconds()
		st := EpochStats{Epoch: ep + 1, LR: lr, TrainLoss: tr.EpochLoss / float64(tr.EpochSeen),
			TrainAcc: float64(tr.EpochCorrect) / float64(tr.EpochSeen), Seconds: el}
		if el > 0 { // a history entry goes into the checkpoint's JSON header: never Inf or NaN
			st.SamplesPerS = float64(tr.EpochSeen-done0) / el
		}
		tr.Epoch++
		tr.Batch, tr.EpochLoss, tr.EpochCorrect, tr.EpochSeen = 0, 0, 0, 0
		stop := false
		if val != nil {
			quantize()
			r := Evaluate(m, val, EvalConfig{Seed: cfg.Seed, Workers: cfg.Workers, Loss: cfg.Loss})
			restore()
			st.ValLoss, st.ValAcc, st.Rates = r.Loss, r.Accuracy, r.Rates
			if tr.Best == nil || r.Accuracy > tr.BestValAcc {
				tr.Best, tr.BestEpoch, tr.BestValAcc = m.Clone(), tr.Epoch, r.Accuracy
			}
			stop = cfg.Patience > 0 && tr.Epoch-tr.BestEpoch >= cfg.Patience
		}
		tr.History = recentHistory(append(tr.History, st))
		if checkpoint != nil {
			if err := checkpoint(tr); err != nil {
				return err
			}
		}
		if stop {
			break
		}
	}
	return nil
}

// Stopped reports whether early stopping ended the run before Cfg.Epochs.
func (tr *Trainer) Stopped() bool {
	return tr.Cfg.Patience > 0 && tr.Best != nil && tr.Epoch-tr.BestEpoch >= tr.Cfg.Patience
}

// checkFinite names the first layer with non-finite parameters, else with a
// non-finite gradient, else reports a non-finite loss at the readout.
func (tr *Trainer) checkFinite(loss float64) error {
	if err := tr.checkParams(); err != nil {
		return err
	}
	if err := tr.checkVec(tr.grad, "gradient"); err != nil {
		return err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return fmt.Errorf("%w: epoch %d, batch %d: loss is %v at the readout", ErrDiverged, tr.Epoch+1, tr.Batch+1, loss)
	}
	return nil
}

func (tr *Trainer) checkParams() error { return tr.checkVec(tr.flat, "parameters") }

func (tr *Trainer) checkVec(v []float32, what string) error {
	views := tensorViews(tr.Model, v)
	for i, t := range views {
		for _, x := range t {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%w: epoch %d, batch %d: %s of %s (%s) not finite", ErrDiverged,
					tr.Epoch+1, tr.Batch+1, what, tr.Model.Params[i].Name, layerName(tr.Model.Params[i].Name))
			}
		}
	}
	return nil
}

// layerName turns a tensor name into words.
func layerName(tensor string) string {
	if len(tensor) > 2 && tensor[:2] == "ro" {
		return "readout"
	}
	var l int
	if _, err := fmt.Sscanf(tensor, "h%d.", &l); err == nil {
		return fmt.Sprintf("hidden layer %d", l)
	}
	return tensor
}

// EvalConfig sets up an evaluation.
type EvalConfig struct {
	Seed    uint64
	Trial   int // noise trial; evaluations with different trials draw different noise
	Workers int
	Loss    Loss
}

// EvalResult holds accuracy and activity on a data set.
type EvalResult struct {
	Accuracy float64   `json:"accuracy"`
	Loss     float64   `json:"loss"`
	Samples  int       `json:"samples"`
	Rates    []float64 `json:"rates_hz"` // mean firing rate per hidden layer, Hz
}

// Evaluate runs m on every sample of set (one noisy pass for stochastic
// networks, noise as in training) and returns accuracy, mean loss and the
// hidden layers' mean firing rates.
func Evaluate(m *Model, set *dataset.Set, cfg EvalConfig) EvalResult {
	nw := workers(cfg.Workers)
	const chunk = maxShards * minShardSize
	eng := newEngine32(m, set.Steps, nw, minShardSize, maxShards, false)
	lc := lossCfg{kind: cfg.Loss}
	n := len(set.Samples)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	var res EvalResult
	res.Rates = make([]float64, len(m.Spec.Hidden))
	correct := 0
	for lo := 0; lo < n; lo += chunk {
		part := idx[lo:min(n, lo+chunk)]
		eng.run(set, part, cfg.Seed, evalEpoch(cfg.Trial), lc, 1)
		for s := 0; s < (len(part)+minShardSize-1)/minShardSize; s++ {
			r := &eng.results[s]
			res.Loss += r.loss
			correct += r.correct
			for l, c := range r.spikes {
				res.Rates[l] += c
			}
		}
	}
	res.Samples = n
	if n > 0 {
		res.Accuracy = float64(correct) / float64(n)
		res.Loss /= float64(n)
		for l := range res.Rates {
			res.Rates[l] /= float64(n) * float64(m.Spec.Hidden[l].Size) * float64(set.Steps) * m.Spec.DT
		}
	}
	return res
}

// EvaluateChecked is Evaluate after checking that set fits m.
func EvaluateChecked(m *Model, set *dataset.Set, cfg EvalConfig) (EvalResult, error) {
	if err := checkSet(&m.Spec, set); err != nil {
		return EvalResult{}, err
	}
	return Evaluate(m, set, cfg), nil
}
