package bench

// The scaling benchmark: CUBA's statistics at any size.
//
// ScaleNetwork keeps examples/networks/cuba.toml the one source of CUBA's
// parameters: it decodes that file, changes only the two population sizes
// (80 % excitatory, 20 % inhibitory) and the connector of the four
// projections, and hands the edited description to the network parser, so
// neuron and synapse parameters, weights, initial membranes and their
// quantization are CUBA's by construction. CUBA connects every ordered pair
// with p = 0.02, which at N = 4,000 is 80 inputs per neuron on average
// (64 excitatory, 16 inhibitory). Keeping p would make the input — and so
// the rates — grow with N; keeping the in-degree keeps every neuron's input
// statistics, and so CUBA's rates (≈ 5.5 Hz), at every N. So each neuron
// draws exactly K presynaptic partners (fixed_number_pre, self included as
// CUBA's connect(p) allows): round(0.8·K) excitatory and the rest
// inhibitory, K = 80 unless the caller scales it (a larger K changes the
// balance and the rates, which the result reports).
//
// ScaleChip derives the chip that holds the network from the default
// preset (datapath, costs, ideal network: the cores of bench cuba): at
// least its 4 × 4 mesh, grown to a square mesh with enough cores that no
// core holds more than ScaleNeuronsPerCore(K) neurons, and with the core
// memories (input axons, fan-out entries, synapse memory) of
// examples/chips/large.toml sized for that many neurons of in-degree K. A
// random network at large N sends nearly every synapse of a core from a
// distinct sender, so a core needs an input axon (a row header word) per
// synapse; the memory it then takes per synapse is what the benchmark
// shows growing with N.

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/examples/networks"
	"github.com/aerie-neuro/aerie/firmware"
)

// Limits of the scaling benchmark, checked before anything is built.
const (
	ScaleDefaultFanin = 80         // CUBA's mean in-degree: p = 0.02 × 4,000
	ScaleMinNeurons   = 100        // below this the inhibitory population is smaller than its in-degree
	ScaleMaxNeurons   = 1 << 22    // 4 Mi neurons
	ScaleMaxFanin     = 10000      // inputs per neuron
	ScaleMaxSynapses  = 60_000_000 // N·K: about 3 GB while building, on a shared workstation
	scaleAxonLimit    = 65536      // chip.Config.Validate's cap on input axons per core
)

// ScaleNeuronsPerCore is the most neurons ScaleChip puts on a core for an
// in-degree of fanin: the default chip's 1024, or fewer when 1024 neurons'
// synapses, each from a distinct sender, would need more input axons than a
// core may have.
func ScaleNeuronsPerCore(fanin int) int {
	return max(1, min(chip.Default().Core.Neurons, scaleAxonLimit/max(fanin, 1)))
}

// CheckScale checks a size and an in-degree of the scaling network.
func CheckScale(neurons, fanin int) error {
	if neurons < ScaleMinNeurons || neurons > ScaleMaxNeurons {
		return fmt.Errorf("bench: scale: %d neurons: want %d…%d", neurons, ScaleMinNeurons, ScaleMaxNeurons)
	}
	if fanin < 1 || fanin > ScaleMaxFanin {
		return fmt.Errorf("bench: scale: fan-in %d: want 1…%d", fanin, ScaleMaxFanin)
	}
	ne, ni := scaleSizes(neurons)
	ke, ki := scaleFanin(fanin)
	if ke > ne || ki > ni {
		kmax := min(fanin, neurons)
		for kmax > 1 {
			if a, b := scaleFanin(kmax); a <= ne && b <= ni {
				break
			}
			kmax--
		}
		return fmt.Errorf("bench: scale: fan-in %d (%d excitatory, %d inhibitory) exceeds the populations of %d neurons (%d, %d): want a fan-in ≤ %d",
			fanin, ke, ki, neurons, ne, ni, kmax)
	}
	if int64(neurons)*int64(fanin) > ScaleMaxSynapses {
		return fmt.Errorf("bench: scale: %d neurons × fan-in %d = %d synapses: want at most %d", neurons, fanin, int64(neurons)*int64(fanin), ScaleMaxSynapses)
	}
	return nil
}

