package chip_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
	"github.com/aerie-neuro/aerie/internal/bench"
)

// cubaTicks is how long the NoC tests run CUBA: 0.2 s of biological time
// at dt = 0.1 ms, long enough for the network to be in its regime.
const cubaTicks = 2000

type netSpike struct {
	tick     uint64
	pop, idx int
}

// runCUBA compiles CUBA for cfg and runs it, returning the spikes by
// (tick, population, member) — independent of placement — and the stats.
func runCUBA(t *testing.T, cfg *chip.Config, workers int) ([]netSpike, chip.Stats) {
	t.Helper()
	net, err := bench.CUBANetwork(1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	prog, pl, err := firmware.Compile(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := chip.Load(cfg, prog, chip.Options{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	var out []netSpike
	s.ObserveSpikes(func(tick uint64, core int, neurons []uint32) {
		for _, n := range neurons {
			p, i, ok := pl.Owner(chip.NeuronRef{Core: uint32(core), Neuron: n})
			if !ok {
				t.Fatalf("spike of an unplaced neuron: core %d neuron %d", core, n)
			}
			out = append(out, netSpike{tick, p, i})
		}
	})
	if err := s.Run(context.Background(), cubaTicks); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b netSpike) int {
		if a.tick != b.tick {
			return int(a.tick) - int(b.tick)
		}
		if a.pop != b.pop {
			return a.pop - b.pop
		}
		return a.idx - b.idx
	})
	return out, s.Stats()
}

func withNoC(cfg *chip.Config, model string) *chip.Config {
	c := *cfg
	c.NoC.Model = model
	return &c
}

// coreCounts are the counts the cores make (the network's rows zeroed).
func coreCounts(c chip.Counts) chip.Counts {
	c.HopsX, c.HopsY, c.HopsChip, c.Late, c.Dropped = 0, 0, 0, 0, 0
	return c
}

// TestNoCBitIdentical: with no failure mode enabled, the analytic and the
// detailed network change a CUBA run's cycles and energy, never its
// spikes, on 1 and 2 workers; and their figures do not depend on the
// worker count.
func TestNoCBitIdentical(t *testing.T) {
	base := chip.Default()
	want, ideal := runCUBA(t, base, 1)
	if len(want) == 0 {
		t.Fatal("CUBA did not spike")
	}
	for _, model := range []string{"analytic", "detailed", "analytic table", "detailed table"} {
		cfg := withNoC(base, strings.Fields(model)[0])
		if strings.HasSuffix(model, "table") {
			// key/mask multicast: one packet per spike, replicated in the routers
			cfg.NoC.Routing, cfg.NoC.TableEntries = "table", 1024
		}
		var first chip.Stats
		for _, w := range []int{1, 2} {
			got, st := runCUBA(t, cfg, w)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, %d workers: %d spikes differ from the ideal network's %d", model, w, len(got), len(want))
			}
			if coreCounts(st.Counts) != ideal.Counts {
				t.Errorf("%s, %d workers: core counts %+v, ideal %+v", model, w, coreCounts(st.Counts), ideal.Counts)
			}
			packets := st.Counts.Messages // one per message; with tables one per spike
			if cfg.NoC.Routing == "table" {
				packets = st.Counts.NeuronFire + st.Counts.Generated
			}
			if st.NoC == nil || st.NoC.Packets != packets || st.NoC.FlitHops == 0 || st.Counts.HopsX+st.Counts.HopsY != st.NoC.FlitHops {
				t.Fatalf("%s: network stats %+v, messages %d", model, st.NoC, st.Counts.Messages)
			}
			if st.InterconnectCycles == 0 || st.Cycles <= ideal.Cycles || st.Energy.Interconnect <= 0 {
				t.Errorf("%s: network cycles %d, cycles %d (ideal %d), energy %v: want the network to cost time and energy",
					model, st.InterconnectCycles, st.Cycles, ideal.Cycles, st.Energy.Interconnect)
			}
			if st.Counts.Late != 0 || st.Counts.Dropped != 0 {
				t.Errorf("%s: %d late, %d dropped with no failure mode", model, st.Counts.Late, st.Counts.Dropped)
			}
			if w == 1 {
				first = st
			} else if !reflect.DeepEqual(first, st) {
				t.Errorf("%s: statistics depend on the worker count", model)
			}
		}
		t.Logf("%s: %d packets, %d flit-hops, latency p50 %d p99 %d max %d cycles, drain max %d, max queue %d flits",
			model, first.NoC.Packets, first.NoC.FlitHops, first.NoC.Latency.P50, first.NoC.Latency.P99, first.NoC.Latency.Max,
			first.NoC.DrainMax, first.NoC.MaxQueueFlits)
	}
}

// TestFourLoihiChips runs CUBA over a 2×2 board of loihi chips: the spikes
// are those of one chip, and the chip-to-chip traffic is reported on its
// own.
func TestFourLoihiChips(t *testing.T) {
	one, err := chip.Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := runCUBA(t, one, 1)
	four := *one
	four.Chips = 4
	four.NoC.ChipsX, four.NoC.ChipsY = 2, 2
	if err := four.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{"analytic", "detailed"} {
		got, st := runCUBA(t, withNoC(&four, model), 2)
		if st.Counts.Dropped != 0 || st.NoC.Deadlocks != 0 {
			t.Fatalf("%s: %d messages dropped, %d deadlocks", model, st.Counts.Dropped, st.NoC.Deadlocks)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: four chips give %d spikes, one chip %d (or different ones)", model, len(got), len(want))
		}
		if st.Counts.HopsChip == 0 || st.NoC.FlitHopsChip != st.Counts.HopsChip || st.NoC.FlitHopsX == 0 {
			t.Errorf("%s: chip-to-chip flit-hops %d (stats %d), on-chip x %d: want chip-to-chip traffic counted apart",
				model, st.Counts.HopsChip, st.NoC.FlitHopsChip, st.NoC.FlitHopsX)
		}
		var chipLinks int
		for _, l := range st.NoC.Links {
			if l.Class == "chip" {
				chipLinks++
			}
		}
		bx, by := four.NoC.Block() // the routers of one chip: rx × ry (Loihi's 8×4 tiles)
		rx, ry := four.Mesh.Width/bx, four.Mesh.Height/by
		if st.NoC.Routers != 4*rx*ry || chipLinks != 2*(2*rx+2*ry) {
			t.Errorf("%s: %d routers, %d chip-to-chip links; want %d and %d", model, st.NoC.Routers, chipLinks, 4*rx*ry, 2*(2*rx+2*ry))
		}
		t.Logf("%s: %d flit-hops, %d of them chip-to-chip; energy on links %.3g J", model, st.NoC.FlitHops, st.NoC.FlitHopsChip, st.Energy.Interconnect)
	}
}

// TestNoCLoadErrors: a [noc] section that cannot work is refused when the
// description is parsed or the program loaded, naming the field, router or
// link and the limit.
func TestNoCLoadErrors(t *testing.T) {
	src, err := chip.PresetSource("loihi")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"zero width", "flit_bits = 32", "flit_bits = 0", "noc.flit_bits = 0: want 1…4096"},
		{"zero depth", "buffer_flits = 4", "buffer_flits = 0", "noc.buffer_flits = 0: want 1…65536"},
		{"zero chip link", "width_bits = 8", "width_bits = 0\n[noc.x]", "unknown"},
		{"grid", "model = \"analytic\"", "model = \"analytic\"\nchips_x = 3\nchips_y = 2", "chips_x × chips_y = 3 × 2 = 6 does not fit chips = 1"},
		{"torus without channels", "topology = \"mesh\"", "topology = \"torus\"", "noc.virtual_channels = 1: want 2 with topology = \"torus\""},
		{"unknown key", "late = \"count\"", "late = \"count\"\nlatee = 1", "latee"},
		{"bad model", "model = \"analytic\"", "model = \"exact\"", "noc.model = \"exact\": want one of"},
	} {
		_, err := chip.ParseConfig("x.toml", strings.Replace(src, tc.old, tc.new, 1))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	// over-capacity tables: a CUBA program on a spinnaker chip with tiny tables
	sp, err := chip.Preset("spinnaker")
	if err != nil {
		t.Fatal(err)
	}
	sp.NoC.TableEntries = 1
	net, err := bench.CUBANetwork(1, sp)
	if err != nil {
		t.Fatal(err)
	}
	prog, _, err := firmware.Compile(net, sp)
	if err != nil {
		t.Fatal(err)
	}
	_, err = chip.Load(sp, prog, chip.Options{})
	if err == nil || !strings.Contains(err.Error(), "router (") || !strings.Contains(err.Error(), "table entries, has 1 (noc.table_entries)") {
		t.Errorf("over-capacity tables: %v", err)
	}
}

