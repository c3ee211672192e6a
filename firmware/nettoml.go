package firmware

// The network TOML: networks written by hand, in physical units, in the
// shape of PyNN (populations, sources, projections with connectors, ports).
// ParseNetwork decodes one strictly (internal/stricttoml: unknown or
// mis-cased keys are errors with their line), checks it against a chip
// description, draws its connectivity and quantizes it (quantize.go) into a
// Network. docs/networks.md is the manual; examples/networks/ holds CUBA,
// Brunel and a relay. In short:
//
//	name = "cuba"          # the network's name (default: the file name)
//	seed = 1               # the chip's noise seed and the default seed of every draw (default 0)
//	dt = 0.1               # ms per tick (default 0.1): Network.DtMS
//	[provenance]           # free string keys, carried into Network.Provenance
//	source = "Brette et al. 2007"
//
//	[[population]]         # current-based LIF neurons (PyNN IF_curr_exp; defaults are PyNN's)
//	name = "exc"           # required, unique among populations and sources
//	size = 3200            # required, 1 … 2^24
//	tau_m = 20.0           # ms (20)
//	tau_syn_e = 5.0        # ms, excitatory current (5); 0: delta synapses
//	tau_syn_i = 5.0        # ms, inhibitory current (5); 0: delta synapses
//	v_rest = -65.0         # mV (−65)
//	v_reset = -65.0        # mV (−65)
//	v_thresh = -50.0       # mV (−50), above v_reset
//	tau_refrac = 0.1       # ms (0.1): the membrane is held round(tau_refrac/dt) ticks after a spike
//	cm = 1.0               # nF (1), only to convert i_offset
//	i_offset = 0.0         # nA (0): adds tau_m·i_offset/cm mV to v_rest
//	v_init = -65.0         # mV (v_rest), or a distribution
//
//	[[source]]             # on-chip spike sources: Poisson (rate) or regular (period, phase)
//	name = "ext"
//	size = 100
//	rate = 20.0            # Hz, Poisson; or period = 10.0 (ms) and phase = 0.0 (ms)
//	seed = 3               # Poisson sources only (default: the network's seed)
//
//	[[projection]]
//	name = "ee"            # optional, for messages
//	pre = "exc"            # a population or a source
//	post = "exc"           # a population
//	connector = "fixed_probability"  # all_to_all | one_to_one | fixed_probability | fixed_number_pre | fixed_total_number | from_file
//	p = 0.02               # fixed_probability: per ordered pair; fixed_total_number: connection probability C
//	n = 100                # fixed_number_pre: presynaptic partners per target; fixed_total_number: synapses Q
//	with_replacement = false  # fixed_number_pre (false)
//	allow_self = true      # all_to_all, fixed_probability, fixed_number_pre, fixed_total_number within one population (true)
//	file = "ee.csv"        # from_file: rows pre,post,weight[,delay] (mV, ms), relative to the TOML's folder
//	weight = 1.62          # mV (the jump of the current, or of v for a delta synapse), or a distribution
//	delay = 0.1            # ms, 1 … max_delay+1 ticks (default dt), or a distribution
//	receptor = "excitatory"  # or "inhibitory": synapse type 0 or 1; the sign of weight is the user's
//	seed = 7               # connectivity, weights and delays (default: the network's seed)
//
//	[[input]]              # an input port: external events (port, channel, tick) act as spikes of
//	name = "in"            # a source population of `channels` neurons
//	channels = 64
//	post = "relay"
//	connector = "one_to_one"  # and the keys of a projection, except pre and allow_self
//	weight = 20.0
//
//	[[output]]             # an output port: the spikes of a population's neurons
//	name = "out"
//	population = "relay"
//	neurons = [0, 1, 2]    # optional: channel i is neuron neurons[i] (default: every neuron, in order)
//
// A distribution is a table: { uniform = [lo, hi] } (lo ≤ x < hi) or
// { normal = [mean, sd] }, optionally with clip = [lo, hi] (values are
// clamped into the interval) or, for a normal, redraw_min = lo and/or
// redraw_max = hi (values outside are drawn again: a truncated normal,
// NEST's redraw), and seed = n.
//
// fixed_total_number draws Q synapses between independently uniform pre-
// and postsynaptic neurons (with replacement, NEST's fixed_total_number):
// Q is n, or comes from p = C as Potjans & Diesmann 2014 define it,
// Q = round(ln(1−C)/ln(1−1/(N_pre·N_post))). ParseOptions.Scale builds a
// smaller network with the in-degrees kept.
//
// Every random draw comes from math/rand/v2's PCG keyed by (seed, stream),
// where the stream is fixed by what is drawn and the index of its table
// (streamOf), so a network is reproducible from its file alone; changing a
// projection's weights never changes its connectivity or any other table's
// draws.
//
// Parsing runs in three steps. First every table is checked on its own and
// against the chip (names, sizes, connector keys, time constants, delays,
// rates, the synapse cap from each connector's expected count); all these
// problems are reported together, each with the line of its table or key.
// Then the connectivity is drawn (fixed_probability by geometric skips,
// fixed_number_pre by a partial Fisher–Yates shuffle or uniform draws with
// replacement, fixed_total_number as sorted order statistics). Last, each
// population's voltage unit is chosen from the weights that reach it
// (QuantizeLIF) and the weights become mantissas
// (QuantizeWeights); the Quantization that ParseNetworkWith returns, and
// the quantize.<population> lines of Network.Provenance, say what came out.
// Nothing panics on any input (FuzzNetworkTOML).

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/internal/fileio"
	"github.com/aerie-neuro/aerie/internal/stricttoml"
)

// Limits of the network TOML, checked before anything is allocated.
const (
	MaxNetworkTOMLBytes = 64 << 20 // a network description file
	MaxConnFileBytes    = 1 << 30  // a from_file CSV
	MaxPopulationSize   = 1 << 24  // neurons (sources, channels) in one population (port)
	MaxNetworkSynapses  = 1 << 31  // synapses in one network, all projections and ports
)

// ParseOptions tune ParseNetworkWith; the zero value is ParseNetwork's.
type ParseOptions struct {
	// Dir is the folder from_file paths are relative to ("": the current
	// directory).
	Dir string
	// ReadFile reads a from_file file (nil: the file system, at most
	// MaxConnFileBytes).
	ReadFile func(path string) ([]byte, error)
	// MaxNeurons caps each population, source population and input port
	// (0: MaxPopulationSize); MaxSynapses caps the network's synapses
	// (0: MaxNetworkSynapses). Both are checked before anything is drawn.
	MaxNeurons  int
	MaxSynapses int64
	// Seed, when set, replaces the file's top-level seed: the chip's noise
	// seed and the seed of every draw that names no seed of its own.
	Seed *uint64
	// Scale, when in (0, 1), builds a smaller version of the network with
	// the in-degrees kept (0 or 1: the file as written): every population
	// and source has max(1, round(size·Scale)) members, fixed_number_pre
	// keeps n, fixed_probability takes p/Scale (at most 1), and
	// fixed_total_number keeps its mean in-degree (Q·N'_post/N_post, Q
	// computed at the written sizes); all_to_all and one_to_one connect
	// what is there, and from_file cannot be scaled. Weights are not
	// compensated: with in-degrees kept, each neuron's mean input is the
	// full network's. Input port channels and output port neurons are not
	// scaled. The choice is in Network.Provenance["scale"].
	Scale float64
}

// Quantization is what ParseNetworkWith's quantizer chose, per population
// and per projection: the figures docs/networks.md explains.
type Quantization struct {
	DtMS float64
	// Populations holds one entry per Network population (nil for sources).
	Populations []*QuantizedLIF
	Projections []WeightReport // per Network projection
	Inputs      []WeightReport // per input port
}

// WeightReport describes the weights of one projection or input port on
// the chip.
type WeightReport struct {
	Exp int8 // the weight exponent
	// StepMV is the weight (mV) of one mantissa step at Exp.
	StepMV float64
	// MaxRelErr is the largest |quantized − w|/|w| over the weights whose
	// mantissa is not zero.
	MaxRelErr float64
	// Zeroed counts non-zero weights whose mantissa rounded to zero (Compile
	// drops them).
	Zeroed int
}

// LoadNetwork reads and parses the network TOML at path (at most
// MaxNetworkTOMLBytes); from_file paths are relative to its folder.
func LoadNetwork(path string, cfg *chip.Config) (*Network, error) {
	return LoadNetworkWith(path, cfg, ParseOptions{})
}

// LoadNetworkWith is LoadNetwork with options; opt.Dir is set to the
// file's folder.
func LoadNetworkWith(path string, cfg *chip.Config, opt ParseOptions) (*Network, error) {
	b, err := fileio.ReadFile(path, fileio.Limit{Bytes: MaxNetworkTOMLBytes, What: "network descriptions"})
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	opt.Dir = filepath.Dir(path)
	net, _, err := ParseNetworkWith(path, string(b), cfg, opt)
	return net, err
}