// scaleSizes splits N into CUBA's 80 % excitatory and 20 % inhibitory.
func scaleSizes(n int) (exc, inh int) {
	exc = int(math.Round(0.8 * float64(n)))
	return exc, n - exc
}

// scaleFanin splits K into CUBA's 80 % excitatory and 20 % inhibitory inputs.
func scaleFanin(k int) (exc, inh int) {
	exc = int(math.Round(0.8 * float64(k)))
	return exc, k - exc
}

// ScaleSource returns the network TOML of the scaling network: cuba.toml
// with the population sizes and connectors edited (see the file comment).
func ScaleSource(neurons, fanin int) (string, error) {
	if err := CheckScale(neurons, fanin); err != nil {
		return "", err
	}
	src, err := networks.Source("cuba")
	if err != nil {
		return "", err
	}
	var doc map[string]any
	if _, err := toml.Decode(src, &doc); err != nil {
		return "", fmt.Errorf("bench: scale: cuba.toml: %w", err)
	}
	pops, _ := doc["population"].([]map[string]any)
	projs, _ := doc["projection"].([]map[string]any)
	if len(pops) != 2 || len(projs) != 4 {
		return "", fmt.Errorf("bench: scale: cuba.toml has %d populations and %d projections, want 2 and 4 (exc, inh; ee, ei, ie, ii)", len(pops), len(projs))
	}
	ne, ni := scaleSizes(neurons)
	ke, ki := scaleFanin(fanin)
	size := map[string]int{"exc": ne, "inh": ni}
	inputs := map[string]int{"exc": ke, "inh": ki}
	for _, p := range pops {
		name, _ := p["name"].(string)
		n, ok := size[name]
		if !ok {
			return "", fmt.Errorf("bench: scale: cuba.toml: population %q, want exc and inh", name)
		}
		p["size"] = n
	}
	for _, p := range projs {
		pre, _ := p["pre"].(string)
		k, ok := inputs[pre]
		if !ok || p["connector"] != "fixed_probability" {
			return "", fmt.Errorf("bench: scale: cuba.toml: projection %v from %q with connector %v, want fixed_probability from exc or inh", p["name"], pre, p["connector"])
		}
		delete(p, "p")
		p["connector"] = "fixed_number_pre"
		p["n"] = k
	}
	doc["name"] = fmt.Sprintf("cuba-scale-%d", neurons)
	prov, _ := doc["provenance"].(map[string]any)
	if prov == nil {
		prov = map[string]any{}
		doc["provenance"] = prov
	}
	prov["scaling"] = fmt.Sprintf("CUBA's statistics at %d neurons (%d excitatory, %d inhibitory), fixed in-degree %d (%d excitatory, %d inhibitory) instead of p = 0.02 (internal/bench/scale.go)", neurons, ne, ni, fanin, ke, ki)
	var b strings.Builder
	if err := toml.NewEncoder(&b).Encode(doc); err != nil {
		return "", fmt.Errorf("bench: scale: %w", err)
	}
	return b.String(), nil
}

// ScaleNetwork builds the scaling network of the given size and in-degree
// for cfg (use ScaleChip), with seed for connectivity and initial membranes.
func ScaleNetwork(neurons, fanin int, seed uint64, cfg *chip.Config) (*firmware.Network, error) {
	src, err := ScaleSource(neurons, fanin)
	if err != nil {
		return nil, err
	}
	net, _, err := firmware.ParseNetworkWith(fmt.Sprintf("cuba-scale-%d.toml", neurons), src, cfg, firmware.ParseOptions{Seed: &seed})
	return net, err
}

