package trainer

import (
	"fmt"
	"math"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
)

// Quantization-aware fine-tuning. With TrainConfig.QATBits set, every
// batch's forward and backward pass runs on the weights and biases a deploy
// to TrainConfig.QATChip would hold — each weight row rounded to mantissas
// of QATBits bits at its exponent, at the layer's deploy scale
// (deployScales), each bias to the chip's bias grid — while the optimizer
// updates the float parameters with that gradient: the straight-through
// estimator (Bengio et al. 2013), with the escape-noise surrogate as
// usual. The grids are the deploy's: on a chip with Loihi's sign modes
// (synapse.sign = "row") a unit whose weights mix signs has every row on
// the even grid (mixedRows, decided on the float weights before any of them
// is rounded), the others on the full one. The membrane's own rounding (24-bit states on the Loihi-class
// chips, far finer than 4- or 8-bit weights) is not simulated in the float
// forward pass; the integer evaluation after deploy includes it.

// fakeQuant rounds the model's parameters in place to what Deploy would put
// on the chip.
type fakeQuant struct {
	cfg  *chip.Config
	bits int
	m    *Model
}

func newFakeQuant(m *Model, chipName string, bits int) (*fakeQuant, error) {
	cfg, err := chip.LoadConfig(chipName)
	if err != nil {
		return nil, fmt.Errorf("trainer: qat: %w", err)
	}
	s := m.Spec
	if err := deployable(&s, cfg); err != nil {
		return nil, err
	}
	if bits < 1 || bits > cfg.Synapse.WeightBits {
		return nil, fmt.Errorf("trainer: qat: %d weight bits, chip %s has 1…%d", bits, cfg.Name, cfg.Synapse.WeightBits)
	}
	return &fakeQuant{cfg: cfg, bits: bits, m: m}, nil
}

// apply rounds m's parameters (which alias the trainer's flat vector).
func (q *fakeQuant) apply() {
	m, cfg := q.m, q.cfg
	L := len(m.Spec.Hidden)
	scales := deployScales(m, cfg, q.bits, 2)
	mixed := mixedRows(m, cfg) // before any weight is rounded (a weight rounded to 0 loses its sign)
	act := math.Ldexp(1, cfg.Neuron.ActShift)
	for i := range m.Params {
		t := &m.Params[i]
		if t.Name != "ro.w" && len(t.Name) > 2 && t.Name[len(t.Name)-2:] == ".b" {
			var l int
			fmt.Sscanf(t.Name, "h%d.b", &l)
			sc := q.thresholdScale(l, scales[l])
			for j, x := range t.Data {
				if mant, e, err := firmware.QuantizeBias(float64(x)*sc, cfg); err == nil {
					t.Data[j] = float32(float64(int64(mant)<<e) / sc)
				}
			}
			continue
		}
		l, ok := weightTarget(t.Name, L)
		if !ok {
			continue
		}
		sc := scales[l]
		if l < L {
			sc = q.thresholdScale(l, sc)
		}
		k := sc / act
		typ := 0 // the synapse type: k of h<l>.w<k> or h<l>.v<k>
		var kind byte
		fmt.Sscanf(t.Name, "h%d.%c%d", new(int), &kind, &typ)
		c := make([]float64, t.Cols)
		for r := 0; r < t.Rows; r++ {
			row := t.Data[r*t.Cols : (r+1)*t.Cols]
			for j, x := range row {
				c[j] = float64(x) * k
			}
			mix := mixed != nil && mixed[t.Name][r]
			mant, e, _, _, _, _ := rowQuant(c, firmware.RowGrid(cfg, q.bits, mix, typ), cfg)
			step := math.Ldexp(1, int(e)) / k
			for j := range row {
				row[j] = float32(float64(mant[j]) * step)
			}
		}
	}
}

// thresholdScale is the scale at which layer l's threshold is exact, as
// buildDeployed realises it.
func (q *fakeQuant) thresholdScale(l int, scale float64) float64 {
	h := q.m.Spec.Hidden[l]
	vth, err := firmware.QuantizeThreshold(scale*h.Theta, q.cfg)
	if err != nil || vth == 0 {
		return scale
	}
	return float64(vth) * math.Ldexp(1, q.cfg.Neuron.VthShift) / h.Theta
}

// LoadParams copies the parameters of m into the trainer's model: the start
// of a fine-tuning run (aerie train --init). The tensors must match by
// name and shape.
func (tr *Trainer) LoadParams(m *Model) error {
	if len(m.Params) != len(tr.Model.Params) {
		return fmt.Errorf("trainer: the initial model has %d tensors, the configured network %d", len(m.Params), len(tr.Model.Params))
	}
	for i := range m.Params {
		a, b := &m.Params[i], &tr.Model.Params[i]
		if a.Name != b.Name || a.Rows != b.Rows || a.Cols != b.Cols {
			return fmt.Errorf("trainer: the initial model's tensor %d is %s %d×%d, the configured network's %s %d×%d", i, a.Name, a.Rows, a.Cols, b.Name, b.Rows, b.Cols)
		}
	}
	for i := range m.Params {
		copy(tr.Model.Params[i].Data, m.Params[i].Data)
	}
	return nil
}
