package firmware

import (
	"github.com/aerie-neuro/aerie/chip"
)

// Network is a deployable network with integer parameters: what the network
// TOML (ParseNetwork), the benchmarks and the trainer's deploy produce, and
// what Compile places on a chip. Every number in it is already on the
// chip's grid; the quantizer (quantize.go) is the one place where physical
// units or float weights become these integers.
type Network struct {
	Name string
	// Seed keys every counter-based random draw of a run: stochastic
	// neurons and Poisson sources (sources may carry their own seed).
	Seed uint64
	// DtMS is the biological time of one tick in milliseconds (0:
	// unknown), so that rates are in Hz and runs have a real-time factor.
	DtMS        float64
	Populations []Population
	Projections []Projection
	Inputs      []InputPort
	Outputs     []OutputPort
	// Provenance is free-form metadata carried into the image: what
	// produced the network, its quantization, measured accuracy.
	Provenance map[string]string
}

// Population is a group of neurons sharing one profile, or (Source set) a
// group of on-chip spike sources.
type Population struct {
	Name string
	Size int
	// Profile is the population's parameter set (decays, threshold,
	// refractory period, escape table).
	Profile chip.Profile
	// BiasMant << BiasExp is every neuron's bias, unless Bias gives one per
	// neuron (len Size).
	BiasMant int32
	BiasExp  uint8
	Bias     []Bias
	// V0 holds initial membranes (len Size), or nil for zeros.
	V0 []int32
	// NoiseKeys are the logical ids under which the neurons (or sources)
	// draw their random numbers (len Size); nil gives neuron i of the
	// population the key Offset(population) + i, where populations are
	// numbered in order (see Network.NoiseKey). Keys, not placement, decide
	// draws, so moving a neuron to another core never changes a run.
	NoiseKeys []uint32
	// Source, when set, makes the population a set of Size on-chip spike
	// sources with these parameters (Out and NoiseKey are filled by the
	// compiler; Seed 0 means the network's seed). Profile, biases and V0
	// are then unused.
	Source *chip.Generator
}

// Bias is one neuron's bias: Mant << Exp.
type Bias struct {
	Mant int32
	Exp  uint8
}

// IsSource reports whether the population is a set of spike sources.
func (p *Population) IsSource() bool { return p.Source != nil }

// Projection is a set of connections from population Pre (neurons or
// sources) to population Post (neurons).
type Projection struct {
	Name      string // for messages; may be empty
	Pre, Post int    // population indices
	Type      uint8  // synapse type (receptor)
	// WeightExp scales every weight mantissa by 2^WeightExp, unless RowExp
	// gives one exponent per presynaptic neuron (len = Pre's size).
	WeightExp int8
	RowExp    []int8
	Conns     []Conn
}

// Conn is one synapse of a projection, between neuron Pre of the source and
// neuron Post of the target population. Delay is the chip's extra delay: a
// spike at tick t is integrated at t+1+Delay. Conns whose Weight is zero
// are dropped by Compile and counted (Report.DroppedSynapses).
type Conn struct {
	Pre, Post uint32
	Weight    int32
	Delay     uint8
}

// InputPort is a named stream of external events: channel c of the port
// reaches the synapses of Conns whose Pre is c. An event of channel c at
// tick t acts like a spike of a source neuron emitted at tick t: it is
// integrated at t+1+Delay.
type InputPort struct {
	Name     string
	Channels int
	Post     int // target population
	Type     uint8
	// WeightExp scales every weight, unless RowExp gives one exponent per
	// channel (len Channels).
	WeightExp int8
	RowExp    []int8
	Conns     []Conn // Pre = channel
}

// OutputPort names the neurons whose spikes leave the chip: channel i is
// neuron Neurons[i] of population Pop (nil Neurons: every neuron, channel i
// = neuron i).
type OutputPort struct {
	Name    string
	Pop     int
	Neurons []uint32
}

// NoiseKey returns the default noise key of neuron i of population p: the
// populations' sizes laid end to end, in order.
func (n *Network) NoiseKey(p, i int) uint32 {
	off := 0
	for j := 0; j < p; j++ {
		off += n.Populations[j].Size
	}
	return uint32(off + i)
}