// TestEventTable holds the columns (Counts, CycleCosts, EnergyCosts) to the
// one table of counted events.
func TestEventTable(t *testing.T) {
	counts := reflect.TypeOf(chip.Counts{})
	cyc := reflect.TypeOf(chip.CycleCosts{})
	en := reflect.TypeOf(chip.EnergyCosts{})
	if counts.NumField() != chip.NumEvents || cyc.NumField() != chip.NumCycleEvents || en.NumField() != chip.NumEnergyEvents {
		t.Fatalf("fields %d, %d, %d; table %d, %d, %d", counts.NumField(), cyc.NumField(), en.NumField(), chip.NumEvents, chip.NumCycleEvents, chip.NumEnergyEvents)
	}
	for i, ev := range chip.Events {
		if tag := strings.Split(counts.Field(i).Tag.Get("json"), ",")[0]; tag != ev.Name {
			t.Errorf("row %d: Counts field %s is %q, table %q", i, counts.Field(i).Name, tag, ev.Name)
		}
		if ev.Cycle >= 0 && cyc.Field(ev.Cycle).Tag.Get("toml") != ev.Key {
			t.Errorf("row %d (%s): cycle column %d is %q", i, ev.Name, ev.Cycle, cyc.Field(ev.Cycle).Tag.Get("toml"))
		}
		if ev.Energy >= 0 && en.Field(ev.Energy).Tag.Get("toml") != ev.Key {
			t.Errorf("row %d (%s): energy column %d is %q", i, ev.Name, ev.Energy, en.Field(ev.Energy).Tag.Get("toml"))
		}
		if (ev.Cycle >= 0 && i >= chip.NumCycleEvents) || (ev.Cycle < 0 && i < chip.NumCycleEvents) {
			t.Errorf("row %d (%s): the cycle-priced events are the first %d rows", i, ev.Name, chip.NumCycleEvents)
		}
	}
	// a priced cost out of range is named by its key
	cfg := chip.Default()
	cfg.Cost.EnergyPJ.HopY = -1
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "cost.energy_pj.hop_y = -1: want 0 ≤ pJ < 1e9") {
		t.Errorf("negative hop energy: %v", err)
	}
}

