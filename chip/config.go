package chip

import (
	"embed"
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/aerie-neuro/aerie/internal/fileio"
	"github.com/aerie-neuro/aerie/internal/stricttoml"
	"github.com/aerie-neuro/aerie/router"
)

// Config is a chip description: what the hardware can hold and do, and what
// each operation costs. It is loaded from TOML (see the presets in
// chip/presets/ for annotated examples) and checked by Validate.
//
// A Config describes one chip; a system of several identical chips sets
// Chips > 1 and the cores of chip c are numbered c·Cores … (c+1)·Cores−1.
type Config struct {
	Name        string `toml:"name"`
	Description string `toml:"description"`
	// ClockMHz converts cycles to emulated seconds.
	ClockMHz float64 `toml:"clock_mhz"`
	// Chips is the number of identical chips in the system (default 1).
	Chips int `toml:"chips"`
	// Mesh is the arrangement of cores on one chip; Width·Height = Cores.
	Mesh Mesh `toml:"mesh"`
	// Sync is how ticks end: "barrier" (the tick lasts as long as its
	// slowest core plus the interconnect and a barrier, as on Loihi) or
	// "fixed" (every tick lasts TickCycles; a tick whose work does not fit
	// is counted as an overrun, as on TrueNorth, SpiNNaker and Xylo).
	Sync       string `toml:"sync"`
	TickCycles uint64 `toml:"tick_cycles"`

	Core    CoreLimits  `toml:"core"`
	Neuron  NeuronSpec  `toml:"neuron"`
	Synapse SynapseSpec `toml:"synapse"`
	Cost    Cost        `toml:"cost"`

	// NoC is the network between cores and chips (the router package's
	// configuration; no [noc] section: the ideal network).
	NoC router.Config `toml:"noc"`
}

// Mesh is the 2-D arrangement of the cores of one chip.
type Mesh struct {
	Width  int `toml:"width"`
	Height int `toml:"height"`
}

// CoreLimits are the resources of one core.
type CoreLimits struct {
	Neurons     int `toml:"neurons"`      // neurons (compartments) per core
	InputAxons  int `toml:"input_axons"`  // axons a core can receive on
	OutputAxons int `toml:"output_axons"` // fan-out entries (destination core, axon) per core
	// SynapseBytes is the synapse memory of a core. aerie packs a synapse in
	// one 32-bit word, so a core holds SynapseBytes/4 synapses.
	SynapseBytes int `toml:"synapse_bytes"`
	Profiles     int `toml:"profiles"`   // distinct neuron parameter sets per core
	Generators   int `toml:"generators"` // on-chip spike sources per core
	// MaxTargets bounds the output axons of one neuron (0: no bound beyond
	// output_axons). TrueNorth sets 1: each neuron has exactly one target,
	// a (core, axon, delay) in its own registers (Merolla et al. 2014).
	MaxTargets int `toml:"max_targets"`
}

