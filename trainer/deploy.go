package trainer

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
	"github.com/aerie-neuro/aerie/trainer/dataset"
)

// DeployOptions tune Deploy.
type DeployOptions struct {
	// WeightBits is the magnitude width of the weight mantissas (0: the
	// chip's synapse.weight_bits; fewer bits quantize more coarsely).
	WeightBits int
	// Headroom is how many bits of the membrane's range stay above the
	// threshold (0: 2, so v may reach 4θ before it saturates).
	Headroom int
	// Calibrate, when set, runs the integer network on these samples and
	// halves a layer's scale until none of its accumulators clip, currents
	// wrap or membranes saturate (at most 12 times).
	Calibrate *dataset.Set
	// Seed is the deployed network's noise seed (each sample of an
	// evaluation draws under SampleSeed(Seed, sample, trial)).
	Seed uint64
	// Provenance is copied into the network (float accuracy, the model's
	// file name, …).
	Provenance map[string]string
}

// LayerReport is what quantization chose for one layer.
type LayerReport struct {
	Name string `json:"name"`
	// Scale is chip membrane units per unit of the float model's membrane.
	Scale float64 `json:"scale"`
	// Vth is the threshold mantissa (compared as Vth << vth_shift).
	Vth int32 `json:"vth"`
	// ExpMin and ExpMax bound the per-row weight exponents.
	ExpMin int8 `json:"exp_min"`
	ExpMax int8 `json:"exp_max"`
	// MaxWeightErr is the largest |quantized − w|/|w_row max| over rows:
	// the weight error relative to each row's largest weight; RMSWeightErr
	// is the root mean square of the same ratio over every weight.
	MaxWeightErr float64 `json:"max_weight_error"`
	RMSWeightErr float64 `json:"rms_weight_error"`
	// MixedRows counts the rows quantized on the chip's mixed-sign grid
	// (synapse.sign = "row": even mantissas, one bit spent on the sign), of
	// Rows in all.
	MixedRows int `json:"mixed_sign_rows"`
	Rows      int `json:"rows"`
	weights   int // weights quantized so far (for RMSWeightErr)
	// Zeroed counts non-zero weights whose mantissa rounded to zero.
	Zeroed int `json:"zeroed_weights"`
	// Clipped counts weights beyond the largest mantissa at the largest
	// exponent (clipped to it).
	Clipped int `json:"clipped_weights"`
	// EscapeShift and EscapeMaxStep describe the escape table of a
	// stochastic layer: its index step (2^shift membrane units) and the
	// largest probability step between neighbouring entries.
	EscapeShift   uint8   `json:"escape_shift,omitempty"`
	EscapeMaxStep float64 `json:"escape_max_step,omitempty"`
	// TauMem, TauSyn are the time constants the chip's decay grid
	// realises (ms).
	TauMem float64   `json:"tau_mem_ms"`
	TauSyn []float64 `json:"tau_syn_ms"`
	// Halvings is how many times calibration halved the scale.
	Halvings int `json:"calibration_halvings"`
	// Clips, Wraps and Saturations are the integer network's accumulator
	// clips, current wraps and saturated membranes of this layer over the
	// calibration samples (zero unless calibration gave up).
	Clips       uint64 `json:"accumulator_clips"`
	Wraps       uint64 `json:"current_wraps"`
	Saturations uint64 `json:"membrane_saturations"`
}

// DeployReport is what Deploy did.
type DeployReport struct {
	Chip               string        `json:"chip"`
	WeightBits         int           `json:"weight_bits"`
	Layers             []LayerReport `json:"layers"`
	CalibrationSamples int           `json:"calibration_samples"`
}

