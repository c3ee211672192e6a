package router

import "sort"

// Stats are a network's figures since it was built.
type Stats struct {
	Model    string `json:"model"`
	Topology string `json:"topology"`
	Routing  string `json:"routing"`
	Routers  int    `json:"routers"`
	NX       int    `json:"grid_x"` // routers across the system
	NY       int    `json:"grid_y"`
	ChipW    int    `json:"chip_w"` // routers across one chip
	ChipH    int    `json:"chip_h"`
	// CoresPerRouter is the concentration (noc.cores_per_router, ≥ 1).
	CoresPerRouter int `json:"cores_per_router"`
	Flits          int `json:"flits_per_packet"`

	Ticks      uint64 `json:"ticks"`
	Packets    uint64 `json:"packets"`
	Deliveries uint64 `json:"deliveries"` // packet copies that reached a core
	FlitHops   uint64 `json:"flit_hops"`
	// FlitHops by link class: on-chip X and Y, chip-to-chip.
	FlitHopsX    uint64 `json:"flit_hops_x"`
	FlitHopsY    uint64 `json:"flit_hops_y"`
	FlitHopsChip uint64 `json:"flit_hops_chip"`
	// Failure modes, always counted: messages late past a fixed tick's
	// deadline, messages dropped, emergency detours taken, deadlocks
	// broken (their packets dropped).
	Late      uint64 `json:"late"`
	Dropped   uint64 `json:"dropped"`
	Emergency uint64 `json:"emergency_reroutes"`
	Deadlocks uint64 `json:"deadlocks"`

	MaxQueueFlits int     `json:"max_queue_flits"`
	Latency       Latency `json:"latency_cycles"`
	// DrainCycles is Σ over ticks of each tick's drain time (the cycles
	// the network added to the ticks); DrainMax the longest.
	DrainCycles uint64 `json:"drain_cycles"`
	DrainMax    uint64 `json:"drain_max_cycles"`

	Links []LinkStats `json:"links"`
}

// Latency is a latency distribution in cycles, from injection to the
// arrival of a packet's tail at a destination core.
type Latency struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P50   uint64  `json:"p50"`
	P99   uint64  `json:"p99"`
	Max   uint64  `json:"max"`
	// Histogram[i] counts latencies of i cycles (the last bucket holds
	// every latency beyond it).
	Histogram []uint64 `json:"histogram,omitempty"`
}

// LinkStats are one link's figures.
type LinkStats struct {
	FromX int     `json:"from_x"`
	FromY int     `json:"from_y"`
	Port  string  `json:"port"` // E, W, N or S
	Class string  `json:"class"`
	Flits uint64  `json:"flits"`
	Util  float64 `json:"utilisation"` // busy cycles / run cycles
}

// histogram counts latencies exactly up to maxHist cycles (the last bucket
// holds the longer ones, whose sum and maximum are kept apart).
type histogram struct {
	n       []uint64
	overSum uint64 // Σ of the latencies ≥ maxHist
	overMax uint64
}

const maxHist = 1 << 16

func (h *histogram) add(v uint64) {
	if v < uint64(len(h.n)) {
		h.n[v]++
		return
	}
	h.grow(v)
}

func (h *histogram) grow(v uint64) {
	i := min(v, maxHist)
	if i >= uint64(len(h.n)) {
		h.n = append(h.n, make([]uint64, int(i)+1-len(h.n))...)
	}
	h.n[i]++
	if v >= maxHist {
		h.overSum += v
		h.overMax = max(h.overMax, v)
	}
}

func (h *histogram) latency() Latency {
	l := Latency{Histogram: append([]uint64(nil), h.n...)}
	var sum uint64
	for i, c := range h.n {
		if c == 0 {
			continue
		}
		l.Count += c
		if i < maxHist {
			sum += uint64(i) * c
			l.Max = uint64(i)
		}
	}
	sum += h.overSum
	l.Max = max(l.Max, h.overMax)
	if l.Count == 0 {
		return l
	}
	l.Mean = float64(sum) / float64(l.Count)
	l.P50 = h.quantile(0.5, l.Count)
	l.P99 = h.quantile(0.99, l.Count)
	return l
}

// quantile is the smallest latency with at least q of the counts at or
// below it.
func (h *histogram) quantile(q float64, cnt uint64) uint64 {
	want := uint64(q*float64(cnt) + 0.999999)
	var acc uint64
	for i, c := range h.n {
		acc += c
		if acc >= want {
			return uint64(i)
		}
	}
	return uint64(len(h.n))
}

// Stats implements Network.
func (n *net) Stats(cycles uint64) *Stats {
	st := n.st
	st.FlitHopsX, st.FlitHopsY, st.FlitHopsChip = n.c.flitHops[LinkX], n.c.flitHops[LinkY], n.c.flitHops[LinkChip]
	st.FlitHops = st.FlitHopsX + st.FlitHopsY + st.FlitHopsChip
	st.Emergency = n.c.emergency
	st.Deadlocks = n.c.deadlocks
	st.MaxQueueFlits = n.c.maxQueue
	st.Latency = n.hist.latency()
	st.Links = linkStats(n.topo, n.cfg, n.c.linkFlits, cycles)
	return &st
}

func linkStats(t *Topology, cfg *Config, flits []uint64, cycles uint64) []LinkStats {
	var out []LinkStats
	for node := 0; node < t.Nodes(); node++ {
		for p := East; p <= South; p++ {
			if t.Neighbor(node, p) < 0 {
				continue
			}
			f := flits[node*4+p-1]
			x, y := t.Coord(node)
			ls := LinkStats{FromX: x, FromY: y, Port: portNames[p], Class: t.Class(node, p).String(), Flits: f}
			if cycles > 0 {
				ls.Util = float64(f) * float64(cyclesPerFlit(cfg, t.Class(node, p))) / float64(cycles)
			}
			out = append(out, ls)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].FromY != out[j].FromY {
			return out[i].FromY < out[j].FromY
		}
		return out[i].FromX < out[j].FromX
	})
	return out
}

// cyclesPerFlit is how long a flit occupies a link of class k.
func cyclesPerFlit(cfg *Config, k LinkClass) int {
	if k == LinkChip && cfg.ChipLink.WidthBits > 0 {
		return (cfg.FlitBits + cfg.ChipLink.WidthBits - 1) / cfg.ChipLink.WidthBits
	}
	return 1
}

// hopCycles is the latency of one hop over a link of class k.
func hopCycles(cfg *Config, k LinkClass) int {
	switch k {
	case LinkX:
		return cfg.HopCyclesX
	case LinkY:
		return cfg.HopCyclesY
	}
	return cfg.ChipLink.HopCycles
}
