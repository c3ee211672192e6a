package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/internal/bench"
)

func init() {
	register(command{name: "bench", summary: "run a standard benchmark network: aerie bench cuba [--seconds S] [--seed N] [--workers W] [--json]; aerie bench noc --mesh K [--torus] [--pattern P] [--json] [--plot curve.png]; aerie bench scale [--sizes N,…] [--seconds S] [--workers W] [--fanin K] [--json] [--plot scale.png]; aerie bench pd14 [--scale F] [--seconds S] [--seed N] [--workers W] [--json]", run: runBench})
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "noc" {
		return runBenchNoC(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "pd14" {
		return runBenchPD14(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "scale" {
		return runBenchScale(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seconds := fs.Float64("seconds", 10, "biological time to simulate, in seconds")
	seed := fs.Uint64("seed", 1, "seed of connectivity and initial membranes")
	workers := fs.Int("workers", 0, "worker goroutines (0: automatic, chip.AutoWorkers: one per 1024 neurons of work per tick, up to one per processor); results do not depend on it")
	chipArg := fs.String("chip", "", "chip preset name or TOML file (default: the embedded default chip)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	writeNoC := NoCJSONFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie bench cuba [flags]\n\nNetworks:\n  cuba  Brette et al. 2007 CUBA (Brian variant): 4000 LIF neurons, p = 0.02, dt 0.1 ms\n  (also: aerie bench pd14 -h, aerie bench scale -h, aerie bench noc -h)\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "cuba" {
		fs.Usage()
		return usagef("bench: want one network name: cuba")
	}
	if !(*seconds > 0 && *seconds <= 1e5) {
		return usagef("bench: --seconds %v: want 0 < S ≤ 100000", *seconds)
	}
	if *workers < 0 {
		return usagef("bench: --workers %d: want ≥ 0", *workers)
	}
	cfg, err := chip.LoadConfig(*chipArg)
	if err != nil {
		return err
	}
	r, err := bench.RunCUBA(ctx, *seed, cfg, *seconds, *workers)
	if err != nil {
		return err
	}
	if err := writeNoC(r.Stats); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, r)
	}
	fmt.Fprintf(stdout, "CUBA (Brette et al. 2007, Brian variant) on %s, seed %d, %.1f s biological (%d ticks), %d workers\n",
		r.Chip, r.Seed, r.Seconds, r.Ticks, r.Workers)
	fmt.Fprintf(stdout, "  network          %d neurons, %d synapses\n", r.Neurons, r.Synapses)
	fmt.Fprintf(stdout, "  rates            excitatory %s, inhibitory %s (published ≈ 5.5 Hz)\n", figure(r.RateExcHz, "%.2f Hz"), figure(r.RateInhHz, "%.2f Hz"))
	fmt.Fprintf(stdout, "  CV(ISI)          %s (excitatory %s, inhibitory %s; published ≈ 0.71)\n", figure(r.CVISI, "%.3f"), figure(r.CVISIExc, "%.3f"), figure(r.CVISIInh, "%.3f"))
	fmt.Fprintf(stdout, "  synaptic events  %d (%.3g per second of wall time)\n", r.SynapticEvents, r.EventsPerS)
	fmt.Fprintf(stdout, "  wall time        %.3f s, real-time factor %s\n", r.WallS, figure(r.RTF, "%.4f"))
	fmt.Fprintf(stdout, "  emulated chip    %d cycles = %.4g s at %.0f MHz, energy %.4g J (%.3g W)\n",
		r.Cycles, r.EmulatedS, cfg.ClockMHz, r.EnergyJ, r.EnergyJ/r.Seconds)
	barrier := 0.0
	if r.Cycles > 0 {
		barrier = 100 * float64(r.Stats.BarrierCycles) / float64(r.Cycles)
	}
	fmt.Fprintf(stdout, "  cores            %d used, utilisation mean %.1f %%, max %.1f %% (barrier %.1f %% of cycles)\n",
		r.Cores, 100*r.UtilMean, 100*r.UtilMax, barrier)
	if s := NoCSummary(r.Stats); s != "" {
		fmt.Fprintln(stdout, s)
	}
	e := r.Stats.Energy
	fmt.Fprintf(stdout, "  energy by kind   dynamic %.3g J (synops %.3g J, neurons %.3g J, input spikes %.3g J, messages %.3g J, interconnect %.3g J, barrier %.3g J), static %.3g J\n",
		e.Dynamic, e.Synops, e.Neurons, e.InputSpikes, e.Messages, e.Interconnect, e.Barrier, e.Static)
	fmt.Fprintf(stdout, "  memory           %.1f bytes/neuron, %.2f bytes/synapse\n",
		float64(r.Memory.NeuronBytes)/float64(r.Memory.Neurons), float64(r.Memory.SynapseBytes)/float64(r.Memory.Synapses))
	return nil
}

// figure prints an optional figure, or "–" with no value (a run too short
// to measure it).
func figure(p *float64, format string) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf(format, *p)
}