// Deploy quantizes a trained model for the chip described by cfg into a
// firmware.Network (see the package doc, "Deploying"): one population per
// hidden layer ("h0", "h1", …) and a population of readout units
// ("readout", a chip.Profile.Readout profile that integrates without firing
// and keeps its largest membrane: the class decision is the argmax of those
// registers, on the chip), an input port "in" of the model's inputs and an
// output port "out" of the last hidden layer's spikes.
func Deploy(m *Model, cfg *chip.Config, opt DeployOptions) (*firmware.Network, *DeployReport, error) {
	s := m.Spec
	if err := deployable(&s, cfg); err != nil {
		return nil, nil, err
	}
	bits := opt.WeightBits
	if bits == 0 {
		bits = cfg.Synapse.WeightBits
	}
	if bits < 1 || bits > cfg.Synapse.WeightBits {
		return nil, nil, fmt.Errorf("trainer: deploy: %d weight bits, chip %s has 1…%d", bits, cfg.Name, cfg.Synapse.WeightBits)
	}
	head := opt.Headroom
	if head == 0 {
		head = 2
	}
	if head < 0 || head > cfg.Neuron.VBits-4 {
		return nil, nil, fmt.Errorf("trainer: deploy: headroom %d bits, want 1…%d", head, cfg.Neuron.VBits-4)
	}
	L := len(s.Hidden)
	scales := deployScales(m, cfg, bits, head)
	rep := &DeployReport{Chip: cfg.Name, WeightBits: bits}
	halvings := make([]int, L+1)
	for round := 0; ; round++ {
		net, layers, err := buildDeployed(m, cfg, scales, bits, opt)
		if err != nil {
			return nil, nil, err
		}
		rep.Layers = layers
		for l := range layers {
			rep.Layers[l].Halvings = halvings[l]
		}
		if opt.Calibrate == nil || len(opt.Calibrate.Samples) == 0 {
			return net, rep, nil
		}
		rep.CalibrationSamples = len(opt.Calibrate.Samples)
		counts, err := calibrationCounts(net, cfg, opt.Calibrate, opt.Seed)
		if err != nil {
			return nil, nil, err
		}
		bad := false
		for l, c := range counts {
			rep.Layers[l].Clips, rep.Layers[l].Wraps, rep.Layers[l].Saturations = c[0], c[1], c[2]
			if c[0]+c[1]+c[2] > 0 && round < 12 {
				scales[l] /= 2
				halvings[l]++
				bad = true
			}
		}
		if !bad {
			return net, rep, nil
		}
	}
}

// deployScales are the layers' initial scales (chip membrane units per
// float unit): the threshold at 2^(v_bits−1−headroom), the readout like the
// last hidden layer, each lowered until its largest weight fits the largest
// mantissa at the largest exponent (on a "row" chip, the mixed grid's
// 2^bits − 2, whichever grid the row takes).
func deployScales(m *Model, cfg *chip.Config, bits, head int) []float64 {
	s := &m.Spec
	L := len(s.Hidden)
	scales := make([]float64, L+1)
	for l := range s.Hidden {
		scales[l] = math.Ldexp(1, cfg.Neuron.VBits-1-head) / s.Hidden[l].Theta
	}
	scales[L] = scales[L-1]
	// no larger than the largest weight into the layer allows: its mantissa
	// at the largest exponent (weights beyond would clip)
	wmaxUnits := float64(firmware.RowGrid(cfg, bits, true, 0).Max()) * math.Ldexp(1, cfg.Synapse.WeightExpMax+cfg.Neuron.ActShift)
	for _, t := range m.Params {
		l, ok := weightTarget(t.Name, L)
		if !ok {
			continue
		}
		xmax := 0.0
		for _, x := range t.Data {
			xmax = max(xmax, math.Abs(float64(x)))
		}
		if xmax > 0 {
			scales[l] = min(scales[l], wmaxUnits/xmax)
		}
	}
	return scales
}

// weightTarget is the layer a weight tensor feeds (the readout is layer L).
func weightTarget(name string, L int) (int, bool) {
	if name == "ro.w" {
		return L, true
	}
	var l, k int
	var kind byte
	if n, _ := fmt.Sscanf(name, "h%d.%c%d", &l, &kind, &k); n == 3 && (kind == 'w' || kind == 'v') && l < L {
		return l, true
	}
	return 0, false
}

