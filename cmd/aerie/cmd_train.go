package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/aerie-neuro/aerie/internal/fileio"
	"github.com/aerie-neuro/aerie/trainer"
	"github.com/aerie-neuro/aerie/trainer/dataset"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func init() {
	register(command{name: "train", summary: "train a spiking network from a TOML config; 'train eval MODEL' evaluates one", run: runTrain})
}

// trainReport is the --json output of aerie train.
type trainReport struct {
	Mode             string               `json:"mode"`
	Task             string               `json:"task"`
	Epochs           int                  `json:"epochs"`
	BestEpoch        int                  `json:"best_epoch,omitempty"`
	TestAccuracy     float64              `json:"test_accuracy"`
	ValAccuracy      float64              `json:"val_accuracy,omitempty"`
	TrainSamplesPerS float64              `json:"train_samples_per_s"`
	Seconds          float64              `json:"seconds"`
	Workers          int                  `json:"workers"`
	BPTTBytes        int                  `json:"bptt_bytes_per_worker"`
	Params           int                  `json:"params"`
	Model            string               `json:"model"`
	Checkpoint       string               `json:"checkpoint"`
	TestRatesHz      []float64            `json:"test_rates_hz"`
	History          []trainer.EpochStats `json:"history"`
}

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "eval" {
		return runTrainEval(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie train --config train.toml [--out model.aem] [--epochs N] [--seed N] [--resume CKPT] [--json]\n       aerie train eval MODEL [--data DIR] [--config train.toml] [--trials N] [--json]")
		fmt.Fprintln(stderr, "\n--resume CKPT continues the checkpoint's run with the network and the settings it was started with.\n"+
			"The config must describe the same run: it may change only "+strings.Join(trainer.ResumeChanges, ", ")+
			"\n(and --epochs, --workers, --data); any other difference (network.hidden, optimizer.lr, task.seed, ...) is refused, naming the key.\n")
		fs.PrintDefaults()
	}
	cfgPath := fs.String("config", "", "training config (TOML; see examples/train)")
	out := fs.String("out", "model.aem", "where to write the trained model")
	ckpt := fs.String("checkpoint", "", "checkpoint file, written every epoch and on Ctrl-C (default OUT.ckpt)")
	resume := fs.String("resume", "", "continue from this checkpoint (the config must describe the same run; see above)")
	epochs := fs.Int("epochs", 0, fmt.Sprintf("number of epochs, 1…%d (overrides train.epochs)", trainer.MaxEpochs))
	seed := fs.Uint64("seed", 0, "run seed: initialisation, sample order, noise, 0…2^64−1 (overrides train.seed)")
	workers := fs.Int("workers", 0, fmt.Sprintf("worker goroutines, 0…%d (0: one per CPU; overrides train.workers; results do not depend on it)", trainer.MaxWorkers))
	data := fs.String("data", "", "data directory (MNIST IDX files; overrides task.dir)")
	qat := fs.Int("qat", 0, "quantization-aware fine-tuning with this many weight bits for the chip of --chip (or [chip]); start from --init")
	initPath := fs.String("init", "", "start from this trained model's parameters (its network must be the config's)")
	chipArg := fs.String("chip", "", "train for this chip (preset or TOML file; as [chip] name in the config): time constants on its decay grid, what it cannot run refused before the first epoch")
	asJSON := fs.Bool("json", false, "print one JSON report on stdout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	set := setFlags(fs)
	if len(pos) > 0 {
		return usagef("train: unexpected argument %q", pos[0])
	}
	if *cfgPath == "" {
		return usagef("train: --config is required")
	}
	if set["epochs"] && (*epochs < 1 || *epochs > trainer.MaxEpochs) {
		return usagef("train: --epochs %d: want 1…%d", *epochs, trainer.MaxEpochs)
	}
	if *workers < 0 || *workers > trainer.MaxWorkers {
		return usagef("train: --workers %d: want 0…%d", *workers, trainer.MaxWorkers)
	}
	if *ckpt == "" {
		*ckpt = *out + ".ckpt"
	}
	if *out == "-" || *ckpt == "-" {
		return usagef("train: --out and --checkpoint want file names (train writes a model and a checkpoint every epoch)")
	}
	// Before any work: the outputs can be created, and none is an input.
	// Resuming from the checkpoint that the run goes on writing is the
	// normal way to continue, so --resume may be --checkpoint.
	inputs := []fileio.Path{{Flag: "--config", Name: *cfgPath}, {Flag: "--init", Name: *initPath}}
	if !fileio.SameFile(*resume, *ckpt) {
		inputs = append(inputs, fileio.Path{Flag: "--resume", Name: *resume})
	}
	if err := fileio.CheckOutputs(inputs, fileio.Path{Flag: "--out", Name: *out}, fileio.Path{Flag: "--checkpoint", Name: *ckpt}); err != nil {
		return err
	}
	cfg, text, err := trainer.LoadConfigText(*cfgPath)
	if err != nil {
		return err
	}
	if set["epochs"] {
		cfg.Train.Epochs = *epochs
	}
	if set["seed"] {
		cfg.Train.Seed = *seed
	}
	if set["workers"] {
		cfg.Train.Workers = *workers
	}
	if *data != "" {
		cfg.Task.Dir = *data
	}
	if *chipArg != "" {
		if cfg.Chip.Name != "" && cfg.Chip.Name != *chipArg {
			return usagef("train: --chip %q, but %s names chip %q", *chipArg, *cfgPath, cfg.Chip.Name)
		}
		if cfg.Chip.Name == "" {
			cfg.Chip.Name = *chipArg
			text += fmt.Sprintf("\n[chip]\nname = %q   # from --chip\n", *chipArg)
		}
	}
	var run *trainer.Run
	if *resume != "" {
		if run, err = resumeRun(cfg, *resume); err != nil {
			return err
		}
	} else if run, err = trainer.NewRun(cfg); err != nil {
		return err
	}
	tr := run.Trainer
	if *qat != 0 {
		if *qat < 0 || *qat > 16 {
			return usagef("train: --qat %d: want 1…16 weight bits", *qat)
		}
		if cfg.Chip.Name == "" {
			return usagef("train: --qat needs the chip: --chip NAME|FILE or [chip] name in the config")
		}
		tr.Cfg.QATBits, tr.Cfg.QATChip = *qat, cfg.Chip.Name
		text += fmt.Sprintf("# quantization-aware fine-tuning: --qat %d --chip %s\n", *qat, cfg.Chip.Name)
	}
	if *initPath != "" {
		if *resume != "" {
			return usagef("train: --init and --resume exclude each other")
		}
		im, _, err := trainer.ReadModel(*initPath)
		if err != nil {
			return err
		}
		if err := tr.LoadParams(im); err != nil {
			return fmt.Errorf("%s: %w", *initPath, err)
		}
	}
	meta := trainer.Meta{Task: cfg.Task.Dataset, Seed: tr.Cfg.Seed, Config: text}
	nw := tr.Cfg.Workers
	if nw == 0 {
		nw = defaultWorkers()
	}
	fmt.Fprintf(stderr, "train: %s %s, %d train / %d val / %d test samples, network %d", cfg.Task.Dataset, cfg.Mode(),
		len(run.Train.Samples), lenSet(run.Val), lenSet(run.Test), run.Spec.Inputs)
	for _, h := range run.Spec.Hidden {
		fmt.Fprintf(stderr, "-%d", h.Size)
	}
	fmt.Fprintf(stderr, "-%d, %d parameters, %d workers, BPTT memory %.1f MiB per worker\n",
		run.Spec.Readout.Size, tr.Model.NumParams(), nw, float64(run.BPTTBytesPerWorker)/(1<<20))

	prog := newProgress(stderr, len(run.Train.Samples))
	start := time.Now()
	err = tr.Train(ctx, run.Train, run.Val, prog.update, func(tr *trainer.Trainer) error {
		prog.epochDone(tr.History[len(tr.History)-1])
		b, err := tr.MarshalCheckpoint(meta)
		if err != nil {
			return err
		}
		return trainer.WriteFile(*ckpt, b)
	})
	prog.finish()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			b, merr := tr.MarshalCheckpoint(meta)
			if merr == nil {
				merr = trainer.WriteFile(*ckpt, b)
			}
			if merr != nil {
				return fmt.Errorf("interrupted, and the checkpoint could not be written: %v", merr)
			}
			return fmt.Errorf("interrupted at epoch %d, batch %d; checkpoint written to %s (continue with --resume %s)", tr.Epoch+1, tr.Batch, *ckpt, *ckpt)
		}
		if errors.Is(err, trainer.ErrDiverged) {
			return fmt.Errorf("%v; the last good checkpoint (end of epoch %d) is %s", err, tr.Epoch, *ckpt)
		}
		return err
	}
	final := tr.Model
	if tr.Best != nil {
		final = tr.Best
	}
	ev := trainer.Evaluate(final, run.Test, trainer.EvalConfig{Seed: tr.Cfg.Seed, Workers: tr.Cfg.Workers, Loss: tr.Cfg.Loss})
	meta.Epochs, meta.ValAccuracy, meta.TestAccuracy = tr.Epoch, tr.BestValAcc, ev.Accuracy
	b, err := trainer.MarshalModel(final, meta)
	if err != nil {
		return err
	}
	if err := trainer.WriteFile(*out, b); err != nil {
		return err
	}
	rep := trainReport{Mode: cfg.Mode(), Task: cfg.Task.Dataset, Epochs: tr.Epoch, BestEpoch: tr.BestEpoch,
		TestAccuracy: ev.Accuracy, ValAccuracy: tr.BestValAcc, Seconds: time.Since(start).Seconds(), Workers: nw,
		BPTTBytes: run.BPTTBytesPerWorker, Params: final.NumParams(), Model: *out, Checkpoint: *ckpt,
		TestRatesHz: ev.Rates, History: tr.History}
	sec, n := 0.0, 0.0
	for _, h := range tr.History {
		sec += h.Seconds
		n += h.SamplesPerS * h.Seconds
	}
	if sec > 0 {
		rep.TrainSamplesPerS = n / sec
	}
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	if tr.Stopped() {
		fmt.Fprintf(stdout, "early stop: no better validation accuracy for %d epochs\n", tr.Cfg.Patience)
	}
	fmt.Fprintf(stdout, "test accuracy %.4f (%s, %d epochs, best validation %.4f at epoch %d), %.0f training samples/s; model written to %s\n",
		ev.Accuracy, rep.Mode, rep.Epochs, tr.BestValAcc, tr.BestEpoch, rep.TrainSamplesPerS, *out)
	return nil
}

