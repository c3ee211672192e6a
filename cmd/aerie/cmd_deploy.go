package main

// aerie deploy: a trained model quantized into a configuration image, and
// the chip evaluation that aerie train eval --chip runs. The logic lives in
// trainer (Deploy, IntegerNet, EvaluateOnChip) and firmware (images).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
	"github.com/aerie-neuro/aerie/internal/fileio"
	"github.com/aerie-neuro/aerie/trainer"
	"github.com/aerie-neuro/aerie/trainer/dataset"
)

func init() {
	register(command{name: "deploy", summary: "quantize a trained model into a configuration image: aerie deploy MODEL [--chip NAME|FILE] -o net.img [--weight-bits B]", run: runDeploy})
}

// Caps of the deploy flags.
const (
	maxCalibrate  = 100000
	maxChipTrials = 1000
)

// deployReport is the --json output of aerie deploy.
type deployReport struct {
	Model         string                `json:"model"`
	Image         string                `json:"image"`
	Chip          string                `json:"chip"`
	Fingerprint   string                `json:"fingerprint"`
	WeightBits    int                   `json:"weight_bits"`
	FloatAccuracy *float64              `json:"float_accuracy"`
	Bytes         int                   `json:"bytes"`
	Neurons       int                   `json:"neurons"`
	Synapses      int                   `json:"synapses"`
	Dropped       int                   `json:"dropped_synapses"`
	Quantization  *trainer.DeployReport `json:"quantization"`
	Provenance    map[string]string     `json:"provenance"`
	Cores         []firmware.CoreUsage  `json:"core_usage"`
}