// deployable checks that the chip can run the model as trained.
func deployable(s *Spec, cfg *chip.Config) error {
	n := cfg.Neuron
	if n.Decay != "mul12" || n.Current != "decay" {
		return fmt.Errorf("trainer: deploy: chip %s has decay %q and current %q; the model needs multiplicative decay of membranes and currents (mul12, decay)", cfg.Name, n.Decay, n.Current)
	}
	if n.Compare != "gt" {
		return fmt.Errorf("trainer: deploy: chip %s fires at v ≥ θ (neuron.compare = %q); the model fires at v > θ", cfg.Name, n.Compare)
	}
	if s.Stochastic && !n.Stochastic {
		return fmt.Errorf("trainer: deploy: the model is stochastic; chip %s has no stochastic neurons (neuron.stochastic)", cfg.Name)
	}
	if len(s.Hidden) == 0 {
		return errors.New("trainer: deploy: the model has no hidden layer")
	}
	if cfg.Synapse.Sign == "type" {
		return fmt.Errorf("trainer: deploy: chip %s gives a weight's sign by its synapse type (synapse.sign = \"type\"); a trained layer's weights have both signs, which needs every projection split into an excitatory and an inhibitory synapse type (and the input port doubled), and deploy does not build that yet", cfg.Name)
	}
	for l, h := range s.Hidden {
		if h.synTypes() > n.SynapseTypes {
			return fmt.Errorf("trainer: deploy: layer %d has %d synapse types; chip %s has %d (neuron.synapse_types)", l, h.synTypes(), cfg.Name, n.SynapseTypes)
		}
		if want := h.Reset.String(); want != n.Reset {
			return fmt.Errorf("trainer: deploy: layer %d resets by %q; chip %s resets by %q (neuron.reset)", l, want, cfg.Name, n.Reset)
		}
		if l == 0 && h.synTypes() > 1 {
			return errors.New("trainer: deploy: a first layer with two synapse types needs an input port per type, which aerie does not build yet")
		}
	}
	return nil
}

// rowQuant quantizes one presynaptic row of float weights c (accumulator
// units after scaling) onto grid g (firmware.QuantizeRow: the smallest
// exponent from 0 up that fits, each mantissa the nearest grid point,
// clipped at the largest exponent). Negative exponents are not used: they
// floor each product on the chip and add no precision. relErr is the
// largest |quantized − c|/max|c|, sq the sum of its squares over the row.
func rowQuant(c []float64, g firmware.WeightGrid, cfg *chip.Config) (mant []int32, exp int8, relErr, sq float64, zeroed, clipped int) {
	mant = make([]int32, len(c))
	exp, clipped = firmware.QuantizeRow(mant, c, g, cfg)
	xmax := 0.0
	for _, x := range c {
		xmax = max(xmax, math.Abs(x))
	}
	step := math.Ldexp(1, int(exp))
	for j, x := range c {
		if mant[j] == 0 && x != 0 {
			zeroed++
		}
		if xmax > 0 {
			r := math.Abs(float64(mant[j])*step-x) / xmax
			relErr = max(relErr, r)
			sq += r * r
		}
	}
	return mant, exp, relErr, sq, zeroed, clipped
}

// senderLayer names, for a weight tensor, the layer whose units send it (−1:
// the input channels).
func senderLayer(name string, L int) (int, bool) {
	if name == "ro.w" {
		return L - 1, true
	}
	var l, k int
	var kind byte
	if n, _ := fmt.Sscanf(name, "h%d.%c%d", &l, &kind, &k); n == 3 && l < L {
		switch kind {
		case 'w':
			return l - 1, true
		case 'v':
			return l, true
		}
	}
	return 0, false
}