// resumeRun continues the run of the checkpoint at path with cfg, which
// must describe the same run (trainer.Config.CheckResume): only
// trainer.ResumeChanges are taken from cfg.
func resumeRun(cfg *trainer.Config, path string) (*trainer.Run, error) {
	tr, meta, err := trainer.ReadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	var prev *trainer.Config
	if meta.Config != "" {
		// a stored config that this build no longer accepts is not
		// compared; the network and the run still are.
		prev, _ = trainer.ParseConfig(path+" (stored config)", meta.Config)
	}
	if err := cfg.CheckResume(tr, prev); err != nil {
		return nil, fmt.Errorf("--resume %s: %w", path, err)
	}
	tc, err := cfg.TrainConfig()
	if err != nil {
		return nil, err
	}
	tr.Cfg.Epochs, tr.Cfg.Patience, tr.Cfg.Workers = tc.Epochs, tc.Patience, tc.Workers
	run, err := trainer.ResumeRun(cfg, tr)
	if err != nil {
		return nil, err
	}
	if err := trainer.CheckResumeData(tr, run.Train); err != nil {
		return nil, fmt.Errorf("--resume %s: %w", path, err)
	}
	return run, nil
}

// setFlags is the set of flags the command line gave.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

func lenSet(s *dataset.Set) int {
	if s == nil {
		return 0
	}
	return len(s.Samples)
}

