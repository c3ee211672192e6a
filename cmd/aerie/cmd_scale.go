package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/aerie-neuro/aerie/internal/bench"
	"github.com/aerie-neuro/aerie/internal/fileio"
)

// scaleMaxSizes caps the sizes of one aerie bench scale run.
const scaleMaxSizes = 16

// scaleReport is what aerie bench scale --json prints.
type scaleReport struct {
	Fanin      int                  `json:"fanin"`
	Seed       uint64               `json:"seed"`
	Seconds    float64              `json:"seconds"`
	GOARCH     string               `json:"goarch"`
	GOMAXPROCS int                  `json:"gomaxprocs"`
	Sizes      []*bench.ScaleResult `json:"sizes"`
}

// runBenchScale runs the scaling benchmark: CUBA's statistics at several
// sizes (internal/bench/scale.go), with the cost per synaptic event and per
// synapse against N.
func runBenchScale(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("sizes", "4000,16000,64000,256000", "network sizes N (neurons), comma-separated")
	seconds := fs.Float64("seconds", 1, "biological time per size, in seconds (statistics after the first 0.1 s)")
	workers := fs.Int("workers", 0, "worker goroutines (0: automatic, chip.AutoWorkers); results do not depend on it")
	fanin := fs.Int("fanin", bench.ScaleDefaultFanin, "inputs per neuron, 80 % excitatory (80: CUBA's mean in-degree, which keeps CUBA's rates)")
	seed := fs.Uint64("seed", 1, "seed of connectivity and initial membranes")
	asJSON := fs.Bool("json", false, "print one JSON object")
	plotOut := fs.String("plot", "", "draw synaptic events per second per core and bytes per synapse against N into this PNG file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie bench scale [--sizes 4000,16000,64000,256000] [--seconds S] [--workers W] [--fanin K] [--json] [--plot scale.png]\n\nRandom balanced networks with CUBA's statistics (80 % excitatory, CUBA's neurons, weights and rates, a fixed\nin-degree K) at each size N, on the default chip's cores with the mesh grown to hold them: wall time, real-time\nfactor, synaptic events per second per core, neuron updates per second, bytes per synapse and the mean rate.\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fs.Usage()
		return usagef("bench scale: unexpected argument %q", pos[0])
	}
	var ns []int
	for _, f := range strings.Split(*sizes, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.Atoi(f)
		if err != nil || n < bench.ScaleMinNeurons || n > bench.ScaleMaxNeurons {
			return usagef("bench scale: --sizes: %q: want whole numbers of neurons, %d…%d", f, bench.ScaleMinNeurons, bench.ScaleMaxNeurons)
		}
		ns = append(ns, n)
	}
	if len(ns) > scaleMaxSizes {
		return usagef("bench scale: --sizes: %d sizes: want at most %d", len(ns), scaleMaxSizes)
	}
	if *fanin < 1 || *fanin > bench.ScaleMaxFanin {
		return usagef("bench scale: --fanin %d: want 1…%d", *fanin, bench.ScaleMaxFanin)
	}
	for _, n := range ns {
		if err := bench.CheckScale(n, *fanin); err != nil {
			return usagef("%v", err)
		}
	}
	if !(*seconds > bench.CUBAWarmupSeconds && *seconds <= 1e4) {
		return usagef("bench scale: --seconds %v: want more than the %v s warm-up, at most 10000", *seconds, bench.CUBAWarmupSeconds)
	}
	if *workers < 0 || *workers > 1024 {
		return usagef("bench scale: --workers %d: want 0…1024", *workers)
	}
	if err := fileio.CheckOutputs(nil, fileio.Path{Flag: "--plot", Name: *plotOut}); err != nil {
		return err
	}
	if *plotOut == "-" {
		return usagef("bench scale: --plot -: want a file (a PNG on standard output would mix with the table)")
	}
	var progress func(format string, args ...any)
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		start := time.Now()
		progress = func(format string, args ...any) {
			fmt.Fprintf(stderr, "scale: %6.1f s  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
		}
	}
	rep := scaleReport{Fanin: *fanin, Seed: *seed, Seconds: *seconds, GOARCH: runtime.GOARCH, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	for _, n := range ns {
		if progress != nil {
			progress("%d neurons: building and running %.3g s", n, *seconds)
		}
		r, err := bench.RunScale(ctx, bench.ScaleOptions{Neurons: n, Fanin: *fanin, Seed: *seed, Seconds: *seconds, Workers: *workers})
		if err != nil {
			return err
		}
		rep.Sizes = append(rep.Sizes, r)
		runtime.GC() // the next size should not pay for this one's garbage
	}
	if *plotOut != "" {
		png, err := plotScale(rep.Sizes)
		if err != nil {
			return err
		}
		if err := fileio.WriteFile(*plotOut, png); err != nil {
			return err
		}
	}
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	fmt.Fprintf(stdout, "Scaling: CUBA's statistics (80 %% excitatory, in-degree %d), seed %d, %.3g s biological per size, %s, GOMAXPROCS %d\n",
		rep.Fanin, rep.Seed, rep.Seconds, rep.GOARCH, rep.GOMAXPROCS)
	fmt.Fprintf(stdout, "  %8s %10s %11s %9s %7s %8s %8s %14s %14s %9s %8s %8s\n",
		"neurons", "synapses", "syn events", "chip", "workers", "wall s", "RTF", "events/s/core", "updates/s", "B/synapse", "rate Hz", "build s")
	for _, r := range rep.Sizes {
		fmt.Fprintf(stdout, "  %8d %10d %11d %9s %7d %8.3f %8.4f %14.4g %14.4g %9.2f %8.2f %8.2f\n",
			r.Neurons, r.Synapses, r.SynapticEvents, r.Chip, r.Workers, r.WallS, r.RTF, r.EventsPerSPerCore, r.NeuronUpdatesPerS, r.BytesPerSynapse, r.RateHz, r.BuildS)
	}
	fmt.Fprintln(stdout, "  events/s/core: synaptic events per second of wall time per worker used; B/synapse: every byte of the loaded chip")
	fmt.Fprintln(stdout, "  (neuron state, synapse words and row headers, fan-out) over the synapses; rate: mean over all neurons (CUBA ≈ 5.5 Hz)")
	return nil
}

// plotScale draws synaptic events per second per core and bytes per synapse
// against the network size, log x.
func plotScale(rs []*bench.ScaleResult) ([]byte, error) {
	var eps, bps plotter.XYs
	var ticks []plot.Tick
	for _, r := range rs {
		eps = append(eps, plotter.XY{X: float64(r.Neurons), Y: r.EventsPerSPerCore / 1e6})
		bps = append(bps, plotter.XY{X: float64(r.Neurons), Y: r.BytesPerSynapse})
		label := strconv.Itoa(r.Neurons)
		if r.Neurons >= 1000 {
			label = strconv.FormatFloat(float64(r.Neurons)/1000, 'g', 4, 64) + "k"
		}
		ticks = append(ticks, plot.Tick{Value: float64(r.Neurons), Label: label})
	}
	panel := func(title, ylabel string, xy plotter.XYs) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "neurons N"
		p.Y.Label.Text = ylabel
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.Y.Min = 0
		line, points, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
		p.Add(line, points, plotter.NewGrid())
		return p, nil
	}
	a, err := panel("synaptic events per second per core", "million events/s per core", eps)
	if err != nil {
		return nil, err
	}
	b, err := panel("memory per synapse", "bytes/synapse", bps)
	if err != nil {
		return nil, err
	}
	return drawPNG([][]*plot.Plot{{a, b}}, 30*vg.Centimeter, 12*vg.Centimeter)
}
