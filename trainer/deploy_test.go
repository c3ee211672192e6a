package trainer

import (
	"context"
	"math"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
)

// TestDeployParity: the trainer's integer evaluation and the emulated chip
// agree on every spike of every layer and every decision, for every test
// sample — deterministic and stochastic networks, recurrent layers, the
// default and loihi presets, 1 and 3 workers — on a briefly trained
// network (so that layers are active and decisions mean something).
func TestDeployParity(t *testing.T) {
	train, val, test := tinySet(t, 3, 30)
	loihi, err := chip.Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	for _, stochastic := range []bool{false, true} {
		tr := tinyTrainer(t, train, stochastic, 2, LayerSpec{Size: 24, Recurrent: true}, LayerSpec{Size: 12})
		if err := tr.Train(context.Background(), train, val, nil, nil); err != nil {
			t.Fatal(err)
		}
		m := tr.Model
		for _, c := range []struct {
			cfg     *chip.Config
			workers int
		}{{chip.Default(), 1}, {loihi, 3}} {
			net, rep, err := Deploy(m, c.cfg, DeployOptions{Seed: 9, Calibrate: train.Subset(20)})
			if err != nil {
				t.Fatal(err)
			}
			res, err := EvaluateOnChip(context.Background(), net, c.cfg, test, ChipEvalConfig{Seed: 4, Trials: 2, Workers: c.workers, Parity: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("stochastic %v on %s: chip accuracy %.3f, parity %.3f, rates %v Hz, %.0f synaptic events / inference; layers %+v",
				stochastic, c.cfg.Name, res.ChipAccuracy, *res.Parity, res.RatesHz, res.SynapticEventsPerInference, rep.Layers)
			if *res.Parity != 1 {
				t.Errorf("stochastic %v on %s, %d workers: parity %.4f, want 1 (%s)", stochastic, c.cfg.Name, c.workers, *res.Parity, res.FirstMismatch)
			}
			if res.RatesHz[0] == 0 || res.SynapticEventsPerInference == 0 {
				t.Errorf("a silent network proves nothing: rates %v", res.RatesHz)
			}
		}
	}
}

// TestEscapeFrequency: a stochastic chip neuron whose membrane is held at a
// fixed distance from threshold fires with the probability of its escape
// table entry (Monte Carlo over 200,000 ticks).
func TestEscapeFrequency(t *testing.T) {
	cfg := chip.Default()
	s := Spec{Inputs: 1, Steps: 10, Hidden: []LayerSpec{{Size: 1}}, Readout: ReadoutSpec{Size: 1}, Stochastic: true}
	s.Defaults()
	scale := math.Ldexp(1, 17) // a threshold of 2^17 units: biases up to 4θ fit 13 bits << 7
	esc, step := escapeTable(&s, scale, cfg)
	if esc.Table[0] != 0 || esc.Table[len(esc.Table)-1] != 65536 || step > 0.05 {
		t.Fatalf("table ends %d … %d, largest step %.3f", esc.Table[0], esc.Table[len(esc.Table)-1], step)
	}
	vth := int32(scale) >> cfg.Neuron.VthShift
	for _, x := range []float64{-0.2, -0.05, 0, 0.1} {
		// dv = 4096 clears v every tick, so v = bias: held at vth + x·scale
		bias := int64(float64(vth)*math.Ldexp(1, cfg.Neuron.VthShift) + x*scale)
		mant, exp, err := firmware.QuantizeBias(float64(bias), cfg)
		if err != nil {
			t.Fatal(err)
		}
		held := int64(mant) << exp
		net := &firmware.Network{Seed: 7, Populations: []firmware.Population{{Name: "n", Size: 1, BiasMant: mant, BiasExp: exp,
			Profile: chip.Profile{Dv: 4096, Vth: vth, Escape: esc}}}}
		prog, _, err := firmware.Compile(net, cfg)
		if err != nil {
			t.Fatal(err)
		}
		sys, err := chip.Load(cfg, prog, chip.Options{})
		if err != nil {
			t.Fatal(err)
		}
		const ticks = 200000
		if err := sys.Run(context.Background(), ticks); err != nil {
			t.Fatal(err)
		}
		got := float64(sys.Stats().Counts.NeuronFire) / ticks
		i := ((held - int64(vth)<<cfg.Neuron.VthShift) >> esc.Shift) + int64(esc.Offset)
		want := float64(esc.Table[i]) / 65536
		if sd := math.Sqrt(want*(1-want)/ticks) + 1e-9; math.Abs(got-want) > 5*sd {
			t.Errorf("x = %.2f: firing frequency %.4f, table entry %d says %.4f (±%.4f)", x, got, i, want, sd)
		}
		if f := 1 / (1 + math.Exp(-s.Escape.Beta*x)); math.Abs(want-f) > step {
			t.Errorf("x = %.2f: table %.4f, escape function %.4f", x, want, f)
		}
	}
}

// TestDeployRejects: what the chip cannot run is refused before any work.
func TestDeployRejects(t *testing.T) {
	train, _, _ := tinySet(t, 3, 10)
	m := tinyTrainer(t, train, true, 1, LayerSpec{Size: 8}).Model
	tn, err := chip.Preset("truenorth")
	if err != nil {
		t.Fatal(err)
	}
	det := chip.Default()
	det.Neuron.Stochastic = false
	for _, c := range []struct {
		cfg  *chip.Config
		opt  DeployOptions
		want string
	}{
		{tn, DeployOptions{}, "the model needs multiplicative decay"},
		{det, DeployOptions{}, "has no stochastic neurons"},
		{chip.Default(), DeployOptions{WeightBits: 9}, "9 weight bits, chip default has 1…8"},
	} {
		if _, _, err := Deploy(m, c.cfg, c.opt); err == nil || !contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.cfg.Name, err, c.want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestDeployScaleFitsWeights: at few weight bits the scale comes down until
// the largest weight fits the largest mantissa at the largest exponent, so
// nothing is clipped (a 4-bit deploy once clipped most of a layer).
func TestDeployScaleFitsWeights(t *testing.T) {
	train, val, _ := tinySet(t, 3, 30)
	tr := tinyTrainer(t, train, false, 1, LayerSpec{Size: 16})
	if err := tr.Train(context.Background(), train, val, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, bits := range []int{8, 4, 2} {
		_, rep, err := Deploy(tr.Model, chip.Default(), DeployOptions{WeightBits: bits})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range rep.Layers {
			if l.Clipped != 0 {
				t.Errorf("%d bits, layer %s: %d weights clipped", bits, l.Name, l.Clipped)
			}
		}
	}
}

// TestQATRoundsAsDeploy: the weights quantization-aware training runs on are
// the weights Deploy puts on the chip — fake quantization of a model, then
// the deployed mantissas scaled back, agree for every synapse — and a QAT
// run trains differently from a float run.
func TestQATRoundsAsDeploy(t *testing.T) {
	train, val, _ := tinySet(t, 3, 30)
	tr := tinyTrainer(t, train, true, 1, LayerSpec{Size: 16})
	if err := tr.Train(context.Background(), train, val, nil, nil); err != nil {
		t.Fatal(err)
	}
	m := tr.Model.Clone()
	fq, err := newFakeQuant(m, "default", 4)
	if err != nil {
		t.Fatal(err)
	}
	fq.apply()
	net, rep, err := Deploy(tr.Model, chip.Default(), DeployOptions{WeightBits: 4})
	if err != nil {
		t.Fatal(err)
	}
	act := math.Ldexp(1, chip.Default().Neuron.ActShift)
	in := net.Inputs[0]
	k := rep.Layers[0].Scale / act
	w := m.Params[0] // h0.w0, inputs × 16
	checked := 0
	for _, c := range in.Conns {
		got := float64(c.Weight) * math.Ldexp(1, int(in.RowExp[c.Pre])) / k
		want := float64(w.Data[int(c.Pre)*w.Cols+int(c.Post)])
		if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Fatalf("synapse %d→%d: deployed %.8g, fake-quantized %.8g", c.Pre, c.Post, got, want)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no synapses compared")
	}
	// a QAT run moves the float weights differently
	a := tinyTrainer(t, train, true, 1, LayerSpec{Size: 16})
	b := tinyTrainer(t, train, true, 1, LayerSpec{Size: 16})
	b.Cfg.QATBits, b.Cfg.QATChip = 4, "default"
	for _, x := range []*Trainer{a, b} {
		if err := x.Train(context.Background(), train, val, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if sameBits(a.flat, b.flat) {
		t.Error("QAT and float training gave the same parameters")
	}
}