// ScaleChip derives the chip description that holds the scaling network of
// the given size and in-degree (see the file comment): the default preset
// with a W × W mesh, W ≥ 4, of cores holding at most
// ScaleNeuronsPerCore(fanin) neurons each, and large.toml's memories sized
// for them.
func ScaleChip(neurons, fanin int) (*chip.Config, error) {
	if err := CheckScale(neurons, fanin); err != nil {
		return nil, err
	}
	cfg, err := chip.Preset("default")
	if err != nil {
		return nil, err
	}
	per := ScaleNeuronsPerCore(fanin)
	cores := (neurons + per - 1) / per
	w := max(cfg.Mesh.Width, int(math.Ceil(math.Sqrt(float64(cores)))))
	h := max(cfg.Mesh.Height, (cores+w-1)/w)
	cfg.Mesh = chip.Mesh{Width: w, Height: h}
	// the compiler spreads ⌈N / cores⌉ neurons over every core
	onCore := (neurons + w*h - 1) / (w * h)
	syn := onCore * fanin
	cfg.Core.InputAxons = min(scaleAxonLimit, max(cfg.Core.InputAxons, syn))
	cfg.Core.OutputAxons = max(cfg.Core.OutputAxons, onCore*min(fanin, w*h))
	// a header word per input axon, a word per synapse, rounded up to 4 KiB
	cfg.Core.SynapseBytes = max(cfg.Core.SynapseBytes, (4*(syn+cfg.Core.InputAxons)+4095)&^4095)
	cfg.Name = fmt.Sprintf("scale-%dx%d", w, h)
	cfg.Description = fmt.Sprintf("the default chip's cores and costs on a %d×%d mesh, memories for %d neurons of in-degree %d per core (internal/bench ScaleChip): not a real part", w, h, onCore, fanin)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bench: scale: derived chip: %w", err)
	}
	return cfg, nil
}

// ScaleOptions say which scaling run to make.
type ScaleOptions struct {
	Neurons int
	Fanin   int // 0: ScaleDefaultFanin
	Seed    uint64
	Seconds float64 // biological time
	Workers int     // 0: automatic (chip.Options)
}

// ScaleResult are the figures of one size of the scaling benchmark.
type ScaleResult struct {
	Neurons        int     `json:"neurons"`
	Fanin          int     `json:"fanin"`
	Chip           string  `json:"chip"`
	Cores          int     `json:"cores"`
	Workers        int     `json:"workers"`
	Seconds        float64 `json:"seconds"`
	Ticks          uint64  `json:"ticks"`
	Synapses       int     `json:"synapses"`
	SynapticEvents uint64  `json:"synaptic_events"`
	NeuronUpdates  uint64  `json:"neuron_updates"`
	WallS          float64 `json:"wall_s"`
	RTF            float64 `json:"rtf"`
	// EventsPerSPerCore is synaptic events per second of wall time per
	// worker used (one worker runs on one processor core).
	EventsPerSPerCore  float64     `json:"synaptic_events_per_s_per_core"`
	NeuronUpdatesPerS  float64     `json:"neuron_updates_per_s"`
	BytesPerSynapse    float64     `json:"bytes_per_synapse"` // every byte of the loaded chip / synapses
	SynapseBytesPerSyn float64     `json:"synapse_bytes_per_synapse"`
	MemoryBytes        int         `json:"memory_bytes"`
	RateHz             float64     `json:"rate_hz"` // mean over all neurons, after CUBA's warm-up
	RateExcHz          float64     `json:"rate_exc_hz"`
	RateInhHz          float64     `json:"rate_inh_hz"`
	BuildS             float64     `json:"build_s"` // generating, quantizing and compiling
	Memory             chip.Memory `json:"memory"`
}

