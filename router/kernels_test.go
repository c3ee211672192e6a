package router

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDetailedMatchesReference holds the flit-level model, both its fast
// and its general kernel, to the reference (ref_detailed_test.go, the
// model before the fast kernel and concentration) cycle for cycle: on random meshes, tori, chip grids, buffer depths, packet sizes,
// hop cycles, virtual channels, reroute policies and table routing, under
// bursts and Bernoulli traffic, every packet copy arrives at the same
// cycle and every counter (flit-hops per class and link, deepest queue,
// detours, deadlocks) is the same.
func TestDetailedMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	cases := 120
	if testing.Short() {
		cases = 30
	}
	for i := 0; i < cases; i++ {
		w, h := 1+rng.IntN(6), 1+rng.IntN(6)
		chips, gx, gy := 1, 0, 0
		if rng.IntN(4) == 0 {
			gx, gy = 1+rng.IntN(2), 1+rng.IntN(2)
			chips = gx * gy
		}
		torus := rng.IntN(4) == 0
		cfg := &Config{Model: "detailed", Topology: "mesh", Routing: "xy", PacketBits: 1 + rng.IntN(200), FlitBits: 32,
			HopCyclesX: 1 + rng.IntN(4), HopCyclesY: 1 + rng.IntN(4), BufferFlits: 1 + rng.IntN(9), VirtualChannels: 1,
			ChipLink: ChipLink{WidthBits: []int{8, 16, 32}[rng.IntN(3)], HopCycles: 1 + rng.IntN(20)}}
		if torus {
			cfg.Topology, cfg.VirtualChannels = "torus", 2
		}
		if rng.IntN(5) == 0 {
			cfg.Blocked, cfg.Wait1Cycles, cfg.Wait2Cycles = "reroute", 1+rng.IntN(8), 1+rng.IntN(8)
		}
		table := rng.IntN(4) == 0
		if table {
			cfg.Routing, cfg.TableEntries = "table", 1<<12
		}
		burst := rng.IntN(2) == 0
		load := 0.05 + rng.Float64()*0.6
		name := fmt.Sprintf("case %d: %d×%d×%d chips torus=%v F=%d B=%d hops %d/%d/%d reroute=%v table=%v burst=%v load %.2f",
			i, w, h, chips, torus, cfg.Flits(), cfg.BufferFlits, cfg.HopCyclesX, cfg.HopCyclesY, cfg.ChipLink.HopCycles, cfg.Blocked != "", table, burst, load)
		topo, err := NewTopology(w, h, chips, gx, gy, torus)
		if err != nil {
			t.Fatal(err)
		}
		var rt *Routes
		if table {
			if rt, err = GenerateTables(topo, stripes(topo), cfg.TableEntries); err != nil {
				t.Fatal(err)
			}
		}
		got, want, gen := newNet(cfg, topo), newNet(cfg, topo), newNet(cfg, topo)
		got.rt, want.rt, gen.rt = rt, rt, rt
		gen.model.(*detailed).general = true // the general kernel where the fast one would run
		ref := refNewDetailed(cfg, topo, want)
		seed := rng.Uint64()
		for run := 0; run < 3; run++ { // state left by one run must not leak into the next
			fill := func(n *net) {
				r := rand.New(rand.NewPCG(seed, uint64(run)))
				b := &n.b
				b.reset()
				b.burst = burst
				cycles := 1 + r.IntN(300)
				if burst {
					cycles = 1
				}
				for c := 0; c < cycles; c++ {
					for s := 0; s < topo.Nodes(); s++ {
						if !burst && r.Float64() >= load/float64(cfg.Flits()) {
							continue
						}
						copies := 1
						if burst {
							copies = r.IntN(4)
						}
						for ; copies > 0; copies-- {
							if table {
								g := int32(r.IntN(len(rt.trees)))
								b.add(rt.trees[g].src, g, int64(c), rt.trees[g].dests...)
							} else {
								b.addOne(int32(s), int32(r.IntN(topo.Nodes())), int64(c))
							}
						}
					}
				}
			}
			fill(got)
			fill(want)
			fill(gen)
			if len(got.b.pkts) == 0 {
				continue
			}
			got.model.run(&got.b, &got.c)
			gen.model.run(&gen.b, &gen.c)
			ref.run(&want.b, &want.c)
			if !slices.Equal(gen.b.arrive, want.b.arrive) || gen.c.flitHops != want.c.flitHops || gen.c.maxQueue != want.c.maxQueue || !slices.Equal(gen.c.linkFlits, want.c.linkFlits) {
				t.Fatalf("%s, run %d: the general kernel differs from the reference", name, run)
			}
			if !slices.Equal(got.b.arrive, want.b.arrive) {
				for j := range got.b.arrive {
					if got.b.arrive[j] != want.b.arrive[j] {
						t.Fatalf("%s, run %d: packet copy %d of %d arrives at %d, reference %d", name, run, j, len(got.b.arrive), got.b.arrive[j], want.b.arrive[j])
					}
				}
			}
			gc, wc := got.c, want.c
			if gc.flitHops != wc.flitHops || gc.maxQueue != wc.maxQueue || gc.emergency != wc.emergency || gc.deadlocks != wc.deadlocks || !slices.Equal(gc.linkFlits, wc.linkFlits) {
				t.Fatalf("%s, run %d: counters %v %d %d %d, reference %v %d %d %d", name, run, gc.flitHops, gc.maxQueue, gc.emergency, gc.deadlocks, wc.flitHops, wc.maxQueue, wc.emergency, wc.deadlocks)
			}
		}
	}
}
