package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
)

// scaleBenchTicks is one operation of the scaling benchmarks: 0.1 s of
// biological time (CUBA's tick is 0.1 ms).
const scaleBenchTicks = 1000

// benchScaleSystem steps a loaded scaling network: a warm-up of one
// operation (past the start from uniform membranes), then b.N operations,
// reporting the real-time factor, synaptic events per second per worker and
// neuron updates per second.
func benchScaleSystem(b *testing.B, sys *chip.System) {
	ctx := context.Background()
	if err := sys.Run(ctx, scaleBenchTicks); err != nil {
		b.Fatal(err)
	}
	before := sys.Stats().Counts
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := sys.Run(ctx, scaleBenchTicks); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	after := sys.Stats().Counts
	wall := b.Elapsed().Seconds()
	bio := float64(b.N) * scaleBenchTicks * 0.1e-3
	updates := (after.NeuronIdle + after.NeuronActive + after.NeuronFire) - (before.NeuronIdle + before.NeuronActive + before.NeuronFire)
	b.ReportMetric(wall/bio, "rtf")
	b.ReportMetric(float64(after.Synops-before.Synops)/wall/float64(sys.Workers()), "events/s/core")
	b.ReportMetric(float64(updates)/wall, "updates/s")
}

// BenchmarkScale runs the scaling network (CUBA's statistics, in-degree 80)
// at 4k, 16k and 64k neurons on one worker and reports, per 0.1 s of
// biological time, the real-time factor, synaptic events per second per
// core and the loaded chip's bytes per synapse (docs/scaling.md). 64k is
// skipped under -short; 256k neurons are aerie bench scale's.
func BenchmarkScale(b *testing.B) {
	for _, n := range []int{4000, 16000, 64000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			if testing.Short() && n > 16000 {
				b.Skip("64k neurons take seconds to build; not under -short")
			}
			sys, err := LoadScale(n, ScaleDefaultFanin, 1, 1)
			if err != nil {
				b.Fatal(err)
			}
			benchScaleSystem(b, sys)
			m := sys.Memory() // after the run: ResetTimer clears reported metrics
			b.ReportMetric(float64(m.NeuronBytes+m.SynapseBytes+m.FanoutBytes)/float64(m.Synapses), "bytes/synapse")
		})
	}
}

// BenchmarkScaleWorkers measures the worker crossover: the scaling network
// from 500 to 64k neurons on one and on two workers, and on the automatic
// count (chip.AutoWorkers and the adaptive schedule; its events/s/core
// divide by the workers Load chose). docs/scaling.md has the table, the
// rule is chip/workers.go. Sizes above 16k are skipped under -short;
// AERIE_SCALE_SIZES=500,4000 picks others.
func BenchmarkScaleWorkers(b *testing.B) {
	sizes := []int{500, 1000, 2000, 4000, 8000, 16000, 32000, 64000}
	if s := os.Getenv("AERIE_SCALE_SIZES"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatalf("AERIE_SCALE_SIZES: %v", err)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		for _, w := range []int{1, 2, 0} {
			name := fmt.Sprintf("N=%d/workers=%d", n, w)
			if w == 0 {
				name = fmt.Sprintf("N=%d/workers=auto", n)
			}
			b.Run(name, func(b *testing.B) {
				if testing.Short() && n > 16000 {
					b.Skip("large sizes take seconds to build; not under -short")
				}
				sys, err := LoadScale(n, ScaleDefaultFanin, 1, w)
				if err != nil {
					b.Fatal(err)
				}
				benchScaleSystem(b, sys)
			})
		}
	}
}

