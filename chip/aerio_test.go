package chip

import (
	"context"
	"reflect"
	"testing"

	"github.com/aerie-neuro/aerie/aer"
)

// TestEventInputOutput: events from an aer stream enter at their tick (µs
// streams through the tick length), a late event is counted and applied at
// the next tick, and output spikes leave as events stamped with their tick.
func TestEventInputOutput(t *testing.T) {
	cfg := testConfig(t, func(c *Config) { c.Neuron.ActShift = 0; c.Neuron.VthShift = 0 })
	cp := CoreProgram{
		Profiles: []Profile{{Du: [4]uint16{4095, 4095}, Dv: 4096, Vth: 10}},
		Neurons:  []Neuron{{}, {}},
		Axons:    []Axon{{Synapses: []Synapse{{Neuron: 0, Weight: 20}}}, {Synapses: []Synapse{{Neuron: 1, Weight: 20}}}},
	}
	p := &Program{Cores: []CoreProgram{cp},
		Inputs:  []InputPort{{Name: "in", Channels: [][]AxonRef{{{0, 0}}, {{0, 1}}}}},
		Outputs: []OutputPort{{Name: "out", Neurons: []NeuronRef{{0, 0}, {0, 1}}}}}
	for _, tc := range []struct {
		name   string
		unit   aer.Unit
		tickUS float64
		events []aer.Event
		want   []aer.Event
		late   uint64
	}{
		{"ticks", aer.Tick, 0,
			[]aer.Event{{Time: 2, Channel: 0}, {Time: 2, Channel: 1}, {Time: 5, Channel: 1}, {Time: 4, Channel: 0}, {Time: 9, Port: 7}},
			[]aer.Event{{Time: 3, Channel: 0}, {Time: 3, Channel: 1}, {Time: 6, Channel: 0}, {Time: 6, Channel: 1}}, 1},
		{"microseconds", aer.Microsecond, 100,
			[]aer.Event{{Time: 250, Channel: 1}, {Time: 299, Channel: 0}, {Time: 700, Channel: 0}},
			[]aer.Event{{Time: 3, Channel: 0}, {Time: 3, Channel: 1}, {Time: 8, Channel: 0}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Load(cfg, p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			in, err := NewEventInput(&aer.SliceReader{Events: tc.events}, tc.unit, tc.tickUS)
			if err != nil {
				t.Fatal(err)
			}
			var w aer.SliceWriter
			out := NewEventOutput(&w)
			s.SetInput(in)
			s.SetOutput(out)
			if err := s.Run(context.Background(), 12); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(w.Events, tc.want) {
				t.Errorf("output %v, want %v", w.Events, tc.want)
			}
			if in.Late != tc.late || !in.Exhausted() || in.Read != uint64(len(tc.events)) {
				t.Errorf("late %d (want %d), exhausted %v, read %d of %d", in.Late, tc.late, in.Exhausted(), in.Read, len(tc.events))
			}
		})
	}
	if _, err := NewEventInput(&aer.SliceReader{}, aer.Microsecond, 0); err == nil {
		t.Error("a µs stream without a tick length was accepted")
	}
}
