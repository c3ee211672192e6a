package router

import (
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"
)

// testConfig is a network with distinct X and Y hop cycles and 3-flit
// packets, so that a formula that mixes them up fails.
func testConfig(model string) *Config {
	return &Config{Model: model, Topology: "mesh", Routing: "xy", PacketBits: 80, FlitBits: 32,
		HopCyclesX: 2, HopCyclesY: 3, BufferFlits: 4, VirtualChannels: 1}
}

func ring(d, k int, torus bool) int {
	if d < 0 {
		d = -d
	}
	if torus {
		return min(d, k-d)
	}
	return d
}

// TestZeroLoadLatency: a lone packet takes exactly hops × hop cycles +
// serialisation (F flits) in the detailed model, over every pair of a
// mesh and a torus, and the analytic model agrees.
func TestZeroLoadLatency(t *testing.T) {
	for _, tc := range []struct {
		name  string
		w, h  int
		torus bool
	}{{"mesh 5×4", 5, 4, false}, {"torus 5×4", 5, 4, true}, {"torus 4×6", 4, 6, true}, {"mesh 1×7", 1, 7, false}} {
		for _, model := range []string{"detailed", "analytic"} {
			cfg := testConfig(model)
			if tc.torus {
				cfg.Topology, cfg.VirtualChannels = "torus", 2
			}
			topo, err := NewTopology(tc.w, tc.h, 1, 0, 0, tc.torus)
			if err != nil {
				t.Fatal(err)
			}
			F := cfg.Flits()
			n := newNet(cfg, topo)
			pairs := 0
			for s := 0; s < topo.Nodes(); s++ {
				for d := 0; d < topo.Nodes(); d++ {
					sx, sy := topo.Coord(s)
					dx, dy := topo.Coord(d)
					want := int64(ring(dx-sx, tc.w, tc.torus)*cfg.HopCyclesX + ring(dy-sy, tc.h, tc.torus)*cfg.HopCyclesY + F)
					n.b.reset()
					n.b.addOne(int32(s), int32(d), 5)
					n.model.run(&n.b, &n.c)
					if got := n.b.arrive[0] - 5; got != want {
						t.Fatalf("%s %s: (%d,%d) → (%d,%d): latency %d, want hops × hop cycles + %d flits = %d", tc.name, model, sx, sy, dx, dy, got, F, want)
					}
					if got := ZeroLoadLatency(cfg, topo, s, d, F); int64(got) != want {
						t.Fatalf("%s: ZeroLoadLatency %d, want %d", tc.name, got, want)
					}
					pairs++
				}
			}
			if pairs != topo.Nodes()*topo.Nodes() {
				t.Fatal("pairs")
			}
		}
	}
	// chip-to-chip links: slower hops and ⌈flit_bits / width_bits⌉ cycles
	// per flit at the narrowest link
	cfg := testConfig("detailed")
	cfg.ChipLink = ChipLink{WidthBits: 8, HopCycles: 10}
	topo, err := NewTopology(3, 2, 2, 2, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	n := newNet(cfg, topo)
	for _, tc := range []struct{ sx, sy, dx, dy int }{{0, 0, 5, 1}, {2, 0, 3, 0}, {4, 1, 1, 0}, {3, 1, 5, 0}} {
		s, d := topo.At(tc.sx, tc.sy), topo.At(tc.dx, tc.dy)
		n.b.reset()
		n.b.addOne(int32(s), int32(d), 0)
		n.model.run(&n.b, &n.c)
		chip := 0
		if (tc.sx < 3) != (tc.dx < 3) {
			chip = 1
		}
		k := 1
		if chip == 1 {
			k = 4 // 32-bit flits over an 8-bit link
		}
		want := int64((ring(tc.dx-tc.sx, 6, false)-chip)*cfg.HopCyclesX + chip*cfg.ChipLink.HopCycles + ring(tc.dy-tc.sy, 2, false)*cfg.HopCyclesY + (cfg.Flits()-1)*k + 1)
		if got := n.b.arrive[0]; got != want {
			t.Errorf("(%d,%d) → (%d,%d) over %d chip links: latency %d, want %d", tc.sx, tc.sy, tc.dx, tc.dy, chip, got, want)
		}
	}
}

// TestSaturation: uniform random traffic on a K × K mesh with
// dimension-order routing saturates between 50 % and 100 % of the
// bisection bound 4/K (Dally & Towles), and transpose saturates below it.
func TestSaturation(t *testing.T) {
	for _, k := range []int{4, 8} {
		cfg := BenchConfig("detailed")
		uni, err := Sweep(cfg, SweepOptions{K: k, Pattern: "uniform", Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := Sweep(cfg, SweepOptions{K: k, Pattern: "transpose", Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		frac := uni.Saturation / uni.BisectionBound
		t.Logf("K = %d: uniform saturates at %.3f flits/node/cycle (%.0f %% of 4/K), transpose at %.3f", k, uni.Saturation, 100*frac, tr.Saturation)
		if frac < 0.5 || frac > 1 {
			t.Errorf("K = %d: uniform saturation %.3f = %.2f of the bound %.3f, want 0.5…1", k, uni.Saturation, frac, uni.BisectionBound)
		}
		if tr.Saturation >= uni.Saturation {
			t.Errorf("K = %d: transpose saturates at %.3f, not below uniform's %.3f", k, tr.Saturation, uni.Saturation)
		}
		if uni.Points[0].LatencyMean < uni.ZeroLoad {
			t.Errorf("K = %d: latency %.2f at the lowest load, below the zero-load %.2f", k, uni.Points[0].LatencyMean, uni.ZeroLoad)
		}
	}
}

// analyticTolerance is the agreement asked of the analytic model below half
// of saturation: its M/D/1 waits are an approximation of the flit-level
// queueing, exact only at zero load.
const analyticTolerance = 0.10

// TestAnalyticMatchesDetailed: below half of the detailed model's
// saturation the two models agree on mean latency within 10 %.
func TestAnalyticMatchesDetailed(t *testing.T) {
	for _, k := range []int{4, 8} {
		for _, pat := range []string{"uniform", "transpose", "bitcomplement"} {
			det, err := Sweep(BenchConfig("detailed"), SweepOptions{K: k, Pattern: pat, Seed: 2})
			if err != nil {
				t.Fatal(err)
			}
			var loads []float64
			for _, p := range det.Points {
				if p.Accepted <= det.Saturation/2 {
					loads = append(loads, p.Offered)
				}
			}
			if len(loads) < 2 {
				t.Fatalf("K = %d %s: %d points below half saturation", k, pat, len(loads))
			}
			an, err := Sweep(BenchConfig("analytic"), SweepOptions{K: k, Pattern: pat, Seed: 2, Loads: nominal(det, loads)})
			if err != nil {
				t.Fatal(err)
			}
			for i := range loads {
				d, a := det.Points[i].LatencyMean, an.Points[i].LatencyMean
				if rel := math.Abs(a-d) / d; rel > analyticTolerance {
					t.Errorf("K = %d %s at %.3f flits/node/cycle: analytic %.2f, detailed %.2f cycles (%.0f %% apart)", k, pat, loads[i], a, d, 100*rel)
				}
			}
		}
	}
}

// nominal maps offered loads (as generated) back to the nominal loads of a
// sweep, so that a second sweep offers the same traffic.
func nominal(c *Curve, offered []float64) []float64 {
	var out []float64
	bound := c.BisectionBound
	for i := range offered {
		out = append(out, math.Round(bound*0.075*float64(i+1)*1e4)/1e4)
	}
	return out
}

// BenchmarkDetailed runs the flit-level model on uniform traffic on K × K
// meshes at 60 % of the bisection bound (near saturation, where the
// buffers are full and blocking is frequent) and reports flit-hops per
// second of one core. The traffic is generated once, outside the timing:
// the figure is the simulator's.
func BenchmarkDetailed(b *testing.B) {
	for _, k := range []int{8, 16} {
		b.Run(fmt.Sprintf("mesh=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			cfg := BenchConfig("detailed")
			topo, err := NewTopology(k, k, 1, 0, 0, false)
			if err != nil {
				b.Fatal(err)
			}
			n := newNet(cfg, topo)
			opt := SweepOptions{K: k, Pattern: "uniform", Warmup: 500, Measure: 4000, Seed: 1}
			sweepTraffic(n, topo, opt, 0.6*BisectionBound(k, false))
			var hops uint64
			var el, cpu time.Duration
			runtime.GC()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range n.b.arrive {
					n.b.arrive[j] = -1
				}
				before := n.c.flitHops
				start, c0 := time.Now(), cpuTime()
				n.model.run(&n.b, &n.c)
				el += time.Since(start)
				cpu += cpuTime() - c0
				for c := range before {
					hops += n.c.flitHops[c] - before[c]
				}
			}
			b.ReportMetric(float64(hops)/el.Seconds(), "flit-hops/s")
			if cpu > 0 {
				b.ReportMetric(float64(hops)/cpu.Seconds(), "flit-hops/cpu-s")
			}
		})
	}
}
