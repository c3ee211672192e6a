package chip

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// testConfig returns the default chip with fields changed by edit.
func testConfig(t testing.TB, edit func(c *Config)) *Config {
	t.Helper()
	c := Default()
	if edit != nil {
		edit(c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("test config invalid: %v", err)
	}
	return c
}

func TestDecayVectors(t *testing.T) {
	// Hand-computed: mul12 with d = 1000 multiplies by 3096/4096.
	tests := []struct {
		name  string
		decay string
		round string
		x     int64
		d     int32
		want  int64
	}{
		{"mul12 positive truncates", "mul12", "trunc", 1000, 1000, 755}, // 755.86 → 755
		{"mul12 negative truncates toward zero", "mul12", "trunc", -1000, 1000, -755},
		{"mul12 nearest", "mul12", "nearest", 1000, 1000, 756},
		{"mul12 nearest negative", "mul12", "nearest", -1000, 1000, -756},
		{"mul12 small state dies", "mul12", "trunc", 1, 1, 0}, // 4095/4096 → 0
		{"mul12 d=0 keeps", "mul12", "trunc", -123456, 0, -123456},
		{"mul12 d=4096 clears", "mul12", "trunc", 8000000, 4096, 0},
		{"mul12 exact half", "mul12", "nearest", 1, 2048, 1},                  // 0.5 → 1 (half away from zero)
		{"shift", "shift", "trunc", 100, 2, 75},                               // 100 − 25
		{"shift negative floors toward zero", "shift", "trunc", -100, 3, -87}, // −100 − (−13)
		{"shift tiny positive still decays", "shift", "trunc", 3, 4, 2},
		{"shift tiny negative decays", "shift", "trunc", -3, 4, -2},
		{"linear", "linear", "trunc", 10, 3, 7},
		{"linear negative", "linear", "trunc", -10, 3, -7},
		{"linear stops at zero", "linear", "trunc", 2, 3, 0},
		{"none", "none", "trunc", 77, 3, 77},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig(t, func(c *Config) { c.Neuron.Decay, c.Neuron.Rounding = tt.decay, tt.round })
			if got := NewDatapath(c).Decay(tt.x, tt.d); got != tt.want {
				t.Errorf("Decay(%d, %d) = %d, want %d", tt.x, tt.d, got, tt.want)
			}
		})
	}
}