// BenchmarkCUBANoC runs BenchmarkCUBA's workload (10 s of CUBA on the
// default chip, one worker) under each network model: the analytic model
// must add at most 20 % to the ideal network's wall time.
func BenchmarkCUBANoC(b *testing.B) {
	for _, model := range []string{"ideal", "analytic", "detailed"} {
		b.Run(model, func(b *testing.B) {
			cfg := withNoC(chip.Default(), model)
			var rtf float64
			for i := 0; i < b.N; i++ {
				r, err := bench.RunCUBA(context.Background(), 1, cfg, 10, 1)
				if err != nil {
					b.Fatal(err)
				}
				rtf += *r.RTF
			}
			b.ReportMetric(rtf/float64(b.N), "rtf")
		})
	}
}

// TestNoCFailureModes: late and dropped packets are counted, and change
// which spikes arrive only when the description enables them.
func TestNoCFailureModes(t *testing.T) {
	base := chip.Default()
	want, _ := runCUBA(t, base, 1)
	// a fixed tick whose deadline the network misses
	fixed := withNoC(base, "analytic")
	fixed.Sync, fixed.TickCycles = "fixed", 1500 // the cores take 1300–1900 cycles a tick
	got, st := runCUBA(t, fixed, 2)
	if st.Counts.Late == 0 || st.NoC.Late != st.Counts.Late {
		t.Fatalf("fixed tick: %d late (network %d), want some", st.Counts.Late, st.NoC.Late)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("late = \"count\" changed the spikes")
	}
	drop := *fixed
	drop.NoC.Late = "drop"
	got2, st2 := runCUBA(t, &drop, 2)
	if st2.Counts.Late != st.Counts.Late && len(got2) == len(got) {
		t.Logf("late counts differ once spikes change: %d vs %d", st2.Counts.Late, st.Counts.Late)
	}
	if reflect.DeepEqual(got2, want) {
		t.Errorf("late = \"drop\" with %d late messages left every spike unchanged", st2.Counts.Late)
	}
	if st2.Counts.InputSpikes >= st.Counts.InputSpikes {
		t.Errorf("dropping late messages: %d input spikes, %d when counting only", st2.Counts.InputSpikes, st.Counts.InputSpikes)
	}
	// SpiNNaker's policy: emergency detour after wait1, dropped after wait2
	for _, model := range []string{"analytic", "detailed"} {
		sp := withNoC(base, model)
		sp.NoC.Blocked, sp.NoC.Wait1Cycles, sp.NoC.Wait2Cycles = "reroute", 1, 1
		sp.NoC.BufferFlits = 1
		got3, st3 := runCUBA(t, sp, 1)
		if st3.NoC.Emergency == 0 || st3.Counts.Dropped == 0 || st3.NoC.Dropped != st3.Counts.Dropped {
			t.Errorf("%s reroute: %d emergency detours, %d dropped (network %d): want both counted", model, st3.NoC.Emergency, st3.Counts.Dropped, st3.NoC.Dropped)
		}
		if reflect.DeepEqual(got3, want) {
			t.Errorf("%s: %d dropped messages left every spike unchanged", model, st3.Counts.Dropped)
		}
		_, st4 := runCUBA(t, sp, 2)
		if !reflect.DeepEqual(st3, st4) {
			t.Errorf("%s reroute: statistics depend on the worker count", model)
		}
		t.Logf("%s reroute: %d emergency detours, %d messages dropped", model, st3.NoC.Emergency, st3.Counts.Dropped)
	}
}