// ParseNetwork parses the network TOML src (named name in messages) for the
// chip described by cfg (nil: chip.Default()). from_file paths are relative
// to the current directory.
func ParseNetwork(name, src string, cfg *chip.Config) (*Network, error) {
	net, _, err := ParseNetworkWith(name, src, cfg, ParseOptions{})
	return net, err
}

// ParseNetworkWith is ParseNetwork with options, returning also what the
// quantizer chose. Every error names the population, source, projection or
// port and the line where its table (or the offending key) is; all the
// problems that can be found before drawing the connectivity are reported
// together (at most 20).
func ParseNetworkWith(name, src string, cfg *chip.Config, opt ParseOptions) (*Network, *Quantization, error) {
	if cfg == nil {
		cfg = chip.Default()
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("firmware: chip %s: %w", cfg.Name, err)
	}
	if len(src) > MaxNetworkTOMLBytes {
		return nil, nil, fmt.Errorf("firmware: %s: %d bytes, more than %d", name, len(src), MaxNetworkTOMLBytes)
	}
	var f netFile
	if err := stricttoml.Decode(name, src, &f); err != nil {
		return nil, nil, fmt.Errorf("firmware: %w", err)
	}
	if opt.MaxNeurons <= 0 || opt.MaxNeurons > MaxPopulationSize {
		opt.MaxNeurons = MaxPopulationSize
	}
	if opt.MaxSynapses <= 0 || opt.MaxSynapses > MaxNetworkSynapses {
		opt.MaxSynapses = MaxNetworkSynapses
	}
	if opt.Scale == 0 {
		opt.Scale = 1
	}
	if !(opt.Scale > 0 && opt.Scale <= 1) {
		return nil, nil, fmt.Errorf("firmware: %s: scale %g: want 0 < scale ≤ 1", name, opt.Scale)
	}
	b := &builder{file: name, cfg: cfg, opt: opt, loc: newLocator(src), f: &f}
	return b.build()
}

// The decoded file. Optional numbers with a non-zero default are pointers.
type netFile struct {
	Name        string            `toml:"name"`
	Seed        int64             `toml:"seed"`
	Dt          *float64          `toml:"dt"`
	Provenance  map[string]string `toml:"provenance"`
	Populations []popSpec         `toml:"population"`
	Sources     []sourceSpec      `toml:"source"`
	Projections []projSpec        `toml:"projection"`
	Inputs      []inputSpec       `toml:"input"`
	Outputs     []outputSpec      `toml:"output"`
}

type popSpec struct {
	Name      string   `toml:"name"`
	Size      int64    `toml:"size"`
	TauM      *float64 `toml:"tau_m"`
	TauSynE   *float64 `toml:"tau_syn_e"`
	TauSynI   *float64 `toml:"tau_syn_i"`
	VRest     *float64 `toml:"v_rest"`
	VReset    *float64 `toml:"v_reset"`
	VThresh   *float64 `toml:"v_thresh"`
	TauRefrac *float64 `toml:"tau_refrac"`
	Cm        *float64 `toml:"cm"`
	IOffset   *float64 `toml:"i_offset"`
	VInit     *dist    `toml:"v_init"`
}

type sourceSpec struct {
	Name   string   `toml:"name"`
	Size   int64    `toml:"size"`
	Rate   *float64 `toml:"rate"`
	Period *float64 `toml:"period"`
	Phase  *float64 `toml:"phase"`
	Seed   *int64   `toml:"seed"`
}

// connSpec holds the keys that projections and input ports share.
type connSpec struct {
	Connector string `toml:"connector"`
	// P is fixed_probability's p, or fixed_total_number's connection
	// probability C (Q = ln(1−C)/ln(1−1/(N_pre·N_post)) synapses); N is
	// fixed_number_pre's in-degree or fixed_total_number's Q.
	P               *float64 `toml:"p"`
	N               *int64   `toml:"n"`
	WithReplacement *bool    `toml:"with_replacement"`
	File            string   `toml:"file"`
	Weight          *dist    `toml:"weight"`
	Delay           *dist    `toml:"delay"`
	Receptor        string   `toml:"receptor"`
	Seed            *int64   `toml:"seed"`
}

type projSpec struct {
	Name      string `toml:"name"`
	Pre       string `toml:"pre"`
	Post      string `toml:"post"`
	AllowSelf *bool  `toml:"allow_self"`
	connSpec
}

type inputSpec struct {
	Name     string `toml:"name"`
	Channels int64  `toml:"channels"`
	Post     string `toml:"post"`
	connSpec
}

type outputSpec struct {
	Name       string  `toml:"name"`
	Population string  `toml:"population"`
	Neurons    []int64 `toml:"neurons"`
}

// dist is a number, or a distribution table.
type dist struct {
	Uniform []float64 `toml:"uniform"`
	Normal  []float64 `toml:"normal"`
	Clip    []float64 `toml:"clip"`
	Seed    *int64    `toml:"seed"`
	// RedrawMin and RedrawMax bound a normal by drawing again (either may
	// be left out).
	RedrawMin *float64 `toml:"redraw_min"`
	RedrawMax *float64 `toml:"redraw_max"`

	scalar bool
	value  float64
	redraw []float64 // [RedrawMin, RedrawMax], ±Inf where absent; nil without either
}

// UnmarshalTOML decodes a number or a distribution table.
func (d *dist) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		d.scalar, d.value = true, float64(x)
		return nil
	case float64:
		d.scalar, d.value = true, x
		return nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var err error
			switch k {
			case "uniform":
				d.Uniform, err = tomlFloats(x[k])
			case "normal":
				d.Normal, err = tomlFloats(x[k])
			case "clip":
				d.Clip, err = tomlFloats(x[k])
			case "redraw_min", "redraw_max":
				var f float64
				switch v := x[k].(type) {
				case int64:
					f = float64(v)
				case float64:
					f = v
				default:
					err = fmt.Errorf("want a number, got %s", tomlType(x[k]))
				}
				if k == "redraw_min" {
					d.RedrawMin = &f
				} else {
					d.RedrawMax = &f
				}
			case "seed":
				s, ok := x[k].(int64)
				if !ok {
					err = fmt.Errorf("want an integer, got %s", tomlType(x[k]))
				}
				d.Seed = &s
			default:
				return fmt.Errorf("unknown key %q in a distribution (allowed here: uniform, normal, clip, redraw_min, redraw_max, seed)", k)
			}
			if err != nil {
				return fmt.Errorf("%s: %v", k, err)
			}
		}
		if d.RedrawMin != nil || d.RedrawMax != nil {
			d.redraw = []float64{math.Inf(-1), math.Inf(1)}
			if d.RedrawMin != nil {
				d.redraw[0] = *d.RedrawMin
			}
			if d.RedrawMax != nil {
				d.redraw[1] = *d.RedrawMax
			}
		}
		return nil
	}
	return fmt.Errorf("want a number or a distribution such as { uniform = [lo, hi] }, got %s", tomlType(v))
}

func tomlFloats(v any) ([]float64, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want an array of two numbers, got %s", tomlType(v))
	}
	out := make([]float64, len(arr))
	for i, e := range arr {
		switch x := e.(type) {
		case int64:
			out[i] = float64(x)
		case float64:
			out[i] = x
		default:
			return nil, fmt.Errorf("want numbers, got %s", tomlType(e))
		}
	}
	return out, nil
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	}
	return fmt.Sprintf("%T", v)
}

// check validates a distribution; what names it in messages.
func (d *dist) check(what string) error {
	if d.scalar {
		if !finite(d.value) {
			return fmt.Errorf("%s = %g: want a finite number", what, d.value)
		}
		return nil
	}
	pair := func(key string, v []float64) error {
		if len(v) != 2 {
			return fmt.Errorf("%s.%s has %d numbers, want 2", what, key, len(v))
		}
		if !finite(v[0]) || !finite(v[1]) {
			return fmt.Errorf("%s.%s = %v: want finite numbers", what, key, v)
		}
		return nil
	}
	switch {
	case d.Uniform != nil && d.Normal != nil:
		return fmt.Errorf("%s: want one of uniform and normal, not both", what)
	case d.Uniform != nil:
		if err := pair("uniform", d.Uniform); err != nil {
			return err
		}
		if d.Uniform[0] > d.Uniform[1] {
			return fmt.Errorf("%s.uniform = [%g, %g]: want lo ≤ hi", what, d.Uniform[0], d.Uniform[1])
		}
	case d.Normal != nil:
		if err := pair("normal", d.Normal); err != nil {
			return err
		}
		if d.Normal[1] < 0 {
			return fmt.Errorf("%s.normal = [%g, %g]: want sd ≥ 0", what, d.Normal[0], d.Normal[1])
		}
	default:
		return fmt.Errorf("%s: a distribution table needs uniform = [lo, hi] or normal = [mean, sd]", what)
	}
	if d.Clip != nil {
		if err := pair("clip", d.Clip); err != nil {
			return err
		}
		if d.Clip[0] > d.Clip[1] {
			return fmt.Errorf("%s.clip = [%g, %g]: want lo ≤ hi", what, d.Clip[0], d.Clip[1])
		}
	}
	if d.redraw != nil {
		if err := d.checkRedraw(what); err != nil {
			return err
		}
	}
	if d.Seed != nil && *d.Seed < 0 {
		return fmt.Errorf("%s.seed = %d: want ≥ 0", what, *d.Seed)
	}
	return nil
}

