package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/internal/fileio"
	"github.com/aerie-neuro/aerie/router"
)

// The network-on-chip commands: aerie bench noc (a latency–load sweep of
// synthetic traffic) and aerie plot noc (figures of any run's network
// statistics). bench noc rides on the bench command: its run is wrapped
// here (this file's init runs after cmd_bench.go's, files being
// initialised in name order), so that cmd_bench.go needs no change.
func init() {
	register(command{name: "plot", summary: "draw figures: aerie plot noc RUN.json -o noc.png (link utilisation heatmap, latency histogram)", run: runPlot})
}

func runBenchNoC(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench noc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	k := fs.Int("mesh", 0, "a K × K grid of routers (2…64)")
	torus := fs.Bool("torus", false, "wrap the grid into a torus (two dateline virtual channels)")
	pattern := fs.String("pattern", "uniform", "traffic: "+strings.Join(router.Patterns, ", "))
	model := fs.String("model", "detailed", "timing model: detailed (flit-level) or analytic")
	loads := fs.String("loads", "", "offered loads in flits per node per cycle, comma-separated (default: 5 % … 120 % of the bisection bound)")
	flits := fs.Int("flits", 4, "flits per packet (32-bit flits)")
	buffer := fs.Int("buffer", 8, "input buffer depth in flits, per port and virtual channel")
	warmup := fs.Int("warmup", 1000, "cycles before the measurement window")
	measure := fs.Int("cycles", 4000, "cycles of the measurement window")
	seed := fs.Uint64("seed", 1, "seed of the traffic")
	asJSON := fs.Bool("json", false, "print one JSON object")
	plotOut := fs.String("plot", "", "draw latency against offered load into this PNG file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie bench noc --mesh K [--torus] [--pattern uniform|transpose|hotspot|bitcomplement] [flags]\n\nSweeps offered load on a K × K network and prints the latency–load curve and the saturation throughput.\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fs.Usage()
		return usagef("bench noc: unexpected argument %q", pos[0])
	}
	if *k < 2 || *k > 64 {
		return usagef("bench noc: --mesh %d: want 2…64", *k)
	}
	if *flits < 1 || *flits > 255 || *buffer < 1 || *buffer > 1024 {
		return usagef("bench noc: --flits %d, --buffer %d: want 1…255 and 1…1024", *flits, *buffer)
	}
	if *warmup < 0 || *measure < 1 || *warmup+*measure > 1e6 {
		return usagef("bench noc: --warmup %d, --cycles %d: want ≥ 0, ≥ 1 and together ≤ 1000000", *warmup, *measure)
	}
	if *model != "detailed" && *model != "analytic" {
		return usagef("bench noc: --model %q: want detailed or analytic", *model)
	}
	opt := router.SweepOptions{K: *k, Torus: *torus, Pattern: *pattern, Warmup: *warmup, Measure: *measure, Seed: *seed}
	if *loads != "" {
		for _, f := range strings.Split(*loads, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || !(v > 0 && v <= 1) {
				return usagef("bench noc: --loads: %q: want numbers in (0, 1]", f)
			}
			opt.Loads = append(opt.Loads, v)
		}
	}
	cfg := router.BenchConfig(*model)
	cfg.PacketBits = 32 * *flits
	cfg.BufferFlits = *buffer
	cv, err := router.Sweep(cfg, opt)
	if err != nil {
		return err
	}
	if *plotOut != "" {
		png, err := plotCurve(cv)
		if err != nil {
			return err
		}
		if err := fileio.WriteFile(*plotOut, png); err != nil {
			return err
		}
	}
	if *asJSON {
		return writeJSON(stdout, cv)
	}
	topo := "mesh"
	if cv.Torus {
		topo = "torus"
	}
	fmt.Fprintf(stdout, "%d×%d %s, %s traffic, %s model, %d-flit packets, %d-flit buffers, dimension-order routing\n",
		cv.K, cv.K, topo, cv.Pattern, cv.Model, cv.Flits, *buffer)
	fmt.Fprintf(stdout, "  %-10s %-10s %-12s %s\n", "offered", "accepted", "latency", "p99 (cycles; flits per node per cycle)")
	for _, p := range cv.Points {
		fmt.Fprintf(stdout, "  %-10.4f %-10.4f %-12.1f %.0f\n", p.Offered, p.Accepted, p.LatencyMean, p.LatencyP99)
	}
	fmt.Fprintf(stdout, "  saturation       %.4f flits/node/cycle (%.0f %% of the bisection bound %.4f)\n",
		cv.Saturation, 100*cv.Saturation/cv.BisectionBound, cv.BisectionBound)
	fmt.Fprintf(stdout, "  zero-load        %.2f cycles (hops × hop cycles + serialisation)\n", cv.ZeroLoad)
	fmt.Fprintf(stdout, "  simulated        %d flit-hops in %.2f s (%.3g flit-hops/s)\n", cv.FlitHops, cv.WallS, float64(cv.FlitHops)/cv.WallS)
	return nil
}

