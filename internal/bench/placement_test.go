package bench

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
)

// globalSpikes runs CUBA for ticks on cfg and returns "tick:neuron" in order.
func globalSpikes(t *testing.T, cfg *chip.Config, ticks uint64) []string {
	t.Helper()
	net, err := CUBANetwork(DefaultCUBA(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	prog, pl, err := firmware.Compile(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := chip.Load(cfg, prog, chip.Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	id := map[chip.NeuronRef]int{}
	g := 0
	for _, pop := range pl.Neurons {
		for _, r := range pop {
			id[r] = g
			g++
		}
	}
	rec, _ := s.RecordSpikes(nil)
	if err := s.Run(context.Background(), ticks); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sp := range rec.Spikes {
		out = append(out, fmt.Sprintf("%08d:%05d", sp.Tick, id[chip.NeuronRef{Core: sp.Core, Neuron: sp.Neuron}]))
	}
	sort.Strings(out)
	return out
}

// TestPlacementDoesNotChangeResults: the same network on chips of 16 and
// 128 identical cores spikes identically; placement changes only costs.
func TestPlacementDoesNotChangeResults(t *testing.T) {
	a := globalSpikes(t, chip.Default(), 3000)
	loihi, err := chip.Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	b := globalSpikes(t, loihi, 3000)
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			t.Fatalf("first difference at spike %d: default %s, loihi %s (of %d / %d)", i, a[i], b[i], len(a), len(b))
		}
	}
	if len(a) != len(b) {
		t.Fatalf("%d vs %d spikes", len(a), len(b))
	}
}