func TestStepVectors(t *testing.T) {
	type step struct {
		a0, a1 int64
		want   NeuronState
		fired  bool
	}
	base := Profile{Du: [4]uint16{1023, 0}, Dv: 2048, Vth: 10, Refractory: 2}
	tests := []struct {
		name  string
		edit  func(c *Config)
		prof  Profile
		bias  int64
		init  NeuronState
		steps []step
	}{
		{
			// act_shift 6, vth_shift 6 (threshold 640), du offset 1:
			// u0 = trunc(u0·(4096−1024)/4096) + (a0 << 6)
			name: "loihi current and membrane",
			prof: base,
			steps: []step{
				{a0: 5, want: NeuronState{U: [4]int32{320}, V: 320}},                     // u0 = 320, v = 0 + 320
				{a0: 0, want: NeuronState{U: [4]int32{240}, V: 400}},                     // u0 = 240, v = 160 + 240
				{a0: 10, want: NeuronState{U: [4]int32{820}, V: 0, Ref: 2}, fired: true}, // v = 200+820 = 1020 > 640
				{a0: 0, want: NeuronState{U: [4]int32{615}, V: 0, Ref: 1}},               // held
				{a0: 0, want: NeuronState{U: [4]int32{461}, V: 0, Ref: 0}},               // held
				{a0: 0, want: NeuronState{U: [4]int32{345}, V: 345}},                     // integrates again
			},
		},
		{
			name: "ge fires at equality, gt does not",
			edit: func(c *Config) { c.Neuron.Compare = "ge"; c.Neuron.ActShift = 0; c.Neuron.VthShift = 0 },
			prof: Profile{Du: [4]uint16{4095, 4095}, Dv: 4096, Vth: 10},
			steps: []step{
				{a0: 10, want: NeuronState{U: [4]int32{10}, V: 0}, fired: true},
			},
		},
		{
			name: "gt at equality",
			edit: func(c *Config) { c.Neuron.ActShift = 0; c.Neuron.VthShift = 0 },
			prof: Profile{Du: [4]uint16{4095, 4095}, Dv: 4096, Vth: 10},
			steps: []step{
				{a0: 10, want: NeuronState{U: [4]int32{10}, V: 10}},
			},
		},
		{
			name: "subtract reset keeps the excess",
			edit: func(c *Config) { c.Neuron.Reset = "subtract"; c.Neuron.ActShift = 0; c.Neuron.VthShift = 0 },
			prof: Profile{Du: [4]uint16{4095, 4095}, Dv: 0, Vth: 10},
			steps: []step{
				{a0: 25, want: NeuronState{U: [4]int32{25}, V: 15}, fired: true},
				{a0: 0, want: NeuronState{V: 5}, fired: true},
				{a0: 0, want: NeuronState{V: 5}},
			},
		},
		{
			name: "u wraps at 24 bits",
			edit: func(c *Config) { c.Neuron.ActShift = 0 },
			prof: Profile{Du: [4]uint16{0, 0}, Dv: 4096, Vth: 100000},
			init: NeuronState{U: [4]int32{1<<23 - 1 + 1}}, // decays by 1/4096 first: trunc(8388608·4095/4096) = 8386560
			steps: []step{
				{a0: 2048 + 1, want: NeuronState{U: [4]int32{-(1 << 23) + 1}, V: -(1 << 23) + 1}}, // 8388609 wraps
			},
		},
		{
			name: "u saturates",
			edit: func(c *Config) { c.Neuron.ActShift = 0; c.Neuron.VthShift = 0; c.Neuron.UOverflow = "saturate" },
			prof: Profile{Du: [4]uint16{0, 0}, Dv: 4096, Vth: 100000},
			init: NeuronState{U: [4]int32{1<<23 - 1}},
			steps: []step{
				{a0: 1 << 20, want: NeuronState{U: [4]int32{1<<23 - 1}, V: 0}, fired: true}, // v saturates at 2^23−1 > vth, fires
			},
		},
		{
			name: "v saturates symmetrically",
			edit: func(c *Config) { c.Neuron.ActShift = 0; c.Neuron.VthShift = 6 },
			prof: Profile{Du: [4]uint16{4095, 4095}, Dv: 0, Vth: 1<<17 - 1},
			init: NeuronState{V: -(1 << 23) + 5},
			steps: []step{
				{a0: -100, want: NeuronState{U: [4]int32{-100}, V: -(1 << 23) + 1}},
			},
		},
		{
			name: "bias and two types",
			edit: func(c *Config) { c.Neuron.ActShift = 0; c.Neuron.VthShift = 0 },
			prof: Profile{Du: [4]uint16{4095, 2047}, Dv: 4096, Vth: 1000},
			bias: 7,
			steps: []step{
				{a0: 100, a1: -40, want: NeuronState{U: [4]int32{100, -40}, V: 67}},
				{a0: 0, a1: 0, want: NeuronState{U: [4]int32{0, -20}, V: -13}}, // u1: trunc(−40·2048/4096)
			},
		},
		{
			name: "instant current (TrueNorth)",
			edit: func(c *Config) { c.Neuron.Current = "instant"; c.Neuron.ActShift = 0; c.Neuron.VthShift = 0 },
			prof: Profile{Dv: 0, Vth: 1000},
			steps: []step{
				{a0: 5, want: NeuronState{U: [4]int32{5}, V: 5}},
				{a0: 0, want: NeuronState{U: [4]int32{0}, V: 5}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dp := NewDatapath(testConfig(t, tt.edit))
			st := tt.init
			for i, s := range tt.steps {
				in := StepInput{A: [4]int64{s.a0, s.a1}, Bias: tt.bias}
				fired := dp.Step(&st, &tt.prof, &in)
				if st != s.want || fired != s.fired {
					t.Fatalf("step %d: got %+v fired %v, want %+v fired %v", i, st, fired, s.want, s.fired)
				}
			}
		})
	}
}

func TestStochasticStep(t *testing.T) {
	c := testConfig(t, func(c *Config) { c.Neuron.ActShift = 0; c.Neuron.VthShift = 0 })
	dp := NewDatapath(c)
	// table: v − vth < 0 → p = 0.25, ≥ 0 → p = 0.75 (shift 0, offset 1: index 0 for x < 0 after clamp)
	esc := &Escape{Shift: 0, Offset: 1, Table: []uint32{16384, 49152}}
	prof := Profile{Du: [4]uint16{4095, 4095}, Dv: 4096, Vth: 100, Escape: esc}
	tests := []struct {
		a    int64
		rand uint16
		want bool
	}{
		{50, 16383, true}, {50, 16384, false}, // below threshold: fires iff rand < 16384
		{150, 49151, true}, {150, 49152, false},
		{100, 40000, true}, // x = 0 → index 1
	}
	for i, tt := range tests {
		st := NeuronState{}
		if got := dp.Step(&st, &prof, &StepInput{A: [4]int64{tt.a}, Rand: tt.rand}); got != tt.want {
			t.Errorf("case %d: fired = %v, want %v", i, got, tt.want)
		}
	}
	// frequency over many draws matches the table
	fires := 0
	const n = 100000
	for i := 0; i < n; i++ {
		st := NeuronState{}
		if dp.Step(&st, &prof, &StepInput{A: [4]int64{50}, Rand: Rand16(5, 0, uint64(i))}) {
			fires++
		}
	}
	if f := float64(fires) / n; math.Abs(f-0.25) > 0.01 {
		t.Errorf("firing frequency %.4f, want 0.25 ± 0.01", f)
	}
}

func TestSampleEscape(t *testing.T) {
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x/100)) }
	e := SampleEscape(sig, 64, 4, 32)
	if e.Table[32] < 32768 || e.Table[31] > 32768 {
		t.Errorf("table around threshold = %d, %d; want the sigmoid's midpoint between them", e.Table[31], e.Table[32])
	}
	for i := 1; i < len(e.Table); i++ {
		if e.Table[i] < e.Table[i-1] {
			t.Fatalf("table not monotone at %d", i)
		}
	}
	if got := e.prob(-1 << 40); got != e.Table[0] {
		t.Errorf("far below: %d, want first entry", got)
	}
	if got := e.prob(1 << 40); got != e.Table[63] {
		t.Errorf("far above: %d, want last entry", got)
	}
}

