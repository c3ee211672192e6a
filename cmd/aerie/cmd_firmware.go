package main

// The firmware commands: compile (network TOML → image), emulate (run an
// image over an event file) and the image case of inspect. Logic lives in
// firmware, chip and internal/bench; this file holds flags, files and
// summaries.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/aerie-neuro/aerie/aer"
	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
	"github.com/aerie-neuro/aerie/internal/bench"
	"github.com/aerie-neuro/aerie/internal/fileio"
)

func init() {
	register(command{name: "compile", summary: "compile a network TOML into a configuration image: aerie compile NET.toml [--chip NAME|FILE] -o net.img", run: runCompile})
	register(command{name: "emulate", summary: "run a configuration image over an event file: aerie emulate --image net.img [--in EVENTS] [--out EVENTS] [--ticks N]", run: runEmulate})
	inspectHooks = append(inspectHooks, inspectImage)
}

// populationSummary is one population in the JSON of compile and inspect.
type populationSummary struct {
	Name    string `json:"name"`
	Neurons int    `json:"neurons"`
	Source  bool   `json:"source,omitempty"`
	Cores   []int  `json:"cores"`
}

type portSummary struct {
	Name     string `json:"name"`
	Channels int    `json:"channels"`
}

// imageReport is the --json output of compile and of inspect on an image.
type imageReport struct {
	Format      string              `json:"format"` // "image"
	File        string              `json:"file"`
	Version     int                 `json:"version"`
	Chip        string              `json:"chip"`
	Fingerprint string              `json:"fingerprint"`
	Bytes       int                 `json:"bytes"`
	CoresUsed   int                 `json:"cores_used"`
	Neurons     int                 `json:"neurons"`
	Generators  int                 `json:"generators"`
	Synapses    int                 `json:"synapses"`
	Dropped     int                 `json:"dropped_synapses"`
	InputAxons  int                 `json:"input_axons"`
	Populations []populationSummary `json:"populations"`
	Ports       struct {
		Inputs  []portSummary `json:"inputs"`
		Outputs []portSummary `json:"outputs"`
	} `json:"ports"`
	Sections   []firmware.SectionStats `json:"sections"`
	Provenance map[string]string       `json:"provenance"`
	Cores      []firmware.CoreUsage    `json:"core_usage,omitempty"`
}

func reportImage(path string, img *firmware.Image, size int) imageReport {
	st := img.Stats()
	r := imageReport{Format: "image", File: path, Version: int(img.Version), Chip: img.Chip,
		Fingerprint: fmt.Sprintf("%016x", img.Fingerprint), Bytes: size,
		CoresUsed: st.CoresUsed, Neurons: st.Neurons, Generators: st.Generators, Synapses: st.Synapses,
		Dropped: img.Placement.DroppedSynapses, InputAxons: st.InputAxons, Sections: st.Sections,
		Provenance: img.Provenance, Cores: img.Placement.Cores}
	if r.Provenance == nil {
		r.Provenance = map[string]string{}
	}
	for _, pp := range img.Placement.Populations {
		r.Populations = append(r.Populations, populationSummary{Name: pp.Name, Neurons: pp.Size, Source: pp.Source, Cores: pp.Cores()})
	}
	for _, in := range img.Program.Inputs {
		r.Ports.Inputs = append(r.Ports.Inputs, portSummary{in.Name, len(in.Channels)})
	}
	for _, out := range img.Program.Outputs {
		r.Ports.Outputs = append(r.Ports.Outputs, portSummary{out.Name, len(out.Neurons)})
	}
	if r.Ports.Inputs == nil {
		r.Ports.Inputs = []portSummary{}
	}
	if r.Ports.Outputs == nil {
		r.Ports.Outputs = []portSummary{}
	}
	return r
}