// NeuronSpec is the integer neuron datapath: state widths, decay arithmetic,
// overflow, threshold comparison and reset.
type NeuronSpec struct {
	// SynapseTypes is the number of synaptic input types (dendritic current
	// variables u_k) per neuron, 1 to 4; each has its own current decay.
	SynapseTypes int `toml:"synapse_types"`
	UBits        int `toml:"u_bits"` // width of each current u_k, two's complement
	VBits        int `toml:"v_bits"` // width of the membrane v
	// UOverflow and VOverflow are "wrap" or "saturate".
	UOverflow string `toml:"u_overflow"`
	VOverflow string `toml:"v_overflow"`
	// Current is "decay" (each u_k is a state that decays with its own
	// constant, Loihi, SpiNNaker, Xylo) or "instant" (u_k is this tick's input
	// only, no state: TrueNorth adds weights straight to the membrane).
	Current string `toml:"current"`
	// Decay is "mul12" (x·(4096−d)/4096, Loihi), "shift" (x − x>>d, Xylo),
	// "linear" (move d toward zero, TrueNorth) or "none".
	Decay string `toml:"decay"`
	// Rounding of mul12 decay: "trunc" (toward zero, Loihi) or "nearest"
	// (half away from zero). Truncation biases small states toward rest.
	Rounding string `toml:"rounding"`
	// DecayBits is the width of the decay constants du, dv (mul12: 12).
	DecayBits int `toml:"decay_bits"`
	// UDecayOffset is added to du in mul12 decay (Loihi adds 1 so that
	// du = 4095 clears u in one step).
	UDecayOffset int `toml:"u_decay_offset"`
	// ActShift scales accumulated synaptic input into u: u += a << ActShift.
	ActShift int `toml:"act_shift"`
	// VthShift scales the threshold: v is compared with vth << VthShift.
	VthShift int `toml:"vth_shift"`
	VthBits  int `toml:"vth_bits"`  // width of the (unsigned) threshold mantissa
	BiasBits int `toml:"bias_bits"` // width of the signed bias mantissa
	// BiasExpMax is the largest bias exponent: bias = mant << exp.
	BiasExpMax int `toml:"bias_exp_max"`
	// Compare is "gt" (fire when v > vth, Loihi) or "ge" (v ≥ vth, TrueNorth).
	Compare string `toml:"compare"`
	// Reset is "zero" (v ← 0) or "subtract" (v ← v − vth).
	Reset string `toml:"reset"`
	// RefractoryBits is the width of the refractory counter (0: none).
	RefractoryBits int `toml:"refractory_bits"`
	// Stochastic enables escape-noise neurons: a spike-probability table
	// indexed by (v − vth) >> EscapeShift compared with a counter-based
	// 16-bit random number. The table is aerie's own mechanism on every
	// preset ("Loihi-class" stochastic neurons: Loihi itself adds
	// pseudo-random noise to u or v instead); on TrueNorth it is exact for
	// the chip's stochastic threshold (StochasticThreshold).
	Stochastic bool `toml:"stochastic"`
	// EscapeEntries is the largest escape table a profile may carry.
	EscapeEntries int `toml:"escape_entries"`
}

// SynapseSpec describes synapse memory contents.
type SynapseSpec struct {
	// WeightBits is the magnitude width of a weight mantissa. With sign =
	// "signed" a mantissa lies in [−(2^WeightBits − 1), 2^WeightBits − 1];
	// the other sign modes narrow that (MantissaRange). A packed synapse
	// holds it in WeightBits + 1 bits, two's complement.
	WeightBits int `toml:"weight_bits"`
	// WeightExpMin/Max bound the per-axon weight exponent: the value added
	// to the accumulator is mant·2^exp (a right shift for exp < 0).
	WeightExpMin int `toml:"weight_exp_min"`
	WeightExpMax int `toml:"weight_exp_max"`
	MaxDelay     int `toml:"max_delay"` // largest synaptic delay in ticks
	// AccBits is the width of a dendritic accumulator slot (sign included);
	// AccOverflow is "saturate" or "wrap". The emulator sums exactly and
	// applies the width when the slot is read; every clipped read is counted.
	AccBits     int    `toml:"acc_bits"`
	AccOverflow string `toml:"acc_overflow"`
	// Sign is how a weight's sign is encoded: "signed" (the default: a
	// mantissa in ±(2^WeightBits − 1)), "row" (Loihi: an axon row whose
	// weights all have one sign uses the whole magnitude range, a mixed-sign
	// row spends a bit on the sign, so its mantissas are even, in
	// [−2^WeightBits, 2^WeightBits − 2]), or "type" (SpiNNaker: an unsigned
	// magnitude whose sign the synapse type gives: type 0 excitatory,
	// positive; type 1 inhibitory, negative).
	Sign string `toml:"sign"`
	// Crossbar is "none" (the default: any synapse list) or "binary"
	// (TrueNorth: a binary axons × neurons crossbar; every axon has one
	// type, all its synapses share it and one delay, each neuron holds one
	// weight per axon type, and a crossbar point holds at most one synapse).
	// Program.Check enforces it, naming the core, axon and neuron.
	Crossbar string `toml:"crossbar"`
}