// mixedRows says, per weight tensor of m and per row (presynaptic unit),
// whether the row quantizes on the chip's mixed-sign grid: on a "row" chip
// (Loihi's sign modes), when the unit's float weights have both signs over
// every tensor it sends (firmware's "Weight grids": a chip row is one
// sender's synapses onto one core at one exponent, and which synapses share
// a core is placement's choice, so the sender decides for all its rows).
// nil on other chips. Deploy and quantization-aware training both call it,
// on the float weights, so they round onto the same grids.
func mixedRows(m *Model, cfg *chip.Config) map[string][]bool {
	if cfg.Synapse.Sign != "row" {
		return nil
	}
	L := len(m.Spec.Hidden)
	signs := make([][]firmware.Signs, L+1) // index sender+1
	for _, t := range m.Params {
		sd, ok := senderLayer(t.Name, L)
		if !ok {
			continue
		}
		if signs[sd+1] == nil {
			signs[sd+1] = make([]firmware.Signs, t.Rows)
		}
		for r := 0; r < t.Rows && r < len(signs[sd+1]); r++ {
			for _, x := range t.Data[r*t.Cols : (r+1)*t.Cols] {
				signs[sd+1][r] = signs[sd+1][r].Of(float64(x))
			}
		}
	}
	out := map[string][]bool{}
	for _, t := range m.Params {
		sd, ok := senderLayer(t.Name, L)
		if !ok {
			continue
		}
		mixed := make([]bool, t.Rows)
		for r := range mixed {
			mixed[r] = r < len(signs[sd+1]) && signs[sd+1][r].Mixed()
		}
		out[t.Name] = mixed
	}
	return out
}

// projectionFrom builds the projection of weight matrix w (rows = presynaptic
// units, cols = postsynaptic, row-major) scaled by k into accumulator units,
// on synapse type typ, row r on the mixed-sign grid if mixed[r].
func projectionFrom(w []float32, rows, cols int, k float64, bits, typ int, mixed []bool, cfg *chip.Config, lr *LayerReport) ([]firmware.Conn, []int8) {
	conns := make([]firmware.Conn, 0, rows*cols)
	exps := make([]int8, rows)
	c := make([]float64, cols)
	first := lr.Rows == 0
	for r := 0; r < rows; r++ {
		for j := 0; j < cols; j++ {
			c[j] = float64(w[r*cols+j]) * k
		}
		mix := mixed != nil && mixed[r]
		mant, e, rel, sq, z, cl := rowQuant(c, firmware.RowGrid(cfg, bits, mix, typ), cfg)
		exps[r] = e
		if first && r == 0 {
			lr.ExpMin, lr.ExpMax = e, e
		}
		lr.ExpMin, lr.ExpMax = min(lr.ExpMin, e), max(lr.ExpMax, e)
		lr.MaxWeightErr = max(lr.MaxWeightErr, rel)
		// RMSWeightErr holds the sum of squares and the count until
		// buildDeployed finishes the layer
		lr.RMSWeightErr += sq
		lr.weights += cols
		lr.Rows++
		if mix {
			lr.MixedRows++
		}
		lr.Zeroed += z
		lr.Clipped += cl
		for j, m := range mant {
			if m != 0 {
				conns = append(conns, firmware.Conn{Pre: uint32(r), Post: uint32(j), Weight: m})
			}
		}
	}
	return conns, exps
}

// escapeTable samples the model's escape function onto the chip's table for
// a layer of the given scale (membrane units per float unit).
func escapeTable(s *Spec, scale float64, cfg *chip.Config) (*chip.Escape, float64) {
	fn := newSpikeFn(s)
	var lo, hi float64 // float distance to threshold where f goes from ~0 to ~1
	switch fn.esc {
	case escSigmoid:
		lo, hi = -12/fn.beta, 12/fn.beta
	default:
		lo, hi = fn.du*math.Log(math.Ldexp(1, -18)/fn.p0), fn.du*math.Log(1/fn.p0)
	}
	n := cfg.Neuron.EscapeEntries
	span := (hi - lo) * scale / float64(n-1)
	shift := 0
	for shift < 31 && math.Ldexp(1, shift) < span {
		shift++
	}
	w := math.Ldexp(1, shift)
	offset := int32(math.Ceil(-lo * scale / w))
	e := chip.SampleEscape(func(x float64) float64 { return fn.prob(x / scale) }, n, uint8(shift), offset)
	e.Table[0] = 0
	e.Table[n-1] = 65536
	step := 0.0
	for i := 1; i < n; i++ {
		step = max(step, math.Abs(float64(e.Table[i])-float64(e.Table[i-1]))/65536)
	}
	return e, step
}

