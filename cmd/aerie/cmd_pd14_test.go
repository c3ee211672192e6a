package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchPD14 runs the microcircuit at 1 % for a tenth of a second, in
// text and in JSON: every layer is reported against its published rate,
// and the speed and memory figures are there.
func TestBenchPD14(t *testing.T) {
	stdout, stderr, code := runAerie(t, "bench", "pd14", "--scale", "0.01", "--seconds", "0.1", "--workers", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"Potjans–Diesmann 2014 microcircuit on pd14, scale 0.01, seed 1", "772 neurons", "L23E", "L6I", "real-time factor", "per second per core", "bytes/synapse", "compiling", "downscaled"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	stdout, stderr, code = runAerie(t, "bench", "pd14", "--scale", "0.01", "--seconds", "0.1", "--seed", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		Scale  float64 `json:"scale"`
		Seed   uint64  `json:"seed"`
		RTF    *float64
		Layers []struct {
			Name        string     `json:"name"`
			RateHz      *float64   `json:"rate_hz"`
			PublishedHz [3]float64 `json:"published_hz"`
			RangeHz     [2]float64 `json:"range_hz"`
		} `json:"layers"`
		EventsPerSPerCore float64 `json:"events_per_s_per_core"`
		BytesPerSynapse   float64 `json:"bytes_per_synapse"`
		CompileS          float64 `json:"compile_s"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if r.Scale != 0.01 || r.Seed != 3 || r.RTF == nil || len(r.Layers) != 8 || r.EventsPerSPerCore <= 0 || r.BytesPerSynapse < 4 || r.CompileS <= 0 {
		t.Errorf("JSON figures: %+v", r)
	}
	for _, l := range r.Layers {
		if l.RateHz == nil || l.PublishedHz[0] == 0 || !(l.RangeHz[0] < l.PublishedHz[0] && l.PublishedHz[0] < l.RangeHz[1]) {
			t.Errorf("layer %+v", l)
		}
	}
}
