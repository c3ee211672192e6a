package chip

import (
	"strconv"
	"strings"
	"unsafe"
)

// Counts are the counted events of a core (or a system): one uint64 per
// row of Events, in the table's order (a test holds the fields to the
// table). Core events are counted by the core that does the work; network
// events (hops, late and dropped messages) by the system, from its
// network's reports.
type Counts struct {
	InputSpikes  uint64 `json:"input_spikes"`        // axon messages received
	Synops       uint64 `json:"synops"`              // synaptic accumulations
	NeuronIdle   uint64 `json:"neuron_idle"`         // updates with no input
	NeuronActive uint64 `json:"neuron_active"`       // updates with input, no spike
	NeuronFire   uint64 `json:"neuron_fire"`         // updates that fired
	Messages     uint64 `json:"messages"`            // axon messages sent
	Generated    uint64 `json:"generated"`           // spikes of on-chip generators (their messages are in Messages)
	HopsX        uint64 `json:"hops_x,omitempty"`    // flit-hops over on-chip east–west links
	HopsY        uint64 `json:"hops_y,omitempty"`    // flit-hops over on-chip north–south links
	HopsChip     uint64 `json:"hops_chip,omitempty"` // flit-hops over chip-to-chip links
	Late         uint64 `json:"late,omitempty"`      // messages past a fixed tick's deadline
	Dropped      uint64 `json:"dropped,omitempty"`   // messages the network lost
}

// Event is a row of the event table.
type Event struct {
	Name string // JSON key in Counts
	Key  string // TOML key in cost.cycles and cost.energy_pj ("": not priced)
	// Cycle is the event's column in CycleCosts (−1: it costs no core
	// cycles; the network's time is its drain time), Energy its column in
	// EnergyCosts (−1: no energy).
	Cycle, Energy int
	// MaxCycles and MaxPJ bound the costs a description may write.
	MaxCycles uint64
	MaxPJ     float64
	// Kind is the category of Energy the event's energy is reported in.
	Kind EnergyKind
}

// EnergyKind is a category of Energy.
type EnergyKind int

const (
	EnergyNone EnergyKind = iota
	EnergyInputSpikes
	EnergySynops
	EnergyNeurons
	EnergyMessages
	EnergyInterconnect
)

// Events is the one table of counted events: a new event is one row here,
// with its field in Counts and, when priced, in CycleCosts and EnergyCosts
// (the schema of descriptions and statistics); Counts.add, Counts.Cycles,
// the range checks of Config.Validate and the energy account all loop over
// it. The first NumCycleEvents rows are the core events priced in cycles.
var Events = [NumEvents]Event{
	{"input_spikes", "input_spike", 0, 0, 1e9, 1e9, EnergyInputSpikes},
	{"synops", "synop", 1, 1, 1e9, 1e9, EnergySynops},
	{"neuron_idle", "neuron_idle", 2, 2, 1e9, 1e9, EnergyNeurons},
	{"neuron_active", "neuron_active", 3, 3, 1e9, 1e9, EnergyNeurons},
	{"neuron_fire", "neuron_fire", 4, 4, 1e9, 1e9, EnergyNeurons},
	{"messages", "message", 5, 5, 1e9, 1e9, EnergyMessages},
	{"generated", "", -1, -1, 0, 0, EnergyNone},
	{"hops_x", "hop_x", -1, 6, 0, 1e9, EnergyInterconnect},
	{"hops_y", "hop_y", -1, 7, 0, 1e9, EnergyInterconnect},
	{"hops_chip", "chip_hop", -1, 8, 0, 1e9, EnergyInterconnect},
	{"late", "", -1, -1, 0, 0, EnergyNone},
	{"dropped", "", -1, -1, 0, 0, EnergyNone},
}

const (
	// NumEvents is the number of rows of Events (fields of Counts).
	NumEvents = 12
	// NumCycleEvents is the number of fields of CycleCosts: the first rows.
	NumCycleEvents = 6
	// NumCoreEvents are the rows a core counts (up to generated); the
	// network's rows follow.
	NumCoreEvents = 7
	// NumEnergyEvents is the number of fields of EnergyCosts.
	NumEnergyEvents = 9
)

// The structs are the table's columns: these fail to compile when a field
// is added to one and not counted here.
var (
	_ [unsafe.Sizeof(Counts{}) - NumEvents*8]struct{}
	_ [NumEvents*8 - unsafe.Sizeof(Counts{})]struct{}
	_ [unsafe.Sizeof(CycleCosts{}) - NumCycleEvents*8]struct{}
	_ [NumCycleEvents*8 - unsafe.Sizeof(CycleCosts{})]struct{}
	_ [unsafe.Sizeof(EnergyCosts{}) - NumEnergyEvents*8]struct{}
	_ [NumEnergyEvents*8 - unsafe.Sizeof(EnergyCosts{})]struct{}
)

// Array views of the columns, in table order (all fields of one type, no
// padding: the assertions above).
func (c *Counts) arr() *[NumEvents]uint64 { return (*[NumEvents]uint64)(unsafe.Pointer(c)) }
func (k *CycleCosts) arr() *[NumCycleEvents]uint64 {
	return (*[NumCycleEvents]uint64)(unsafe.Pointer(k))
}
func (k *EnergyCosts) arr() *[NumEnergyEvents]float64 {
	return (*[NumEnergyEvents]float64)(unsafe.Pointer(k))
}

// Get returns the count of event i (a row of Events).
func (c *Counts) Get(i int) uint64 { return c.arr()[i] }

func (c *Counts) add(o *Counts) {
	a, b := c.arr(), o.arr()
	for i := range a {
		a[i] += b[i]
	}
}

// addCore adds the events a core counts (the first NumCoreEvents rows;
// a core's network rows are always zero), for the engine's per-tick sum.
func (c *Counts) addCore(o *Counts) {
	a, b := c.arr(), o.arr()
	for i := 0; i < NumCoreEvents; i++ {
		a[i] += b[i]
	}
}

// Cycles prices counts with a cycle table.
func (c *Counts) Cycles(k *CycleCosts) uint64 {
	a, w := c.arr(), k.arr()
	var s uint64
	for i := range w {
		s += a[i] * w[i]
	}
	return s
}

// costRangeErrors checks every priced cost of the table against its range.
func costRangeErrors(y *CycleCosts, e *EnergyCosts) []error {
	var errs []error
	cy, en := y.arr(), e.arr()
	for _, ev := range Events {
		if ev.Cycle >= 0 && cy[ev.Cycle] > ev.MaxCycles {
			errs = append(errs, &FieldError{"cost.cycles." + ev.Key, cy[ev.Cycle], "≤ " + sci(float64(ev.MaxCycles)) + " cycles"})
		}
		if ev.Energy >= 0 {
			if v := en[ev.Energy]; !(v >= 0 && v < ev.MaxPJ) {
				errs = append(errs, &FieldError{"cost.energy_pj." + ev.Key, v, "0 ≤ pJ < " + sci(ev.MaxPJ)})
			}
		}
	}
	return errs
}

// energyPJ sums counts·pJ per energy category, in table order.
func energyPJ(n *Counts, k *EnergyCosts) (byKind [EnergyInterconnect + 1]float64) {
	cnt, pj := n.arr(), k.arr()
	for i, ev := range Events {
		if ev.Energy >= 0 {
			byKind[ev.Kind] += float64(cnt[i]) * pj[ev.Energy]
		}
	}
	return byKind
}

// sci writes 1e9 as "1e9".
func sci(v float64) string {
	return strings.Replace(strconv.FormatFloat(v, 'g', -1, 64), "e+0", "e", 1)
}
