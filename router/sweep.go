package router

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Patterns are the synthetic traffic patterns of Sweep (Dally & Towles,
// Principles and Practices of Interconnection Networks, ch. 3): uniform
// random destinations; transpose (x, y) → (y, x) (the diagonal does not
// send); bit complement (x, y) → (K−1−x, K−1−y); hotspot: a fifth of the
// packets to the router at (K/2, K/2), the rest uniform.
var Patterns = []string{"uniform", "transpose", "bitcomplement", "hotspot"}

// SweepOptions say what a latency–load sweep offers the network.
type SweepOptions struct {
	K       int // a K × K grid of routers (one chip)
	Torus   bool
	Pattern string
	// Loads are the offered loads, in flits per node per cycle (Bernoulli
	// injection of packets at Load / flits per cycle); nil: 16 points from
	// 5 % to 120 % of the bisection bound (at most 1).
	Loads []float64
	// Warmup and Measure are the cycles before and of the measurement
	// window: latency is measured over the packets created in the window,
	// accepted throughput over the flits delivered in it.
	Warmup, Measure int
	Seed            uint64
}

// Point is one offered load of a sweep.
type Point struct {
	Offered     float64 `json:"offered"`  // flits per node per cycle, generated in the window
	Accepted    float64 `json:"accepted"` // flits per node per cycle, delivered in the window
	LatencyMean float64 `json:"latency_mean"`
	LatencyP99  float64 `json:"latency_p99"`
}

// Curve is the result of a sweep.
type Curve struct {
	K       int    `json:"k"`
	Torus   bool   `json:"torus"`
	Pattern string `json:"pattern"`
	Model   string `json:"model"`
	Flits   int    `json:"flits_per_packet"`
	// Saturation is the largest accepted throughput of the sweep; the
	// bisection bound is 4/K flits per node per cycle on a mesh, 8/K on a
	// torus, under uniform traffic (at most 1: one ejection port).
	Saturation     float64 `json:"saturation_flits_per_node_cycle"`
	BisectionBound float64 `json:"bisection_bound_flits_per_node_cycle"`
	ZeroLoad       float64 `json:"zero_load_latency_cycles"` // mean over the pattern's pairs: hops × hop cycles + serialisation
	Points         []Point `json:"points"`
	FlitHops       uint64  `json:"flit_hops"`
	WallS          float64 `json:"wall_s"`
	// Network are the figures of the run at the highest offered load below
	// saturation (link utilisation, latency histogram) for plots.
	Network *Stats `json:"network,omitempty"`
}

// BisectionBound is the uniform-traffic throughput bound of a K × K mesh
// (4/K) or torus (8/K), capped at one flit per node per cycle.
func BisectionBound(k int, torus bool) float64 {
	b := 4 / float64(k)
	if torus {
		b = 8 / float64(k)
	}
	return math.Min(1, b)
}

// dest is the destination of a packet from src under a pattern, or −1
// (the source does not send).
func dest(t *Topology, pattern string, src int, rng *rand.Rand) int {
	x, y := t.Coord(src)
	k := t.NX
	uniform := func() int {
		d := rng.IntN(t.Nodes() - 1)
		if d >= src {
			d++
		}
		return d
	}
	switch pattern {
	case "transpose":
		if x == y {
			return -1
		}
		return t.At(y, x)
	case "bitcomplement":
		d := t.At(k-1-x, t.NY-1-y)
		if d == src {
			return -1
		}
		return d
	case "hotspot":
		h := t.At(k/2, t.NY/2)
		if rng.IntN(5) == 0 && h != src {
			return h
		}
		return uniform()
	}
	return uniform()
}

// Sweep offers synthetic traffic at each load to the network cfg describes
// on a K × K grid (model "detailed" or "analytic") and measures the
// latency–load curve.
func Sweep(cfg *Config, opt SweepOptions) (*Curve, error) {
	c := *cfg
	if c.IsIdeal() {
		return nil, fmt.Errorf("router: sweep: model %q: want analytic or detailed", c.Model)
	}
	if c.Routing == "table" {
		c.Routing = "xy" // synthetic traffic is destination-addressed
	}
	if opt.Torus {
		c.Topology = "torus"
		c.VirtualChannels = max(c.VirtualChannels, 2)
	}
	if !slices.Contains(Patterns, opt.Pattern) {
		return nil, fmt.Errorf("router: sweep: pattern %q: want one of %v", opt.Pattern, Patterns)
	}
	if opt.K < 2 || opt.K > 64 {
		return nil, fmt.Errorf("router: sweep: K = %d: want 2…64", opt.K)
	}
	if errs := c.Validate(1); len(errs) > 0 {
		return nil, fmt.Errorf("router: sweep: %w", joinErrs(errs))
	}
	if opt.Warmup <= 0 {
		opt.Warmup = 1000
	}
	if opt.Measure <= 0 {
		opt.Measure = 4000
	}
	topo, err := NewTopology(opt.K, opt.K, 1, 0, 0, opt.Torus)
	if err != nil {
		return nil, err
	}
	bound := BisectionBound(opt.K, opt.Torus)
	loads := opt.Loads
	if loads == nil {
		for i := 1; i <= 16; i++ {
			if l := bound * 0.075 * float64(i); l <= 1 {
				loads = append(loads, math.Round(l*1e4)/1e4)
			}
		}
	}
	F := c.Flits()
	cv := &Curve{K: opt.K, Torus: opt.Torus, Pattern: opt.Pattern, Model: c.Model, Flits: F, BisectionBound: bound}
	cv.ZeroLoad = zeroLoad(&c, topo, opt.Pattern)
	start := time.Now()
	for _, load := range loads {
		n := newNet(&c, topo)
		pt, st := sweepPoint(n, topo, opt, load)
		cv.Points = append(cv.Points, pt)
		cv.FlitHops += st.FlitHops
		cv.Saturation = math.Max(cv.Saturation, pt.Accepted)
		if pt.Accepted >= 0.95*pt.Offered {
			cv.Network = st
		}
	}
	cv.WallS = time.Since(start).Seconds()
	return cv, nil
}

// zeroLoad is the mean zero-load latency over the pattern's pairs.
func zeroLoad(c *Config, t *Topology, pattern string) float64 {
	var sum float64
	var n int
	F := c.Flits()
	for s := 0; s < t.Nodes(); s++ {
		var ds []int
		switch pattern {
		case "uniform", "hotspot":
			// hotspot's zero-load mean is the uniform one to first order
			for d := 0; d < t.Nodes(); d++ {
				if d != s {
					ds = append(ds, d)
				}
			}
		default:
			if d := dest(t, pattern, s, nil); d >= 0 {
				ds = append(ds, d)
			}
		}
		for _, d := range ds {
			sum += float64(ZeroLoadLatency(c, t, s, d, F))
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// ZeroLoadLatency is the latency of a lone packet of F flits from src to
// dst under dimension-order routing: Σ hop cycles of its links +
// serialisation, (F − 1)·(cycles per flit of its narrowest link) + 1.
func ZeroLoadLatency(c *Config, t *Topology, src, dst, F int) int {
	lat, kmax := 0, 1
	for cur := src; cur != dst; {
		p := t.xyPort(cur, dst)
		cl := t.Class(cur, p)
		lat += hopCycles(c, cl)
		kmax = max(kmax, cyclesPerFlit(c, cl))
		cur = t.Neighbor(cur, p)
	}
	return lat + (F-1)*kmax + 1
}

// sweepTraffic fills n's batch with the packets of one offered load:
// Bernoulli injection at every router and cycle of the run.
func sweepTraffic(n *net, t *Topology, opt SweepOptions, load float64) {
	F := n.cfg.Flits()
	rng := rand.New(rand.NewPCG(opt.Seed, uint64(math.Float64bits(load))))
	p := load / float64(F) // packets per node per cycle
	end := opt.Warmup + opt.Measure
	b := &n.b
	b.reset()
	for cyc := 0; cyc < end; cyc++ {
		for s := 0; s < t.Nodes(); s++ {
			if rng.Float64() >= p {
				continue
			}
			d := dest(t, opt.Pattern, s, rng)
			if d < 0 {
				continue
			}
			b.addOne(int32(s), int32(d), int64(cyc))
		}
	}
}

func sweepPoint(n *net, t *Topology, opt SweepOptions, load float64) (Point, *Stats) {
	F := n.cfg.Flits()
	end := opt.Warmup + opt.Measure
	b := &n.b
	sweepTraffic(n, t, opt, load)
	pt := Point{Offered: load}
	if len(b.pkts) == 0 {
		return pt, n.Stats(uint64(end))
	}
	n.model.run(b, &n.c)
	var h histogram
	var flits, offered uint64
	lo, hi := int64(opt.Warmup), int64(end)
	for i := range b.pkts {
		pk := &b.pkts[i]
		if pk.inject >= lo && pk.inject < hi {
			offered += uint64(F)
		}
		a := b.arrive[pk.d0]
		if a < 0 {
			continue
		}
		if pk.inject >= lo && pk.inject < hi {
			h.add(uint64(a - pk.inject))
			n.hist.add(uint64(a - pk.inject))
		}
		if a > lo && a <= hi {
			flits += uint64(F)
		}
	}
	n.st.Packets = uint64(len(b.pkts))
	// offered as generated (a pattern whose nodes do not all send offers
	// less than the nominal load), so that offered and accepted compare
	pt.Offered = float64(offered) / float64(t.Nodes()*opt.Measure)
	pt.Accepted = float64(flits) / float64(t.Nodes()*opt.Measure)
	l := h.latency()
	pt.LatencyMean, pt.LatencyP99 = l.Mean, float64(l.P99)
	return pt, n.Stats(uint64(end))
}

// BenchConfig is the network of aerie bench noc: 1-cycle hops, packets of
// 4 flits of 32 bits, 8-flit input buffers, one virtual channel (two on a
// torus) — the textbook router of Dally & Towles' curves.
func BenchConfig(model string) *Config {
	return &Config{Model: model, Topology: "mesh", Routing: "xy", PacketBits: 128, FlitBits: 32,
		HopCyclesX: 1, HopCyclesY: 1, BufferFlits: 8, VirtualChannels: 1}
}
