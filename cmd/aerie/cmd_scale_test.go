package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchScale runs aerie bench scale at two small sizes and checks the
// JSON figures against what the network must be, the plot and the table.
func TestBenchScale(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "scale.png")
	code, out, errOut := runCmd(t, "bench", "scale", "--sizes", "1000,2000", "--seconds", "0.3", "--workers", "2", "--json", "--plot", png)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Fanin int `json:"fanin"`
		Sizes []struct {
			Neurons        int     `json:"neurons"`
			Synapses       int     `json:"synapses"`
			SynapticEvents uint64  `json:"synaptic_events"`
			NeuronUpdates  uint64  `json:"neuron_updates"`
			Ticks          uint64  `json:"ticks"`
			Workers        int     `json:"workers"`
			Cores          int     `json:"cores"`
			EventsPerCore  float64 `json:"synaptic_events_per_s_per_core"`
			BytesPerSyn    float64 `json:"bytes_per_synapse"`
			RateHz         float64 `json:"rate_hz"`
			RTF            float64 `json:"rtf"`
		} `json:"sizes"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if got.Fanin != 80 || len(got.Sizes) != 2 {
		t.Fatalf("fan-in %d, %d sizes: want 80 and 2", got.Fanin, len(got.Sizes))
	}
	for i, n := range []int{1000, 2000} {
		r := got.Sizes[i]
		if r.Neurons != n || r.Synapses != 80*n || r.Ticks != 3000 || r.NeuronUpdates != uint64(n)*3000 {
			t.Errorf("N=%d: %d neurons, %d synapses, %d ticks, %d updates: want %d, %d, 3000, %d", n, r.Neurons, r.Synapses, r.Ticks, r.NeuronUpdates, n, 80*n, 3000*n)
		}
		if r.Workers != 2 || r.Cores != 16 {
			t.Errorf("N=%d: %d workers on %d cores, want 2 on 16", n, r.Workers, r.Cores)
		}
		// CUBA's regime: ≈ 5 Hz (fixed in-degree 80), hence ≈ N·80·rate·0.3 s events
		if !(r.RateHz > 3 && r.RateHz < 8) {
			t.Errorf("N=%d: mean rate %.2f Hz, want CUBA's ≈ 5", n, r.RateHz)
		}
		if !(r.EventsPerCore > 0 && r.RTF > 0 && r.BytesPerSyn > 4 && r.BytesPerSyn < 16) {
			t.Errorf("N=%d: %.3g events/s/core, RTF %.3g, %.2f bytes/synapse: want positive figures and 4…16 bytes", n, r.EventsPerCore, r.RTF, r.BytesPerSyn)
		}
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, pngMagic) {
		t.Errorf("--plot wrote no PNG: %v", err)
	}
	// the text form; the run does not depend on the worker count
	code, out, errOut = runCmd(t, "bench", "scale", "--sizes", "1000", "--seconds", "0.3", "--workers", "1")
	if code != 0 || !strings.Contains(out, "in-degree 80") || !strings.Contains(out, "     1000      80000") {
		t.Errorf("text output: exit %d\n%s%s", code, out, errOut)
	}
	if events := strings.Fields(strings.Split(out, "\n")[2])[2]; events != itoa(got.Sizes[0].SynapticEvents) {
		t.Errorf("1 worker: %s synaptic events; 2 workers: %d", events, got.Sizes[0].SynapticEvents)
	}
	// --fanin scales the in-degree
	code, out, errOut = runCmd(t, "bench", "scale", "--sizes", "500", "--seconds", "0.2", "--fanin", "20", "--json")
	if code != 0 || !strings.Contains(out, `"synapses": 10000`) {
		t.Errorf("--fanin 20: exit %d, want 10,000 synapses\n%s%s", code, out, errOut)
	}
}

func itoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