// MantissaRange is the range of weight mantissas a synapse may hold, and the
// step between them: for a synapse of type typ in an axon row that uses the
// mixed sign mode (mixed) or a single-sign one. Mantissas lie in lo,
// lo+step, …, hi. A row needs the mixed mode when it holds both a positive
// and a negative weight; a single-sign row may use it too (to reach
// −2^WeightBits), and Program.Check accepts a row that fits either: every
// weight within ±(2^WeightBits − 1) and of one sign, or every weight in the
// mixed range. Compilers and quantizers call it; Program.Check enforces it.
//
// Sources: "row" is Loihi's synapse sign mode (Lava
// src/lava/utils/weightutils.py: a mixed-sign group is clipped to
// −256…255 and loses its least significant bit, so with 8 weight bits its
// weights are the even values −256…254; an excitatory group keeps 0…255,
// an inhibitory one −255…0; nengo-loihi computes the same shift as
// 8 − (weight bits − is_mixed)). "type" is sPyNNaker's synaptic word
// (synapse_row.h: an unsigned 16-bit weight; the receptor type decides
// whether the ring buffer it lands in excites or inhibits).
func (s *SynapseSpec) MantissaRange(mixed bool, typ int) (lo, hi, step int32) {
	m := int32(1)<<s.WeightBits - 1
	switch s.Sign {
	case "row":
		if mixed {
			return -m - 1, m - 1, 2
		}
	case "type":
		if typ == 0 {
			return 0, m, 1
		}
		return -m, 0, 1
	}
	return -m, m, 1
}

// Cost is the per-event cost table: cycles of the core that does the work and
// energy in picojoules. A core's busy cycles in a tick are Σ count·cycles;
// energy is Σ count·pJ over all cores and ticks.
type Cost struct {
	Cycles   CycleCosts  `toml:"cycles"`
	EnergyPJ EnergyCosts `toml:"energy_pj"`
	// Barrier: the time-step synchronisation, BarrierCycles + per hop times
	// 2·(mesh diameter) (a sweep out and back), in cycles (barrier sync only).
	BarrierCycles       uint64  `toml:"barrier_cycles"`
	BarrierCyclesPerHop uint64  `toml:"barrier_cycles_per_hop"`
	BarrierPJ           float64 `toml:"barrier_pj"`
	// StaticMW is static (leakage) power, charged over emulated time.
	StaticMW float64 `toml:"static_mw"`
}

// CycleCosts is the cycle row of the cost table: cycles of the core that
// does the work, per event.
type CycleCosts struct {
	InputSpike   uint64 `toml:"input_spike"`   // an axon message received by a core
	Synop        uint64 `toml:"synop"`         // one synaptic operation (accumulate)
	NeuronIdle   uint64 `toml:"neuron_idle"`   // update of a neuron with no input this tick
	NeuronActive uint64 `toml:"neuron_active"` // update of a neuron with input, not firing
	NeuronFire   uint64 `toml:"neuron_fire"`   // update of a neuron that fires
	Message      uint64 `toml:"message"`       // an axon message sent by a core (spike or generator)
}

// EnergyCosts is the energy row of the cost table, in picojoules per event
// (the events of CycleCosts).
type EnergyCosts struct {
	InputSpike   float64 `toml:"input_spike"`
	Synop        float64 `toml:"synop"`
	NeuronIdle   float64 `toml:"neuron_idle"`
	NeuronActive float64 `toml:"neuron_active"`
	NeuronFire   float64 `toml:"neuron_fire"`
	Message      float64 `toml:"message"`
	// Network events, per flit and hop: on-chip east–west and north–south
	// links, chip-to-chip links.
	HopX    float64 `toml:"hop_x"`
	HopY    float64 `toml:"hop_y"`
	ChipHop float64 `toml:"chip_hop"`
}

//go:embed presets/*.toml
var presetFS embed.FS

// Presets lists the names of the embedded chip descriptions.
func Presets() []string {
	ents, _ := presetFS.ReadDir("presets")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".toml"))
	}
	sort.Strings(names)
	return names
}

// PresetSource returns the TOML text of an embedded preset.
func PresetSource(name string) (string, error) {
	b, err := presetFS.ReadFile("presets/" + name + ".toml")
	if err != nil {
		return "", fmt.Errorf("chip: unknown preset %q (presets: %s)", name, strings.Join(Presets(), ", "))
	}
	return string(b), nil
}

// Preset loads an embedded chip description by name.
func Preset(name string) (*Config, error) {
	src, err := PresetSource(name)
	if err != nil {
		return nil, err
	}
	return ParseConfig(name+".toml", src)
}

// Default returns the embedded default chip. It panics if the embedded file
// is broken, which a test rules out.
func Default() *Config {
	c, err := Preset("default")
	if err != nil {
		panic(err)
	}
	return c
}

