package bench

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/aerie-neuro/aerie/aer"
	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
)

// RunOptions say how long to run a compiled network and what to measure.
type RunOptions struct {
	Ticks   uint64
	Workers int     // 0: automatic (chip.Options)
	DtMS    float64 // biological time of one tick, for rates and the real-time factor (0: rates per tick, no RTF)
	// WarmupTicks are left out of the statistics (spikes before them are
	// not counted).
	WarmupTicks uint64
	Input       chip.InputSource
	Output      chip.OutputSink
	// UntilInputEnds runs until Input (which must then report Exhausted)
	// has no more events, then for the chip's longest delay + 2 ticks so
	// that the last events' effects leave; Ticks is then ignored.
	UntilInputEnds bool
	// Spikes, when set, receives every neuron spike as an event: Time the
	// tick, Port the population index, Channel the member index.
	Spikes aer.Writer
}

// Exhauster is an input that knows when it has no more events.
type Exhauster interface{ Exhausted() bool }

// PopulationStats are one population's spiking statistics over the window
// after the warm-up. CVISI is the mean over neurons with at least three
// spikes (two intervals) of std(ISI)/mean(ISI); it is nil, with a reason,
// when no neuron has that many.
type PopulationStats struct {
	Name         string   `json:"name"`
	Neurons      int      `json:"neurons"`
	Spikes       uint64   `json:"spikes"`
	RateHz       *float64 `json:"rate_hz"`                  // nil when the tick length is unknown
	RatePerTick  float64  `json:"rate_per_tick"`            // spikes per neuron per tick
	CVISI        *float64 `json:"cv_isi"`                   // nil: see CVISIMissing
	CVISIMissing string   `json:"cv_isi_missing,omitempty"` // why CVISI is nil
	CVISINeurons int      `json:"cv_isi_neurons"`           // neurons with two intervals or more, behind CVISI
	Source       bool     `json:"source,omitempty"`
}

// Result are the figures of one run.
type Result struct {
	Chip           string            `json:"chip"`
	Ticks          uint64            `json:"ticks"`
	Seconds        float64           `json:"seconds"` // biological time (0 when the tick length is unknown)
	Workers        int               `json:"workers"`
	Neurons        int               `json:"neurons"`
	Synapses       int               `json:"synapses"`
	Spikes         uint64            `json:"spikes"`
	SynapticEvents uint64            `json:"synaptic_events"`
	WallS          float64           `json:"wall_s"`
	RTF            *float64          `json:"rtf"` // wall time / biological time; nil when the tick length is unknown
	EventsPerS     float64           `json:"events_per_s"`
	Cycles         uint64            `json:"cycles"`
	EmulatedS      float64           `json:"emulated_s"`
	EnergyJ        float64           `json:"energy_j"`
	UtilMean       float64           `json:"utilisation_mean"`
	UtilMax        float64           `json:"utilisation_max"`
	Cores          int               `json:"cores"`
	OutputEvents   uint64            `json:"output_events"`
	Populations    []PopulationStats `json:"populations"`
	Stats          chip.Stats        `json:"stats"`
	Memory         chip.Memory       `json:"memory"`
}