// NoCJSONFlag adds --noc-json FILE to a command's flags and returns the
// function that writes a run's network statistics there (a no-op without
// the flag). The hook for a command that prints chip.Stats:
//
//	writeNoC := NoCJSONFlag(fs)       // with the other flags
//	if err := writeNoC(r.Stats); ... // after the run
func NoCJSONFlag(fs *flag.FlagSet) func(st chip.Stats) error {
	path := fs.String("noc-json", "", "write the run's network statistics (links, latency, drain times) as JSON to this file")
	return func(st chip.Stats) error {
		if *path == "" {
			return nil
		}
		return writeNoCJSON(*path, st)
	}
}

// writeNoCJSON writes a run's network statistics as JSON (an ideal
// network has none: the file says so).
func writeNoCJSON(path string, st chip.Stats) error {
	var v any = st.NoC
	if st.NoC == nil {
		v = map[string]string{"model": "ideal"}
	}
	var b bytes.Buffer
	if err := writeJSON(&b, v); err != nil {
		return err
	}
	return fileio.WriteFile(path, b.Bytes())
}

func runPlot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output PNG file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie plot noc RUN.json -o noc.png\n\nRUN.json: the output of --noc-json, of aerie bench noc --json, or any JSON run whose statistics hold a \"noc\" object.\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "noc" {
		fs.Usage()
		return usagef("plot: want: plot noc RUN.json -o noc.png")
	}
	if *out == "" {
		return usagef("plot noc: -o FILE is required")
	}
	b, err := fileio.ReadFile(pos[1], fileio.Limit{Bytes: 256 << 20, What: "run statistics"})
	if err != nil {
		return err
	}
	st, err := nocStatsOf(b)
	if err != nil {
		return fmt.Errorf("plot noc: %s: %w", pos[1], err)
	}
	png, err := plotNoC(st)
	if err != nil {
		return err
	}
	return fileio.WriteFile(*out, png)
}