// LoadConfig resolves a --chip argument: a preset name, or a path to a TOML file.
func LoadConfig(nameOrPath string) (*Config, error) {
	if nameOrPath == "" {
		return Preset("default")
	}
	if !strings.ContainsAny(nameOrPath, "/\\.") {
		return Preset(nameOrPath)
	}
	b, err := fileio.ReadFile(nameOrPath, fileio.Limit{Bytes: 16 << 20, What: "chip descriptions"})
	if err != nil {
		return nil, fmt.Errorf("chip: %w", err)
	}
	return ParseConfig(nameOrPath, string(b))
}

// ParseConfig decodes a chip description strictly (unknown or mis-cased keys
// are errors naming the key and line; internal/stricttoml also refuses
// oversized or too deeply nested documents, nan and infinite numbers and
// negative values of unsigned fields), fills the defaults of the keys the
// description leaves out and validates it. A key that is written is used
// as written: "profiles = 0" is refused by Validate, not replaced by the
// default.
func ParseConfig(name, src string) (*Config, error) {
	c := &Config{}
	keys, err := stricttoml.DecodeKeys(name, src, c)
	if err != nil {
		return nil, fmt.Errorf("chip: %w", err)
	}
	c.fillDefaults(keys.Has)
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("chip: %s: %w", name, err)
	}
	return c, nil
}

// fillDefaults sets the fields whose keys written reports absent to their
// defaults (written(key...) tells whether the description wrote a key;
// nil means nothing was written).
func (c *Config) fillDefaults(written func(key ...string) bool) {
	if written == nil {
		written = func(...string) bool { return false }
	}
	n := &c.Neuron
	for _, d := range []struct {
		key []string
		set func()
	}{
		{[]string{"chips"}, func() { c.Chips = 1 }},
		{[]string{"sync"}, func() { c.Sync = "barrier" }},
		{[]string{"neuron", "synapse_types"}, func() { n.SynapseTypes = 1 }},
		{[]string{"neuron", "u_overflow"}, func() { n.UOverflow = "wrap" }},
		{[]string{"neuron", "v_overflow"}, func() { n.VOverflow = "saturate" }},
		{[]string{"neuron", "current"}, func() { n.Current = "decay" }},
		{[]string{"neuron", "decay"}, func() { n.Decay = "mul12" }},
		{[]string{"neuron", "rounding"}, func() { n.Rounding = "trunc" }},
		{[]string{"neuron", "decay_bits"}, func() { n.DecayBits = 12 }},
		{[]string{"neuron", "compare"}, func() { n.Compare = "gt" }},
		{[]string{"neuron", "reset"}, func() { n.Reset = "zero" }},
		{[]string{"synapse", "acc_overflow"}, func() { c.Synapse.AccOverflow = "saturate" }},
		{[]string{"synapse", "sign"}, func() { c.Synapse.Sign = "signed" }},
		{[]string{"synapse", "crossbar"}, func() { c.Synapse.Crossbar = "none" }},
		{[]string{"core", "profiles"}, func() { c.Core.Profiles = 16 }},
	} {
		if !written(d.key...) {
			d.set()
		}
	}
}

// FieldError is a chip description field with a value out of its range.
type FieldError struct {
	Field string // TOML key, e.g. "neuron.v_bits"
	Value any
	Want  string // the allowed range or values
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s = %v: want %s", e.Field, e.Value, e.Want)
}

