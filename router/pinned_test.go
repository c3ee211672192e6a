package router

import (
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
)

// TestDetailedPinned pins what the flit-level model computes, not just its
// properties: for 42 runs (four traffic patterns at four loads on a mesh
// and a torus with dateline channels; emergency reroutes, two-flit
// buffers, unequal hop cycles, two virtual channels on a mesh, one-flit
// packets) every copy's arrival cycle, the flit-hops per link class and
// per link, the deepest queue and the reroute count are hashed and
// compared with testdata/detailed_pinned.txt. A change to the model's
// speed must leave the file as it is; a change to its behaviour rewrites
// it with -update and says why in the commit.
func TestDetailedPinned(t *testing.T) {
	type run struct {
		name    string
		k       int
		torus   bool
		pattern string
		load    float64 // of the bisection bound
		mod     func(c *Config)
	}
	var runs []run
	for _, p := range []string{"uniform", "transpose", "hotspot", "bitcomplement"} {
		for _, l := range []float64{0.2, 0.6, 1.0, 1.4} {
			runs = append(runs, run{fmt.Sprintf("mesh8 %s %.1f", p, l), 8, false, p, l, nil})
			runs = append(runs, run{fmt.Sprintf("torus8 %s %.1f", p, l), 8, true, p, l, func(c *Config) { c.Topology, c.VirtualChannels = "torus", 2 }})
		}
	}
	for _, l := range []float64{0.6, 1.2} {
		runs = append(runs,
			run{fmt.Sprintf("mesh6 reroute %.1f", l), 6, false, "uniform", l, func(c *Config) { c.Blocked, c.Wait1Cycles, c.Wait2Cycles = "reroute", 3, 6 }},
			run{fmt.Sprintf("mesh6 buf2 %.1f", l), 6, false, "uniform", l, func(c *Config) { c.BufferFlits = 2 }},
			run{fmt.Sprintf("mesh6 hop2x3 %.1f", l), 6, false, "transpose", l, func(c *Config) { c.HopCyclesX, c.HopCyclesY = 2, 3 }},
			run{fmt.Sprintf("mesh6 vc2 %.1f", l), 6, false, "uniform", l, func(c *Config) { c.VirtualChannels = 2 }},
			run{fmt.Sprintf("mesh5 1flit %.1f", l), 5, false, "uniform", l, func(c *Config) { c.PacketBits = 32 }})
	}
	var got strings.Builder
	for _, r := range runs {
		cfg := BenchConfig("detailed")
		if r.mod != nil {
			r.mod(cfg)
		}
		topo, err := NewTopology(r.k, r.k, 1, 0, 0, r.torus)
		if err != nil {
			t.Fatal(err)
		}
		n := newNet(cfg, topo)
		opt := SweepOptions{K: r.k, Torus: r.torus, Pattern: r.pattern, Warmup: 300, Measure: 2000, Seed: 7}
		sweepTraffic(n, topo, opt, r.load*BisectionBound(r.k, r.torus))
		n.model.run(&n.b, &n.c)
		h := fnv.New64a()
		fmt.Fprint(h, n.b.arrive, n.c.flitHops, n.c.linkFlits, n.c.maxQueue, n.c.emergency, n.c.deadlocks)
		fmt.Fprintf(&got, "%-22s %016x flit-hops %v, max queue %d, reroutes %d\n", r.name, h.Sum64(), n.c.flitHops, n.c.maxQueue, n.c.emergency)
	}
	golden(t, "detailed_pinned.txt", got.String())
}
