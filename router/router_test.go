package router

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
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

// TestConcentration: with K cores per router (a bx × by block of the core
// mesh), a lone packet between two cores takes exactly the hops between
// their routers × hop cycles + serialisation — none between two cores of
// one router — in both models, on a mesh and a torus; the cores of a
// router inject and eject in parallel, each through its own port; and a
// burst between all cores arrives.
func TestConcentration(t *testing.T) {
	for _, tc := range []struct {
		name           string
		cw, ch, bx, by int
		torus          bool
	}{{"mesh 4×4 cores, 2×2 per router", 4, 4, 2, 2, false}, {"mesh 6×2 cores, 2×1 per router", 6, 2, 2, 1, false},
		{"torus 8×4 cores, 2×2 per router", 8, 4, 2, 2, true}, {"mesh 6×4 cores, 3×2 per router", 6, 4, 3, 2, false}} {
		topo, err := NewConcentrated(tc.cw, tc.ch, tc.bx, tc.by, 1, 0, 0, tc.torus)
		if err != nil {
			t.Fatal(err)
		}
		if topo.Cores() != tc.cw*tc.ch || topo.Nodes() != topo.Cores()/(tc.bx*tc.by) {
			t.Fatalf("%s: %d cores on %d routers", tc.name, topo.Cores(), topo.Nodes())
		}
		for _, model := range []string{"detailed", "analytic"} {
			cfg := testConfig(model)
			cfg.CoresPerRouter = tc.bx * tc.by
			if tc.torus {
				cfg.Topology, cfg.VirtualChannels = "torus", 2
			}
			if bx, by := cfg.Block(); bx != tc.bx || by != tc.by {
				t.Fatalf("%s: block %d×%d, want %d×%d", tc.name, bx, by, tc.bx, tc.by)
			}
			F := cfg.Flits()
			n := newNet(cfg, topo)
			for s := 0; s < topo.Cores(); s++ {
				for d := 0; d < topo.Cores(); d++ {
					// the core mesh position of both, then their routers'
					sx, sy := s%tc.cw/tc.bx, s/tc.cw/tc.by
					dx, dy := d%tc.cw/tc.bx, d/tc.cw/tc.by
					want := int64(ring(dx-sx, topo.NX, tc.torus)*cfg.HopCyclesX + ring(dy-sy, topo.NY, tc.torus)*cfg.HopCyclesY + F)
					n.b.reset()
					n.b.addOne(int32(s), int32(d), 3)
					n.model.run(&n.b, &n.c)
					if got := n.b.arrive[0] - 3; got != want {
						t.Fatalf("%s %s: core %d → core %d: latency %d, want %d", tc.name, model, s, d, got, want)
					}
				}
			}
		}
		// the cores of a router have ports of their own: each sending a
		// packet to the next core of the router at once, all arrive after
		// the serialisation alone (shared ports would queue them)
		cfg := testConfig("detailed")
		cfg.CoresPerRouter = tc.bx * tc.by
		if tc.torus {
			cfg.Topology, cfg.VirtualChannels = "torus", 2
		}
		n := newNet(cfg, topo)
		K := topo.K
		for r := 0; r < topo.Nodes(); r++ {
			n.b.reset()
			for l := 0; l < K; l++ {
				n.b.addOne(int32(topo.CoreAt(r, l)), int32(topo.CoreAt(r, (l+1)%K)), 0)
			}
			n.model.run(&n.b, &n.c)
			for i, a := range n.b.arrive {
				if a != int64(cfg.Flits()) {
					t.Fatalf("%s: router %d, core %d → core %d with the router's other cores sending: latency %d, want %d", tc.name, r, topo.CoreAt(r, i), topo.CoreAt(r, (i+1)%K), a, cfg.Flits())
				}
			}
		}
		// a burst from every core to every other is carried
		n.b.reset()
		for s := 0; s < topo.Cores(); s++ {
			for d := 0; d < topo.Cores(); d++ {
				n.b.addOne(int32(s), int32(d), int64((s*7+d)%5))
			}
		}
		n.model.run(&n.b, &n.c)
		if slices.Contains(n.b.arrive, -1) {
			t.Errorf("%s: a packet of the burst did not arrive", tc.name)
		}
	}
	// a concentration whose block does not tile the mesh is refused,
	// naming the key and the values
	cfg := testConfig("detailed")
	cfg.CoresPerRouter = 4
	errs := cfg.ValidateSystem(System{Chips: 1, W: 6, H: 3})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "noc.cores_per_router = 4: want a block of 2 × 2 cores per router that tiles the 6 × 3 mesh") {
		t.Errorf("untiled mesh: %v", errs)
	}
	cfg.CoresPerRouter = MaxCoresPerRouter + 1
	if errs := cfg.Validate(1); len(errs) != 1 || !strings.Contains(errs[0].Error(), "noc.cores_per_router = 13: want 0…12") {
		t.Errorf("too many cores per router: %v", errs)
	}
	if _, err := New(cfg, System{Chips: 1, W: 4, H: 4}, nil); err == nil || !strings.Contains(err.Error(), "cores_per_router") {
		t.Errorf("New with a bad concentration: %v", err)
	}
}
