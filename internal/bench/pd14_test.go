package bench

import (
	"context"
	"encoding/json"
	"flag"
	"reflect"
	"strings"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
)

// TestPD14Small runs the microcircuit at 2 % for 0.3 s: the layers are
// reported in order against the published figures, every layer is active
// and the excitatory layers of L2/3, L4 and L6 fire less than their
// inhibitory partners (the model's signature, kept at 2 %), the figures a run reports are there,
// and one worker and two give the same spikes.
func TestPD14Small(t *testing.T) {
	opt := PD14Options{Scale: 0.02, Seconds: 0.3, Seed: 1, Workers: 1}
	r, err := RunPD14(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Layers) != 8 || r.Neurons != 1544 || r.Recurrent == 0 || r.Synapses != r.Recurrent+r.Neurons {
		t.Fatalf("%d layers, %d neurons, %d synapses (%d recurrent): want 8 layers, 1544 neurons, a Poisson synapse per neuron", len(r.Layers), r.Neurons, r.Synapses, r.Recurrent)
	}
	for i, l := range r.Layers {
		if l.Name != PD14References[i].Name || l.RateHz == nil || !(*l.RateHz > 0.1 && *l.RateHz < 50) {
			t.Errorf("layer %d %s: rate %v Hz, want a living layer", i, l.Name, l.RateHz)
		}
		if lo, hi := PD14References[i].RangeHz(); l.RangeHz != [2]float64{lo, hi} || l.Pass != (*l.RateHz >= lo && *l.RateHz <= hi) {
			t.Errorf("layer %s: band %v, pass %v for %.3f Hz", l.Name, l.RangeHz, l.Pass, *l.RateHz)
		}
	}
	for _, i := range []int{0, 2, 6} { // L5E outruns L5I once downscaled

		if e, in := *r.Layers[i].RateHz, *r.Layers[i+1].RateHz; !(e < in) {
			t.Errorf("%s %.2f Hz ≥ %s %.2f Hz: excitatory layers fire less than inhibitory ones", r.Layers[i].Name, e, r.Layers[i+1].Name, in)
		}
	}
	if r.RTF == nil || r.EventsPerSPerCore <= 0 || !(r.BytesPerSynapse >= 4 && r.BytesPerSynapse < 8) || r.PeakHeapBytes == 0 || r.WarmupS != 0.15 {
		t.Errorf("figures: rtf %v, events/s/core %g, bytes/synapse %g, peak heap %d, warm-up %g", r.RTF, r.EventsPerSPerCore, r.BytesPerSynapse, r.PeakHeapBytes, r.WarmupS)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
	opt.Workers = 2
	r2, err := RunPD14(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Layers, r2.Layers) || r.Spikes != r2.Spikes || r.SynapticEvents != r2.SynapticEvents {
		t.Errorf("two workers changed the run: %d spikes vs %d", r2.Spikes, r.Spikes)
	}
}

// TestPD14Errors: bad options and a chip too small are errors that say so.
func TestPD14Errors(t *testing.T) {
	for _, opt := range []PD14Options{{Scale: 2, Seconds: 1}, {Scale: -1, Seconds: 1}, {Seconds: 0}, {Seconds: 1, Workers: -1}} {
		if _, err := RunPD14(context.Background(), opt); err == nil || !strings.HasPrefix(err.Error(), "bench: pd14: ") {
			t.Errorf("%+v: %v", opt, err)
		}
	}
	// the default chip has 16 cores of 32,768 synapses: too small
	_, err := RunPD14(context.Background(), PD14Options{Scale: 0.01, Seconds: 0.01, Chip: chip.Default()})
	if err == nil || !strings.Contains(err.Error(), "does not fit default") {
		t.Errorf("PD14 on the default chip: %v", err)
	}
}

// pd14Scale sets BenchmarkPD14's scale: -pd14.scale 1 measures the full
// microcircuit (3×10⁸ synapses, about 12 GB while it is built; never in CI).
var pd14Scale = flag.Float64("pd14.scale", 0.05, "BenchmarkPD14: the microcircuit's scale (1: full, 12 GB)")

// BenchmarkPD14 runs 0.1 s of the microcircuit at 5 % (1.5×10⁷ synapses,
// the full model's in-degrees and so its events per neuron; -pd14.scale
// changes it) and reports the real-time factor and synaptic events per
// second per core of the run (building excluded).
func BenchmarkPD14(b *testing.B) {
	cfg, err := PD14Chip()
	if err != nil {
		b.Fatal(err)
	}
	net, _, err := PD14Network(*pd14Scale, 1, cfg)
	if err != nil {
		b.Fatal(err)
	}
	prog, pl, err := firmware.Compile(net, cfg)
	if err != nil {
		b.Fatal(err)
	}
	dt := net.DtMS
	net = nil // the connection lists
	for _, w := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[w], func(b *testing.B) {
			var rtf, eps float64
			for i := 0; i < b.N; i++ {
				r, err := Run(context.Background(), cfg, prog, pl, RunOptions{Ticks: 1000, Workers: w, DtMS: dt})
				if err != nil {
					b.Fatal(err)
				}
				rtf += val(r.RTF)
				eps += r.EventsPerS / float64(w)
			}
			b.ReportMetric(rtf/float64(b.N), "rtf")
			b.ReportMetric(eps/float64(b.N), "synaptic-events/s/core")
		})
	}
}