// minRedrawMass is the least probability a redraw interval may have under
// its normal: a draw then takes at most 1/minRedrawMass tries on average.
const minRedrawMass = 1e-3

// maxRedrawTries bounds the tries of one redrawn value; with the mass at
// least minRedrawMass, running out has probability below e^−1000, and the
// value is then clamped into the interval (so a draw always ends).
const maxRedrawTries = 1_000_000

// checkRedraw validates redraw_min and redraw_max: a normal truncated to
// [redraw_min, redraw_max] by drawing again (NEST's redraw and
// normal_clipped); a bound left out is ±∞.
func (d *dist) checkRedraw(what string) error {
	r := d.redraw
	for i, p := range []*float64{d.RedrawMin, d.RedrawMax} {
		if p != nil && !finite(*p) {
			return fmt.Errorf("%s.%s = %g: want a finite number (leave the key out for no bound)", what, []string{"redraw_min", "redraw_max"}[i], *p)
		}
	}
	if !(r[0] < r[1]) {
		return fmt.Errorf("%s: redraw_min %g ≥ redraw_max %g: want min < max", what, r[0], r[1])
	}
	if d.Normal == nil {
		return fmt.Errorf("%s: redraw_min and redraw_max truncate a normal distribution; use clip or a narrower uniform for others", what)
	}
	if d.Clip != nil {
		return fmt.Errorf("%s: want one of clip (clamp) and redraw_min/redraw_max (draw again), not both", what)
	}
	mean, sd := d.Normal[0], d.Normal[1]
	if sd == 0 {
		if mean < r[0] || mean > r[1] {
			return fmt.Errorf("%s: [redraw_min, redraw_max] = [%g, %g] excludes the normal's only value %g (sd 0)", what, r[0], r[1], mean)
		}
		return nil
	}
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-(x-mean)/(sd*math.Sqrt2)) }
	if m := cdf(r[1]) - cdf(r[0]); !(m >= minRedrawMass) {
		return fmt.Errorf("%s: [redraw_min, redraw_max] = [%g, %g] holds %.3g of normal(%g, %g): want at least %g, or a draw would take too many tries", what, r[0], r[1], m, mean, sd, minRedrawMass)
	}
	return nil
}

// bounds returns the interval the values lie in (±Inf if unbounded).
func (d *dist) bounds() (lo, hi float64) {
	switch {
	case d.scalar:
		return d.value, d.value
	case d.Uniform != nil:
		lo, hi = d.Uniform[0], d.Uniform[1]
	default:
		lo, hi = math.Inf(-1), math.Inf(1)
		if d.Normal[1] == 0 {
			lo, hi = d.Normal[0], d.Normal[0]
		}
	}
	if d.Clip != nil {
		lo, hi = max(lo, d.Clip[0]), min(hi, d.Clip[1])
		if lo > hi { // the clip lies outside the support: everything lands on one end
			lo, hi = min(lo, hi), max(lo, hi)
		}
	}
	if d.redraw != nil && !d.scalar {
		lo, hi = max(lo, d.redraw[0]), min(hi, d.redraw[1])
	}
	return lo, hi
}

// draw returns one value (r is unused for a number).
func (d *dist) draw(r *rand.Rand) float64 {
	var x float64
	switch {
	case d.scalar:
		return d.value
	case d.Uniform != nil:
		x = d.Uniform[0] + (d.Uniform[1]-d.Uniform[0])*r.Float64()
	default:
		x = d.Normal[0] + d.Normal[1]*r.NormFloat64()
		if d.redraw != nil {
			lo, hi := d.redraw[0], d.redraw[1]
			for try := 1; (x < lo || x > hi) && try < maxRedrawTries; try++ {
				x = d.Normal[0] + d.Normal[1]*r.NormFloat64()
			}
			x = min(max(x, lo), hi)
		}
	}
	if d.Clip != nil {
		x = min(max(x, d.Clip[0]), d.Clip[1])
	}
	return x
}

// Random streams: every draw of a network comes from
// rand.NewPCG(seed, streamOf(kind, index)), where index is the position of
// the table in its array ([[projection]] j, [[input]] i, [[population]] p).
const (
	streamProjConnect  = 1
	streamProjWeight   = 2
	streamProjDelay    = 3
	streamInputConnect = 4
	streamInputWeight  = 5
	streamInputDelay   = 6
	streamVInit        = 7
)

func streamOf(kind, index int) uint64 { return uint64(kind)<<32 | uint64(uint32(index)) }

func newRand(seed uint64, kind, index int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, streamOf(kind, index)))
}

// locator finds the lines of tables and keys in the source, for messages.
type locator struct {
	lines  []string
	tables map[string][]int // table name → header lines (0-based), for [x] and [[x]]
	first  int              // the first table header (0-based; len(lines) if none)
}

func newLocator(src string) *locator {
	l := &locator{lines: strings.Split(src, "\n"), tables: map[string][]int{}}
	l.first = len(l.lines)
	for i, line := range l.lines {
		s := strings.TrimSpace(line)
		if !strings.HasPrefix(s, "[") {
			continue
		}
		l.first = min(l.first, i)
		open, closing := "[", "]"
		if strings.HasPrefix(s, "[[") {
			open, closing = "[[", "]]"
		}
		h, _, ok := strings.Cut(s[len(open):], closing)
		if !ok {
			continue
		}
		h = strings.TrimSpace(h)
		l.tables[h] = append(l.tables[h], i)
	}
	return l
}

// table returns the 1-based line of the header of the i-th [[kind]] table
// (0 if unknown).
func (l *locator) table(kind string, i int) int {
	if t := l.tables[kind]; i < len(t) {
		return t[i] + 1
	}
	return 0
}

// key returns the line of key in the i-th [[kind]] table, or the table's
// header line if the key is not found ("" kind: the top-level keys).
func (l *locator) key(kind string, i int, key string) int {
	start, end := 0, l.first
	if kind != "" {
		t := l.tables[kind]
		if i >= len(t) {
			return 0
		}
		start = t[i] + 1
		end = len(l.lines)
		for j := start; j < len(l.lines); j++ {
			if strings.HasPrefix(strings.TrimSpace(l.lines[j]), "[") {
				end = j
				break
			}
		}
	}
	for j := start; j < end; j++ {
		k, _, ok := strings.Cut(l.lines[j], "=")
		if ok && strings.Trim(strings.TrimSpace(k), `"'`) == key {
			return j + 1
		}
	}
	if kind == "" {
		return 0
	}
	return l.table(kind, i)
}

// builder turns a decoded file into a Network.
type builder struct {
	file string
	cfg  *chip.Config
	opt  ParseOptions
	loc  *locator
	f    *netFile
	errs []error

	dt       float64
	seed     uint64
	pops     []popWork // populations, then sources: the Network's order
	index    map[string]int
	projs    []*connWork // projections, then input ports
	nproj    int
	synapses float64 // expected, over the tables so far
	overCap  bool
}

// popWork is a population (or a source population) on its way.
type popWork struct {
	name   string
	kind   string // "population" or "source"
	idx    int    // index of its table
	size   int
	full   int // the size written in the file (size is it scaled)
	lif    LIF
	vinit  *dist
	source *chip.Generator
	q      *QuantizedLIF
}

// connWork is a projection or input port on its way.
type connWork struct {
	spec      *connSpec
	kind      string // "projection" or "input"
	idx       int
	where     string
	name      string
	pre       int // population, or −1 for an input port
	post      int
	preSize   int
	postSize  int
	preFull   int // the sizes written in the file (ParseOptions.Scale)
	postFull  int
	allowSelf bool
	same      bool // pre and post are one population
	typ       uint8
	receptor  string
	seed      uint64
	p         float64
	n         int
	repl      bool
	delay     *dist
	delayTick uint8 // for a constant delay
	weight    *dist
	expected  float64

	conns      []Conn
	wmax       float64   // the largest |weight| (mV)
	fileW      []float64 // from_file weights, per connection
	fileDelays bool      // from_file rows carried delays
	mixed      bool      // its senders' weights mix signs on a "row" chip (signRows)
	exp        int8
	report     WeightReport
}

