package trainer

import (
	"testing"

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