// RunScale builds the scaling network of opt.Neurons neurons on ScaleChip
// and runs it for opt.Seconds of biological time (statistics after CUBA's
// warm-up of 0.1 s).
func RunScale(ctx context.Context, opt ScaleOptions) (*ScaleResult, error) {
	if opt.Fanin == 0 {
		opt.Fanin = ScaleDefaultFanin
	}
	if !(opt.Seconds > CUBAWarmupSeconds && opt.Seconds <= 1e4) {
		return nil, fmt.Errorf("bench: scale: %v s: want more than the %v s warm-up, at most 10000", opt.Seconds, CUBAWarmupSeconds)
	}
	start := time.Now()
	cfg, err := ScaleChip(opt.Neurons, opt.Fanin)
	if err != nil {
		return nil, err
	}
	net, err := ScaleNetwork(opt.Neurons, opt.Fanin, opt.Seed, cfg)
	if err != nil {
		return nil, err
	}
	prog, pl, err := firmware.Compile(net, cfg)
	if err != nil {
		return nil, err
	}
	build := time.Since(start).Seconds()
	dtMS := net.DtMS
	if len(pl.Populations) != 2 || !(dtMS > 0) {
		return nil, fmt.Errorf("bench: scale: %d populations placed, tick %v ms: want 2 and a positive tick", len(pl.Populations), dtMS)
	}
	ticks := uint64(math.Round(opt.Seconds * 1000 / dtMS))
	res, err := Run(ctx, cfg, prog, pl, RunOptions{Ticks: ticks, Workers: opt.Workers, DtMS: dtMS, WarmupTicks: uint64(math.Round(CUBAWarmupSeconds * 1000 / dtMS))})
	if err != nil {
		return nil, err
	}
	m := res.Memory
	total := m.NeuronBytes + m.SynapseBytes + m.FanoutBytes
	r := &ScaleResult{
		Neurons: res.Neurons, Fanin: opt.Fanin, Chip: cfg.Name, Cores: res.Cores, Workers: res.Workers,
		Seconds: res.Seconds, Ticks: res.Ticks, Synapses: res.Synapses, SynapticEvents: res.SynapticEvents,
		NeuronUpdates: res.Stats.Counts.NeuronIdle + res.Stats.Counts.NeuronActive + res.Stats.Counts.NeuronFire, WallS: res.WallS, MemoryBytes: total, BuildS: build, Memory: m,
	}
	if res.RTF != nil {
		r.RTF = *res.RTF
	}
	if res.WallS > 0 {
		r.EventsPerSPerCore = float64(res.SynapticEvents) / res.WallS / float64(res.Workers)
		r.NeuronUpdatesPerS = float64(r.NeuronUpdates) / res.WallS
	}
	if res.Synapses > 0 {
		r.BytesPerSynapse = float64(total) / float64(res.Synapses)
		r.SynapseBytesPerSyn = float64(m.SynapseBytes) / float64(res.Synapses)
	}
	e, i := res.Populations[0], res.Populations[1]
	if e.RateHz != nil && i.RateHz != nil {
		r.RateExcHz, r.RateInhHz = *e.RateHz, *i.RateHz
	}
	r.RateHz = (r.RateExcHz*float64(e.Neurons) + r.RateInhHz*float64(i.Neurons)) / float64(e.Neurons+i.Neurons)
	return r, nil
}

// LoadScale builds the scaling network of the given size and in-degree on
// ScaleChip and loads it with the given worker count (0: automatic): what
// the scaling benchmarks step directly.
func LoadScale(neurons, fanin int, seed uint64, workers int) (*chip.System, error) {
	cfg, err := ScaleChip(neurons, fanin)
	if err != nil {
		return nil, err
	}
	net, err := ScaleNetwork(neurons, fanin, seed, cfg)
	if err != nil {
		return nil, err
	}
	prog, _, err := firmware.Compile(net, cfg)
	if err != nil {
		return nil, err
	}
	return chip.Load(cfg, prog, chip.Options{Workers: workers})
}