func (b *builder) errorf(line int, format string, args ...any) {
	if len(b.errs) >= maxReportedErrors {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if line > 0 {
		b.errs = append(b.errs, fmt.Errorf("firmware: %s:%d: %s", b.file, line, msg))
	} else {
		b.errs = append(b.errs, fmt.Errorf("firmware: %s: %s", b.file, msg))
	}
}

// maxReportedErrors bounds how many problems one parse reports.
const maxReportedErrors = 20

func (b *builder) failed() error {
	if len(b.errs) == 0 {
		return nil
	}
	return errors.Join(b.errs...)
}

func (b *builder) build() (*Network, *Quantization, error) {
	f := b.f
	b.dt = 0.1
	if f.Dt != nil {
		b.dt = *f.Dt
		if !finite(b.dt) || !(b.dt > 0) {
			b.errorf(b.loc.key("", 0, "dt"), "dt = %g: want a finite tick > 0 ms", b.dt)
			return nil, nil, b.failed()
		}
	}
	if f.Seed < 0 {
		b.errorf(b.loc.key("", 0, "seed"), "seed = %d: want ≥ 0", f.Seed)
	}
	b.seed = uint64(f.Seed)
	if b.opt.Seed != nil {
		b.seed = *b.opt.Seed
	}
	for _, k := range slices.Sorted(maps.Keys(f.Provenance)) {
		if k == "dt_ms" || k == "scale" || strings.HasPrefix(k, "quantize.") {
			b.errorf(b.loc.key("provenance", 0, k), "provenance key %q is reserved (the parser writes dt_ms, scale and quantize.*)", k)
		}
	}
	b.index = map[string]int{}
	if len(f.Populations) > 0 {
		if err := decayModeOK(b.cfg); err != nil {
			b.errs = append(b.errs, err)
			return nil, nil, b.failed()
		}
	}
	for i := range f.Populations {
		b.population(i, &f.Populations[i])
	}
	for i := range f.Sources {
		b.source(i, &f.Sources[i])
	}
	for j := range f.Projections {
		b.projection(j, &f.Projections[j])
	}
	b.nproj = len(b.projs)
	for i := range f.Inputs {
		b.input(i, &f.Inputs[i])
	}
	outs := b.outputs()
	if err := b.failed(); err != nil {
		return nil, nil, err
	}

	// Connectivity, then the unit of every population from the weights
	// that reach it, then the mantissas.
	for _, c := range b.projs {
		if err := b.connect(c); err != nil {
			return nil, nil, err
		}
	}
	if err := b.signRows(); err != nil {
		return nil, nil, err
	}
	aff := make([][]Afferent, len(b.pops))
	for _, c := range b.projs {
		aff[c.post] = append(aff[c.post], c.afferent())
	}
	quant := &Quantization{DtMS: b.dt, Populations: make([]*QuantizedLIF, len(b.pops))}
	for p := range b.pops {
		pw := &b.pops[p]
		if pw.source != nil {
			continue
		}
		q, err := QuantizeLIF(pw.lif, b.dt, aff[p], b.cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: population %q: %w", b.prefix(b.loc.table("population", pw.idx)), pw.name, unprefix(err))
		}
		pw.q = q
		quant.Populations[p] = q
	}
	for _, c := range b.projs {
		if err := b.quantizeWeights(c); err != nil {
			return nil, nil, err
		}
	}

	net := &Network{Seed: b.seed, Name: f.Name, DtMS: b.dt, Provenance: map[string]string{}}
	if net.Name == "" {
		net.Name = strings.TrimSuffix(filepath.Base(b.file), filepath.Ext(b.file))
	}
	for k, v := range f.Provenance {
		net.Provenance[k] = v
	}
	net.Provenance["dt_ms"] = strconv.FormatFloat(b.dt, 'g', -1, 64)
	if b.opt.Scale != 1 {
		net.Provenance["scale"] = strconv.FormatFloat(b.opt.Scale, 'g', -1, 64)
	}
	for p := range b.pops {
		pw := &b.pops[p]
		pop := Population{Name: pw.name, Size: pw.size}
		if pw.source != nil {
			pop.Source = pw.source
		} else {
			q := pw.q
			pop.Profile, pop.BiasMant, pop.BiasExp = q.Profile, q.BiasMant, q.BiasExp
			v0, err := b.initialMembranes(p)
			if err != nil {
				return nil, nil, err
			}
			pop.V0 = v0
			net.Provenance["quantize."+pw.name] = q.String()
		}
		net.Populations = append(net.Populations, pop)
	}
	for _, c := range b.projs {
		if c.kind == "projection" {
			net.Projections = append(net.Projections, Projection{Name: c.name, Pre: c.pre, Post: c.post, Type: c.typ, WeightExp: c.exp, Conns: c.conns})
			quant.Projections = append(quant.Projections, c.report)
		} else {
			net.Inputs = append(net.Inputs, InputPort{Name: c.name, Channels: c.preSize, Post: c.post, Type: c.typ, WeightExp: c.exp, Conns: c.conns})
			quant.Inputs = append(quant.Inputs, c.report)
		}
	}
	net.Outputs = outs
	// Every integer above was checked against its field as it was made;
	// Compile runs Network.Check again, and FuzzNetworkTOML holds parser
	// and check to agreeing.
	return net, quant, nil
}

// prefix is the "firmware: file:line" head of an error.
func (b *builder) prefix(line int) string {
	if line > 0 {
		return fmt.Sprintf("firmware: %s:%d", b.file, line)
	}
	return "firmware: " + b.file
}

// unprefix strips the package prefix of a quantizer error that is wrapped
// into a longer message.
func unprefix(err error) error {
	if s, ok := strings.CutPrefix(err.Error(), "firmware: "); ok {
		return &wrapped{s, err}
	}
	return err
}

type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

func (b *builder) addName(name, kind string, idx int) bool {
	line := b.loc.key(kind, idx, "name")
	if name == "" {
		b.errorf(b.loc.table(kind, idx), "%s %d: want a name", kind, idx)
		return false
	}
	if _, dup := b.index[name]; dup {
		b.errorf(line, "%s %q: the name is already a population or source", kind, name)
		return false
	}
	b.index[name] = len(b.pops)
	return true
}

func (b *builder) size(kind string, idx int, name string, key string, v int64) (int, bool) {
	if v < 1 || v > int64(b.opt.MaxNeurons) {
		b.errorf(b.loc.key(kind, idx, key), "%s %q: %s = %d, want 1 … %d", kind, name, key, v, b.opt.MaxNeurons)
		return 0, false
	}
	return int(v), true
}

// scaled is a population's size under ParseOptions.Scale.
func (b *builder) scaled(n int) int {
	if b.opt.Scale == 1 || n == 0 {
		return n
	}
	return max(1, int(math.Round(float64(n)*b.opt.Scale)))
}

func orDefault(p *float64, d float64) float64 {
	if p == nil {
		return d
	}
	return *p
}

func (b *builder) population(i int, s *popSpec) {
	const kind = "population"
	if !b.addName(s.Name, kind, i) {
		return
	}
	pw := popWork{name: s.Name, kind: kind, idx: i}
	where := fmt.Sprintf("population %q", s.Name)
	size, ok := b.size(kind, i, s.Name, "size", s.Size)
	pw.full, pw.size = size, b.scaled(size)
	vals := map[string]float64{}
	for _, k := range []struct {
		key string
		p   *float64
		def float64
	}{{"tau_m", s.TauM, 20}, {"tau_syn_e", s.TauSynE, 5}, {"tau_syn_i", s.TauSynI, 5}, {"v_rest", s.VRest, -65},
		{"v_reset", s.VReset, -65}, {"v_thresh", s.VThresh, -50}, {"tau_refrac", s.TauRefrac, 0.1}, {"cm", s.Cm, 1}, {"i_offset", s.IOffset, 0}} {
		v := orDefault(k.p, k.def)
		vals[k.key] = v
		if !finite(v) {
			b.errorf(b.loc.key(kind, i, k.key), "%s: %s = %g: want a finite number", where, k.key, v)
			ok = false
		}
	}
	if !ok {
		b.pops = append(b.pops, pw)
		return
	}
	line := func(key string) int { return b.loc.key(kind, i, key) }
	for _, k := range []string{"tau_m", "cm"} {
		if !(vals[k] > 0) {
			b.errorf(line(k), "%s: %s = %g: want > 0", where, k, vals[k])
			ok = false
		}
	}
	for _, k := range []string{"tau_syn_e", "tau_syn_i", "tau_refrac"} {
		if vals[k] < 0 {
			b.errorf(line(k), "%s: %s = %g: want ≥ 0", where, k, vals[k])
			ok = false
		}
	}
	if !(vals["v_thresh"] > vals["v_reset"]) {
		b.errorf(line("v_thresh"), "%s: v_thresh %g mV ≤ v_reset %g mV: want the threshold above the reset", where, vals["v_thresh"], vals["v_reset"])
		ok = false
	}
	rest := vals["v_rest"] + vals["tau_m"]*vals["i_offset"]/vals["cm"]
	if !finite(rest) {
		b.errorf(line("i_offset"), "%s: v_rest + tau_m·i_offset/cm = %g mV", where, rest)
		ok = false
	}
	pw.lif = LIF{TauM: vals["tau_m"], TauSyn: [4]float64{vals["tau_syn_e"], vals["tau_syn_i"]},
		VRest: rest, VReset: vals["v_reset"], VThresh: vals["v_thresh"], TauRefrac: vals["tau_refrac"]}
	if ok {
		// the conversions whose errors name a key
		if _, _, err := DecayConstant(pw.lif.TauM, b.dt, false, b.cfg); err != nil {
			b.errorf(line("tau_m"), "%s: tau_m: %v", where, unprefix(err))
		}
		for k, key := range []string{"tau_syn_e", "tau_syn_i"} {
			if k >= b.cfg.Neuron.SynapseTypes {
				break
			}
			if _, _, err := DecayConstant(pw.lif.TauSyn[k], b.dt, true, b.cfg); err != nil {
				b.errorf(line(key), "%s: %s: %v", where, key, unprefix(err))
			}
		}
		if _, err := RefractoryTicks(pw.lif.TauRefrac, b.dt, b.cfg); err != nil {
			b.errorf(line("tau_refrac"), "%s: tau_refrac: %v", where, unprefix(err))
		}
	}
	pw.vinit = s.VInit
	if pw.vinit == nil {
		pw.vinit = &dist{scalar: true, value: vals["v_rest"]}
	} else if err := pw.vinit.check("v_init"); err != nil {
		b.errorf(line("v_init"), "%s: %v", where, err)
	}
	b.pops = append(b.pops, pw)
}

func (b *builder) source(i int, s *sourceSpec) {
	const kind = "source"
	if !b.addName(s.Name, kind, i) {
		return
	}
	where := fmt.Sprintf("source %q", s.Name)
	line := func(key string) int { return b.loc.key(kind, i, key) }
	pw := popWork{name: s.Name, kind: kind, idx: i, source: &chip.Generator{}}
	pw.full, _ = b.size(kind, i, s.Name, "size", s.Size)
	pw.size = b.scaled(pw.full)
	switch {
	case s.Rate != nil && (s.Period != nil || s.Phase != nil):
		b.errorf(line("rate"), "%s: rate (Poisson) and period/phase (regular) exclude each other", where)
	case s.Rate != nil:
		g, err := PoissonSource(*s.Rate, b.dt)
		if err != nil {
			b.errorf(line("rate"), "%s: rate %g Hz at dt %g ms: %v", where, *s.Rate, b.dt, unprefix(err))
		}
		if s.Seed != nil {
			if *s.Seed < 0 {
				b.errorf(line("seed"), "%s: seed = %d: want ≥ 0", where, *s.Seed)
			}
			g.Seed = uint64(*s.Seed)
		}
		*pw.source = g
	case s.Period != nil:
		g, err := RegularSource(*s.Period, orDefault(s.Phase, 0), b.dt)
		if err != nil {
			b.errorf(line("period"), "%s: %v", where, unprefix(err))
		}
		if s.Seed != nil {
			b.errorf(line("seed"), "%s: seed is for Poisson sources (rate); a regular source draws nothing", where)
		}
		*pw.source = g
	default:
		b.errorf(b.loc.table(kind, i), "%s: want rate (Hz, Poisson) or period (ms, regular)", where)
	}
	b.pops = append(b.pops, pw)
}

func (b *builder) projection(j int, s *projSpec) {
	const kind = "projection"
	c := &connWork{spec: &s.connSpec, kind: kind, idx: j, name: s.Name, pre: -1, post: -1}
	c.where = fmt.Sprintf("projection %q", s.Name)
	if s.Name == "" {
		c.where = fmt.Sprintf("projection %d (%s → %s)", j, s.Pre, s.Post)
	}
	ok := true
	if pi, found := b.index[s.Pre]; found {
		c.pre, c.preSize, c.preFull = pi, b.pops[pi].size, b.pops[pi].full
	} else {
		b.errorf(b.loc.key(kind, j, "pre"), "%s: pre = %q is not a population or source%s", c.where, s.Pre, b.known())
		ok = false
	}
	if pi, found := b.index[s.Post]; found {
		if b.pops[pi].source != nil {
			b.errorf(b.loc.key(kind, j, "post"), "%s: post = %q is a source: sources receive no synapses", c.where, s.Post)
			ok = false
		}
		c.post, c.postSize, c.postFull = pi, b.pops[pi].size, b.pops[pi].full
	} else {
		b.errorf(b.loc.key(kind, j, "post"), "%s: post = %q is not a population%s", c.where, s.Post, b.known())
		ok = false
	}
	c.same = ok && c.pre == c.post
	c.allowSelf = true
	if s.AllowSelf != nil {
		c.allowSelf = *s.AllowSelf
		switch s.Connector {
		case "all_to_all", "fixed_probability", "fixed_number_pre", "fixed_total_number":
		default:
			b.errorf(b.loc.key(kind, j, "allow_self"), "%s: allow_self is for all_to_all, fixed_probability, fixed_number_pre and fixed_total_number", c.where)
		}
	}
	b.connection(c, ok)
}

func (b *builder) input(i int, s *inputSpec) {
	const kind = "input"
	c := &connWork{spec: &s.connSpec, kind: kind, idx: i, name: s.Name, pre: -1, post: -1, allowSelf: true}
	c.where = fmt.Sprintf("input port %q", s.Name)
	ok := true
	if s.Name == "" {
		b.errorf(b.loc.table(kind, i), "input port %d: want a name", i)
		ok = false
	}
	for _, o := range b.projs[b.nproj:] {
		if o.name == s.Name && s.Name != "" {
			b.errorf(b.loc.key(kind, i, "name"), "%s: duplicate input port name", c.where)
			ok = false
		}
	}
	if s.Channels < 1 || s.Channels > int64(b.opt.MaxNeurons) {
		b.errorf(b.loc.key(kind, i, "channels"), "%s: channels = %d, want 1 … %d", c.where, s.Channels, b.opt.MaxNeurons)
		ok = false
	} else {
		c.preSize, c.preFull = int(s.Channels), int(s.Channels)
	}
	if pi, found := b.index[s.Post]; found && b.pops[pi].source == nil {
		c.post, c.postSize, c.postFull = pi, b.pops[pi].size, b.pops[pi].full
	} else {
		b.errorf(b.loc.key(kind, i, "post"), "%s: post = %q is not a population", c.where, s.Post)
		ok = false
	}
	b.connection(c, ok)
}

func (b *builder) known() string {
	var names []string
	for _, p := range b.pops {
		names = append(names, p.name)
	}
	if len(names) == 0 {
		return " (none declared)"
	}
	if len(names) > 8 {
		names = append(names[:8], "…")
	}
	return " (declared: " + strings.Join(names, ", ") + ")"
}

// connection checks the keys a projection and a port share; ok says that
// pre and post were resolved.
func (b *builder) connection(c *connWork, ok bool) {
	s := c.spec
	line := func(key string) int { return b.loc.key(c.kind, c.idx, key) }
	b.projs = append(b.projs, c)
	only := func(key string, set bool, connectors ...string) {
		if set && !slices.Contains(connectors, s.Connector) {
			b.errorf(line(key), "%s: %s is for connector %s, not %q", c.where, key, strings.Join(connectors, " and "), s.Connector)
			ok = false
		}
	}
	only("p", s.P != nil, "fixed_probability", "fixed_total_number")
	only("n", s.N != nil, "fixed_number_pre", "fixed_total_number")
	only("with_replacement", s.WithReplacement != nil, "fixed_number_pre")
	only("file", s.File != "", "from_file")
	c.seed = b.seed
	if s.Seed != nil {
		if *s.Seed < 0 {
			b.errorf(line("seed"), "%s: seed = %d: want ≥ 0", c.where, *s.Seed)
		}
		c.seed = uint64(*s.Seed)
	}
	switch s.Connector {
	case "all_to_all":
		c.expected = float64(c.preSize) * float64(c.postSize)
		if c.same && !c.allowSelf {
			c.expected -= float64(c.preSize)
		}
	case "one_to_one":
		if ok && c.preSize != c.postSize {
			b.errorf(line("connector"), "%s: one_to_one needs equal sizes, not %d → %d", c.where, c.preSize, c.postSize)
			ok = false
		}
		c.expected = float64(c.postSize)
	case "fixed_probability":
		if s.P == nil {
			b.errorf(line("connector"), "%s: fixed_probability needs p", c.where)
			ok = false
		} else if c.p = *s.P; !(c.p >= 0 && c.p <= 1) {
			b.errorf(line("p"), "%s: p = %g, want 0 ≤ p ≤ 1", c.where, c.p)
			ok = false
		} else if b.opt.Scale != 1 {
			c.p = min(1, c.p/b.opt.Scale) // the in-degree kept
		}
		c.expected = c.p * float64(c.preSize) * float64(c.postSize)
	case "fixed_total_number":
		ok = b.totalNumber(c, ok) && ok
	case "fixed_number_pre":
		if s.N == nil {
			b.errorf(line("connector"), "%s: fixed_number_pre needs n", c.where)
			ok = false
			break
		}
		c.repl = s.WithReplacement != nil && *s.WithReplacement
		avail := int64(c.preSize)
		if c.same && !c.allowSelf {
			avail--
		}
		switch {
		case *s.N < 0 || *s.N > int64(b.opt.MaxNeurons) && c.repl:
			b.errorf(line("n"), "%s: n = %d, want 0 … %d", c.where, *s.N, b.opt.MaxNeurons)
			ok = false
		case ok && !c.repl && *s.N > avail:
			b.errorf(line("n"), "%s: n = %d without replacement, but only %d presynaptic candidates", c.where, *s.N, avail)
			ok = false
		case ok && c.repl && *s.N > 0 && avail < 1:
			b.errorf(line("n"), "%s: no presynaptic candidate (allow_self = false on a population of one)", c.where)
			ok = false
		default:
			c.n = int(*s.N)
		}
		c.expected = float64(c.n) * float64(c.postSize)
	case "from_file":
		if s.File == "" {
			b.errorf(line("connector"), "%s: from_file needs file", c.where)
			ok = false
		}
		if b.opt.Scale != 1 {
			b.errorf(line("connector"), "%s: a from_file projection cannot be scaled (scale %g)", c.where, b.opt.Scale)
			ok = false
		}
		if s.Weight != nil {
			b.errorf(line("weight"), "%s: from_file takes the weights from the file's third column, not from weight", c.where)
			ok = false
		}
	case "":
		b.errorf(b.loc.table(c.kind, c.idx), "%s: want a connector (all_to_all, one_to_one, fixed_probability, fixed_number_pre, fixed_total_number, from_file)", c.where)
		ok = false
	default:
		b.errorf(line("connector"), "%s: connector %q, want all_to_all, one_to_one, fixed_probability, fixed_number_pre, fixed_total_number or from_file", c.where, s.Connector)
		ok = false
	}
	if s.Connector != "from_file" {
		if s.Weight == nil {
			b.errorf(b.loc.table(c.kind, c.idx), "%s: want a weight (mV)", c.where)
			ok = false
		} else if err := s.Weight.check("weight"); err != nil {
			b.errorf(line("weight"), "%s: %v", c.where, err)
			ok = false
		} else if lo, hi := s.Weight.bounds(); lo == 0 && hi == 0 {
			b.errorf(line("weight"), "%s: weight 0 mV: every synapse would be zero", c.where)
			ok = false
		}
		c.weight = s.Weight
	}
	c.delay = s.Delay
	if c.delay == nil {
		c.delay = &dist{scalar: true, value: b.dt}
	} else if err := c.delay.check("delay"); err != nil {
		b.errorf(line("delay"), "%s: %v", c.where, err)
		ok = false
	} else if lo, hi := c.delay.bounds(); finite(lo) && finite(hi) {
		for _, d := range []float64{lo, hi} {
			if _, err := DelayTicks(d, b.dt, b.cfg); err != nil {
				b.errorf(line("delay"), "%s: %v", c.where, unprefix(err))
				ok = false
				break
			}
		}
	}
	if c.delay.scalar {
		c.delayTick, _ = DelayTicks(c.delay.value, b.dt, b.cfg)
	}
	c.receptor = s.Receptor
	switch s.Receptor {
	case "", "excitatory":
		c.receptor = "excitatory"
		c.typ = 0
	case "inhibitory":
		c.typ = 1
		if b.cfg.Neuron.SynapseTypes < 2 {
			// one current type: inhibitory synapses share it when the
			// population's two currents are the same
			if ok && b.pops[c.post].lif.TauSyn[0] != b.pops[c.post].lif.TauSyn[1] {
				b.errorf(line("receptor"), "%s: chip %s has one synapse type (neuron.synapse_types = 1) and %q's tau_syn_i (%g ms) differs from tau_syn_e (%g ms)",
					c.where, b.cfg.Name, b.pops[c.post].name, b.pops[c.post].lif.TauSyn[1], b.pops[c.post].lif.TauSyn[0])
				ok = false
			}
			c.typ = 0
		}
	default:
		b.errorf(line("receptor"), "%s: receptor %q, want excitatory or inhibitory", c.where, s.Receptor)
		ok = false
	}
	if !ok {
		return
	}
	if b.overCap {
		return
	}
	b.synapses += math.Ceil(c.expected)
	if b.synapses > float64(b.opt.MaxSynapses) {
		b.errorf(b.loc.table(c.kind, c.idx), "%s: about %.0f synapses bring the network to %.0f, more than the cap of %d", c.where, c.expected, b.synapses, b.opt.MaxSynapses)
		b.overCap = true // once
	}
}

// outputs checks the output ports.
func (b *builder) outputs() []OutputPort {
	const kind = "output"
	var out []OutputPort
	names := map[string]bool{}
	for i := range b.f.Outputs {
		s := &b.f.Outputs[i]
		where := fmt.Sprintf("output port %q", s.Name)
		if s.Name == "" {
			b.errorf(b.loc.table(kind, i), "output port %d: want a name", i)
			continue
		}
		if names[s.Name] {
			b.errorf(b.loc.key(kind, i, "name"), "%s: duplicate output port name", where)
			continue
		}
		names[s.Name] = true
		p, found := b.index[s.Population]
		if !found || b.pops[p].source != nil {
			b.errorf(b.loc.key(kind, i, "population"), "%s: population = %q is not a population of neurons%s", where, s.Population, b.known())
			continue
		}
		op := OutputPort{Name: s.Name, Pop: p}
		if s.Neurons != nil && len(s.Neurons) == 0 {
			b.errorf(b.loc.key(kind, i, "neurons"), "%s: neurons = []: want at least one neuron (or no neurons key for all of them)", where)
			continue
		}
		if s.Neurons != nil {
			seen := make(map[int64]bool, len(s.Neurons))
			op.Neurons = make([]uint32, 0, len(s.Neurons))
			for ch, n := range s.Neurons {
				if n < 0 || n >= int64(b.pops[p].size) {
					b.errorf(b.loc.key(kind, i, "neurons"), "%s: channel %d is neuron %d, outside %q (%d neurons)", where, ch, n, s.Population, b.pops[p].size)
					break
				}
				if seen[n] {
					b.errorf(b.loc.key(kind, i, "neurons"), "%s: channel %d repeats neuron %d", where, ch, n)
					break
				}
				seen[n] = true
				op.Neurons = append(op.Neurons, uint32(n))
			}
		}
		out = append(out, op)
	}
	return out
}

// connect draws the connections (Pre, Post, Delay) of c.
func (b *builder) connect(c *connWork) error {
	kindConnect, kindDelay := streamProjConnect, streamProjDelay
	if c.kind == "input" {
		kindConnect, kindDelay = streamInputConnect, streamInputDelay
	}
	r := newRand(c.seed, kindConnect, c.idx)
	budget := b.opt.MaxSynapses
	for _, o := range b.projs {
		budget -= int64(len(o.conns))
	}
	tooMany := func() error {
		return fmt.Errorf("%s: %s: more than the cap of %d synapses", b.prefix(b.loc.table(c.kind, c.idx)), c.where, b.opt.MaxSynapses)
	}
	noSelf := c.same && !c.allowSelf
	switch c.spec.Connector {
	case "all_to_all":
		c.conns = make([]Conn, 0, int(c.expected))
		for i := 0; i < c.preSize; i++ {
			for j := 0; j < c.postSize; j++ {
				if noSelf && i == j {
					continue
				}
				c.conns = append(c.conns, Conn{Pre: uint32(i), Post: uint32(j)})
			}
		}
	case "one_to_one":
		c.conns = make([]Conn, c.postSize)
		for i := range c.conns {
			c.conns[i] = Conn{Pre: uint32(i), Post: uint32(i)}
		}
	case "fixed_probability":
		c.conns = fixedProbability(r, c.p, c.preSize, c.postSize, noSelf, budget)
		if c.conns == nil && c.p > 0 {
			return tooMany()
		}
	case "fixed_total_number":
		c.conns = fixedTotalNumber(c.seed, streamOf(kindConnect, c.idx), c.n, c.preSize, c.postSize, noSelf)
	case "fixed_number_pre":
		c.conns = fixedNumberPre(rand.NewPCG(c.seed, streamOf(kindConnect, c.idx)), c.n, c.preSize, c.postSize, noSelf, c.repl, c.delayTick)
	case "from_file":
		if err := b.readConnFile(c, budget); err != nil {
			return err
		}
	}
	if int64(len(c.conns)) > budget {
		return tooMany()
	}
	if c.fileDelays {
		return nil
	}
	if c.delay.scalar {
		if c.spec.Connector != "fixed_number_pre" { // it set them
			for i := range c.conns {
				c.conns[i].Delay = c.delayTick
			}
		}
		return nil
	}
	rd := newRand(c.seed, kindDelay, c.idx)
	if c.delay.Seed != nil {
		rd = newRand(uint64(*c.delay.Seed), kindDelay, c.idx)
	}
	for i := range c.conns {
		ms := c.delay.draw(rd)
		d, err := DelayTicks(ms, b.dt, b.cfg)
		if err != nil {
			return fmt.Errorf("%s: %s: connection %d: %w", b.prefix(b.loc.key(c.kind, c.idx, "delay")), c.where, i, unprefix(err))
		}
		c.conns[i].Delay = d
	}
	return nil
}

// fixedProbability draws every ordered pair (pre-major) with probability p
// by geometric skips: the gap to the next connection is
// ⌊ln(1−u)/ln(1−p)⌋, so the cost is the number of connections, not of
// pairs. It returns nil when more than budget connections come out.
func fixedProbability(r *rand.Rand, p float64, nPre, nPost int, noSelf bool, budget int64) []Conn {
	if p == 0 {
		return []Conn{}
	}
	total := int64(nPre) * int64(nPost)
	mean := p * float64(total)
	out := make([]Conn, 0, int(min(float64(budget), mean+6*math.Sqrt(mean)+16)))
	lq := math.Log1p(-p)
	idx := int64(-1)
	post := int64(nPost)
	for {
		skip := 0.0
		if p < 1 {
			skip = math.Floor(math.Log1p(-r.Float64()) / lq)
		}
		if skip >= float64(total-idx-1) {
			break
		}
		idx += 1 + int64(skip)
		i, j := idx/post, idx%post
		if noSelf && i == j {
			continue
		}
		if int64(len(out)) >= budget {
			return nil
		}
		out = append(out, Conn{Pre: uint32(i), Post: uint32(j)})
	}
	return out
}

// totalNumber checks a fixed_total_number table and sets c.n to its
// number of synapses Q: n as written, or from the connection probability
// p = C as Potjans & Diesmann 2014 define it (Cereb Cortex 24:785, eq. 1:
// C is the probability that a pair has at least one of Q synapses drawn
// with replacement), Q = ln(1−C)/ln(1−1/(N_pre·N_post)), rounded; under
// ParseOptions.Scale, Q·N'_post/N_post (the in-degree kept).
func (b *builder) totalNumber(c *connWork, ok bool) bool {
	s := c.spec
	line := func(key string) int { return b.loc.key(c.kind, c.idx, key) }
	if s.WithReplacement != nil {
		// only() has reported it: synapses are always drawn with replacement
		return false
	}
	var q float64
	switch {
	case s.N != nil && s.P != nil:
		b.errorf(line("p"), "%s: fixed_total_number takes n (synapses) or p (connection probability), not both", c.where)
		return false
	case s.N != nil:
		if *s.N < 0 || *s.N > b.opt.MaxSynapses {
			b.errorf(line("n"), "%s: n = %d, want 0 … %d synapses", c.where, *s.N, b.opt.MaxSynapses)
			return false
		}
		q = float64(*s.N)
	case s.P != nil:
		p := *s.P
		if !(p >= 0 && p < 1) {
			b.errorf(line("p"), "%s: p = %g, want 0 ≤ p < 1 (the probability that a pair is connected; p = 1 would need infinitely many synapses)", c.where, p)
			return false
		}
		if !ok {
			return false
		}
		pairs := float64(c.preFull) * float64(c.postFull)
		if pairs < 2 {
			if p > 0 {
				b.errorf(line("p"), "%s: p = %g between populations of %d and %d: a probability needs at least two pairs", c.where, p, c.preFull, c.postFull)
				return false
			}
		} else {
			q = math.Round(math.Log1p(-p) / math.Log1p(-1/pairs))
		}
	default:
		b.errorf(line("connector"), "%s: fixed_total_number needs n (synapses) or p (connection probability)", c.where)
		return false
	}
	if !ok {
		return false
	}
	if b.opt.Scale != 1 && c.postFull > 0 {
		q = math.Round(q * float64(c.postSize) / float64(c.postFull))
	}
	if q > float64(b.opt.MaxSynapses) {
		b.errorf(b.loc.table(c.kind, c.idx), "%s: %.0f synapses, more than the cap of %d", c.where, q, b.opt.MaxSynapses)
		return false
	}
	if q > 0 && c.same && !c.allowSelf && c.preSize < 2 {
		b.errorf(line("allow_self"), "%s: no pair to connect (allow_self = false on a population of one)", c.where)
		return false
	}
	c.n = int(q)
	c.expected = q
	return true
}

// fixedTotalNumber draws q synapses, each between a uniform presynaptic
// and a uniform postsynaptic neuron independently (with replacement:
// multapses; autapses unless noSelf), NEST's fixed_total_number. The
// draws come out sorted pre-major, so a sender's synapses are consecutive
// and the compiler reads them in order: the pair indices are q sorted
// uniforms on [0, pairs), the order statistics made from q+1 exponential
// spacings (E_1 + … + E_k)/(E_1 + … + E_{q+1}) (Devroye 1986, Non-Uniform
// Random Variate Generation, ch. V.2), scaled to the pairs and truncated,
// which is a sorted multiset of q independent uniform pairs. The sum is
// drawn first, then the same stream again: no buffer.
func fixedTotalNumber(seed, stream uint64, q, nPre, nPost int, noSelf bool) []Conn {
	out := make([]Conn, q)
	if q == 0 {
		return out
	}
	cols := uint64(nPost)
	if noSelf {
		cols-- // post' = post + (post ≥ pre): the diagonal left out
	}
	pairs := uint64(nPre) * cols
	r := rand.New(rand.NewPCG(seed, stream))
	total := 0.0
	for range q + 1 {
		total += r.ExpFloat64()
	}
	r = rand.New(rand.NewPCG(seed, stream))
	fp := float64(pairs)
	cum := 0.0
	for k := range out {
		cum += r.ExpFloat64()
		idx := uint64(float64(cum/total) * fp)
		idx = min(idx, pairs-1)
		i, j := idx/cols, idx%cols
		if noSelf && j >= i {
			j++
		}
		out[k] = Conn{Pre: uint32(i), Post: uint32(j)}
	}
	return out
}

// fixedNumberPre gives every target n presynaptic partners, drawn uniformly
// with or without replacement (a partial Fisher–Yates shuffle over a
// permutation kept between targets, so each target costs O(n)), with
// delay field delay.
func fixedNumberPre(r *rand.PCG, n, nPre, nPost int, noSelf, repl bool, delay uint8) []Conn {
	out := make([]Conn, n*nPost)
	if n == 0 {
		return out
	}
	if repl {
		m := uint64(nPre)
		if noSelf {
			m--
		}
		k := 0
		for j := 0; j < nPost; j++ {
			for range n {
				i := uint32(uniform(r, m))
				if noSelf && i >= uint32(j) {
					i++
				}
				out[k] = Conn{Pre: i, Post: uint32(j), Delay: delay}
				k++
			}
		}
		return out
	}
	perm := make([]int32, nPre)
	pos := make([]int32, nPre) // pos[perm[k]] = k
	for i := range perm {
		perm[i], pos[i] = int32(i), int32(i)
	}
	swap := func(a, b int) {
		perm[a], perm[b] = perm[b], perm[a]
		pos[perm[a]], pos[perm[b]] = int32(a), int32(b)
	}
	o := 0
	for j := 0; j < nPost; j++ {
		m := nPre
		if noSelf {
			swap(int(pos[j]), nPre-1) // park the target itself beyond the draw
			m--
		}
		for k := 0; k < n; k++ {
			swap(k, k+int(uniform(r, uint64(m-k))))
			out[o] = Conn{Pre: uint32(perm[k]), Post: uint32(j), Delay: delay}
			o++
		}
	}
	return out
}

// uniform returns a uniform integer in [0, n), n ≥ 1, by Lemire's
// multiply-and-reject method (Lemire 2019, ACM TOMS 45:1).
func uniform(r *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(r.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), n)
		}
	}
	return hi
}

