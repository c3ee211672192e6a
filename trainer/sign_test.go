package trainer

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
)

// signPreset is preset name with its weight sign encoding set to sign, so
// that the tests hold whatever the preset file says.
func signPreset(t testing.TB, name, sign string) *chip.Config {
	t.Helper()
	c, err := chip.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	c.Synapse.Sign = sign
	return c
}

// TestRowQuantSignModes: for every sign encoding and two widths, random
// rows quantize to mantissas the chip's MantissaRange accepts, each within
// half a step of its grid, and the reported error is that error.
func TestRowQuantSignModes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 12))
	for _, sign := range []string{"signed", "row", "type"} {
		cfg := signPreset(t, "loihi", sign)
		for _, bits := range []int{8, 4} {
			for trial := 0; trial < 300; trial++ {
				typ := r.IntN(2)
				mixed := sign != "type" && r.IntN(3) > 0
				g := firmware.RowGrid(cfg, bits, mixed, typ)
				top := float64(g.Max()) * math.Ldexp(1, cfg.Synapse.WeightExpMax) * math.Pow(2, -r.Float64()*14)
				c := make([]float64, 1+r.IntN(30))
				s := 1.0
				if (sign == "type" && typ == 1) || (sign != "type" && r.IntN(2) == 0) {
					s = -1
				}
				for j := range c {
					c[j] = s * top * r.Float64()
					if mixed && j%2 == 1 {
						c[j] = -c[j]
					}
				}
				mant, e, rel, _, _, clipped := rowQuant(c, g, cfg)
				if clipped != 0 {
					t.Errorf("%s/%d: %d clipped below the largest exponent's range", sign, bits, clipped)
				}
				xmax, worst := 0.0, 0.0
				f := math.Ldexp(1, int(e))
				lo, hi, step := cfg.Synapse.MantissaRange(mixed, typ)
				for j, m := range mant {
					if m < lo || m > hi || (m-lo)%step != 0 || !g.Contains(m) {
						t.Fatalf("%s/%d mixed %v type %d: mantissa %d outside the chip's %d…%d step %d (grid %v)", sign, bits, mixed, typ, m, lo, hi, step, g)
					}
					err := math.Abs(float64(m)*f - c[j])
					if err > float64(g.Step)*f/2*(1+1e-12) {
						t.Fatalf("%s/%d: %g → %d·2^%d, error %g beyond half a step", sign, bits, c[j], m, e, err)
					}
					xmax, worst = max(xmax, math.Abs(c[j])), max(worst, err)
				}
				if xmax > 0 && math.Abs(rel-worst/xmax) > 1e-12 {
					t.Errorf("%s/%d: reported error %g, actual %g", sign, bits, rel, worst/xmax)
				}
			}
		}
	}
}

// senderKey is a sender of a deployed network at one exponent: neuron pre
// of population pop (−1: channel pre of the input port).
type senderKey struct {
	pop, pre int
	exp      int8
}

// senderSigns collects the weight signs per (sender, exponent) of net.
func senderSigns(net *firmware.Network) map[senderKey]firmware.Signs {
	out := map[senderKey]firmware.Signs{}
	for _, pr := range net.Projections {
		for _, c := range pr.Conns {
			k := senderKey{pr.Pre, int(c.Pre), pr.RowExp[c.Pre]}
			out[k] = out[k].Of(float64(c.Weight))
		}
	}
	for _, in := range net.Inputs {
		for _, c := range in.Conns {
			k := senderKey{-1, int(c.Pre), in.RowExp[c.Pre]}
			out[k] = out[k].Of(float64(c.Weight))
		}
	}
	return out
}

