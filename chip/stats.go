package chip

import "github.com/aerie-neuro/aerie/router"

// Stats are the accounted figures of a system since it was loaded. Every
// figure is a pure function of the event counts and the chip description.
type Stats struct {
	Ticks              uint64      `json:"ticks"`
	Cycles             uint64      `json:"cycles"`               // Σ over ticks of the tick's cycles
	Seconds            float64     `json:"emulated_s"`           // Cycles at the chip's clock
	BarrierCycles      uint64      `json:"barrier_cycles"`       // part of Cycles spent in barriers
	InterconnectCycles uint64      `json:"interconnect_cycles"`  // part of Cycles added by the network (its drain times)
	Overruns           uint64      `json:"overruns"`             // fixed-tick ticks whose work did not fit
	AccClips           uint64      `json:"accumulator_clips"`    // accumulator reads beyond acc_bits
	InputDropped       uint64      `json:"input_events_dropped"` // external events naming no port channel
	Counts             Counts      `json:"counts"`
	Energy             Energy      `json:"energy"`
	Cores              []CoreStats `json:"cores,omitempty"`
	// NoC are the network's figures (nil for the ideal network): packets,
	// flit-hops per link class, per-link utilisation, queue depths,
	// latency distribution, drain times, late and dropped messages.
	NoC *router.Stats `json:"noc,omitempty"`
}

// Energy is the energy of a run by category, in joules. Dynamic is what
// the counted events cost (every category but Static); Static is the
// description's static (leakage) power over the emulated time, so
// Total = Dynamic + Static.
type Energy struct {
	Total        float64 `json:"total_j"`
	Dynamic      float64 `json:"dynamic_j"`
	InputSpikes  float64 `json:"input_spikes_j"`
	Synops       float64 `json:"synops_j"`
	Neurons      float64 `json:"neurons_j"` // idle, active and firing updates
	Messages     float64 `json:"messages_j"`
	Interconnect float64 `json:"interconnect_j"` // flit-hops of the network
	Barrier      float64 `json:"barrier_j"`
	Static       float64 `json:"static_j"`
}

// CoreStats are one core's totals.
type CoreStats struct {
	Core        int     `json:"core"`
	BusyCycles  uint64  `json:"busy_cycles"`
	Utilisation float64 `json:"utilisation"` // busy cycles / system cycles
	Counts      Counts  `json:"counts"`
}

// Stats returns the accounted figures since Load.
func (s *System) Stats() Stats {
	st := s.stats
	st.Cores = make([]CoreStats, len(s.cores))
	st.Counts = s.netCnt // network events; core events are added below
	st.AccClips = 0
	for i, c := range s.cores {
		st.Counts.add(&c.totals)
		st.AccClips += c.accClips
		cs := CoreStats{Core: i, BusyCycles: c.busyTotal, Counts: c.totals}
		if st.Cycles > 0 {
			cs.Utilisation = float64(c.busyTotal) / float64(st.Cycles)
		}
		st.Cores[i] = cs
	}
	st.InputDropped = s.inDrop
	st.Seconds = float64(st.Cycles) / (s.cfg.ClockMHz * 1e6)
	st.Energy = s.cfg.energy(&st.Counts, st.Ticks, st.Seconds)
	if s.net != nil {
		st.NoC = s.net.Stats(st.Cycles)
	}
	return st
}

// energy prices counts with the description's energy table (the event
// table's energy column), plus barriers and static power.
func (c *Config) energy(n *Counts, ticks uint64, seconds float64) Energy {
	const pJ = 1e-12
	k := energyPJ(n, &c.Cost.EnergyPJ)
	e := Energy{
		InputSpikes:  k[EnergyInputSpikes] * pJ,
		Synops:       k[EnergySynops] * pJ,
		Neurons:      k[EnergyNeurons] * pJ,
		Messages:     k[EnergyMessages] * pJ,
		Interconnect: k[EnergyInterconnect] * pJ,
		Barrier:      float64(ticks) * c.Cost.BarrierPJ * pJ,
		Static:       c.Cost.StaticMW * 1e-3 * seconds,
	}
	e.Dynamic = e.InputSpikes + e.Synops + e.Neurons + e.Messages + e.Interconnect + e.Barrier
	e.Total = e.Dynamic + e.Static
	return e
}

// Memory is what a loaded system holds, by kind.
type Memory struct {
	Neurons       int `json:"neurons"`
	NeuronBytes   int `json:"neuron_bytes"` // state, parameters and accumulators
	Synapses      int `json:"synapses"`
	SynapseBytes  int `json:"synapse_bytes"` // synapse words and axon rows
	FanoutEntries int `json:"fanout_entries"`
	FanoutBytes   int `json:"fanout_bytes"`
}

// Memory reports the bytes the loaded program occupies in the emulator.
func (s *System) Memory() Memory {
	var m Memory
	for _, c := range s.cores {
		nb, sb, fb := c.memoryBytes()
		m.Neurons += c.n
		m.NeuronBytes += nb
		m.Synapses += len(c.syn) - len(c.axons) // less the row headers
		m.SynapseBytes += sb
		m.FanoutEntries += len(c.outRef)
		m.FanoutBytes += fb
	}
	return m
}