// buildDeployed quantizes the model at the given per-layer scales.
func buildDeployed(m *Model, cfg *chip.Config, scales []float64, bits int, opt DeployOptions) (*firmware.Network, []LayerReport, error) {
	s := m.Spec
	L := len(s.Hidden)
	dtMS := s.DT * 1000
	params := map[string]Tensor{}
	for _, t := range m.Params {
		params[t.Name] = t
	}
	net := &firmware.Network{Name: "deployed", Seed: opt.Seed, DtMS: dtMS, Provenance: map[string]string{}}
	for k, v := range opt.Provenance {
		net.Provenance[k] = v
	}
	reports := make([]LayerReport, L+1)
	mixed := mixedRows(m, cfg)
	act := math.Ldexp(1, cfg.Neuron.ActShift)
	nin := s.Inputs
	for l, h := range s.Hidden {
		lr := &reports[l]
		lr.Name = fmt.Sprintf("h%d", l)
		scale := scales[l]
		vth, err := firmware.QuantizeThreshold(scale*h.Theta, cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("trainer: deploy: layer %d: %w", l, err)
		}
		// the scale the threshold realises exactly
		scale = float64(vth) * math.Ldexp(1, cfg.Neuron.VthShift) / h.Theta
		lr.Scale, lr.Vth = scale, vth
		dv, tm, err := firmware.DecayConstant(h.TauMem*1000, dtMS, false, cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("trainer: deploy: layer %d membrane: %w", l, err)
		}
		lr.TauMem = tm
		prof := chip.Profile{Dv: dv, Vth: vth}
		taus := []float64{h.TauSyn, h.TauSyn2}[:h.synTypes()]
		for k, tau := range taus {
			du, te, err := firmware.DecayConstant(tau*1000, dtMS, true, cfg)
			if err != nil {
				return nil, nil, fmt.Errorf("trainer: deploy: layer %d synapse type %d: %w", l, k, err)
			}
			prof.Du[k] = du
			lr.TauSyn = append(lr.TauSyn, te)
		}
		if s.Stochastic {
			prof.Escape, lr.EscapeMaxStep = escapeTable(&s, scale, cfg)
			lr.EscapeShift = prof.Escape.Shift
		}
		pop := firmware.Population{Name: lr.Name, Size: h.Size, Profile: prof}
		if b, ok := params[fmt.Sprintf("h%d.b", l)]; ok {
			pop.Bias = make([]firmware.Bias, h.Size)
			for i, x := range b.Data {
				mant, e, err := firmware.QuantizeBias(float64(x)*scale, cfg)
				if err != nil {
					return nil, nil, fmt.Errorf("trainer: deploy: layer %d neuron %d bias: %w", l, i, err)
				}
				pop.Bias[i] = firmware.Bias{Mant: mant, Exp: e}
			}
		}
		net.Populations = append(net.Populations, pop)
		k := scale / act // accumulator units per float unit of current
		for typ := 0; typ < h.synTypes(); typ++ {
			name := fmt.Sprintf("h%d.w%d", l, typ)
			conns, exps := projectionFrom(params[name].Data, nin, h.Size, k, bits, typ, mixed[name], cfg, lr)
			if l == 0 {
				net.Inputs = append(net.Inputs, firmware.InputPort{Name: "in", Channels: nin, Post: 0, Type: uint8(typ), RowExp: exps, Conns: conns})
			} else {
				net.Projections = append(net.Projections, firmware.Projection{Name: fmt.Sprintf("h%d→h%d", l-1, l), Pre: l - 1, Post: l, Type: uint8(typ), RowExp: exps, Conns: conns})
			}
			if h.Recurrent {
				name := fmt.Sprintf("h%d.v%d", l, typ)
				conns, exps := projectionFrom(params[name].Data, h.Size, h.Size, k, bits, typ, mixed[name], cfg, lr)
				net.Projections = append(net.Projections, firmware.Projection{Name: fmt.Sprintf("h%d↺", l), Pre: l, Post: l, Type: uint8(typ), RowExp: exps, Conns: conns})
			}
		}
		nin = h.Size
	}
	// readout units
	lr := &reports[L]
	lr.Name = "readout"
	lr.Scale = scales[L]
	dv, tm, err := firmware.DecayConstant(s.Readout.TauMem*1000, dtMS, false, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("trainer: deploy: readout membrane: %w", err)
	}
	du, ts, err := firmware.DecayConstant(s.Readout.TauSyn*1000, dtMS, true, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("trainer: deploy: readout synapse: %w", err)
	}
	lr.TauMem, lr.TauSyn = tm, []float64{ts}
	net.Populations = append(net.Populations, firmware.Population{Name: "readout", Size: s.Readout.Size,
		Profile: chip.Profile{Dv: dv, Du: [4]uint16{du}, Readout: true}})
	conns, exps := projectionFrom(params["ro.w"].Data, nin, s.Readout.Size, scales[L]/act, bits, 0, mixed["ro.w"], cfg, lr)
	net.Projections = append(net.Projections, firmware.Projection{Name: fmt.Sprintf("h%d→readout", L-1), Pre: L - 1, Post: L, RowExp: exps, Conns: conns})
	net.Outputs = []firmware.OutputPort{{Name: "out", Pop: L - 1}}
	for l := range reports {
		r := &reports[l]
		if r.weights > 0 {
			r.RMSWeightErr = math.Sqrt(r.RMSWeightErr / float64(r.weights))
		}
		if r.Zeroed > 0 && r.Zeroed == countWeights(net, l) {
			return nil, nil, fmt.Errorf("trainer: deploy: layer %s: every weight rounds to zero at scale %.4g (%d bits)", r.Name, r.Scale, bits)
		}
	}
	net.Provenance["quantization"] = fmt.Sprintf("post-training, %d-bit weight mantissas, per-row exponents, chip %s (synapse.sign %q)", bits, cfg.Name, cfg.Synapse.Sign)
	net.Provenance["weight_bits"] = strconv.Itoa(bits)
	return net, reports, nil
}