// Validate checks every field against its allowed range and the cross-field
// rules (a synapse must fit in a 32-bit word, the mesh must hold the cores).
// All problems are reported, joined.
func (c *Config) Validate() error {
	var errs []error
	intIn := func(field string, v, lo, hi int) {
		if v < lo || v > hi {
			errs = append(errs, &FieldError{field, v, fmt.Sprintf("%d…%d", lo, hi)})
		}
	}
	oneOf := func(field, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		errs = append(errs, &FieldError{field, fmt.Sprintf("%q", v), "one of " + strings.Join(allowed, ", ")})
	}
	if c.Name == "" {
		errs = append(errs, &FieldError{"name", `""`, "a name"})
	}
	if !(c.ClockMHz > 0 && c.ClockMHz <= 1e5) {
		errs = append(errs, &FieldError{"clock_mhz", c.ClockMHz, "0 < clock_mhz ≤ 100000"})
	}
	intIn("chips", c.Chips, 1, 1<<16)
	intIn("mesh.width", c.Mesh.Width, 1, 4096)
	intIn("mesh.height", c.Mesh.Height, 1, 4096)
	oneOf("sync", c.Sync, "barrier", "fixed")
	// a tick of a fixed-sync chip lasts at most 1000 s at 1 GHz, so that
	// cycle counts of long runs stay far from uint64 overflow.
	const maxTickCycles = 1e12
	switch {
	case c.Sync == "fixed" && c.TickCycles == 0:
		errs = append(errs, &FieldError{"tick_cycles", 0, "> 0 with sync = \"fixed\""})
	case c.TickCycles > maxTickCycles:
		errs = append(errs, &FieldError{"tick_cycles", c.TickCycles, fmt.Sprintf("≤ %d cycles", uint64(maxTickCycles))})
	}
	if c.Chips*c.Mesh.Width*c.Mesh.Height > 1<<20 {
		errs = append(errs, &FieldError{"chips·mesh", c.Chips * c.Mesh.Width * c.Mesh.Height, "≤ 1048576 cores in a system"})
	}

	l := c.Core
	intIn("core.neurons", l.Neurons, 1, 1<<16)
	intIn("core.input_axons", l.InputAxons, 1, 1<<20)
	intIn("core.output_axons", l.OutputAxons, 0, 1<<20)
	intIn("core.synapse_bytes", l.SynapseBytes, 4, 1<<30)
	intIn("core.profiles", l.Profiles, 1, 1<<16)
	intIn("core.generators", l.Generators, 0, 1<<16)
	intIn("core.max_targets", l.MaxTargets, 0, 1<<20)

	n := c.Neuron
	intIn("neuron.synapse_types", n.SynapseTypes, 1, 4)
	intIn("neuron.u_bits", n.UBits, 2, 32)
	intIn("neuron.v_bits", n.VBits, 2, 32)
	oneOf("neuron.u_overflow", n.UOverflow, "wrap", "saturate")
	oneOf("neuron.v_overflow", n.VOverflow, "wrap", "saturate")
	oneOf("neuron.current", n.Current, "decay", "instant")
	oneOf("neuron.decay", n.Decay, "mul12", "shift", "linear", "none")
	oneOf("neuron.rounding", n.Rounding, "trunc", "nearest")
	switch n.Decay {
	case "mul12":
		intIn("neuron.decay_bits", n.DecayBits, 12, 12)
	default:
		intIn("neuron.decay_bits", n.DecayBits, 1, 16)
	}
	intIn("neuron.u_decay_offset", n.UDecayOffset, 0, 1)
	intIn("neuron.act_shift", n.ActShift, 0, 24)
	intIn("neuron.vth_shift", n.VthShift, 0, 24)
	intIn("neuron.vth_bits", n.VthBits, 1, 31)
	intIn("neuron.bias_bits", n.BiasBits, 1, 32)
	intIn("neuron.bias_exp_max", n.BiasExpMax, 0, 24)
	oneOf("neuron.compare", n.Compare, "gt", "ge")
	oneOf("neuron.reset", n.Reset, "zero", "subtract")
	intIn("neuron.refractory_bits", n.RefractoryBits, 0, 16)
	if n.Stochastic {
		intIn("neuron.escape_entries", n.EscapeEntries, 2, 1<<16)
	} else {
		intIn("neuron.escape_entries", n.EscapeEntries, 0, 1<<16)
	}
	if n.VthBits+n.VthShift > n.VBits+1 {
		errs = append(errs, &FieldError{"neuron.vth_bits + vth_shift", n.VthBits + n.VthShift, fmt.Sprintf("≤ v_bits + 1 = %d (the threshold must be reachable)", n.VBits+1)})
	}

	s := c.Synapse
	intIn("synapse.weight_bits", s.WeightBits, 1, 16)
	intIn("synapse.weight_exp_min", s.WeightExpMin, -16, 16)
	intIn("synapse.weight_exp_max", s.WeightExpMax, s.WeightExpMin, 16)
	intIn("synapse.max_delay", s.MaxDelay, 0, 255)
	intIn("synapse.acc_bits", s.AccBits, 2, 32)
	oneOf("synapse.acc_overflow", s.AccOverflow, "saturate", "wrap")
	oneOf("synapse.sign", s.Sign, "signed", "row", "type")
	oneOf("synapse.crossbar", s.Crossbar, "none", "binary")
	if s.Sign == "type" && n.SynapseTypes < 2 {
		errs = append(errs, &FieldError{"synapse.sign", `"type"`, "neuron.synapse_types ≥ 2 (type 0 excitatory, the others inhibitory)"})
	}

	if len(errs) == 0 {
		if w := c.synapseWordBits(); w > 32 {
			errs = append(errs, fmt.Errorf("synapse word needs %d bits (weight %d + delay %d + type·neuron %d), want ≤ 32: lower synapse.weight_bits, synapse.max_delay or core.neurons",
				w, s.WeightBits+1, bitsFor(s.MaxDelay), bitsFor(n.SynapseTypes*padNeurons(l.Neurons)-1)))
		}
		if c.Chips*c.Mesh.Width*c.Mesh.Height*l.InputAxons > 1<<32-1 {
			errs = append(errs, errors.New("system too large: cores × input_axons must fit in 32 bits"))
		}
	}

	for _, e := range c.Cost.costErrors() {
		errs = append(errs, e)
	}
	errs = append(errs, c.NoC.ValidateSystem(router.System{Chips: c.Chips, W: c.Mesh.Width, H: c.Mesh.Height})...)
	return errors.Join(errs...)
}

