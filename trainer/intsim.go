package trainer

import (
	"fmt"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
)

// IntegerNet is the trainer's integer evaluation of a deployed network: the
// firmware.Network run population by population with chip.Datapath.Step,
// the chip's own reference update, under the chip's time-step contract
// (chip/doc.go) and noise contract (chip/noise.go). It shares no code with
// the emulator's cores beyond Datapath.Step and Noise, so agreement with
// chip.System — spike for spike, the readout registers included — is a
// real check of both (TestDeployParity).
//
// Per tick t: the synapses of every spike of tick t−1 and of every input
// event of tick t−1 add mant·2^exp (an arithmetic right shift for exp < 0,
// as the chip's synapse memory does) to the target's accumulator slot
// t+delay; each neuron reads and clears slot t, clips it to acc_bits and
// steps with Rand16(seed, noise key, t).
type IntegerNet struct {
	net   *firmware.Network
	cfg   *chip.Config
	dp    *chip.Datapath
	types int
	slots int
	pops  []intPop
	// out[s] lists the synapses of sender s: neurons of population p are
	// senders first[p]…; then input port channels
	first     []int
	portOf    []int // input port → first sender
	out       [][]intSyn
	seed      uint64
	uMax      int64
	vMax      int32
	pendingIn []chip.PortEvent // input events of the last tick, delivered at the next

	// Clips counts accumulator reads beyond acc_bits, Wraps currents that
	// left u_bits, Saturations membranes pinned at the end of v_bits, since
	// the last Reset.
	Clips, Wraps, Saturations uint64
}

type intPop struct {
	size    int
	source  bool
	prof    chip.Profile
	bias    []int64
	keys    []uint32
	state   []chip.NeuronState
	v0      []int32
	acc     [][]int64 // slot → type·size + i
	gen     chip.Generator
	fired   []int32   // this tick's spikes (sources: once per spike)
	prevOut []int32   // the previous tick's spikes, being delivered
	counts  [3]uint64 // clips, wraps, saturations since Reset
}

type intSyn struct {
	pop   int32
	idx   int32
	typ   uint8
	delay uint8
	val   int64
}