// modelHash names a model by its parameters, so an image can say which
// model it came from.
func modelHash(m *trainer.Model) string {
	h := sha256.New()
	for _, t := range m.Params {
		fmt.Fprintf(h, "%s %d %d\n", t.Name, t.Rows, t.Cols)
		for _, x := range t.Data {
			b := math.Float32bits(x)
			h.Write([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24)})
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// deployInputs are what deploying needs besides the flags.
type deployInputs struct {
	cfg   *trainer.Config
	model *trainer.Model
	meta  trainer.Meta
	train *dataset.Set
	test  *dataset.Set
}

// loadForDeploy reads the model and the data of its task (the stored config
// unless configPath is given).
func loadForDeploy(modelPath, configPath, dataDir string) (*deployInputs, error) {
	m, meta, err := trainer.ReadModel(modelPath)
	if err != nil {
		return nil, err
	}
	var cfg *trainer.Config
	switch {
	case configPath != "":
		cfg, err = trainer.LoadConfig(configPath)
	case meta.Config != "":
		cfg, err = trainer.ParseConfig(modelPath+" (stored config)", meta.Config)
	default:
		return nil, usagef("%s stores no training config; pass --config", modelPath)
	}
	if err != nil {
		return nil, err
	}
	if dataDir != "" {
		cfg.Task.Dir = dataDir
	}
	train, _, test, err := cfg.Data()
	if err != nil {
		return nil, err
	}
	return &deployInputs{cfg: cfg, model: m, meta: meta, train: train, test: test}, nil
}

// deployModel quantizes in.model for cfg with the options an image records.
func deployModel(in *deployInputs, modelPath string, cfg *chip.Config, bits, calibrate int, seed uint64) (*firmware.Network, *trainer.DeployReport, error) {
	prov := map[string]string{
		"model":            modelPath,
		"model_hash":       modelHash(in.model),
		"deploy.seed":      strconv.FormatUint(seed, 10),
		"deploy.calibrate": strconv.Itoa(calibrate),
		"task":             in.meta.Task,
	}
	if in.meta.TestAccuracy > 0 {
		prov["float_test_accuracy"] = strconv.FormatFloat(in.meta.TestAccuracy, 'f', 4, 64)
	}
	opt := trainer.DeployOptions{WeightBits: bits, Seed: seed, Provenance: prov}
	if calibrate > 0 {
		opt.Calibrate = in.train.Subset(min(calibrate, len(in.train.Samples)))
	}
	net, rep, err := trainer.Deploy(in.model, cfg, opt)
	if err != nil {
		return nil, nil, err
	}
	var clips, wraps, sats uint64
	for _, l := range rep.Layers {
		clips, wraps, sats = clips+l.Clips, wraps+l.Wraps, sats+l.Saturations
	}
	net.Provenance["calibration"] = fmt.Sprintf("%d samples: %d accumulator clips, %d current wraps, %d saturated membranes", rep.CalibrationSamples, clips, wraps, sats)
	return net, rep, nil
}

func runDeploy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie deploy MODEL [--chip NAME|FILE] -o net.img [--weight-bits B] [--calibrate N] [--seed N] [--config FILE] [--data DIR] [--json]\n\n"+
			"Quantizes a trained model (aerie train) for a chip: per-layer scales tied to the threshold, weight\n"+
			"mantissas with per-row exponents, biases, decays on the chip's grid, escape tables, readout units on the\n"+
			"chip; calibration on training samples lowers a layer's scale until nothing clips, wraps or saturates.\n"+
			"Evaluate the result with aerie train eval MODEL --chip NAME|FILE --image net.img.\n\nFlags:")
		fs.PrintDefaults()
	}
	chipArg := fs.String("chip", "", "chip preset name or TOML file (default: the embedded default chip)")
	out := fs.String("o", "", "the image to write (required)")
	bits := fs.Int("weight-bits", 0, "weight mantissa bits (0: the chip's synapse.weight_bits)")
	calibrate := fs.Int("calibrate", 200, fmt.Sprintf("training samples to calibrate on, 0…%d (0: no calibration)", maxCalibrate))
	seed := fs.Uint64("seed", 1, "the deployed network's noise seed")
	configPath := fs.String("config", "", "training config of the model's task (default: the config stored in the model)")
	data := fs.String("data", "", "data directory (MNIST IDX files)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("deploy: want one MODEL, got %d arguments", len(pos))
	}
	if *out == "" {
		return usagef("deploy: -o net.img is required")
	}
	if *bits < 0 || *bits > 16 {
		return usagef("deploy: --weight-bits %d: want 0…16", *bits)
	}
	if *calibrate < 0 || *calibrate > maxCalibrate {
		return usagef("deploy: --calibrate %d: want 0…%d", *calibrate, maxCalibrate)
	}
	if err := fileio.CheckOutputs([]fileio.Path{{Flag: "MODEL", Name: pos[0]}, {Flag: "--config", Name: *configPath}, {Flag: "--chip", Name: chipFile(*chipArg)}},
		fileio.Path{Flag: "-o", Name: *out}); err != nil {
		return err
	}
	cfg, err := chip.LoadConfig(*chipArg)
	if err != nil {
		return err
	}
	in, err := loadForDeploy(pos[0], *configPath, *data)
	if err != nil {
		return err
	}
	net, rep, err := deployModel(in, pos[0], cfg, *bits, *calibrate, *seed)
	if err != nil {
		return err
	}
	img, err := firmware.NewImage(net, cfg)
	if err != nil {
		return err
	}
	b, err := img.MarshalBinary()
	if err != nil {
		return err
	}
	if err := fileio.WriteFile(*out, b); err != nil {
		return err
	}
	st := img.Stats()
	r := deployReport{Model: pos[0], Image: *out, Chip: cfg.Name, Fingerprint: fmt.Sprintf("%016x", img.Fingerprint), WeightBits: rep.WeightBits,
		Bytes: len(b), Neurons: st.Neurons, Synapses: st.Synapses, Dropped: img.Placement.DroppedSynapses, Quantization: rep,
		Provenance: img.Provenance, Cores: img.Placement.Cores}
	if in.meta.TestAccuracy > 0 {
		a := in.meta.TestAccuracy
		r.FloatAccuracy = &a
	}
	if *asJSON {
		return writeJSON(stdout, r)
	}
	fmt.Fprintf(stdout, "%s → %s for %s (fingerprint %s): %d neurons, %d synapses (%d zero weights dropped), %d-bit weights, %d bytes\n",
		pos[0], *out, cfg.Name, r.Fingerprint, r.Neurons, r.Synapses, r.Dropped, rep.WeightBits, len(b))
	for _, l := range rep.Layers {
		fmt.Fprintf(stdout, "  %-8s scale %.4g units/θ-unit, exponents %d…%d, weight error ≤ %.3g of the row maximum, %d weights rounded to 0, %d clipped",
			l.Name, l.Scale, l.ExpMin, l.ExpMax, l.MaxWeightErr, l.Zeroed, l.Clipped)
		if l.EscapeShift > 0 {
			fmt.Fprintf(stdout, ", escape table step 2^%d units (largest probability step %.3f)", l.EscapeShift, l.EscapeMaxStep)
		}
		fmt.Fprintf(stdout, "; calibration: %d clips, %d wraps, %d saturations\n", l.Clips, l.Wraps, l.Saturations)
	}
	return nil
}

// chipEvalReport is aerie train eval --chip's --json output.
type chipEvalReport struct {
	Model         string  `json:"model"`
	Image         string  `json:"image,omitempty"`
	Chip          string  `json:"chip"`
	Mode          string  `json:"mode"`
	WeightBits    int     `json:"weight_bits"`
	FloatAccuracy float64 `json:"float_accuracy"`
	*trainer.ChipEvalResult
	FloatRatesHz []float64 `json:"float_rates_hz"`
}