func printImage(w io.Writer, r imageReport, usage bool) {
	fmt.Fprintf(w, "image       %s (format version %d, %d bytes)\n", r.File, r.Version, r.Bytes)
	fmt.Fprintf(w, "chip        %s, fingerprint %s\n", r.Chip, r.Fingerprint)
	fmt.Fprintf(w, "program     %d cores used, %d neurons, %d sources, %d synapses (%d dropped: zero weight), %d input axons\n",
		r.CoresUsed, r.Neurons, r.Generators, r.Synapses, r.Dropped, r.InputAxons)
	for _, p := range r.Populations {
		kind := "neurons"
		if p.Source {
			kind = "sources"
		}
		fmt.Fprintf(w, "population  %-12s %7d %s on cores %s\n", p.Name, p.Neurons, kind, coreRanges(p.Cores))
	}
	for _, p := range r.Ports.Inputs {
		fmt.Fprintf(w, "input port  %-12s %7d channels\n", p.Name, p.Channels)
	}
	for _, p := range r.Ports.Outputs {
		fmt.Fprintf(w, "output port %-12s %7d channels\n", p.Name, p.Channels)
	}
	keys := make([]string, 0, len(r.Provenance))
	for k := range r.Provenance {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "provenance  %s = %s\n", k, r.Provenance[k])
	}
	var secs []string
	for _, s := range r.Sections {
		secs = append(secs, fmt.Sprintf("%s %d", s.Name, s.Bytes))
	}
	fmt.Fprintf(w, "sections    %s (bytes)\n", strings.Join(secs, ", "))
	if usage {
		for _, u := range r.Cores {
			fmt.Fprintf(w, "core %-4d   %5d neurons %4d sources %8d synapses %6d input axons %6d output axons %3d profiles\n",
				u.Core, u.Neurons, u.Generators, u.Synapses, u.InputAxons, u.OutputAxons, u.Profiles)
		}
	}
}