// NewIntegerNet prepares net for integer evaluation on cfg. Stochastic
// profiles need a chip with stochastic neurons; everything else is checked
// by firmware.Network.Check.
func NewIntegerNet(net *firmware.Network, cfg *chip.Config) (*IntegerNet, error) {
	if err := net.Check(cfg); err != nil {
		return nil, err
	}
	in := &IntegerNet{net: net, cfg: cfg, dp: chip.NewDatapath(cfg), types: cfg.Neuron.SynapseTypes, seed: net.Seed}
	in.uMax = int64(1)<<(cfg.Neuron.UBits-1) - 1
	in.vMax = int32(int64(1)<<(cfg.Neuron.VBits-1) - 1)
	maxDelay := 0
	for _, pr := range net.Projections {
		for _, c := range pr.Conns {
			maxDelay = max(maxDelay, int(c.Delay))
		}
	}
	for _, ip := range net.Inputs {
		for _, c := range ip.Conns {
			maxDelay = max(maxDelay, int(c.Delay))
		}
	}
	in.slots = maxDelay + 1
	key := 0
	in.first = make([]int, len(net.Populations)+1)
	for p := range net.Populations {
		pop := &net.Populations[p]
		if pop.Profile.Escape != nil && !cfg.Neuron.Stochastic {
			return nil, fmt.Errorf("trainer: population %q is stochastic; chip %s has no stochastic neurons", pop.Name, cfg.Name)
		}
		ip := intPop{size: pop.Size, source: pop.IsSource(), prof: pop.Profile}
		ip.keys = make([]uint32, pop.Size)
		for i := range ip.keys {
			ip.keys[i] = uint32(key + i)
			if pop.NoiseKeys != nil {
				ip.keys[i] = pop.NoiseKeys[i]
			}
		}
		key += pop.Size
		if ip.source {
			ip.gen = *pop.Source
		} else {
			ip.bias = make([]int64, pop.Size)
			for i := range ip.bias {
				m, e := pop.BiasMant, pop.BiasExp
				if pop.Bias != nil {
					m, e = pop.Bias[i].Mant, pop.Bias[i].Exp
				}
				ip.bias[i] = int64(m) << e
			}
			ip.state = make([]chip.NeuronState, pop.Size)
			ip.v0 = pop.V0
			ip.acc = make([][]int64, in.slots)
			for s := range ip.acc {
				ip.acc[s] = make([]int64, in.types*pop.Size)
			}
		}
		in.pops = append(in.pops, ip)
		in.first[p+1] = in.first[p] + pop.Size
	}
	senders := in.first[len(net.Populations)]
	in.portOf = make([]int, len(net.Inputs))
	for i, ip := range net.Inputs {
		in.portOf[i] = senders
		senders += ip.Channels
	}
	in.out = make([][]intSyn, senders)
	value := func(w int32, e int8) int64 {
		if e >= 0 {
			return int64(w) << uint(e)
		}
		return int64(w) >> uint(-e)
	}
	for _, pr := range net.Projections {
		for _, c := range pr.Conns {
			if c.Weight == 0 {
				continue
			}
			e := pr.WeightExp
			if pr.RowExp != nil {
				e = pr.RowExp[c.Pre]
			}
			s := in.first[pr.Pre] + int(c.Pre)
			in.out[s] = append(in.out[s], intSyn{pop: int32(pr.Post), idx: int32(c.Post), typ: pr.Type, delay: c.Delay, val: value(c.Weight, e)})
		}
	}
	for pi, ip := range net.Inputs {
		for _, c := range ip.Conns {
			if c.Weight == 0 {
				continue
			}
			e := ip.WeightExp
			if ip.RowExp != nil {
				e = ip.RowExp[c.Pre]
			}
			s := in.portOf[pi] + int(c.Pre)
			in.out[s] = append(in.out[s], intSyn{pop: int32(ip.Post), idx: int32(c.Post), typ: ip.Type, delay: c.Delay, val: value(c.Weight, e)})
		}
	}
	in.Reset(net.Seed)
	return in, nil
}

// Reset starts again at tick 0 under seed, as chip.System.Reset does.
func (in *IntegerNet) Reset(seed uint64) {
	in.seed = seed
	in.Clips, in.Wraps, in.Saturations = 0, 0, 0
	for p := range in.pops {
		ip := &in.pops[p]
		ip.fired = ip.fired[:0]
		ip.prevOut = ip.prevOut[:0]
		ip.counts = [3]uint64{}
		for i := range ip.state {
			ip.state[i] = chip.NeuronState{VMax: chip.VMaxStart}
			if ip.v0 != nil {
				ip.state[i].V = ip.v0[i]
			}
		}
		for _, a := range ip.acc {
			clear(a)
		}
	}
	in.pendingIn = in.pendingIn[:0]
}

// Run steps ticks 0 … ticks−1 from the reset state. input(t) returns the
// (port, channel) events of tick t; spikes(t, pop, neurons) sees each
// tick's spikes per neuron population (nil: not observed).
func (in *IntegerNet) Run(ticks uint64, input func(t uint64) []chip.PortEvent, spikes func(t uint64, pop int, neurons []int32)) {
	for t := uint64(0); t < ticks; t++ {
		in.step(t, input, spikes)
	}
}

func (in *IntegerNet) deliver(s int, t uint64) {
	for _, sy := range in.out[s] {
		ip := &in.pops[sy.pop]
		slot := (int(t) + int(sy.delay)) % in.slots
		ip.acc[slot][int(sy.typ)*ip.size+int(sy.idx)] += sy.val
	}
}

