package chip

import (
	"errors"
	"fmt"
)

// Probes observe a running system between ticks, on the goroutine that runs
// the serial part of the step, so they cost nothing when absent and never
// race with the cores.

// Spike is one recorded spike.
type Spike struct {
	Tick   uint64 `json:"tick"`
	Core   uint32 `json:"core"`
	Neuron uint32 `json:"neuron"`
}

// SpikeRecord collects spikes, in (tick, core, neuron) order.
type SpikeRecord struct {
	Spikes []Spike
	sel    []map[uint32]bool // per core; nil: record all of that core
	all    bool
}

// RecordSpikes starts recording the spikes of the given neurons (all
// neurons if sel is empty) and returns the record, which grows as the
// system runs. A second call replaces the first.
func (s *System) RecordSpikes(sel []NeuronRef) (*SpikeRecord, error) {
	if err := s.checkRefs(sel); err != nil {
		return nil, err
	}
	r := &SpikeRecord{all: len(sel) == 0}
	if !r.all {
		r.sel = make([]map[uint32]bool, len(s.cores))
		for _, n := range sel {
			if r.sel[n.Core] == nil {
				r.sel[n.Core] = map[uint32]bool{}
			}
			r.sel[n.Core][n.Neuron] = true
		}
	}
	s.rec = r
	return r, nil
}

// StopRecording detaches the spike record, the trace and the tick log.
func (s *System) StopRecording() { s.rec, s.trace, s.tickLog = nil, nil, nil }

func (r *SpikeRecord) collect(s *System, t uint64) {
	for ci, c := range s.cores {
		if !r.all && r.sel[ci] == nil {
			continue
		}
		for _, f := range c.fired {
			if f >= uint32(c.n) {
				continue // a generator
			}
			if r.all || r.sel[ci][f] {
				r.Spikes = append(r.Spikes, Spike{Tick: t, Core: uint32(ci), Neuron: f})
			}
		}
	}
}

// Trace records the state of selected neurons after every tick.
type Trace struct {
	Neurons []NeuronRef
	// V[i][j] is the membrane of Neurons[j] after tick Start+i; U likewise
	// for each synapse type (U[i][j][k]).
	Start uint64
	V     [][]int32
	U     [][][4]int32
}

// TraceNeurons starts tracing the given neurons.
func (s *System) TraceNeurons(sel []NeuronRef) (*Trace, error) {
	if err := s.checkRefs(sel); err != nil {
		return nil, err
	}
	s.trace = &Trace{Neurons: append([]NeuronRef(nil), sel...), Start: s.tick}
	return s.trace, nil
}

func (tr *Trace) collect(s *System) {
	v := make([]int32, len(tr.Neurons))
	u := make([][4]int32, len(tr.Neurons))
	for j, r := range tr.Neurons {
		c := s.cores[r.Core]
		v[j] = c.v[r.Neuron]
		for k := 0; k < c.types; k++ {
			u[j][k] = c.u[k*c.stride+int(r.Neuron)]
		}
	}
	tr.V = append(tr.V, v)
	tr.U = append(tr.U, u)
}

// TickStats are the figures of one tick.
type TickStats struct {
	Tick        uint64 `json:"tick"`
	Cycles      uint64 `json:"cycles"`
	MaxCoreBusy uint64 `json:"max_core_busy"`
	Network     uint64 `json:"network_cycles,omitempty"` // the network's drain time, part of Cycles
	Spikes      uint64 `json:"spikes"`                   // neurons and generators that fired
}

// TickLog records per-tick figures.
type TickLog struct{ Ticks []TickStats }

// LogTicks starts recording per-tick figures.
func (s *System) LogTicks() *TickLog {
	s.tickLog = &TickLog{}
	return s.tickLog
}

// SpikeObserver is called between ticks with the neurons of one core that
// fired at tick t, in ascending order; the slice is reused after it returns.
type SpikeObserver func(t uint64, core int, neurons []uint32)

// ObserveSpikes sets a callback for every tick's spikes (nil: none). It is
// the cheapest way to compute statistics without keeping the spikes.
func (s *System) ObserveSpikes(fn SpikeObserver) { s.observer = fn }

// ErrNoSuchNeuron is returned by probes given a neuron the program lacks.
var ErrNoSuchNeuron = errors.New("chip: no such neuron")

func (s *System) checkRefs(refs []NeuronRef) error {
	for _, r := range refs {
		if int(r.Core) >= len(s.cores) || int(r.Neuron) >= s.cores[r.Core].n {
			return fmt.Errorf("%w: core %d neuron %d", ErrNoSuchNeuron, r.Core, r.Neuron)
		}
	}
	return nil
}

// State returns neuron r's current state.
func (s *System) State(r NeuronRef) (NeuronState, error) {
	if err := s.checkRefs([]NeuronRef{r}); err != nil {
		return NeuronState{}, err
	}
	c := s.cores[r.Core]
	st := NeuronState{V: c.v[r.Neuron], Ref: c.ref[r.Neuron], VMax: VMaxStart}
	if c.vmax != nil {
		st.VMax = c.vmax[r.Neuron]
	}
	for k := 0; k < c.types; k++ {
		st.U[k] = c.u[k*c.stride+int(r.Neuron)]
	}
	return st, nil
}