// readConnFile reads a from_file CSV: one connection per row,
// pre,post,weight[,delay] (indices from 0, weight in mV, delay in ms);
// blank lines and # comments are skipped, and so is a first row that names
// the columns.
func (b *builder) readConnFile(c *connWork, budget int64) error {
	path := c.spec.File
	if !filepath.IsAbs(path) && b.opt.Dir != "" {
		path = filepath.Join(b.opt.Dir, path)
	}
	head := b.prefix(b.loc.key(c.kind, c.idx, "file"))
	var data []byte
	var err error
	if b.opt.ReadFile != nil {
		data, err = b.opt.ReadFile(path)
	} else {
		data, err = fileio.ReadFile(path, fileio.Limit{Bytes: MaxConnFileBytes, What: "connection files"})
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", head, c.where, err)
	}
	if int64(len(data)) > MaxConnFileBytes {
		return fmt.Errorf("%s: %s: %s has %d bytes, more than %d", head, c.where, path, len(data), MaxConnFileBytes)
	}
	s := string(data)
	lineNo := 0
	header := true
	delays := -1 // 0: rows without delays, 1: with
	for len(s) > 0 {
		var ln string
		ln, s, _ = strings.Cut(s, "\n")
		lineNo++
		if k := strings.IndexByte(ln, '#'); k >= 0 {
			ln = ln[:k]
		}
		ln = strings.TrimSpace(ln)
		if ln == "" {
			continue
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s: %s: %s:%d: %s", head, c.where, path, lineNo, fmt.Sprintf(format, args...))
		}
		var f [5]string
		nf := 0
		for rest := ln; ; {
			field, more, found := strings.Cut(rest, ",")
			if nf == len(f) {
				return bad("more than 4 columns (want pre,post,weight[,delay])")
			}
			f[nf] = strings.TrimSpace(field)
			nf++
			if !found {
				break
			}
			rest = more
		}
		if header {
			header = false
			if strings.EqualFold(f[0], "pre") {
				continue
			}
		}
		if nf < 3 {
			return bad("%d columns, want pre,post,weight[,delay]", nf)
		}
		if delays < 0 {
			delays = nf - 3
		} else if nf-3 != delays {
			return bad("%d columns where the rows before have %d", nf, delays+3)
		}
		pre, err1 := strconv.ParseInt(f[0], 10, 64)
		post, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return bad("pre and post must be integers, got %q and %q", f[0], f[1])
		}
		if pre < 0 || pre >= int64(c.preSize) || post < 0 || post >= int64(c.postSize) {
			return bad("connection %d → %d is outside %d → %d neurons", pre, post, c.preSize, c.postSize)
		}
		w, err := strconv.ParseFloat(f[2], 64)
		if err != nil || !finite(w) {
			return bad("weight %q: want a finite number (mV)", f[2])
		}
		cn := Conn{Pre: uint32(pre), Post: uint32(post), Delay: c.delayTick}
		if delays == 1 {
			ms, err := strconv.ParseFloat(f[3], 64)
			if err != nil {
				return bad("delay %q: want a number (ms)", f[3])
			}
			if cn.Delay, err = DelayTicks(ms, b.dt, b.cfg); err != nil {
				return bad("%v", unprefix(err))
			}
		} else if !c.delay.scalar {
			return bad("rows without delays need a constant delay key, not a distribution")
		}
		if int64(len(c.conns)) >= budget {
			return bad("more than the cap of %d synapses", b.opt.MaxSynapses)
		}
		c.conns = append(c.conns, cn)
		c.fileW = append(c.fileW, w)
	}
	c.fileDelays = delays == 1
	if len(c.conns) > 0 {
		allZero := true
		for _, w := range c.fileW {
			allZero = allZero && w == 0
		}
		if allZero {
			return fmt.Errorf("%s: %s: every weight in %s is 0", head, c.where, path)
		}
	}
	return nil
}