func (in *IntegerNet) step(t uint64, input func(t uint64) []chip.PortEvent, spikes func(t uint64, pop int, neurons []int32)) {
	// deliver tick t−1: spikes of every population, then input events
	if t > 0 {
		for p := range in.pops {
			for _, i := range in.pops[p].prevOut {
				in.deliver(in.first[p]+int(i), t)
			}
		}
		for _, ev := range in.pendingIn {
			if int(ev.Port) < len(in.portOf) && int(ev.Channel) < in.net.Inputs[ev.Port].Channels {
				in.deliver(in.portOf[ev.Port]+int(ev.Channel), t)
			}
		}
	}
	slot := int(t) % in.slots
	var sin chip.StepInput
	for p := range in.pops {
		ip := &in.pops[p]
		ip.fired = ip.fired[:0]
		if ip.source {
			in.sourceStep(ip, t)
			continue
		}
		acc := ip.acc[slot]
		for i := range ip.state {
			for k := 0; k < in.types; k++ {
				a := acc[k*ip.size+i]
				acc[k*ip.size+i] = 0
				c, clipped := in.dp.Acc(a)
				if clipped {
					in.Clips++
					ip.counts[0]++
				}
				sin.A[k] = c
			}
			sin.Bias = ip.bias[i]
			if ip.prof.Escape != nil {
				sin.Rand = chip.Rand16(in.seed, ip.keys[i], t)
			}
			st := &ip.state[i]
			w := in.countWraps(st, &ip.prof, &sin)
			in.Wraps += w
			ip.counts[1] += w
			if in.dp.Step(st, &ip.prof, &sin) {
				ip.fired = append(ip.fired, int32(i))
			}
			if st.V == in.vMax || st.V == -in.vMax {
				in.Saturations++
				ip.counts[2]++
			}
		}
		if spikes != nil && len(ip.fired) > 0 {
			spikes(t, p, ip.fired)
		}
	}
	for p := range in.pops {
		ip := &in.pops[p]
		ip.prevOut = append(ip.prevOut[:0], ip.fired...)
	}
	in.pendingIn = in.pendingIn[:0]
	if input != nil {
		in.pendingIn = append(in.pendingIn, input(t)...)
	}
}

// countWraps counts the currents that will leave u_bits in this step
// (recomputing the step's current update, which Datapath.Step folds).
func (in *IntegerNet) countWraps(st *chip.NeuronState, pr *chip.Profile, sin *chip.StepInput) (wraps uint64) {
	n := &in.cfg.Neuron
	for k := 0; k < in.types; k++ {
		var u int64
		if n.Current == "instant" {
			u = sin.A[k] << uint(n.ActShift)
		} else {
			u = in.dp.Decay(int64(st.U[k]), int32(pr.Du[k])+int32(n.UDecayOffset)) + sin.A[k]<<uint(n.ActShift)
		}
		if u > in.uMax || u < -in.uMax {
			wraps++
		}
	}
	return wraps
}

func (in *IntegerNet) sourceStep(ip *intPop, t uint64) {
	g := &ip.gen
	for i := 0; i < ip.size; i++ {
		k := 0
		switch {
		case len(g.Counts) > 0 || g.Prob > 0:
			s := in.seed
			if g.Seed != 0 {
				s = g.Seed
			}
			r := chip.Noise(s, ip.keys[i], t)
			if len(g.Counts) > 0 {
				r32 := uint32(r >> 32)
				for k < len(g.Counts) && g.Counts[k] <= r32 {
					k++
				}
			} else if uint32(r>>48) < g.Prob {
				k = 1
			}
		case t >= uint64(g.Phase) && (t-uint64(g.Phase))%uint64(g.Period) == 0:
			k = 1
		}
		for ; k > 0; k-- {
			ip.fired = append(ip.fired, int32(i))
		}
	}
}

// PopCounts returns population p's accumulator clips, current wraps and
// saturated membranes since the last Reset.
func (in *IntegerNet) PopCounts(p int) [3]uint64 { return in.pops[p].counts }

// State returns neuron i of population p.
func (in *IntegerNet) State(p, i int) chip.NeuronState { return in.pops[p].state[i] }