// TestFastPathMatchesStep drives the specialised core loops and the
// reference Datapath.Step with the same random inputs and compares every
// state bit by bit, for each description that has a fast path.
func TestFastPathMatchesStep(t *testing.T) {
	edits := map[string]func(c *Config){
		"default":       nil,
		"ge":            func(c *Config) { c.Neuron.Compare = "ge" },
		"subtract":      func(c *Config) { c.Neuron.Reset = "subtract" },
		"u saturate":    func(c *Config) { c.Neuron.UOverflow = "saturate" },
		"v wrap":        func(c *Config) { c.Neuron.VOverflow = "wrap" },
		"narrow states": func(c *Config) { c.Neuron.UBits, c.Neuron.VBits, c.Neuron.VthBits = 14, 14, 7 },
		"nearest":       func(c *Config) { c.Neuron.Rounding = "nearest" },
		"shift decay":   func(c *Config) { c.Neuron.Decay, c.Neuron.DecayBits = "shift", 4; c.Neuron.UDecayOffset = 0 },
	}
	for _, vector := range []bool{false, true} {
		if vector && !hasVectorKernel {
			t.Log("no vector kernel on this machine")
			continue
		}
		useVectorKernel = vector
		for name, edit := range edits {
			// 157 neurons: the last run takes padding lanes; 160 with the
			// last run starting off a block boundary: it cannot, and the
			// scalar loop takes its tail (a packed population of 300 + 100
			// once ran past the arrays here).
			for _, n := range []int{157, 160} {
				testFastPath(t, fmt.Sprintf("%s/vector=%v/n=%d", name, vector, n), edit, vector, n)
			}
		}
	}
	useVectorKernel = hasVectorKernel
}