func (k Cost) costErrors() []error {
	errs := costRangeErrors(&k.Cycles, &k.EnergyPJ) // the event table's rows
	for _, f := range []struct {
		name string
		v    uint64
	}{{"barrier_cycles", k.BarrierCycles}, {"barrier_cycles_per_hop", k.BarrierCyclesPerHop}} {
		if f.v > 1e9 {
			errs = append(errs, &FieldError{"cost." + f.name, f.v, "≤ 1e9 cycles"})
		}
	}
	if !(k.BarrierPJ >= 0 && k.BarrierPJ < 1e12) {
		errs = append(errs, &FieldError{"cost.barrier_pj", k.BarrierPJ, "0 ≤ pJ < 1e12"})
	}
	if !(k.StaticMW >= 0 && k.StaticMW < 1e9) {
		errs = append(errs, &FieldError{"cost.static_mw", k.StaticMW, "0 ≤ mW < 1e9"})
	}
	return errs
}

// Cores is the number of cores in the whole system.
func (c *Config) Cores() int { return c.Chips * c.Mesh.Width * c.Mesh.Height }

// CoresPerChip is the number of cores on one chip.
func (c *Config) CoresPerChip() int { return c.Mesh.Width * c.Mesh.Height }

// MaxSynapses is how many synapses fit in one core's synapse memory.
func (c *Config) MaxSynapses() int { return c.Core.SynapseBytes / 4 }

// synapseWordBits is the width of a packed synapse: signed weight, delay,
// and the (type, neuron) accumulator index.
func (c *Config) synapseWordBits() int {
	return c.Synapse.WeightBits + 1 + bitsFor(c.Synapse.MaxDelay) + bitsFor(c.Neuron.SynapseTypes*padNeurons(c.Core.Neurons)-1)
}

// padNeurons rounds a neuron count up to whole blocks of the vector kernel.
func padNeurons(n int) int {
	return (n + 7) &^ 7
}

// bitsFor is the number of bits needed to hold values 0…v.
func bitsFor(v int) int {
	if v <= 0 {
		return 0
	}
	return bits.Len(uint(v))
}

// Diameter is the largest hop count between two routers of one chip's
// mesh (dimension-order routing): between two cores, or, when
// noc.cores_per_router puts a block of cores on each router (Loihi's tiles
// of 4), between two blocks. The barrier sweeps the routers' mesh.
func (c *Config) Diameter() int {
	bx, by := c.NoC.Block()
	return max(1, c.Mesh.Width/bx) - 1 + max(1, c.Mesh.Height/by) - 1
}

// TOML returns the resolved description as TOML (defaults filled in).
func (c *Config) TOML() string {
	var b strings.Builder
	_ = toml.NewEncoder(&b).Encode(c)
	return b.String()
}
