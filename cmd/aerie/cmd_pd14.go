package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/internal/bench"
)

// runBenchPD14 runs the Potjans–Diesmann 2014 microcircuit
// (examples/networks/pd14.toml) and compares its layers with the
// published rates.
func runBenchPD14(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench pd14", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scale := fs.Float64("scale", 1, "build N·F neurons with the in-degrees kept, 0 < F ≤ 1 (1: full scale, 77,169 neurons and 3×10⁸ synapses, several GB)")
	seconds := fs.Float64("seconds", 1, "biological time to simulate, in seconds")
	seed := fs.Uint64("seed", 1, "seed of connectivity, weights, delays, initial membranes and the Poisson drive")
	workers := fs.Int("workers", 0, "worker goroutines (0: automatic); results do not depend on it")
	chipArg := fs.String("chip", "", "chip preset name or TOML file (default: examples/chips/pd14.toml, embedded)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie bench pd14 [--scale F] [--seconds S] [--seed N] [--workers W] [--json]\n\nThe Potjans–Diesmann 2014 cortical microcircuit (Cereb Cortex 24:785), Poisson background, dt 0.1 ms,\non examples/chips/pd14.toml: per-layer rates and CV(ISI) against the published ones, the real-time\nfactor, synaptic events per second per core, bytes per synapse, build time and memory.\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return usagef("bench pd14: unexpected argument %q", pos[0])
	}
	if !(*scale > 0 && *scale <= 1) {
		return usagef("bench pd14: --scale %v: want 0 < F ≤ 1", *scale)
	}
	if !(*seconds > 0 && *seconds <= 1e5) {
		return usagef("bench pd14: --seconds %v: want 0 < S ≤ 100000", *seconds)
	}
	if *workers < 0 {
		return usagef("bench pd14: --workers %d: want ≥ 0", *workers)
	}
	opt := bench.PD14Options{Scale: *scale, Seconds: *seconds, Seed: *seed, Workers: *workers}
	if *chipArg != "" {
		if opt.Chip, err = chip.LoadConfig(*chipArg); err != nil {
			return err
		}
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		start := time.Now()
		opt.Progress = func(stage string) {
			fmt.Fprintf(stderr, "pd14: %6.1f s  %s\n", time.Since(start).Seconds(), stage)
		}
	}
	r, err := bench.RunPD14(ctx, opt)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, r)
	}
	fmt.Fprintf(stdout, "Potjans–Diesmann 2014 microcircuit on %s, scale %g, seed %d, %.2f s biological (%d ticks, statistics after %.2f s), %d workers\n",
		r.Chip, r.Scale, r.Seed, r.Seconds, r.Ticks, r.WarmupS, r.Workers)
	fmt.Fprintf(stdout, "  network          %d neurons, %d synapses (%d recurrent)\n", r.Neurons, r.Synapses, r.Recurrent)
	fmt.Fprintf(stdout, "  %-6s %9s %10s %22s %15s %8s %10s\n", "layer", "neurons", "rate (Hz)", "published (Hz)", "band (Hz)", "CV(ISI)", "published")
	for _, l := range r.Layers {
		verdict := "FAIL"
		if l.Pass {
			verdict = "ok"
		}
		fmt.Fprintf(stdout, "  %-6s %9d %10s %6.3f %6.2f %6.3f   %5.2f … %5.2f %8s %10.3f  %s\n", l.Name, l.Neurons, figure(l.RateHz, "%.3f"),
			l.PublishedHz[0], l.PublishedHz[1], l.PublishedHz[2], l.RangeHz[0], l.RangeHz[1], figure(l.CVISI, "%.3f"), l.PublishedCV, verdict)
	}
	verdict := "every layer in its band"
	if !r.Pass {
		verdict = "some layer outside its band"
	}
	if r.Scale != 1 {
		verdict += " (downscaled: the published rates are for full scale)"
	}
	fmt.Fprintf(stdout, "  rates            %s; published: reference implementation (DC), NetPyNE (Poisson), NEST; band ±%.0f %%\n", verdict, 100*bench.PD14RateTolerance)
	fmt.Fprintf(stdout, "  wall time        %.3f s, real-time factor %s\n", r.WallS, figure(r.RTF, "%.3f"))
	fmt.Fprintf(stdout, "  synaptic events  %d (%.3g per second, %.3g per second per core)\n", r.SynapticEvents, r.EventsPerS, r.EventsPerSPerCore)
	fmt.Fprintf(stdout, "  build            %.1f s drawing and quantizing, %.1f s compiling\n", r.ParseS, r.CompileS)
	fmt.Fprintf(stdout, "  memory           %.2f bytes/synapse of synapse memory, %.2f with neurons and fan-out; peak Go heap %.2f GB, %.2f GB from the system\n",
		r.BytesPerSynapse, r.TotalBytesPerSynapse, float64(r.PeakHeapBytes)/1e9, float64(r.SysBytes)/1e9)
	fmt.Fprintf(stdout, "  emulated chip    %d cores, %d cycles = %.4g s of chip time, energy %.4g J\n", r.Cores, r.Cycles, r.EmulatedS, r.EnergyJ)
	return nil
}