// weightRand returns the generator of c's weight draws: the same sequence
// every time it is called.
func (c *connWork) weightRand() *rand.Rand {
	kind := streamProjWeight
	if c.kind == "input" {
		kind = streamInputWeight
	}
	seed := c.seed
	if c.weight != nil && c.weight.Seed != nil {
		seed = uint64(*c.weight.Seed)
	}
	return newRand(seed, kind, c.idx)
}

// afferent summarises c's weights for the quantizer of its target, and
// sets c.wmax.
func (c *connWork) afferent() Afferent {
	a := Afferent{Type: c.typ, Mixed: c.mixed}
	switch {
	case c.fileW != nil:
		var vals []float64
		wmax := 0.0
		for _, w := range c.fileW {
			wmax = max(wmax, math.Abs(w))
			if len(vals) <= maxFixedValues && !containsFloat(vals, w) {
				vals = append(vals, w)
			}
		}
		if len(vals) > maxFixedValues {
			a.Weights, a.Distributed = []float64{wmax}, true
		} else {
			a.Weights = vals
		}
		c.wmax = wmax
	case c.weight == nil:
		// from_file without rows
	case c.weight.scalar:
		a.Weights = []float64{c.weight.value}
		c.wmax = math.Abs(c.weight.value)
	default:
		r := c.weightRand()
		wmax := 0.0
		for range c.conns {
			wmax = max(wmax, math.Abs(c.weight.draw(r)))
		}
		a.Weights, a.Distributed = []float64{wmax}, true
		c.wmax = wmax
	}
	return a
}

