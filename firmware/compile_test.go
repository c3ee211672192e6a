package firmware

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
)

func TestCompilePlacesAndWires(t *testing.T) {
	cfg := chip.Default()
	prof := chip.Profile{Du: [4]uint16{4095, 4095}, Dv: 4096, Vth: 1}
	net := &Network{
		Populations: []Population{{Name: "a", Size: 40, Profile: prof}, {Name: "b", Size: 30, Profile: prof}},
		Projections: []Projection{{Pre: 0, Post: 1, Type: 0, Conns: []Conn{{Pre: 0, Post: 29, Weight: 100}, {Pre: 0, Post: 0, Weight: 100}, {Pre: 39, Post: 5, Weight: 50, Delay: 2}}}},
		Generators:  []Generator{{Period: 10, Post: 0, Targets: []Conn{{Post: 0, Weight: 100}}}},
	}
	prog, pl, err := Compile(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 70 neurons over 16 cores: 5 per core, 14 cores used
	if len(prog.Cores) != 14 || len(prog.Cores[0].Neurons) != 5 {
		t.Fatalf("%d cores, %d neurons on core 0; want 14 and 5", len(prog.Cores), len(prog.Cores[0].Neurons))
	}
	if got := pl.Neurons[1][29]; got != (chip.NeuronRef{Core: 13, Neuron: 4}) {
		t.Errorf("b[29] placed at %+v, want core 13 neuron 4", got)
	}
	// a[0] reaches two destination cores (b[0] on core 8, b[29] on core 13): two axons
	if out := prog.Cores[0].Neurons[0].Out; len(out) != 2 {
		t.Errorf("a[0] has %d output axons, want 2", len(out))
	}
	// run it: the generator drives a[0] (Vth 1 with act/vth shifts: 100<<6 > 1<<6), a[0] drives b[0] and b[29]
	s, err := chip.Load(cfg, prog, chip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := s.RecordSpikes([]chip.NeuronRef{pl.Neurons[0][0], pl.Neurons[1][0], pl.Neurons[1][29]})
	if err := s.Run(context.Background(), 12); err != nil {
		t.Fatal(err)
	}
	var ticks []uint64
	for _, sp := range rec.Spikes {
		ticks = append(ticks, sp.Tick)
	}
	if want := []uint64{1, 2, 2, 11}; !reflect.DeepEqual(ticks, want) {
		t.Errorf("spike ticks %v, want %v: a[0] at 1 and 11 (generator at 0 and 10), b[0] and b[29] at 2", ticks, want)
	}
}

func TestCompileErrors(t *testing.T) {
	cfg := chip.Default()
	prof := chip.Profile{Vth: 1}
	tests := []struct {
		name string
		net  *Network
		want string
	}{
		{"too many neurons", &Network{Populations: []Population{{Size: 16*1024 + 1, Profile: prof}}}, "16385 neurons need"},
		{"bad population", &Network{Populations: []Population{{Size: 2, Profile: prof}}, Projections: []Projection{{Pre: 0, Post: 3}}}, "projection 0: populations 0 → 3 out of range"},
		{"bad neuron", &Network{Populations: []Population{{Size: 2, Profile: prof}}, Projections: []Projection{{Conns: []Conn{{Pre: 2}}}}}, "connection 0: neuron 2 → 0 out of range"},
		{"weight too large", &Network{Populations: []Population{{Size: 2, Profile: prof}}, Projections: []Projection{{Conns: []Conn{{Weight: 300}}}}}, "weight = 300 exceeds ±255"},
		{"fan-in too large for one core", &Network{Populations: []Population{{Size: 1, Profile: prof}}, Projections: []Projection{{Conns: make([]Conn, 40000)}}}, "synapses = 40000 exceeds 32768"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Compile(tt.net, cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
