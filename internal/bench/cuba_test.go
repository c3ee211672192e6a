package bench

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
)

// TestCUBAShort runs one biological second and checks that the network is
// in its published regime (the 10 s, 3-seed acceptance run is TestCUBALong
// and docs/chip.md).
func TestCUBAShort(t *testing.T) {
	r, err := RunCUBA(context.Background(), 1, chip.Default(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Neurons != 4000 || r.Synapses < 310000 || r.Synapses > 330000 {
		t.Errorf("%d neurons, %d synapses; want 4000 and ≈ 320,000", r.Neurons, r.Synapses)
	}
	if e, i := val(r.RateExcHz), val(r.RateInhHz); !(e >= 4.5 && e <= 6.5 && i >= 4.5 && i <= 6.5) {
		t.Errorf("rates E %.2f Hz, I %.2f Hz; want ≈ 5.5", e, i)
	}
	if r.Stats.AccClips != 0 || r.Stats.Counts.Synops != r.SynapticEvents {
		t.Errorf("accumulator clips %d, synops %d vs %d", r.Stats.AccClips, r.Stats.Counts.Synops, r.SynapticEvents)
	}
}

// BenchmarkCUBA runs 10 s of biological time of CUBA on the default chip,
// recording off (statistics are gathered online), and reports the
// real-time factor of the run itself (building the network is excluded).
func BenchmarkCUBA(b *testing.B) {
	for _, w := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[w], func(b *testing.B) {
			var rtf, eps float64
			for i := 0; i < b.N; i++ {
				r, err := RunCUBA(context.Background(), 1, chip.Default(), 10, w)
				if err != nil {
					b.Fatal(err)
				}
				rtf += val(r.RTF)
				eps += r.EventsPerS
			}
			b.ReportMetric(rtf/float64(b.N), "rtf")
			b.ReportMetric(eps/float64(b.N), "synaptic-events/s")
		})
	}
}

// val reads an optional figure, NaN when absent.
func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// TestCUBATooShortHasNoNaN: a run shorter than the warm-up gives null
// figures, never NaN (which JSON cannot carry).
func TestCUBATooShortHasNoNaN(t *testing.T) {
	r, err := RunCUBA(context.Background(), 1, chip.Default(), 0.05, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.RateExcHz != nil || r.CVISI != nil || r.Populations[0].CVISIMissing == "" {
		t.Errorf("rate %v, CV %v: want none (no window after the warm-up), with a reason", r.RateExcHz, r.CVISI)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("JSON: %v", err)
	}
}

// BenchmarkCUBAImage is BenchmarkCUBA's run (10 s, one worker) from a
// configuration image — compiled, encoded, decoded and checked as aerie
// emulate does — so the two real-time factors compare on one machine.
func BenchmarkCUBAImage(b *testing.B) {
	cfg := chip.Default()
	net, err := CUBANetwork(1, cfg)
	if err != nil {
		b.Fatal(err)
	}
	img, err := firmware.NewImage(net, cfg)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := img.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	back, err := firmware.DecodeImage(raw)
	if err != nil {
		b.Fatal(err)
	}
	if err := back.CheckChip(cfg); err != nil {
		b.Fatal(err)
	}
	var rtf float64
	for i := 0; i < b.N; i++ {
		r, err := Run(context.Background(), cfg, back.Program, back.Placement, RunOptions{Ticks: 100000, Workers: 1, DtMS: back.DtMS(), WarmupTicks: 1000})
		if err != nil {
			b.Fatal(err)
		}
		rtf += val(r.RTF)
	}
	b.ReportMetric(rtf/float64(b.N), "rtf")
}
