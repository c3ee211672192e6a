package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/aerie-neuro/aerie/trainer"
)

// Caps of the trial counts of aerie train eval.
const (
	maxEvalTrials = 10000
	maxFanoTrials = 100000
)

// evalReport is the --json output of aerie train eval.
type evalReport struct {
	Model    string    `json:"model"`
	Mode     string    `json:"mode"`
	Task     string    `json:"task"`
	Samples  int       `json:"samples"`
	Trials   int       `json:"trials"`
	Accuracy float64   `json:"accuracy"` // mean over trials
	AccStd   float64   `json:"accuracy_std"`
	RatesHz  []float64 `json:"rates_hz"`
	Fano     []float64 `json:"fano"` // per hidden layer; NaN is written as null
}

func runTrainEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie train eval MODEL [--data DIR] [--config train.toml] [--trials N] [--fano-trials N] [--json]")
		fs.PrintDefaults()
	}
	data := fs.String("data", "", "data directory (MNIST IDX files); the task is the model's own config unless --config is given")
	cfgPath := fs.String("config", "", "training config whose task to evaluate on (default: the config stored in the model)")
	trials := fs.Int("trials", 1, fmt.Sprintf("noise trials over the test set (stochastic networks), 1…%d", maxEvalTrials))
	fanoTrials := fs.Int("fano-trials", 400, fmt.Sprintf("trials of one test sample for the Fano factor, 0…%d (0 skips it)", maxFanoTrials))
	fanoWindow := fs.Int("fano-window", 10, fmt.Sprintf("counting window of the Fano factor, steps, 1…%d", trainer.MaxSteps))
	seed := fs.Uint64("seed", 1, "noise seed, 0…2^64−1")
	spikes := fs.String("spikes", "model", "spike function: model (as trained), stochastic or deterministic (the reference's test_acc_other)")
	workers := fs.Int("workers", 0, fmt.Sprintf("worker goroutines, 0…%d (0: one per CPU)", trainer.MaxWorkers))
	asJSON := fs.Bool("json", false, "print one JSON report on stdout")
	chipArg := fs.String("chip", "", "evaluate on this emulated chip (preset or TOML file): the model deployed as aerie deploy does, run through the chip, compared with the trainer's integer evaluation")
	imagePath := fs.String("image", "", "with --chip: evaluate this image (aerie deploy's output), checked to come from MODEL")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("train eval: want exactly one MODEL file, got %d arguments", len(pos))
	}
	switch {
	case *trials < 1 || *trials > maxEvalTrials:
		return usagef("train eval: --trials %d: want 1…%d", *trials, maxEvalTrials)
	case *fanoTrials < 0 || *fanoTrials > maxFanoTrials:
		return usagef("train eval: --fano-trials %d: want 0…%d", *fanoTrials, maxFanoTrials)
	case *fanoWindow < 1 || *fanoWindow > trainer.MaxSteps:
		return usagef("train eval: --fano-window %d: want 1…%d", *fanoWindow, trainer.MaxSteps)
	case *workers < 0 || *workers > trainer.MaxWorkers:
		return usagef("train eval: --workers %d: want 0…%d", *workers, trainer.MaxWorkers)
	}
	if *chipArg != "" || *imagePath != "" {
		if *trials > maxChipTrials {
			return usagef("train eval: --trials %d with --chip: want 1…%d", *trials, maxChipTrials)
		}
		r, err := chipEval(ctx, pos[0], *cfgPath, *data, *chipArg, *imagePath, *trials, *seed, *workers)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, r)
		}
		printChipEval(stdout, r)
		return nil
	}
	m, meta, err := trainer.ReadModel(pos[0])
	if err != nil {
		return err
	}
	switch *spikes {
	case "model":
	case "stochastic", "deterministic":
		m.Spec.Stochastic = *spikes == "stochastic"
	default:
		return usagef("train eval: --spikes must be model, stochastic or deterministic")
	}
	var cfg *trainer.Config
	switch {
	case *cfgPath != "":
		cfg, err = trainer.LoadConfig(*cfgPath)
	case meta.Config != "":
		cfg, err = trainer.ParseConfig(pos[0]+" (stored config)", meta.Config)
	default:
		return usagef("train eval: the model stores no config; pass --config")
	}
	if err != nil {
		return err
	}
	if *data != "" {
		cfg.Task.Dir = *data
	}
	_, _, test, err := cfg.Data()
	if err != nil {
		return err
	}
	// the prediction rule follows the loss the model was trained with
	loss, err := trainer.ParseLoss(cfg.Loss.Kind)
	if err != nil {
		return err
	}
	rep := evalReport{Model: pos[0], Mode: "deterministic", Task: cfg.Task.Dataset, Samples: len(test.Samples), Trials: *trials}
	if m.Spec.Stochastic {
		rep.Mode = "stochastic"
	}
	var accs []float64
	for r := 0; r < *trials; r++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		ev, err := trainer.EvaluateChecked(m, test, trainer.EvalConfig{Seed: *seed, Trial: r, Workers: *workers, Loss: loss})
		if err != nil {
			return err
		}
		accs = append(accs, ev.Accuracy)
		rep.RatesHz = ev.Rates
	}
	for _, a := range accs {
		rep.Accuracy += a / float64(len(accs))
	}
	for _, a := range accs {
		rep.AccStd += (a - rep.Accuracy) * (a - rep.Accuracy) / float64(len(accs))
	}
	rep.AccStd = math.Sqrt(rep.AccStd)
	if *fanoTrials > 0 {
		rep.Fano = trainer.Fano(m, test, 0, *fanoTrials, *fanoWindow, *seed)
	}
	if *asJSON {
		out := rep
		out.Fano = nil
		type jsonReport struct {
			evalReport
			Fano []*float64 `json:"fano"`
		}
		j := jsonReport{evalReport: out}
		for _, f := range rep.Fano {
			if math.IsNaN(f) {
				j.Fano = append(j.Fano, nil)
			} else {
				f := f
				j.Fano = append(j.Fano, &f)
			}
		}
		return writeJSON(stdout, j)
	}
	fmt.Fprintf(stdout, "%s: %s network on %s test set (%d samples): accuracy %.4f", pos[0], rep.Mode, rep.Task, rep.Samples, rep.Accuracy)
	if *trials > 1 {
		fmt.Fprintf(stdout, " ± %.4f over %d noise trials", rep.AccStd, *trials)
	}
	fmt.Fprintln(stdout)
	for l, r := range rep.RatesHz {
		fmt.Fprintf(stdout, "  hidden layer %d: rate %.2f Hz", l, r)
		if l < len(rep.Fano) {
			fmt.Fprintf(stdout, ", Fano factor %.3f (%d trials, %d-step windows)", rep.Fano[l], *fanoTrials, *fanoWindow)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}
