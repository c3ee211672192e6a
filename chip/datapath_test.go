package chip

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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

// TestFastPathMatchesStep drives the specialised core loops — every
// deterministic kernel this CPU has (AVX-512, AVX2, the portable loop),
// forced in turn — and the reference Datapath.Step with the same random
// states, inputs, biases and thresholds, and compares every neuron's state,
// every spike and every count bit by bit, tick by tick, for each
// description that has a fast path (and two that must not take it).
func TestFastPathMatchesStep(t *testing.T) {
	edits := map[string]func(c *Config){
		"default":       nil,
		"ge":            func(c *Config) { c.Neuron.Compare = "ge" },
		"subtract":      func(c *Config) { c.Neuron.Reset = "subtract" },
		"u saturate":    func(c *Config) { c.Neuron.UOverflow = "saturate" },
		"v wrap":        func(c *Config) { c.Neuron.VOverflow = "wrap" },
		"narrow states": func(c *Config) { c.Neuron.UBits, c.Neuron.VBits, c.Neuron.VthBits = 14, 14, 7 },
		"29-bit states": func(c *Config) { c.Neuron.UBits, c.Neuron.VBits, c.Neuron.VthBits, c.Synapse.AccBits = 29, 29, 23, 24 },
		"ge subtract":   func(c *Config) { c.Neuron.Compare, c.Neuron.Reset = "ge", "subtract" },
		"nearest":       func(c *Config) { c.Neuron.Rounding = "nearest" },
		"shift decay":   func(c *Config) { c.Neuron.Decay, c.Neuron.DecayBits = "shift", 4; c.Neuron.UDecayOffset = 0 },
	}
	defer func() { loihiKernel = bestLoihiKernel }()
	for _, k := range cpuKernels() {
		loihiKernel = k
		for name, edit := range edits {
			// 157 neurons: the last run ends in padding lanes; 160 with the
			// last run starting off a block boundary (a packed population
			// of 300 + 100 once ran past the arrays here); 301 and 1000 with
			// long runs that start and end off vector boundaries.
			for _, n := range []int{157, 160, 301, 1000} {
				testFastPath(t, fmt.Sprintf("%s/%v/n=%d", name, k, n), edit, n)
			}
		}
	}
}