// TestScaleNetwork: the scaling network is CUBA with the sizes and the
// in-degree changed and nothing else — every neuron has exactly K inputs,
// 80 % excitatory, with CUBA's quantized weights — on a derived chip that
// holds it.
func TestScaleNetwork(t *testing.T) {
	cuba, err := CUBANetwork(1, chip.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ n, k, mesh int }{{4000, 80, 4}, {30000, 80, 7}, {1000, 200, 4}} {
		cfg, err := ScaleChip(c.n, c.k)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Mesh.Width != c.mesh || cfg.Mesh.Height < c.mesh-1 {
			t.Errorf("N=%d K=%d: mesh %d×%d, want %d wide", c.n, c.k, cfg.Mesh.Width, cfg.Mesh.Height, c.mesh)
		}
		net, err := ScaleNetwork(c.n, c.k, 1, cfg)
		if err != nil {
			t.Fatal(err)
		}
		ne, ni := int(math.Round(0.8*float64(c.n))), c.n-int(math.Round(0.8*float64(c.n)))
		if net.Populations[0].Size != ne || net.Populations[1].Size != ni {
			t.Errorf("N=%d: populations %d + %d, want %d + %d", c.n, net.Populations[0].Size, net.Populations[1].Size, ne, ni)
		}
		for p := range net.Populations {
			if net.Populations[p].Profile != cuba.Populations[p].Profile || net.Populations[p].BiasMant != cuba.Populations[p].BiasMant {
				t.Errorf("N=%d: population %d's profile or bias differs from CUBA's", c.n, p)
			}
		}
		ke := int(math.Round(0.8 * float64(c.k)))
		in := make([][2]int, c.n) // per neuron: inputs from exc, from inh
		for j, pr := range net.Projections {
			if pr.Conns[0].Weight != cuba.Projections[j].Conns[0].Weight || pr.WeightExp != cuba.Projections[j].WeightExp {
				t.Errorf("N=%d: projection %s: weight %d·2^%d, CUBA's %d·2^%d", c.n, pr.Name, pr.Conns[0].Weight, pr.WeightExp, cuba.Projections[j].Conns[0].Weight, cuba.Projections[j].WeightExp)
			}
			off := 0
			if pr.Post == 1 {
				off = ne
			}
			for _, cn := range pr.Conns {
				in[off+int(cn.Post)][pr.Pre]++
			}
		}
		for i, v := range in {
			if v[0] != ke || v[1] != c.k-ke {
				t.Fatalf("N=%d K=%d: neuron %d has %d excitatory and %d inhibitory inputs, want %d and %d", c.n, c.k, i, v[0], v[1], ke, c.k-ke)
			}
		}
		if _, _, err := firmware.Compile(net, cfg); err != nil {
			t.Errorf("N=%d K=%d: %v", c.n, c.k, err)
		}
	}
	for _, c := range []struct {
		n, k int
		want string
	}{
		{99, 80, "99 neurons: want 100…"},
		{4000, 0, "fan-in 0: want 1…10000"},
		{100, 150, "want a fan-in ≤ 100"},
		{4_000_000, 80, "synapses: want at most"},
	} {
		if _, err := ScaleChip(c.n, c.k); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ScaleChip(%d, %d): %v, want %q", c.n, c.k, err, c.want)
		}
	}
}

// TestRunScaleShort: 0.3 s of 2,000 neurons is in CUBA's regime and the
// same on one and on two workers.
func TestRunScaleShort(t *testing.T) {
	var first *ScaleResult
	for _, w := range []int{1, 2} {
		r, err := RunScale(context.Background(), ScaleOptions{Neurons: 2000, Seed: 1, Seconds: 0.3, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if r.Synapses != 160000 || r.Workers != w || !(r.RateHz > 3.5 && r.RateHz < 7.5) || !(r.BytesPerSynapse > 4) {
			t.Errorf("workers %d: %d synapses, %d workers, %.2f Hz, %.2f bytes/synapse: want 160,000, %d, ≈ 5 Hz, > 4", w, r.Synapses, r.Workers, r.RateHz, r.BytesPerSynapse, w)
		}
		if first == nil {
			first = r
		} else if r.SynapticEvents != first.SynapticEvents || r.RateExcHz != first.RateExcHz || r.RateInhHz != first.RateInhHz {
			t.Errorf("two workers: %d events, %v/%v Hz; one worker: %d, %v/%v", r.SynapticEvents, r.RateExcHz, r.RateInhHz, first.SynapticEvents, first.RateExcHz, first.RateInhHz)
		}
	}
	if _, err := RunScale(context.Background(), ScaleOptions{Neurons: 2000, Seconds: 0.1}); err == nil {
		t.Error("a run no longer than the warm-up: no error")
	}
}