// TestDeployRowSigns: a briefly trained network (deterministic and
// stochastic, a recurrent layer) deployed on loihi with Loihi's sign modes:
// every sender whose weights mix signs at one exponent has even mantissas
// only, single-sign senders keep odd ones, Network.Check and the chip's own
// Program check accept the network, and the chip matches the trainer's
// integer evaluation bit for bit (2 workers). It logs accuracy, parity and
// weight errors against the same deploy with signed mantissas.
func TestDeployRowSigns(t *testing.T) {
	train, val, test := tinySet(t, 3, 30)
	row := signPreset(t, "loihi", "row")
	signed := signPreset(t, "loihi", "signed")
	for _, stochastic := range []bool{false, true} {
		tr := tinyTrainer(t, train, stochastic, 2, LayerSpec{Size: 24, Recurrent: true}, LayerSpec{Size: 12})
		if err := tr.Train(context.Background(), train, val, nil, nil); err != nil {
			t.Fatal(err)
		}
		for _, cfg := range []*chip.Config{signed, row} {
			net, rep, err := Deploy(tr.Model, cfg, DeployOptions{Seed: 9, Calibrate: train.Subset(20)})
			if err != nil {
				t.Fatal(err)
			}
			if err := net.Check(cfg); err != nil {
				t.Fatalf("sign %s: Check: %v", cfg.Synapse.Sign, err)
			}
			if _, _, err := firmware.Compile(net, cfg); err != nil {
				t.Fatalf("sign %s: Compile (the chip's row check): %v", cfg.Synapse.Sign, err)
			}
			mixed, rows := 0, 0
			for _, l := range rep.Layers {
				mixed, rows = mixed+l.MixedRows, rows+l.Rows
			}
			if cfg.Synapse.Sign == "row" {
				if mixed == 0 {
					t.Error("no row of a trained network mixes signs: the test proves nothing")
				}
				signs := senderSigns(net)
				odd := 0
				check := func(pop int, pre uint32, exp int8, w int32) {
					if signs[senderKey{pop, int(pre), exp}].Mixed() && w%2 != 0 {
						t.Fatalf("stochastic %v: sender %d/%d mixes signs at exponent %d but holds the odd mantissa %d", stochastic, pop, pre, exp, w)
					}
					odd += int(w & 1)
				}
				for _, pr := range net.Projections {
					for _, c := range pr.Conns {
						check(pr.Pre, c.Pre, pr.RowExp[c.Pre], c.Weight)
					}
				}
				for _, in := range net.Inputs {
					for _, c := range in.Conns {
						check(-1, c.Pre, in.RowExp[c.Pre], c.Weight)
					}
				}
				if mixed == rows && odd != 0 {
					t.Errorf("every row mixes signs, yet %d odd mantissas", odd)
				}
			} else if mixed != 0 {
				t.Errorf("signed chip: %d rows on the mixed grid", mixed)
			}
			res, err := EvaluateOnChip(context.Background(), net, cfg, test, ChipEvalConfig{Seed: 4, Trials: 2, Workers: 2, Parity: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("stochastic %v, sign %q: chip accuracy %.3f, parity %.3f, %d of %d rows mixed", stochastic, cfg.Synapse.Sign, res.ChipAccuracy, *res.Parity, mixed, rows)
			for _, l := range rep.Layers {
				t.Logf("  %s: weight error max %.4f rms %.5f of the row maximum, exponents %d…%d, %d zeroed", l.Name, l.MaxWeightErr, l.RMSWeightErr, l.ExpMin, l.ExpMax, l.Zeroed)
			}
			if *res.Parity != 1 {
				t.Errorf("stochastic %v, sign %q: parity %.4f, want 1 (%s)", stochastic, cfg.Synapse.Sign, *res.Parity, res.FirstMismatch)
			}
			if res.RatesHz[0] == 0 {
				t.Errorf("a silent network proves nothing: rates %v", res.RatesHz)
			}
		}
	}
}

// TestQATRoundsAsDeployRow: on a chip with Loihi's sign modes,
// quantization-aware training rounds every weight — input, recurrent,
// between layers and readout — onto exactly the grid Deploy uses, mixed
// rows on the even one.
func TestQATRoundsAsDeployRow(t *testing.T) {
	train, val, _ := tinySet(t, 3, 30)
	tr := tinyTrainer(t, train, false, 1, LayerSpec{Size: 16, Recurrent: true}, LayerSpec{Size: 8})
	if err := tr.Train(context.Background(), train, val, nil, nil); err != nil {
		t.Fatal(err)
	}
	cfg := signPreset(t, "loihi", "row")
	for _, bits := range []int{8, 4} {
		m := tr.Model.Clone()
		fq := &fakeQuant{cfg: cfg, bits: bits, m: m}
		fq.apply()
		net, rep, err := Deploy(tr.Model, cfg, DeployOptions{WeightBits: bits})
		if err != nil {
			t.Fatal(err)
		}
		params := map[string]Tensor{}
		for _, p := range m.Params {
			params[p.Name] = p
		}
		act := math.Ldexp(1, cfg.Neuron.ActShift)
		signs := senderSigns(net)
		checked, mixed := 0, 0
		compare := func(name string, pop int, conns []firmware.Conn, exps []int8, layer int) {
			w := params[name]
			k := rep.Layers[layer].Scale / act
			for _, c := range conns {
				got := float64(c.Weight) * math.Ldexp(1, int(exps[c.Pre])) / k
				want := float64(w.Data[int(c.Pre)*w.Cols+int(c.Post)])
				if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
					t.Fatalf("%d bits, %s synapse %d→%d: deployed %.8g, fake-quantized %.8g", bits, name, c.Pre, c.Post, got, want)
				}
				checked++
				if signs[senderKey{pop, int(c.Pre), exps[c.Pre]}].Mixed() {
					mixed++
					if c.Weight%2 != 0 {
						t.Fatalf("%d bits, %s synapse %d→%d: odd mantissa %d from a sender that mixes signs", bits, name, c.Pre, c.Post, c.Weight)
					}
				}
			}
		}
		compare("h0.w0", -1, net.Inputs[0].Conns, net.Inputs[0].RowExp, 0)
		for _, pr := range net.Projections {
			name := map[string]string{"h0↺": "h0.v0", "h0→h1": "h1.w0", "h1→readout": "ro.w"}[pr.Name]
			if name == "" {
				t.Fatalf("unexpected projection %q", pr.Name)
			}
			compare(name, pr.Pre, pr.Conns, pr.RowExp, pr.Post)
		}
		if checked == 0 || mixed == 0 {
			t.Errorf("%d bits: %d synapses compared, %d from senders that mix signs: the test proves nothing", bits, checked, mixed)
		}
	}
}

// TestDeployRefusesTypeSigns: a chip whose synapse type gives the sign
// (SpiNNaker's encoding) cannot take a trained layer's mixed-sign rows on
// one type; deploy and training for the chip refuse it, saying why.
func TestDeployRefusesTypeSigns(t *testing.T) {
	train, _, _ := tinySet(t, 3, 10)
	m := tinyTrainer(t, train, true, 1, LayerSpec{Size: 8}).Model
	cfg := signPreset(t, "loihi", "type")
	want := `synapse.sign = "type"`
	if _, _, err := Deploy(m, cfg, DeployOptions{}); err == nil || !contains(err.Error(), want) {
		t.Errorf("Deploy: %v, want an error containing %q", err, want)
	}
	s := m.Spec
	if _, err := SnapToChip(&s, cfg); err == nil || !contains(err.Error(), want) {
		t.Errorf("SnapToChip: %v, want an error containing %q", err, want)
	}
}
