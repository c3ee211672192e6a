package trainer

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aerie-neuro/aerie/trainer/dataset"
)

// tinySet is a quick Randman problem for tests.
func tinySet(t testing.TB, classes, perClass int) (train, val, test *dataset.Set) {
	cfg := dataset.DefaultRandman()
	cfg.Classes, cfg.Units, cfg.SamplesPerClass, cfg.Steps = classes, 12, perClass, 40
	return mustRandman(t, cfg)
}

func tinyTrainer(t testing.TB, train *dataset.Set, stochastic bool, workers int, hidden ...LayerSpec) *Trainer {
	t.Helper()
	s := Spec{Inputs: train.Units, Steps: train.Steps, Hidden: hidden, Readout: ReadoutSpec{Size: train.Classes}, Stochastic: stochastic}
	m, err := NewModel(s)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(InitConfig{NuIn: InputRate(train, 0.002)}, 3)
	tr, err := NewTrainer(m, TrainConfig{Epochs: 2, Batch: 20, Seed: 3, Workers: workers, Reg: Regularizer{Strength: 0.1, Threshold: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestWorkersBitIdentical: the trained parameters do not depend on the
// number of workers (shards are fixed, reduced in order).
func TestWorkersBitIdentical(t *testing.T) {
	train, val, _ := tinySet(t, 3, 30)
	hidden := []LayerSpec{{Size: 16, Recurrent: true}, {Size: 8}}
	var ref []float32
	for _, nw := range []int{1, 2, 3, 5} {
		tr := tinyTrainer(t, train, true, nw, hidden...)
		if err := tr.Train(context.Background(), train, val, nil, nil); err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = append([]float32(nil), tr.flat...)
			continue
		}
		if !sameBits(tr.flat, ref) {
			t.Errorf("%d workers: parameters differ from 1 worker", nw)
		}
	}
}

func TestShardSize(t *testing.T) {
	for _, c := range [][2]int{{1, 8}, {250, 8}, {512, 8}, {513, 9}, {4096, 64}} {
		if got := shardSizeFor(c[0]); got != c[1] || (c[0]+got-1)/got > maxShards {
			t.Errorf("shardSizeFor(%d) = %d, want %d and at most %d shards", c[0], got, c[1], maxShards)
		}
	}
}

// TestResumeExact: stopping (at an epoch end or mid-epoch on cancellation),
// checkpointing and resuming gives bit-identical parameters to an
// uninterrupted run.
func TestResumeExact(t *testing.T) {
	train, val, _ := tinySet(t, 3, 30)
	h := LayerSpec{Size: 16}
	full := tinyTrainer(t, train, true, 2, h)
	if err := full.Train(context.Background(), train, val, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, stopAt := range []int{3, 5} { // batches; 3 is mid-epoch 1 (54/20 → 3 batches per epoch... see below)
		tr := tinyTrainer(t, train, true, 2, h)
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		err := tr.Train(ctx, train, val, func(Progress) {
			if n++; n == stopAt {
				cancel()
			}
		}, nil)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("stop at batch %d: got %v, want context.Canceled", stopAt, err)
		}
		b, err := tr.MarshalCheckpoint(Meta{Task: "test"})
		if err != nil {
			t.Fatal(err)
		}
		back, meta, err := UnmarshalCheckpoint(b)
		if err != nil {
			t.Fatal(err)
		}
		if meta.Task != "test" {
			t.Errorf("meta.Task = %q", meta.Task)
		}
		back.Cfg.Workers = 1 // and a different worker count
		if err := back.Train(context.Background(), train, val, nil, nil); err != nil {
			t.Fatal(err)
		}
		if !sameBits(back.flat, full.flat) {
			t.Errorf("stopped after batch %d and resumed: parameters differ from an uninterrupted run", stopAt)
		}
		if len(back.History) != len(full.History) || back.BestEpoch != full.BestEpoch {
			t.Errorf("history: got %d epochs (best %d), want %d (best %d)", len(back.History), back.BestEpoch, len(full.History), full.BestEpoch)
		}
	}
}

// TestRandmanLearns trains a small stochastic network on a small Randman
// task and requires accuracy clearly above chance.
func TestRandmanLearns(t *testing.T) {
	train, val, test := tinySet(t, 4, 150)
	tr := tinyTrainer(t, train, true, 0, LayerSpec{Size: 48})
	tr.Cfg.Epochs, tr.Cfg.Batch = 12, 32
	if err := tr.Train(context.Background(), train, val, nil, nil); err != nil {
		t.Fatal(err)
	}
	r := Evaluate(tr.Best, test, EvalConfig{Seed: 1})
	t.Logf("test accuracy %.3f (chance 0.25), val %.3f at epoch %d", r.Accuracy, tr.BestValAcc, tr.BestEpoch)
	if r.Accuracy < 0.6 {
		t.Errorf("test accuracy %.3f, want ≥ 0.6 (chance is 0.25)", r.Accuracy)
	}
}

// TestDivergenceNamesEpochAndLayer: a non-finite parameter stops training
// with ErrDiverged naming the epoch and the layer.
func TestDivergenceNamesEpochAndLayer(t *testing.T) {
	train, val, _ := tinySet(t, 3, 10)
	tr := tinyTrainer(t, train, false, 1, LayerSpec{Size: 8})
	tr.Model.Params[1].Data[0] = float32(math.Inf(1)) // ro.w
	err := tr.Train(context.Background(), train, val, nil, nil)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("got %v, want ErrDiverged", err)
	}
	for _, want := range []string{"epoch 1", "readout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// TestBadDataBeforeTraining: a set that does not fit the network is
// rejected before any work.
func TestBadDataBeforeTraining(t *testing.T) {
	train, _, _ := tinySet(t, 3, 10)
	tr := tinyTrainer(t, train, false, 1, LayerSpec{Size: 8})
	bad := *train
	bad.Units = 30
	if err := tr.Train(context.Background(), &bad, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "input units") {
		t.Errorf("units mismatch: got %v", err)
	}
	bad = *train
	bad.Samples = append([]dataset.Sample(nil), train.Samples...)
	bad.Samples[2].Label = 7
	if err := tr.Train(context.Background(), &bad, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "label") {
		t.Errorf("bad label: got %v", err)
	}
	if tr.Epoch != 0 || tr.opt.steps != 0 {
		t.Errorf("training started on bad data")
	}
}

// TestFloat32MatchesFloat64: the float32 fast paths (fast exp, specialised
// loops) agree with the float64 general path.
func TestFloat32MatchesFloat64(t *testing.T) {
	train, _, _ := tinySet(t, 3, 10)
	for _, stoch := range []bool{false, true} {
		tr := tinyTrainer(t, train, stoch, 1, LayerSpec{Size: 20})
		m := tr.Model
		s := &train.Samples[0]
		lc := lossCfg{LossMaxOverTime, Regularizer{Strength: 0.1, Threshold: 0.5}}
		e := newF64(m, train.Steps, false)
		l64, g64 := e.grad(m, s, lc, 42)
		eng := newEngine32(m, train.Steps, 1, 1, 1, true)
		eng.params.prepare()
		sc := make([]float64, 4*m.Spec.Readout.Size+1)
		l32, _ := eng.works[0].sampleGrad(s, 42, lc, 1, &eng.gviews[0], sc)
		if math.Abs(l32-l64) > 1e-4*math.Abs(l64) {
			t.Errorf("stochastic=%v: loss float32 %v, float64 %v", stoch, l32, l64)
		}
		g32 := tensorViews(m, eng.grads[0])
		for i := range g64 {
			num, den := 0.0, 0.0
			for j := range g64[i] {
				d := float64(g32[i][j]) - g64[i][j]
				num += d * d
				den += g64[i][j] * g64[i][j]
			}
			if den > 0 && math.Sqrt(num/den) > 1e-3 {
				t.Errorf("stochastic=%v: %s: relative gradient difference %.2g", stoch, m.Params[i].Name, math.Sqrt(num/den))
			}
		}
	}
}

func TestModelFileRoundTrip(t *testing.T) {
	train, _, _ := tinySet(t, 3, 10)
	tr := tinyTrainer(t, train, true, 1, LayerSpec{Size: 8, Recurrent: true, Bias: true, TauSyn2: 0.005, Reset: ResetSubtract})
	b, err := MarshalModel(tr.Model, Meta{Task: "x", TestAccuracy: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	m, meta, err := UnmarshalModel(b)
	if err != nil {
		t.Fatal(err)
	}
	if meta.TestAccuracy != 0.5 || m.Spec.Hidden[0].Reset != ResetSubtract || !sameBits(flatParams(m), tr.flat) {
		t.Errorf("round trip changed the model")
	}
	b2, _ := MarshalModel(m, meta)
	if !bytes.Equal(b, b2) {
		t.Errorf("encoding is not deterministic")
	}
	// corruption is detected with an offset
	for _, c := range []struct {
		name string
		mod  func([]byte) []byte
		want string
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, "CRC"},
		{"flipped bit", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }, "CRC"},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }, "magic"},
		{"empty", func([]byte) []byte { return nil }, "too short"},
	} {
		_, _, err := UnmarshalModel(c.mod(append([]byte(nil), b...)))
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "byte") {
			t.Errorf("%s: got %v, want ErrCorrupt mentioning %q and a byte offset", c.name, err, c.want)
		}
	}
	// testdata seed for the fuzzer
	if os.Getenv("AERIE_UPDATE_TESTDATA") != "" {
		if err := os.WriteFile(filepath.Join("testdata", "tiny.aem"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzModelDecode(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "tiny.aem")); err == nil {
		f.Add(b)
	}
	m, _ := NewModel(Spec{Inputs: 2, Steps: 3, Hidden: []LayerSpec{{Size: 2}}, Readout: ReadoutSpec{Size: 2}})
	b, _ := MarshalModel(m, Meta{})
	f.Add(b)
	tr, _ := NewTrainer(m.Clone(), TrainConfig{Batch: 1})
	cb, _ := tr.MarshalCheckpoint(Meta{})
	f.Add(cb)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, _, err := UnmarshalModel(b); err == nil {
			if _, err := MarshalModel(m, Meta{}); err != nil {
				t.Fatal(err)
			}
		}
		_, _, _ = UnmarshalCheckpoint(b)
	})
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, text, want string
	}{
		{"unknown key", "[task]\ndataset = \"randman\"\n\n[train]\nepochs = 3\nepoch = 4\n", "cfg.toml:6: unknown key \"train.epoch\""},
		{"unknown table", "[task]\ndataset = \"randman\"\n[trian]\nepochs = 3\n", "cfg.toml:3: unknown key \"trian\""},
		{"syntax", "[task]\ndataset = randman\n", "cfg.toml:2:"},
		{"type", "[train]\nepochs = \"many\"\n", "cfg.toml:2: key \"train.epochs\""},
		{"case", "[train]\nEpochs = 3\n", "cfg.toml:2: unknown key \"train.Epochs\" (did you mean \"epochs\""},
	} {
		_, err := ParseConfig("cfg.toml", c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
	for _, p := range []string{"randman_stochastic", "randman_deterministic", "mnist_stochastic", "mnist_deterministic", "paper_randman_stochastic", "paper_randman_deterministic", "events_nmnist"} {
		c, err := LoadConfig(filepath.Join("..", "examples", "train", p+".toml"))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if _, err := c.Spec(20, 100, 10); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		if _, err := c.TrainConfig(); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestEventsTask trains on a labelled directory of AER files: class 0 fires
// unit 0 before unit 1, class 1 the reverse.
func TestEventsTask(t *testing.T) {
	dir := t.TempDir()
	var labels strings.Builder
	for i := 0; i < 60; i++ {
		c := i % 2
		a, b := 2+i%3, 12+i%5
		if c == 1 {
			a, b = b, a
		}
		name := filepath.Join(dir, "s"+strings.Repeat("x", i%4)+string(rune('a'+i%26))+string(rune('a'+i/26))+".csv")
		csv := "tick,port,channel,payload\n" + itoa(a) + ",0,0,0\n" + itoa(b) + ",0,1,0\n"
		if err := os.WriteFile(name, []byte(csv), 0o644); err != nil {
			t.Fatal(err)
		}
		labels.WriteString(filepath.Base(name) + "," + itoa(c) + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "labels.csv"), []byte(labels.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig("ev.toml", "[task]\ndataset = \"events\"\ndir = \""+filepath.ToSlash(dir)+"\"\nlabels = \"labels.csv\"\nsteps = 20\nunits = 2\n")
	if err != nil {
		t.Fatal(err)
	}
	train, val, test, err := cfg.Data()
	if err != nil {
		t.Fatalf("events data: %v", err)
	}
	if train.Units != 2 || train.Steps != 20 || train.Classes != 2 || len(train.Samples)+len(val.Samples)+len(test.Samples) != 60 {
		t.Fatalf("got units %d steps %d classes %d, %d+%d+%d samples", train.Units, train.Steps, train.Classes,
			len(train.Samples), len(val.Samples), len(test.Samples))
	}
	cfg.Task.Labels = "missing.csv"
	if _, _, _, err := cfg.Data(); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("missing labels file: got %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestFano: a deterministic network has no trial-to-trial variability; a
// stochastic one has Fano factors of order one (below one for spike counts
// of neurons with refractoriness-like resets).
func TestFano(t *testing.T) {
	train, _, _ := tinySet(t, 3, 10)
	for _, stoch := range []bool{false, true} {
		tr := tinyTrainer(t, train, stoch, 1, LayerSpec{Size: 20}, LayerSpec{Size: 10})
		f := Fano(tr.Model, train, 0, 200, 10, 1)
		for l, x := range f {
			switch {
			case !stoch && !(x == 0 || math.IsNaN(x)):
				t.Errorf("deterministic layer %d: Fano %v, want 0 (or NaN if silent)", l, x)
			case stoch && !(x > 0.05 && x < 1.5):
				t.Errorf("stochastic layer %d: Fano %v, want in (0.05, 1.5)", l, x)
			}
		}
	}
}