// quantizeWeights fills the weight mantissas of c with its target's scale.
func (b *builder) quantizeWeights(c *connWork) error {
	if len(c.conns) == 0 {
		return nil
	}
	q := b.pops[c.post].q
	scale := q.WeightScale[c.typ]
	var next func() float64
	switch {
	case c.fileW != nil:
		i := 0
		next = func() float64 { i++; return c.fileW[i-1] }
	case c.weight.scalar:
		next = func() float64 { return c.weight.value }
	default:
		r := c.weightRand()
		next = func() float64 { return c.weight.draw(r) }
	}
	wmax := c.wmax // set by afferent, a first pass over the draws
	head := b.prefix(b.loc.key(c.kind, c.idx, "weight"))
	g := b.weightGrid(c)
	exp, err := weightExp(wmax*scale, g, b.cfg)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", head, c.where, unprefix(err))
	}
	c.exp = exp
	rep := &c.report
	rep.Exp = exp
	rep.StepMV = math.Ldexp(1, int(exp)) / scale
	if exp < 0 {
		rep.StepMV = 1 / scale
	}
	nonzero := false
	account := func(w float64, m int32, count int) {
		switch {
		case m != 0:
			nonzero = true
			got := float64(m) * rep.StepMV
			if exp < 0 {
				got = float64(m>>uint(-exp)) * rep.StepMV
			}
			rep.MaxRelErr = max(rep.MaxRelErr, math.Abs(got-w)/math.Abs(w))
		case w != 0:
			rep.Zeroed += count
		}
	}
	if c.fileW == nil && c.weight.scalar {
		// one weight: one rounding
		w := c.weight.value
		m := weightMant(w*scale, exp, g)
		for i := range c.conns {
			c.conns[i].Weight = m
		}
		account(w, m, len(c.conns))
	} else {
		for i := range c.conns {
			w := next()
			m := weightMant(w*scale, exp, g)
			c.conns[i].Weight = m
			account(w, m, 1)
		}
	}
	if !nonzero {
		return fmt.Errorf("%s: %s: %v: the largest |weight| %.4g mV is %.3g of a mantissa step (one step is %.4g mV at %.6g units/mV on %q)",
			head, c.where, ErrWeightsVanish, wmax, wmax*scale/math.Ldexp(1, int(max(exp, 0))), rep.StepMV, q.Scale.UnitsPerMV, b.pops[c.post].name)
	}
	return nil
}