func testFastPath(t *testing.T, name string, edit func(c *Config), n int) {
	t.Run(name, func(t *testing.T) {
		cfg := testConfig(t, edit)
		dp := NewDatapath(cfg)
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		// Runs of different profiles: 13, 16, 3 (or 6), then for the
		// larger cores 37, 1 and 64, and the rest: vector blocks with
		// tails, runs too short for a vector, runs starting at every
		// alignment, and a last run that ends the core.
		third := 32
		if n%8 == 0 {
			third = 35
		}
		bounds := []int{13, 29, third}
		if n > 200 {
			bounds = append(bounds, third+37, third+38, third+102)
		}
		bounds = append(bounds, n)
		vthMax := int64(1)<<cfg.Neuron.VthBits - 1
		dmax, dvMax := int64(dp.decayMax), int64(dp.decayMax)
		if dp.decay == decayMul12 {
			dvMax = 4096
		}
		pick := func(max int64, edges ...int64) int64 {
			if rng.IntN(4) == 0 {
				return edges[rng.IntN(len(edges))]
			}
			return rng.Int64N(max + 1)
		}
		var profs []Profile
		for p := range bounds {
			profs = append(profs, Profile{
				Du:         [4]uint16{uint16(pick(dmax, 0, dmax)), uint16(pick(dmax, 0, dmax))},
				Dv:         uint16(pick(dvMax, 0, dvMax, 1)),
				Vth:        int32(pick(vthMax/2, 0, 1, vthMax)),
				Refractory: uint16(pick(int64(dp.refMax), 0, int64(dp.refMax))),
			})
			if p == 0 {
				profs[p].Refractory = 1
			}
		}
		profileOf := func(i int) int {
			p, _ := slices.BinarySearch(bounds, i+1)
			return p
		}
		biasMax := int64(1)<<(cfg.Neuron.BiasBits-1) - 1
		cp := CoreProgram{Profiles: profs}
		for i := 0; i < n; i++ {
			cp.Neurons = append(cp.Neurons, Neuron{Profile: uint16(profileOf(i)), BiasMant: int32(rng.Int64N(2*biasMax+1) - biasMax),
				BiasExp: uint8(rng.IntN(cfg.Neuron.BiasExpMax + 1))})
			if rng.IntN(3) == 0 {
				cp.Neurons[i].BiasMant /= 64 // some neurons mostly driven by input
			}
		}
		sys, err := Load(cfg, &Program{Cores: []CoreProgram{cp}}, Options{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		c := sys.cores[0]
		if len(c.runs) != len(bounds) {
			t.Fatalf("%d runs, want %d", len(c.runs), len(bounds))
		}
		fast := dp.uWrap && !dp.vWrap && dp.uBits <= 29 && !dp.nearest && dp.decay == decayMul12
		for i, r := range c.runs {
			if got := r.kernel != nil; got != (fast && (hasVectorKernel || hasAVX512)) {
				t.Fatalf("run %d: vector kernel %v, want %v", i, got, fast)
			}
		}
		// random states, with edge values: saturated and wrapped currents
		// and membranes, thresholds, refractory counters
		ref := make([]NeuronState, n)
		randomizeStates(rng, dp, c, ref, profs, profileOf)
		amax := int64(1) << (cfg.Neuron.UBits - cfg.Neuron.ActShift - 1)
		accMax := dp.accMax
		in := make([][2]int64, n)
		var firedRef []uint32
		var fires uint64
		for tick := uint64(0); tick < 300; tick++ {
			density := 1 + int(tick/50)%4 // from dense input to sparse
			for i := range in {
				for k := 0; k < 2; k++ {
					in[i][k] = 0
					switch rng.IntN(density * 3) {
					case 0:
						in[i][k] = rng.Int64N(2*amax) - amax
					case 1:
						// large inputs: u wraps or saturates
						in[i][k] = pickIn(rng, -accMax, accMax, -accMax, accMax)
					}
					c.acc[k*c.stride+i] = int32(in[i][k])
				}
			}
			c.cnt = Counts{}
			c.update(dp, 0, tick)
			var f uint64
			firedRef, f = matchStep(t, c, dp, profs, profileOf, ref, in, nil, tick, firedRef)
			fires += f
		}
		if fires == 0 {
			t.Fatal("no neuron fired: the test exercises nothing")
		}
	})
}

// pickIn returns one of edges with probability 1/4, else a uniform value in
// [lo, hi].
// randomizeStates gives core c's neurons random states, copied into ref,
// with edge values: saturated and wrapped currents and membranes, the
// thresholds and their neighbours, refractory counters.
func randomizeStates(rng *rand.Rand, dp *Datapath, c *core, ref []NeuronState, profs []Profile, profileOf func(int) int) {
	uLo, uHi := dp.uMin, dp.uMax
	if dp.uWrap {
		uLo--
	}
	for i := range ref {
		vth := int64(profs[profileOf(i)].Vth) << dp.vthShift
		st := &ref[i]
		for k := 0; k < 2; k++ {
			st.U[k] = int32(pickIn(rng, uLo, uHi, uLo, uHi, 0, -1, 1))
			c.u[k*c.stride+i] = st.U[k]
		}
		st.V = int32(pickIn(rng, dp.vMin, dp.vMax, dp.vMin, dp.vMax, 0, vth, vth+1, vth-1))
		st.Ref = int32(rng.IntN(int(profs[profileOf(i)].Refractory) + 1))
		c.v[i], c.ref[i] = st.V, st.Ref
	}
}

func pickIn(rng *rand.Rand, lo, hi int64, edges ...int64) int64 {
	if len(edges) > 0 && rng.IntN(4) == 0 {
		return max(lo, min(hi, edges[rng.IntN(len(edges))]))
	}
	return lo + rng.Int64N(hi-lo+1)
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

// matchStep steps ref, the reference states, through Datapath.Step with
// the inputs in (rand gives a stochastic neuron's draw; nil for none) and
// checks core c, just updated for the same tick, against them: every
// neuron's state, the accumulators cleared, the padding lanes untouched,
// the spike list in order and the counts. It returns the reference spike
// list (in firedRef's storage) and the number of spikes.
func matchStep(t *testing.T, c *core, dp *Datapath, profs []Profile, profileOf func(int) int, ref []NeuronState, in [][2]int64, rand func(i int) uint16, tick uint64, firedRef []uint32) ([]uint32, uint64) {
	t.Helper()
	var want Counts
	firedRef = firedRef[:0]
	for i := range ref {
		si := StepInput{A: [4]int64{in[i][0], in[i][1]}, Bias: int64(c.bias[i])}
		pr := &profs[profileOf(i)]
		if rand != nil && pr.Escape != nil {
			si.Rand = rand(i)
		}
		switch {
		case dp.Step(&ref[i], pr, &si):
			want.NeuronFire++
			firedRef = append(firedRef, uint32(i))
		case in[i][0] != 0 || in[i][1] != 0:
			want.NeuronActive++
		default:
			want.NeuronIdle++
		}
	}
	for i := range ref {
		got := NeuronState{U: [4]int32{c.u[i], c.u[c.stride+i]}, V: c.v[i], Ref: c.ref[i]}
		if got != ref[i] {
			t.Fatalf("tick %d neuron %d (profile %d): core %+v, reference %+v", tick, i, profileOf(i), got, ref[i])
		}
	}
	for i, a := range c.acc {
		if a != 0 {
			t.Fatalf("tick %d: accumulator %d (type %d, neuron %d) not cleared", tick, i, i/c.stride, i%c.stride)
		}
	}
	for i := len(ref); i < c.stride; i++ {
		if c.v[i] != 0 || c.u[i] != 0 || c.u[c.stride+i] != 0 || c.ref[i] != 0 {
			t.Fatalf("tick %d: padding lane %d changed", tick, i)
		}
	}
	if !slices.Equal(c.fired, firedRef) {
		t.Fatalf("tick %d: core fired %v, reference %v", tick, c.fired, firedRef)
	}
	if c.cnt != want {
		t.Fatalf("tick %d: counts %+v, reference %+v", tick, c.cnt, want)
	}
	return firedRef, want.NeuronFire
}