// chipEval runs the test set of a model's task through the emulated chip:
// the model deployed with the image's options (or the defaults), checked
// against the image when one is given, evaluated with parity against the
// trainer's integer evaluation.
func chipEval(ctx context.Context, modelPath, configPath, dataDir, chipArg, imagePath string, trials int, seed uint64, workers int) (*chipEvalReport, error) {
	in, err := loadForDeploy(modelPath, configPath, dataDir)
	if err != nil {
		return nil, err
	}
	var img *firmware.Image
	bits, calibrate, dseed := 0, 200, uint64(1)
	if imagePath != "" {
		if img, err = firmware.ReadImage(imagePath); err != nil {
			return nil, err
		}
		p := img.Provenance
		if h := p["model_hash"]; h != modelHash(in.model) {
			return nil, fmt.Errorf("%s was not built from %s (model hash %q, this model %s)", imagePath, modelPath, h, modelHash(in.model))
		}
		if bits, err = strconv.Atoi(p["weight_bits"]); err != nil {
			return nil, fmt.Errorf("%s: provenance weight_bits %q: %v", imagePath, p["weight_bits"], err)
		}
		if calibrate, err = strconv.Atoi(p["deploy.calibrate"]); err != nil {
			return nil, fmt.Errorf("%s: provenance deploy.calibrate %q: %v", imagePath, p["deploy.calibrate"], err)
		}
		if dseed, err = strconv.ParseUint(p["deploy.seed"], 10, 64); err != nil {
			return nil, fmt.Errorf("%s: provenance deploy.seed %q: %v", imagePath, p["deploy.seed"], err)
		}
		if chipArg == "" {
			chipArg = img.Chip
		}
	}
	cfg, err := chip.LoadConfig(chipArg)
	if err != nil {
		return nil, err
	}
	if img != nil {
		if err := img.CheckChip(cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", imagePath, err)
		}
	}
	net, _, err := deployModel(in, modelPath, cfg, bits, calibrate, dseed)
	if err != nil {
		return nil, err
	}
	if img != nil {
		// the image must be exactly what this model deploys to
		again, err := firmware.NewImage(net, cfg)
		if err != nil {
			return nil, err
		}
		again.Provenance = img.Provenance
		a, _ := again.MarshalBinary()
		b, _ := img.MarshalBinary()
		if string(a) != string(b) {
			return nil, fmt.Errorf("%s: its program differs from what %s deploys to with the recorded options (weight bits %d, calibration %d, seed %d): was it built by another version of aerie?", imagePath, modelPath, bits, calibrate, dseed)
		}
	}
	res, err := trainer.EvaluateOnChip(ctx, net, cfg, in.test, trainer.ChipEvalConfig{Seed: seed, Trials: trials, Workers: workers, Parity: true})
	if err != nil {
		return nil, err
	}
	wb, _ := strconv.Atoi(net.Provenance["weight_bits"])
	r := &chipEvalReport{Model: modelPath, Image: imagePath, Chip: cfg.Name, Mode: "deterministic", WeightBits: wb, ChipEvalResult: res}
	if in.model.Spec.Stochastic {
		r.Mode = "stochastic"
	}
	loss, err := trainer.ParseLoss(in.cfg.Loss.Kind)
	if err != nil {
		return nil, err
	}
	var facc float64
	for k := 0; k < max(1, trials); k++ {
		ev, err := trainer.EvaluateChecked(in.model, in.test, trainer.EvalConfig{Seed: seed, Trial: k, Workers: workers, Loss: loss})
		if err != nil {
			return nil, err
		}
		facc += ev.Accuracy / float64(max(1, trials))
		r.FloatRatesHz = ev.Rates
	}
	r.FloatAccuracy = facc
	return r, nil
}

func printChipEval(w io.Writer, r *chipEvalReport) {
	fmt.Fprintf(w, "%s: %s network on %s, %d-bit weights, %d test samples × %d trials\n", r.Model, r.Mode, r.Chip, r.WeightBits, r.Samples, r.Trials)
	fmt.Fprintf(w, "  accuracy         float %.4f, chip %.4f", r.FloatAccuracy, r.ChipAccuracy)
	if r.Parity != nil {
		fmt.Fprintf(w, ", parity with the integer evaluation %.4f", *r.Parity)
		if r.FirstMismatch != "" {
			fmt.Fprintf(w, " (first mismatch: %s)", r.FirstMismatch)
		}
	}
	fmt.Fprintln(w)
	for l := range r.RatesHz {
		fr := math.NaN()
		if l < len(r.FloatRatesHz) {
			fr = r.FloatRatesHz[l]
		}
		fmt.Fprintf(w, "  layer %d          float %.2f Hz, chip %.2f Hz\n", l, fr, r.RatesHz[l])
	}
	fmt.Fprintf(w, "  per inference    %.0f synaptic events, %.0f cycles = %.3g s at the chip's clock, %.3g J\n",
		r.SynapticEventsPerInference, r.CyclesPerInference, r.LatencyPerInferenceS, r.EnergyPerInferenceJ)
	fmt.Fprintf(w, "  wall time        %.2f s (%.0f samples/s)\n", r.WallS, r.SamplesPerS)
}