// Run loads prog on cfg, runs it and measures every population of the
// placement. Statistics are gathered online (no spike record), so long
// runs of large networks cost no memory.
func Run(ctx context.Context, cfg *chip.Config, prog *chip.Program, pl *firmware.Placement, opt RunOptions) (*Result, error) {
	sys, err := chip.Load(cfg, prog, chip.Options{Workers: opt.Workers})
	if err != nil {
		return nil, err
	}
	// global member number of each (core, slot): populations laid end to end
	first := make([]int, len(pl.Populations)+1)
	for p, pp := range pl.Populations {
		first[p+1] = first[p] + pp.Size
	}
	index := make([][]int32, len(prog.Cores))
	for ci := range prog.Cores {
		index[ci] = make([]int32, len(prog.Cores[ci].Neurons))
	}
	for p, pp := range pl.Populations {
		if pp.Source {
			continue
		}
		for _, pc := range pp.Pieces {
			for j := uint32(0); j < pc.Count; j++ {
				index[pc.Core][pc.First+j] = int32(first[p] + int(pc.Start+j))
			}
		}
	}
	st := newISIStats(first[len(pl.Populations)])
	warm := opt.WarmupTicks
	popOf := make([]uint16, first[len(pl.Populations)])
	for p := range pl.Populations {
		for i := first[p]; i < first[p+1]; i++ {
			popOf[i] = uint16(p)
		}
	}
	var spikeBuf []aer.Event
	var spikeErr error
	sys.ObserveSpikes(func(t uint64, core int, neurons []uint32) {
		idx := index[core]
		if opt.Spikes != nil && spikeErr == nil {
			spikeBuf = spikeBuf[:0]
			for _, nr := range neurons {
				g := int(idx[nr])
				p := popOf[g]
				spikeBuf = append(spikeBuf, aer.Event{Time: int64(t), Port: p, Channel: uint32(g - first[p])})
			}
			_, spikeErr = opt.Spikes.Write(spikeBuf)
		}
		if t < warm {
			return
		}
		for _, nr := range neurons {
			st.spike(int(idx[nr]), int64(t))
		}
	})
	var out *countingSink
	if opt.Output != nil {
		out = &countingSink{next: opt.Output}
		sys.SetOutput(out)
	}
	if opt.Input != nil {
		sys.SetInput(opt.Input)
	}
	start := time.Now()
	if opt.UntilInputEnds {
		ex, ok := opt.Input.(Exhauster)
		if !ok {
			return nil, fmt.Errorf("bench: running until the input ends needs an input that reports its end")
		}
		for !ex.Exhausted() {
			if err := sys.Run(ctx, 256); err != nil {
				return nil, err
			}
		}
		if err := sys.Run(ctx, uint64(cfg.Synapse.MaxDelay)+2); err != nil {
			return nil, err
		}
		opt.Ticks = sys.Tick()
	} else if err := sys.Run(ctx, opt.Ticks); err != nil {
		return nil, err
	}
	wall := time.Since(start).Seconds()
	if spikeErr != nil {
		return nil, fmt.Errorf("bench: writing spikes: %w", spikeErr)
	}
	stats := sys.Stats()
	mem := sys.Memory()
	r := &Result{
		Chip: cfg.Name, Ticks: opt.Ticks, Workers: sys.Workers(),
		Neurons: mem.Neurons, Synapses: mem.Synapses,
		Spikes: stats.Counts.NeuronFire, SynapticEvents: stats.Counts.Synops,
		WallS: wall, Cycles: stats.Cycles, EmulatedS: stats.Seconds,
		EnergyJ: stats.Energy.Total, Stats: stats, Memory: mem,
	}
	if out != nil {
		r.OutputEvents = out.n
	}
	if opt.DtMS > 0 {
		r.Seconds = float64(opt.Ticks) * opt.DtMS / 1000
		if r.Seconds > 0 {
			r.RTF = ptr(wall / r.Seconds)
		}
	}
	if wall > 0 {
		r.EventsPerS = float64(stats.Counts.Synops) / wall
	}
	r.Cores = len(stats.Cores)
	for _, c := range stats.Cores {
		r.UtilMean += c.Utilisation / float64(len(stats.Cores))
		r.UtilMax = max(r.UtilMax, c.Utilisation)
	}
	r.Stats.Cores = nil
	window := float64(0)
	if opt.Ticks > warm {
		window = float64(opt.Ticks - warm)
	}
	for p, pp := range pl.Populations {
		ps := PopulationStats{Name: pp.Name, Neurons: pp.Size, Source: pp.Source}
		if pp.Source {
			ps.CVISIMissing = "a source population (its spikes are not observed)"
			r.Populations = append(r.Populations, ps)
			continue
		}
		lo, hi := first[p], first[p+1]
		ps.Spikes = st.spikes(lo, hi)
		if window > 0 {
			ps.RatePerTick = float64(ps.Spikes) / float64(pp.Size) / window
			if opt.DtMS > 0 {
				ps.RateHz = ptr(ps.RatePerTick * 1000 / opt.DtMS)
			}
		} else {
			ps.CVISIMissing = "the run ends before the warm-up does"
		}
		if cv, k := st.cv(lo, hi); k > 0 {
			ps.CVISI, ps.CVISINeurons = ptr(cv), k
		} else if ps.CVISIMissing == "" {
			ps.CVISIMissing = "no neuron fired three times after the warm-up"
		}
		r.Populations = append(r.Populations, ps)
	}
	return r, nil
}

func ptr(x float64) *float64 { return &x }

// countingSink counts the output events that pass to the next sink.
type countingSink struct {
	next chip.OutputSink
	n    uint64
}

func (c *countingSink) Spikes(t uint64, ev []chip.PortEvent) error {
	c.n += uint64(len(ev))
	return c.next.Spikes(t, ev)
}

// isiStats accumulates per-neuron inter-spike-interval moments online, so a
// run needs no spike record.
type isiStats struct {
	last  []int64
	n     []int32
	sum   []float64
	sumSq []float64
	count []int32 // spikes after warm-up
}

func newISIStats(n int) *isiStats {
	s := &isiStats{last: make([]int64, n), n: make([]int32, n), sum: make([]float64, n), sumSq: make([]float64, n), count: make([]int32, n)}
	for i := range s.last {
		s.last[i] = -1
	}
	return s
}

func (s *isiStats) spike(i int, t int64) {
	s.count[i]++
	if s.last[i] >= 0 {
		d := float64(t - s.last[i])
		s.n[i]++
		s.sum[i] += d
		s.sumSq[i] += d * d
	}
	s.last[i] = t
}

// cv is the mean over neurons lo…hi−1 with at least two intervals of
// std(ISI)/mean(ISI), and the number k of such neurons (0: no CV).
func (s *isiStats) cv(lo, hi int) (cv float64, k int) {
	var tot float64
	for i := lo; i < hi; i++ {
		if s.n[i] < 2 {
			continue
		}
		m := s.sum[i] / float64(s.n[i])
		v := s.sumSq[i]/float64(s.n[i]) - m*m
		if v < 0 {
			v = 0
		}
		tot += math.Sqrt(v) / m
		k++
	}
	if k == 0 {
		return 0, 0
	}
	return tot / float64(k), k
}

func (s *isiStats) spikes(lo, hi int) uint64 {
	var c uint64
	for i := lo; i < hi; i++ {
		c += uint64(s.count[i])
	}
	return c
}