// TestNoCConcentration runs CUBA on a loihi chip whose cores share routers
// four by four (noc.cores_per_router = 4: Loihi's 8×4 tiles of 4 cores)
// under both models and both routings: the spikes are the ideal network's,
// the network has 32 routers, and packets between the cores of one tile
// take no hop, so the flit-hops are fewer than with a router per core.
func TestNoCConcentration(t *testing.T) {
	one, err := chip.Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	ideal := withNoC(one, "ideal")
	want, _ := runCUBA(t, ideal, 1)
	for _, model := range []string{"analytic", "detailed", "analytic table", "detailed table"} {
		per := withNoC(one, strings.Fields(model)[0])
		per.NoC.CoresPerRouter = 0 // the baseline: a router per core (the preset has Loihi's tiles)
		if strings.HasSuffix(model, "table") {
			per.NoC.Routing, per.NoC.TableEntries = "table", 4096
		}
		tile := *per
		tile.NoC.CoresPerRouter = 4
		if err := tile.Validate(); err != nil {
			t.Fatal(err)
		}
		_, base := runCUBA(t, per, 1)
		got, st := runCUBA(t, &tile, 2)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %d spikes with 4 cores per router, %d on the ideal network (or different ones)", model, len(got), len(want))
		}
		if st.NoC.Routers != 32 || st.NoC.CoresPerRouter != 4 || st.NoC.NX != 8 || st.NoC.NY != 4 {
			t.Fatalf("%s: %d routers (%d × %d), %d cores per router; want 32 (8 × 4), 4", model, st.NoC.Routers, st.NoC.NX, st.NoC.NY, st.NoC.CoresPerRouter)
		}
		if st.NoC.FlitHops == 0 || st.NoC.FlitHops >= base.NoC.FlitHops || st.NoC.Deliveries != base.NoC.Deliveries {
			t.Errorf("%s: %d flit-hops (%d deliveries) with tiles, %d (%d) with a router per core: want fewer hops, the same deliveries",
				model, st.NoC.FlitHops, st.NoC.Deliveries, base.NoC.FlitHops, base.NoC.Deliveries)
		}
		if st.Counts.Late != 0 || st.Counts.Dropped != 0 || st.NoC.Deadlocks != 0 {
			t.Errorf("%s: %d late, %d dropped, %d deadlocks", model, st.Counts.Late, st.Counts.Dropped, st.NoC.Deadlocks)
		}
		t.Logf("%s: %d flit-hops with 4 cores per router, %d with one; latency p50 %d p99 %d (one: %d, %d)",
			model, st.NoC.FlitHops, base.NoC.FlitHops, st.NoC.Latency.P50, st.NoC.Latency.P99, base.NoC.Latency.P50, base.NoC.Latency.P99)
	}
	// a concentration that does not tile the mesh is refused at parse time
	src, err := chip.PresetSource("loihi")
	if err != nil {
		t.Fatal(err)
	}
	_, err = chip.ParseConfig("x.toml", strings.Replace(src, "\ncores_per_router = 4", "\ncores_per_router = 3", 1))
	if err == nil || !strings.Contains(err.Error(), "noc.cores_per_router = 3: want a block of 3 × 1 cores per router that tiles the 16 × 8 mesh") {
		t.Errorf("cores_per_router = 3 on a 16 × 8 mesh: %v", err)
	}
}
