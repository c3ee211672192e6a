package trainer

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aerie-neuro/aerie/trainer/dataset"
)

func randmanSpec(stochastic bool, hidden ...int) Spec {
	s := Spec{Inputs: 20, Steps: 100, Readout: ReadoutSpec{Size: 10}, Stochastic: stochastic}
	for _, h := range hidden {
		s.Hidden = append(s.Hidden, LayerSpec{Size: h})
	}
	return s
}

func mustRandman(t testing.TB, cfg dataset.RandmanConfig) (train, val, test *dataset.Set) {
	t.Helper()
	set, err := dataset.Randman(cfg)
	if err != nil {
		t.Fatal(err)
	}
	set.Shuffle(cfg.Seed)
	p := set.Split(0.8, 0.1, 0.1)
	return p[0], p[1], p[2]
}

// TestRandmanExplore is a manual experiment: AERIE_EPOCHS=30 go test -run
// RandmanExplore -v. It is skipped without the variable.
func TestRandmanExplore(t *testing.T) {
	ep, _ := strconv.Atoi(os.Getenv("AERIE_EPOCHS"))
	if ep == 0 {
		t.Skip("set AERIE_EPOCHS")
	}
	stoch := os.Getenv("AERIE_DET") == ""
	lr, _ := strconv.ParseFloat(os.Getenv("AERIE_LR"), 64)
	train, val, test := mustRandman(t, dataset.DefaultRandman())
	m, err := NewModel(randmanSpec(stoch, 128))
	if err != nil {
		t.Fatal(err)
	}
	m.Init(InitConfig{}, 1)
	cfg := TrainConfig{Epochs: ep, Batch: 250, Seed: 1, Reg: Regularizer{Strength: 0.1, Threshold: 7},
		Opt: OptimizerConfig{Kind: os.Getenv("AERIE_OPT"), LR: lr}}
	tr, err := NewTrainer(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = tr.Train(context.Background(), train, val, nil, func(tr *Trainer) error {
		h := tr.History[len(tr.History)-1]
		t.Logf("epoch %d loss %.3f acc %.3f val %.3f rates %.1f Hz %.0f samples/s", h.Epoch, h.TrainLoss, h.TrainAcc, h.ValAcc, h.Rates, h.SamplesPerS)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := Evaluate(m, test, EvalConfig{Seed: 1})
	t.Logf("test acc %.3f (%v)", r.Accuracy, time.Since(start))
}