func defaultWorkers() int { return runtime.GOMAXPROCS(0) }

// progress shows a bar on a terminal and plain lines otherwise.
type progress struct {
	w       io.Writer
	bar     *progressbar.ProgressBar
	total   int
	lastLog time.Time
}

func newProgress(w io.Writer, samples int) *progress {
	p := &progress{w: w, total: samples}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(samples, progressbar.OptionSetWriter(w), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("samples"), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *progress) update(pr trainer.Progress) {
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("epoch %d/%d loss %.3f acc %.3f", pr.Epoch, pr.Epochs, pr.Loss, pr.Acc))
		_ = p.bar.Set(pr.Samples)
		return
	}
	if time.Since(p.lastLog) > 30*time.Second && pr.Batch < pr.Batches {
		p.lastLog = time.Now()
		eta := time.Duration(float64(p.total-pr.Samples) / pr.SamplesPerSecond * float64(time.Second))
		fmt.Fprintf(p.w, "epoch %d/%d batch %d/%d loss %.4f acc %.4f %.0f samples/s ETA %v\n", pr.Epoch, pr.Epochs,
			pr.Batch, pr.Batches, pr.Loss, pr.Acc, pr.SamplesPerSecond, eta.Round(time.Second))
	}
}

func (p *progress) epochDone(h trainer.EpochStats) {
	if p.bar != nil {
		_ = p.bar.Clear()
		p.bar.Reset()
	}
	fmt.Fprintf(p.w, "epoch %d: loss %.4f acc %.4f | val loss %.4f acc %.4f | rates %.1f Hz | %.0f samples/s, %.1fs\n",
		h.Epoch, h.TrainLoss, h.TrainAcc, h.ValLoss, h.ValAcc, h.Rates, h.SamplesPerS, h.Seconds)
	p.lastLog = time.Now()
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