// initialMembranes draws population p's initial membranes (nil: all at
// the reset potential, which is v = 0).
func (b *builder) initialMembranes(p int) ([]int32, error) {
	pw := &b.pops[p]
	d := pw.vinit
	sc := pw.q.Scale
	vmax := float64(int64(1)<<(b.cfg.Neuron.VBits-1) - 1)
	head := b.prefix(b.loc.key("population", pw.idx, "v_init"))
	lo, hi := d.bounds()
	for _, v := range []float64{lo, hi} {
		if u := sc.Units(v); finite(v) && !(math.Abs(u) <= vmax) {
			return nil, fmt.Errorf("%s: population %q: v_init %g mV is %.4g units, outside the membrane's ±%.0f (±%.4g mV around v_reset at %.6g units/mV)",
				head, pw.name, v, u, vmax, vmax/sc.UnitsPerMV, sc.UnitsPerMV)
		}
	}
	if d.scalar && math.Round(sc.Units(d.value)) == 0 {
		return nil, nil
	}
	r := newRand(b.seed, streamVInit, pw.idx)
	if d.Seed != nil {
		r = newRand(uint64(*d.Seed), streamVInit, pw.idx)
	}
	v0 := make([]int32, pw.size)
	for i := range v0 {
		u := math.Round(sc.Units(d.draw(r)))
		v0[i] = int32(min(max(u, -vmax), vmax)) // a normal's tail is clamped into the membrane's range
	}
	return v0, nil
}