// countWeights counts the synapses into population l (for the all-zero check).
func countWeights(net *firmware.Network, l int) int {
	n := 0
	for _, pr := range net.Projections {
		if pr.Post == l {
			n += len(pr.Conns)
		}
	}
	for _, in := range net.Inputs {
		if in.Post == l {
			n += len(in.Conns)
		}
	}
	if n == 0 {
		return -1
	}
	return 0
}

// SampleSeed is the noise seed of sample i, trial k of an evaluation under
// seed: chip and integer evaluation reset to it for every sample.
func SampleSeed(seed uint64, sample, trial int) uint64 {
	return chip.Mix64(chip.Mix64(seed^0x6465706c6f79) + uint64(sample)<<20 + uint64(trial))
}

// SampleInput returns the input of a sample as (port 0, channel) events per
// tick: an event of step s is the chip's input event of tick s (integrated
// at s+1, one tick after the float model integrates it).
func SampleInput(ev []dataset.Event) func(t uint64) []chip.PortEvent {
	var buf []chip.PortEvent
	i := 0
	return func(t uint64) []chip.PortEvent {
		buf = buf[:0]
		for i < len(ev) && uint64(ev[i].Step) < t {
			i++
		}
		for i < len(ev) && uint64(ev[i].Step) == t {
			buf = append(buf, chip.PortEvent{Port: 0, Channel: uint32(ev[i].Unit)})
			i++
		}
		return buf
	}
}

// calibrationCounts runs the integer network on set and returns, per
// population, its accumulator clips, current wraps and saturations.
func calibrationCounts(net *firmware.Network, cfg *chip.Config, set *dataset.Set, seed uint64) ([][3]uint64, error) {
	in, err := NewIntegerNet(net, cfg)
	if err != nil {
		return nil, err
	}
	out := make([][3]uint64, len(net.Populations))
	for i := range set.Samples {
		in.Reset(SampleSeed(seed, i, 0))
		in.Run(uint64(set.Steps)+1, SampleInput(set.Samples[i].Events), nil)
		for p := range out {
			c := in.PopCounts(p)
			out[p][0] += c[0]
			out[p][1] += c[1]
			out[p][2] += c[2]
		}
	}
	return out, nil
}

// decisionOf is the argmax of the readout registers (the lowest index on a
// tie), as the chip's decision is read.
func decisionOf(vmax []int32) int {
	best := 0
	for i, v := range vmax {
		if v > vmax[best] {
			best = i
		}
	}
	return best
}