// coreRanges prints 0,1,2,5 as "0–2, 5".
func coreRanges(cores []int) string {
	var parts []string
	for i := 0; i < len(cores); {
		j := i
		for j+1 < len(cores) && cores[j+1] == cores[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(cores[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d–%d", cores[i], cores[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

func runCompile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie compile NETWORK.toml [--chip NAME|FILE] -o net.img [--seed N] [--neurons-per-core N] [--json]\n\n"+
			"Compiles a network written in aerie's network language (docs/networks.md) for a chip and writes\n"+
			"the configuration image. The example networks are in examples/networks/.\n\nFlags:")
		fs.PrintDefaults()
	}
	chipArg := fs.String("chip", "", "chip preset name or TOML file (default: the embedded default chip)")
	out := fs.String("o", "", "the image to write (required)")
	seed := fs.String("seed", "", "replace the network's seed (connectivity, initial membranes, on-chip noise)")
	perCore := fs.Int("neurons-per-core", 0, "at most this many neurons per core (0: spread over the whole chip)")
	usage := fs.Bool("usage", false, "print every core's usage")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("compile: want one NETWORK.toml, got %d arguments", len(pos))
	}
	if *out == "" {
		return usagef("compile: -o net.img is required")
	}
	if *perCore < 0 || *perCore > 1<<16 {
		return usagef("compile: --neurons-per-core %d: want 0…65536", *perCore)
	}
	if err := fileio.CheckOutputs([]fileio.Path{{Flag: "NETWORK", Name: pos[0]}, {Flag: "--chip", Name: chipFile(*chipArg)}}, fileio.Path{Flag: "-o", Name: *out}); err != nil {
		return err
	}
	cfg, err := chip.LoadConfig(*chipArg)
	if err != nil {
		return err
	}
	var opts firmware.ParseOptions
	if *seed != "" {
		s, err := strconv.ParseUint(*seed, 10, 64)
		if err != nil {
			return usagef("compile: --seed %q: want an integer 0…2^64−1", *seed)
		}
		opts.Seed = &s
	}
	net, err := firmware.LoadNetworkWith(pos[0], cfg, opts)
	if err != nil {
		return err
	}
	img, err := firmware.NewImageWith(net, cfg, firmware.Options{NeuronsPerCore: *perCore})
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
	rep := reportImage(*out, img, len(b))
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	printImage(stdout, rep, *usage)
	return nil
}

// chipFile is the --chip argument when it names a file (for the
// output-differs-from-input check), else "".
func chipFile(arg string) string {
	if strings.ContainsAny(arg, "/\\.") {
		return arg
	}
	return ""
}

// inspectImage is aerie inspect's hook for configuration images.
func inspectImage(ctx context.Context, path string, head []byte, asJSON bool, stdout io.Writer) (bool, error) {
	if !bytes.HasPrefix(head, []byte(firmware.ImageMagic)) {
		return false, nil
	}
	img, err := firmware.ReadImage(path)
	if err != nil {
		return true, err
	}
	rep := reportImage(path, img, int(img.Stats().Bytes))
	if asJSON {
		return true, writeJSON(stdout, rep)
	}
	printImage(stdout, rep, true)
	return true, nil
}

// emulateReport is the --json output of aerie emulate.
type emulateReport struct {
	Image string `json:"image"`
	*bench.Result
	Seed        uint64             `json:"seed"`
	InputEvents uint64             `json:"input_events"`
	InputLate   uint64             `json:"input_late"`
	EnergyByKJ  map[string]float64 `json:"energy_by_kind_j"`
}

func runEmulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("emulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie emulate --image net.img [--chip NAME|FILE] [--in EVENTS] [--out EVENTS] [--ticks N] [--seed N]\n"+
			"                     [--spikes FILE] [--warmup N] [--workers W] [--json]\n\n"+
			"Runs a configuration image. Input events enter the image's input ports (event Port = port index,\n"+
			"Channel = channel; times in ticks, or µs converted with the image's tick length); the output ports'\n"+
			"spikes are written to --out. Without --ticks the run lasts until the input ends, plus the\n"+
			"chip's longest delay; without input, 10000 ticks.\n\nFlags:")
		fs.PrintDefaults()
	}
	imgPath := fs.String("image", "", "the configuration image (required)")
	chipArg := fs.String("chip", "", "chip preset name or TOML file (default: the chip the image names, which must be a preset)")
	inPath := fs.String("in", "", "input event file (any format aerie reads)")
	outPath := fs.String("out", "", "write the output ports' spikes to this event file")
	spikesPath := fs.String("spikes", "", "write every neuron's spikes to this event file (Port = population index, Channel = neuron)")
	ticksArg := fs.Uint64("ticks", 0, "ticks to run (0: see above)")
	seedArg := fs.String("seed", "", "replace the image's noise seed (stochastic neurons, Poisson sources)")
	warmup := fs.Uint64("warmup", 0, "ticks left out of the statistics")
	workers := fs.Int("workers", 0, "worker goroutines (0: automatic); results do not depend on it")
	var ff formatFlags
	ff.register(fs, true)
	asJSON := fs.Bool("json", false, "print one JSON object")
	writeNoC := NoCJSONFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("emulate: unexpected arguments %q (the image is --image)", pos)
	}
	if *imgPath == "" {
		return usagef("emulate: --image is required")
	}
	if *workers < 0 || *workers > 1024 {
		return usagef("emulate: --workers %d: want 0…1024", *workers)
	}
	if *ticksArg > 1<<40 {
		return usagef("emulate: --ticks %d: want at most 2^40", *ticksArg)
	}
	if err := fileio.CheckOutputs([]fileio.Path{{Flag: "--image", Name: *imgPath}, {Flag: "--in", Name: *inPath}, {Flag: "--chip", Name: chipFile(*chipArg)}},
		fileio.Path{Flag: "--out", Name: *outPath}, fileio.Path{Flag: "--spikes", Name: *spikesPath}); err != nil {
		return err
	}
	img, cfg, err := loadImageChip(*imgPath, *chipArg)
	if err != nil {
		return err
	}
	prog, err := seededProgram(img, "emulate", *seedArg)
	if err != nil {
		return err
	}
	dtMS := img.DtMS()
	opt := bench.RunOptions{Ticks: *ticksArg, Workers: *workers, DtMS: dtMS, WarmupTicks: *warmup}

	var input *chip.EventInput
	if *inPath != "" {
		r, _, closer, err := ff.openInput(*inPath)
		if err != nil {
			return err
		}
		defer closer.Close()
		if input, err = chip.NewEventInput(&ctxReader{ctx: ctx, r: r}, r.Unit(), dtMS*1000); err != nil {
			return fmt.Errorf("%s: %w (the image records no tick length; give the input in ticks)", *inPath, err)
		}
		opt.Input = input
	}
	if opt.Ticks == 0 {
		if input == nil {
			opt.Ticks = 10000
		} else {
			opt.UntilInputEnds = true
		}
	}
	var sinks multiSink
	var commits []func() error
	var aborts []func()
	defer func() {
		for _, a := range aborts {
			a()
		}
	}()
	openOut := func(path string) (aer.Writer, error) {
		f, o, err := ff.outputFormat(path)
		if err != nil {
			return nil, err
		}
		of, err := fileio.Create(path)
		if err != nil {
			return nil, err
		}
		w, err := aer.OpenWriter(of, f, aer.Tick, o)
		if err != nil {
			of.Abort()
			return nil, err
		}
		commits = append(commits, func() error {
			if err := w.Close(); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			return of.Commit()
		})
		aborts = append(aborts, of.Abort)
		return w, nil
	}
	if *outPath != "" {
		w, err := openOut(*outPath)
		if err != nil {
			return err
		}
		sinks = append(sinks, chip.NewEventOutput(w))
	}
	if len(sinks) > 0 {
		opt.Output = sinks
	}
	var spikeWriter aer.Writer
	if *spikesPath != "" {
		if spikeWriter, err = openOut(*spikesPath); err != nil {
			return err
		}
		opt.Spikes = spikeWriter
	}
	res, err := bench.Run(ctx, cfg, prog, img.Placement, opt)
	if err != nil {
		return err
	}
	if err := writeNoC(res.Stats); err != nil {
		return err
	}
	for _, c := range commits {
		if err := c(); err != nil {
			return err
		}
	}
	aborts = nil
	rep := emulateReport{Image: *imgPath, Result: res, Seed: prog.Seed}
	if input != nil {
		rep.InputEvents, rep.InputLate = input.Read, input.Late
	}
	e := res.Stats.Energy
	rep.EnergyByKJ = map[string]float64{"synops": e.Synops, "neurons": e.Neurons, "input_spikes": e.InputSpikes,
		"messages": e.Messages, "interconnect": e.Interconnect, "barrier": e.Barrier, "static": e.Static}
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	printEmulate(stdout, *imgPath, cfg, rep)
	return nil
}