// nocStatsOf finds the network statistics in a JSON run: a router.Stats
// itself, a sweep's "network", a chip.Stats' "noc", or a benchmark's
// "stats"."noc".
func nocStatsOf(b []byte) (*router.Stats, error) {
	var probe struct {
		Links   json.RawMessage `json:"links"`
		Network *router.Stats   `json:"network"`
		NoC     *router.Stats   `json:"noc"`
		Stats   *struct {
			NoC *router.Stats `json:"noc"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, err
	}
	switch {
	case probe.Links != nil:
		var st router.Stats
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, err
		}
		return &st, nil
	case probe.Network != nil:
		return probe.Network, nil
	case probe.NoC != nil:
		return probe.NoC, nil
	case probe.Stats != nil && probe.Stats.NoC != nil:
		return probe.Stats.NoC, nil
	}
	return nil, fmt.Errorf("no network statistics (a run with the ideal network has none: set [noc] model in the chip description)")
}

// linkGrid is the heatmap of link utilisation: a (2·NX−1) × (2·NY−1) grid
// whose even cells are routers (blank) and whose odd cells are the links
// between them, each showing the busier of its two directions. A torus's
// wrap links are left out of the picture.
type linkGrid struct {
	w, h int
	z    []float64
}

func (g *linkGrid) Dims() (c, r int)   { return g.w, g.h }
func (g *linkGrid) Z(c, r int) float64 { return g.z[r*g.w+c] }
func (g *linkGrid) X(c int) float64    { return float64(c) / 2 }
func (g *linkGrid) Y(r int) float64    { return float64(r) / 2 }

func newLinkGrid(st *router.Stats) *linkGrid {
	g := &linkGrid{w: max(1, 2*st.NX-1), h: max(1, 2*st.NY-1)}
	g.z = make([]float64, g.w*g.h)
	for i := range g.z {
		g.z[i] = math.NaN()
	}
	set := func(c, r int, v float64) {
		if c < 0 || r < 0 || c >= g.w || r >= g.h {
			return
		}
		i := r*g.w + c
		if math.IsNaN(g.z[i]) || v > g.z[i] {
			g.z[i] = v
		}
	}
	for _, l := range st.Links {
		x, y := l.FromX, l.FromY
		switch l.Port {
		case "E":
			if x+1 < st.NX {
				set(2*x+1, 2*y, l.Util)
			}
		case "W":
			if x > 0 {
				set(2*x-1, 2*y, l.Util)
			}
		case "N":
			if y+1 < st.NY {
				set(2*x, 2*y+1, l.Util)
			}
		case "S":
			if y > 0 {
				set(2*x, 2*y-1, l.Util)
			}
		}
	}
	return g
}

// plotNoC draws a run's link utilisation over the grid (a heatmap) next to
// its latency histogram, as a PNG.
func plotNoC(st *router.Stats) ([]byte, error) {
	heat := plot.New()
	heat.Title.Text = fmt.Sprintf("link utilisation, %d×%d %s (%s model)", st.NX, st.NY, st.Topology, st.Model)
	heat.X.Label.Text = "x (router)"
	heat.Y.Label.Text = "y (router)"
	g := newLinkGrid(st)
	pal := reversed(palette.Heat(64, 1)) // light: idle, dark red: busy
	hm := plotter.NewHeatMap(g, pal)
	hm.NaN = color.RGBA{235, 235, 235, 255}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range g.z {
		if !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if !(hi > lo) {
		lo, hi = 0, math.Max(hi, 1e-9)
	}
	hm.Min, hm.Max = lo, hi
	heat.Add(hm)
	heat.Legend.Top = true
	for _, frac := range []float64{1, 0.5, 0} {
		v := lo + frac*(hi-lo)
		thumb, _ := plotter.NewPolygon(plotter.XYs{})
		thumb.Color = pal.Colors()[int(frac*float64(len(pal.Colors())-1))]
		thumb.LineStyle.Width = 0
		heat.Legend.Add(fmt.Sprintf("%.3g", v), thumb)
	}

	hist := plot.New()
	l := st.Latency
	hist.Title.Text = fmt.Sprintf("latency: p50 %d, p99 %d, max %d cycles (%d packets)", l.P50, l.P99, l.Max, l.Count)
	hist.X.Label.Text = "latency (cycles)"
	hist.Y.Label.Text = "packets"
	var xy plotter.XYs
	for v, n := range l.Histogram {
		if n > 0 {
			xy = append(xy, plotter.XY{X: float64(v), Y: float64(n)})
		}
	}
	if len(xy) > 0 {
		bins := min(60, int(l.Max)+1)
		h, err := plotter.NewHistogram(xy, max(bins, 1))
		if err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
		h.FillColor = color.RGBA{70, 110, 180, 255}
		hist.Add(h)
	}
	return drawPNG([][]*plot.Plot{{heat, hist}}, 32*vg.Centimeter, 13*vg.Centimeter)
}

// plotCurve draws latency (mean and p99) against offered load.
func plotCurve(cv *router.Curve) ([]byte, error) {
	p := plot.New()
	topo := "mesh"
	if cv.Torus {
		topo = "torus"
	}
	p.Title.Text = fmt.Sprintf("%d×%d %s, %s traffic (%s): saturation %.3f of bound %.3f flits/node/cycle",
		cv.K, cv.K, topo, cv.Pattern, cv.Model, cv.Saturation, cv.BisectionBound)
	p.X.Label.Text = "offered load (flits/node/cycle)"
	p.Y.Label.Text = "latency (cycles)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	var mean, p99 plotter.XYs
	for _, pt := range cv.Points {
		if pt.LatencyMean > 0 {
			mean = append(mean, plotter.XY{X: pt.Offered, Y: pt.LatencyMean})
			p99 = append(p99, plotter.XY{X: pt.Offered, Y: math.Max(pt.LatencyP99, 1)})
		}
	}
	if len(mean) == 0 {
		return nil, fmt.Errorf("plot: no points with a latency")
	}
	for _, s := range []struct {
		name string
		xy   plotter.XYs
		c    color.Color
	}{{"mean", mean, color.RGBA{200, 40, 40, 255}}, {"p99", p99, color.RGBA{70, 110, 180, 255}}} {
		line, points, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
		line.Color, points.Color = s.c, s.c
		p.Add(line, points)
		p.Legend.Add(s.name, line, points)
	}
	bound, err := plotter.NewLine(plotter.XYs{{X: cv.BisectionBound, Y: cv.ZeroLoad}, {X: cv.BisectionBound, Y: 10 * mean[len(mean)-1].Y}})
	if err == nil {
		bound.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(bound)
		p.Legend.Add("bisection bound", bound)
	}
	p.Legend.Top, p.Legend.Left = true, true
	return drawPNG([][]*plot.Plot{{p}}, 18*vg.Centimeter, 12*vg.Centimeter)
}

func drawPNG(plots [][]*plot.Plot, w, h vg.Length) ([]byte, error) {
	img := vgimg.New(w, h)
	dc := draw.New(img)
	t := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Centimeter, PadY: vg.Centimeter,
		PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(6)}
	cs := plot.Align(plots, t, dc)
	for i := range plots {
		for j, p := range plots[i] {
			p.Draw(cs[i][j])
		}
	}
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&b); err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	return b.Bytes(), nil
}

// reversed is a palette in the opposite order.
type reversedPalette []color.Color

func (p reversedPalette) Colors() []color.Color { return p }

func reversed(p palette.Palette) palette.Palette {
	c := p.Colors()
	out := make(reversedPalette, len(c))
	for i := range c {
		out[len(c)-1-i] = c[i]
	}
	return out
}

// NoCSummary is one line on a run's network for a command's text output,
// or "" for the ideal network. The hook for a command that prints
// chip.Stats:
//
//	if s := NoCSummary(r.Stats); s != "" { fmt.Fprintln(stdout, s) }
func NoCSummary(st chip.Stats) string {
	n := st.NoC
	if n == nil {
		return ""
	}
	share := 0.0
	if st.Cycles > 0 {
		share = 100 * float64(st.InterconnectCycles) / float64(st.Cycles)
	}
	return fmt.Sprintf("  network          %s %s, %s routing: %d packets, %d flit-hops (%d chip-to-chip), latency p50 %d p99 %d max %d cycles, %.1f %% of cycles, %.3g J; late %d, dropped %d",
		n.Model, n.Topology, n.Routing, n.Packets, n.FlitHops, n.FlitHopsChip, n.Latency.P50, n.Latency.P99, n.Latency.Max, share, st.Energy.Interconnect, n.Late, n.Dropped)
}