func testFastPath(t *testing.T, name string, edit func(c *Config), vector bool, n int) {
	{
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t, edit)
			dp := NewDatapath(cfg)
			rng := rand.New(rand.NewPCG(1, 2))
			// n neurons in four runs of different profiles, of 13, 16, 3 (or
			// 6) and the rest: vector blocks with scalar tails, a run too
			// short for the kernel, and a last run that ends the core.
			third := 32
			if n%8 == 0 {
				third = 35
			}
			vmax := int64(1)<<(cfg.Neuron.VthBits) - 1
			dmax := int64(dp.decayMax)
			var profs []Profile
			for p := 0; p < 4; p++ {
				profs = append(profs, Profile{Du: [4]uint16{uint16(rng.Int64N(dmax)), uint16(rng.Int64N(dmax))}, Dv: uint16(rng.Int64N(dmax)),
					Vth: int32(rng.Int64N(vmax/2) + 1), Refractory: uint16(p + 1)})
			}
			profileOf := func(i int) int {
				switch {
				case i < 13:
					return 0
				case i < 29:
					return 1
				case i < third:
					return 2
				}
				return 3
			}
			cp := CoreProgram{Profiles: profs}
			for i := 0; i < n; i++ {
				cp.Neurons = append(cp.Neurons, Neuron{Profile: uint16(profileOf(i)), BiasMant: int32(rng.Int64N(200) - 100), BiasExp: uint8(rng.IntN(4))})
			}
			sys, err := Load(cfg, &Program{Cores: []CoreProgram{cp}}, Options{Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			c := sys.cores[0]
			if name == "default/vector=true" && (c.runs[0].kernel == nil || c.runs[3].kernel == nil) {
				t.Fatal("the default chip does not take the vector kernel")
			}
			ref := make([]NeuronState, n)
			amax := int64(1) << (cfg.Neuron.UBits - cfg.Neuron.ActShift - 1)
			for tick := uint64(0); tick < 400; tick++ {
				in := make([][2]int64, n)
				for i := range in {
					for k := 0; k < 2; k++ {
						if rng.IntN(3) == 0 {
							in[i][k] = rng.Int64N(2*amax) - amax
						}
						c.acc[k*c.stride+i] = int32(in[i][k])
					}
				}
				c.update(dp, 0, tick)
				firedRef := map[uint32]bool{}
				for i := range ref {
					si := StepInput{A: [4]int64{in[i][0], in[i][1]}, Bias: int64(c.bias[i])}
					if dp.Step(&ref[i], &profs[profileOf(i)], &si) {
						firedRef[uint32(i)] = true
					}
				}
				for i := range ref {
					got := NeuronState{U: [4]int32{c.u[i], c.u[c.stride+i]}, V: c.v[i], Ref: int32(c.ref[i])}
					if got != ref[i] {
						t.Fatalf("tick %d neuron %d: core %+v, reference %+v", tick, i, got, ref[i])
					}
				}
				if len(c.fired) != len(firedRef) {
					t.Fatalf("tick %d: core fired %d, reference %d", tick, len(c.fired), len(firedRef))
				}
				for _, f := range c.fired {
					if !firedRef[f] {
						t.Fatalf("tick %d: neuron %d fired only in the core", tick, f)
					}
				}
			}
		})
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	c := Default()
	c.Neuron.VBits = 40
	c.Core.Neurons = 0
	c.Neuron.Reset = "bounce"
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"neuron.v_bits = 40: want 2…32", "core.neurons = 0: want 1…65536", `neuron.reset = "bounce": want one of zero, subtract`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