func printEmulate(w io.Writer, path string, cfg *chip.Config, r emulateReport) {
	bio := "tick length unknown"
	if r.Seconds > 0 {
		bio = fmt.Sprintf("%.4g s biological", r.Seconds)
	}
	fmt.Fprintf(w, "%s on %s, seed %d: %d ticks (%s), %d workers\n", path, cfg.Name, r.Seed, r.Ticks, bio, r.Workers)
	for _, p := range r.Populations {
		if p.Source {
			continue
		}
		rate := fmt.Sprintf("%.4g spikes/tick", p.RatePerTick)
		if p.RateHz != nil {
			rate = fmt.Sprintf("%.4g Hz", *p.RateHz)
		}
		cv := "CV(ISI) –  (" + p.CVISIMissing + ")"
		if p.CVISI != nil {
			cv = fmt.Sprintf("CV(ISI) %.3f", *p.CVISI)
		}
		fmt.Fprintf(w, "  %-12s %7d neurons %10d spikes  %-16s %s\n", p.Name, p.Neurons, p.Spikes, rate, cv)
	}
	if r.InputEvents > 0 || r.InputLate > 0 {
		fmt.Fprintf(w, "  input            %d events (%d late, applied at the next tick), %d outside every port\n", r.InputEvents, r.InputLate, r.Stats.InputDropped)
	}
	fmt.Fprintf(w, "  output           %d events\n", r.OutputEvents)
	fmt.Fprintf(w, "  synaptic events  %d (%.3g per second of wall time)\n", r.SynapticEvents, r.EventsPerS)
	rtf := ""
	if r.RTF != nil {
		rtf = fmt.Sprintf(", real-time factor %.4f", *r.RTF)
	}
	fmt.Fprintf(w, "  wall time        %.3f s%s\n", r.WallS, rtf)
	e := r.Stats.Energy
	fmt.Fprintf(w, "  emulated chip    %d cycles = %.4g s at %.0f MHz, energy %.4g J (dynamic %.4g J, static %.4g J)\n", r.Cycles, r.EmulatedS, cfg.ClockMHz, r.EnergyJ, e.Dynamic, e.Static)
	fmt.Fprintf(w, "  energy by kind   synops %.3g J, neurons %.3g J, input spikes %.3g J, messages %.3g J, barrier %.3g J, static %.3g J\n",
		e.Synops, e.Neurons, e.InputSpikes, e.Messages, e.Barrier, e.Static)
	fmt.Fprintf(w, "  cores            %d used, utilisation mean %.1f %%, max %.1f %%\n", r.Cores, 100*r.UtilMean, 100*r.UtilMax)
	if s := NoCSummary(r.Stats); s != "" {
		fmt.Fprintln(w, s)
	}
}

// multiSink fans output spikes out to several sinks.
type multiSink []chip.OutputSink

func (m multiSink) Spikes(t uint64, ev []chip.PortEvent) error {
	var errs []error
	for _, s := range m {
		if err := s.Spikes(t, ev); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
