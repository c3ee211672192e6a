package firmware

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aerie-neuro/aerie/chip"
)

// Options tune Compile.
type Options struct {
	// NeuronsPerCore caps the neurons placed on one core. 0 spreads the
	// network over the whole chip: ⌈neurons / cores⌉ per core (capped by
	// core.neurons), so that every core does a share of each tick's work
	// and ticks are as short as the chip allows. Set it to core.neurons to
	// pack the network onto as few cores as possible.
	NeuronsPerCore int
}

// Placement says where every neuron and source of a network went, in both
// directions, and what each core holds.
type Placement struct {
	Populations []PlacedPopulation
	// Cores is the usage of every core the program uses.
	Cores []CoreUsage
	// DroppedSynapses counts connections whose weight mantissa is zero:
	// they cannot change a run, so they take no synapse memory.
	DroppedSynapses int
	// Synapses is the number of synapses placed.
	Synapses int

	byCore [][]slotOwner // core → slot → owner (neurons), built on demand
	byGen  [][]slotOwner // core → generator → owner
}

// PlacedPopulation is one population's placement: consecutive pieces, each
// a run of consecutive slots on one core holding consecutive members.
type PlacedPopulation struct {
	Name   string  `json:"name"`
	Size   int     `json:"neurons"`
	Source bool    `json:"source,omitempty"`
	Pieces []Piece `json:"pieces"`
}

// Piece is members Start … Start+Count−1 of a population on core Core,
// slots First … First+Count−1 (generator slots for sources).
type Piece struct {
	Core  uint32 `json:"core"`
	First uint32 `json:"first"`
	Count uint32 `json:"count"`
	Start uint32 `json:"start"`
}

// CoreUsage is what one core holds, against its limits.
type CoreUsage struct {
	Core        int `json:"core"`
	Neurons     int `json:"neurons"`
	Generators  int `json:"generators"`
	Profiles    int `json:"profiles"`
	Synapses    int `json:"synapses"`
	InputAxons  int `json:"input_axons"`
	OutputAxons int `json:"output_axons"`
}

type slotOwner struct{ pop, index int32 }

// Cores lists the cores a population occupies, in order.
func (pp *PlacedPopulation) Cores() []int {
	var out []int
	for _, pc := range pp.Pieces {
		if len(out) == 0 || out[len(out)-1] != int(pc.Core) {
			out = append(out, int(pc.Core))
		}
	}
	return out
}

// Locate returns the location of member i of population p. For a source
// population the neuron number is chip.GeneratorID of the generator slot.
func (pl *Placement) Locate(p, i int) chip.NeuronRef {
	pp := &pl.Populations[p]
	k := sort.Search(len(pp.Pieces), func(k int) bool { return int(pp.Pieces[k].Start+pp.Pieces[k].Count) > i })
	pc := pp.Pieces[k]
	slot := pc.First + uint32(i) - pc.Start
	if pp.Source {
		slot = chip.GeneratorID(int(slot))
	}
	return chip.NeuronRef{Core: pc.Core, Neuron: slot}
}

// Refs returns the locations of every member of population p, in order.
func (pl *Placement) Refs(p int) []chip.NeuronRef {
	pp := &pl.Populations[p]
	out := make([]chip.NeuronRef, 0, pp.Size)
	for _, pc := range pp.Pieces {
		for j := uint32(0); j < pc.Count; j++ {
			slot := pc.First + j
			if pp.Source {
				slot = chip.GeneratorID(int(slot))
			}
			out = append(out, chip.NeuronRef{Core: pc.Core, Neuron: slot})
		}
	}
	return out
}

// Owner returns the population and member index at a location (a neuron
// slot, or chip.GeneratorID of a generator slot).
func (pl *Placement) Owner(r chip.NeuronRef) (pop, index int, ok bool) {
	if pl.byCore == nil {
		pl.buildOwners()
	}
	tab := pl.byCore
	slot := r.Neuron
	if slot&(1<<31) != 0 {
		tab, slot = pl.byGen, slot&^(1<<31)
	}
	if int(r.Core) >= len(tab) || int(slot) >= len(tab[r.Core]) {
		return 0, 0, false
	}
	o := tab[r.Core][slot]
	if o.pop < 0 {
		return 0, 0, false
	}
	return int(o.pop), int(o.index), true
}

func (pl *Placement) buildOwners() {
	ncores := len(pl.Cores)
	for _, pp := range pl.Populations {
		for _, pc := range pp.Pieces {
			ncores = max(ncores, int(pc.Core)+1)
		}
	}
	pl.byCore = make([][]slotOwner, ncores)
	pl.byGen = make([][]slotOwner, ncores)
	for p, pp := range pl.Populations {
		tab := pl.byCore
		if pp.Source {
			tab = pl.byGen
		}
		for _, pc := range pp.Pieces {
			need := int(pc.First + pc.Count)
			for len(tab[pc.Core]) < need {
				tab[pc.Core] = append(tab[pc.Core], slotOwner{-1, -1})
			}
			for j := uint32(0); j < pc.Count; j++ {
				tab[pc.Core][pc.First+j] = slotOwner{int32(p), int32(pc.Start + j)}
			}
		}
	}
}

// PopulationsOn names the populations with members on core c, with the
// member ranges, for messages.
func (pl *Placement) PopulationsOn(c int) string {
	var parts []string
	for _, pp := range pl.Populations {
		for _, pc := range pp.Pieces {
			if int(pc.Core) == c {
				parts = append(parts, fmt.Sprintf("%s[%d…%d]", pp.Name, pc.Start, pc.Start+pc.Count-1))
			}
		}
	}
	return strings.Join(parts, ", ")
}

// Compile places net on the chip described by cfg with default options;
// see CompileWith.
func Compile(net *Network, cfg *chip.Config) (*chip.Program, *Placement, error) {
	return CompileWith(net, cfg, Options{})
}

// CompileWith checks net, places it on the chip described by cfg and
// returns the program with its placement (see the package doc for the
// rules). A network that does not fit gets an error naming the
// population, the resource, what it needs and the limit.
func CompileWith(net *Network, cfg *chip.Config, opt Options) (*chip.Program, *Placement, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("firmware: chip %s: %w", cfg.Name, err)
	}
	if err := net.Check(cfg); err != nil {
		return nil, nil, err
	}
	c := newCompiler(net, cfg, opt)
	if err := c.place(); err != nil {
		return nil, nil, err
	}
	c.build()
	if err := c.prog.Check(cfg); err != nil {
		return nil, nil, c.explain(err)
	}
	return c.prog, c.pl, nil
}

// source ids: the compiler numbers every sender of synapses — neurons in
// placement order, then generators in (core, slot) order, then input port
// channels in port order — and groups synapses by sender.
type compiler struct {
	net  *Network
	cfg  *chip.Config
	opt  Options
	prog *chip.Program
	pl   *Placement

	genID    [][]int32 // source population → member → sender id
	nNeurons int
	nSenders int   // neurons and generators
	nAll     int   // and input port channels
	portBase []int // input port → sender id of channel 0

	// location of each sender (neurons and generators)
	senderCore []uint32
	senderSlot []uint32
	// location of each neuron by global neuron number (placement order)
	neuronCore []uint32
	neuronSlot []uint32
	popNeuron0 []int // population → global neuron number of member 0
}

func newCompiler(net *Network, cfg *chip.Config, opt Options) *compiler {
	return &compiler{net: net, cfg: cfg, opt: opt, pl: &Placement{}}
}

// fanIn counts, for every neuron of every neuron population, the synapses
// (non-zero weights) it receives, and the senders behind them.
type fanIn struct {
	start []int    // global neuron → offset into src (CSR by target)
	src   []uint32 // sender class of each incoming synapse: id·exps + exp class
}

// place lays populations onto cores (see the package doc).
func (c *compiler) place() error {
	net, cfg := c.net, c.cfg
	ncores := cfg.Cores()
	totalNeurons := 0
	for i := range net.Populations {
		if !net.Populations[i].IsSource() {
			totalNeurons += net.Populations[i].Size
		}
	}
	per := c.opt.NeuronsPerCore
	if per <= 0 {
		per = (totalNeurons + ncores - 1) / ncores
	}
	per = max(1, min(per, cfg.Core.Neurons))

	// Number neurons in population order (placement keeps that order), so
	// a neuron's global number is popNeuron0[p] + i.
	c.popNeuron0 = make([]int, len(net.Populations))
	n := 0
	for p := range net.Populations {
		c.popNeuron0[p] = n
		if !net.Populations[p].IsSource() {
			n += net.Populations[p].Size
		}
	}
	c.nNeurons = n

	// Exponent classes, so that one sender with two exponents towards one
	// core counts as two input axons there, as it will be.
	expClass := map[int8]uint32{}
	classOf := func(e int8) uint32 {
		k, ok := expClass[e]
		if !ok {
			k = uint32(len(expClass))
			expClass[e] = k
		}
		return k
	}
	for _, pr := range net.Projections {
		classOf(pr.WeightExp)
		for _, e := range pr.RowExp {
			classOf(e)
		}
	}
	for _, in := range net.Inputs {
		classOf(in.WeightExp)
		for _, e := range in.RowExp {
			classOf(e)
		}
	}
	nexp := uint32(max(1, len(expClass)))

	// Sender classes before placement: neurons by global number, sources
	// and port channels after them (their final ids come later, but the
	// class only needs to be unique).
	sourceBase := make([]int, len(net.Populations))
	m := n
	for p := range net.Populations {
		if net.Populations[p].IsSource() {
			sourceBase[p] = m
			m += net.Populations[p].Size
		}
	}
	portBase := make([]int, len(net.Inputs))
	for i, in := range net.Inputs {
		portBase[i] = m
		m += in.Channels
	}
	if uint64(m)*uint64(nexp) >= 1<<32 {
		return fmt.Errorf("firmware: %d senders × %d weight exponents: too many for one program", m, nexp)
	}
	senderOf := func(p int, i uint32) int {
		if net.Populations[p].IsSource() {
			return sourceBase[p] + int(i)
		}
		return c.popNeuron0[p] + int(i)
	}

	// CSR of incoming synapses by target neuron.
	fi := fanIn{start: make([]int, n+1)}
	for _, pr := range net.Projections {
		base := c.popNeuron0[pr.Post]
		for _, cn := range pr.Conns {
			if cn.Weight != 0 {
				fi.start[base+int(cn.Post)+1]++
			}
		}
	}
	for _, in := range net.Inputs {
		base := c.popNeuron0[in.Post]
		for _, cn := range in.Conns {
			if cn.Weight != 0 {
				fi.start[base+int(cn.Post)+1]++
			}
		}
	}
	for i := 0; i < n; i++ {
		fi.start[i+1] += fi.start[i]
	}
	fi.src = make([]uint32, fi.start[n])
	fill := slices.Clone(fi.start[:n])
	var rowClass []uint32
	for _, pr := range net.Projections {
		base := c.popNeuron0[pr.Post]
		cls := expClass[pr.WeightExp]
		if pr.RowExp != nil {
			rowClass = rowClass[:0]
			for _, e := range pr.RowExp {
				rowClass = append(rowClass, expClass[e])
			}
		}
		for _, cn := range pr.Conns {
			if cn.Weight == 0 {
				continue
			}
			k := cls
			if pr.RowExp != nil {
				k = rowClass[cn.Pre]
			}
			t := base + int(cn.Post)
			fi.src[fill[t]] = uint32(senderOf(pr.Pre, cn.Pre))*nexp + k
			fill[t]++
		}
	}
	for pi, in := range net.Inputs {
		base := c.popNeuron0[in.Post]
		for _, cn := range in.Conns {
			if cn.Weight == 0 {
				continue
			}
			e := in.WeightExp
			if in.RowExp != nil {
				e = in.RowExp[cn.Pre]
			}
			t := base + int(cn.Post)
			fi.src[fill[t]] = uint32(portBase[pi]+int(cn.Pre))*nexp + expClass[e]
			fill[t]++
		}
	}

	// Greedy fill: neuron by neuron in population order, onto the current
	// core while every limit holds, else onto the next core.
	maxSyn := cfg.MaxSynapses()
	stampCore := make([]int32, uint64(m)*uint64(nexp)) // core+1 that already has an axon for the class
	stampTry := make([]int32, len(stampCore))          // attempt that counted the class
	c.neuronCore = make([]uint32, n)
	c.neuronSlot = make([]uint32, n)
	c.pl.Populations = make([]PlacedPopulation, len(net.Populations))
	usage := []CoreUsage{{Core: 0}}
	core := 0
	try := int32(0)
	lastPopOnCore := -1
	for p := range net.Populations {
		pop := &net.Populations[p]
		c.pl.Populations[p] = PlacedPopulation{Name: pop.Name, Size: pop.Size, Source: pop.IsSource()}
		if pop.IsSource() {
			continue
		}
		for i := 0; i < pop.Size; i++ {
			g := c.popNeuron0[p] + i
			in := fi.src[fi.start[g]:fi.start[g+1]]
			for {
				u := &usage[core]
				try++
				newAxons := 0
				for _, s := range in {
					if stampCore[s] != int32(core+1) && stampTry[s] != try {
						stampTry[s] = try
						newAxons++
					}
				}
				newProfile := 0
				if lastPopOnCore != p {
					newProfile = 1
				}
				fits := u.Neurons < per && u.Synapses+len(in) <= maxSyn &&
					u.InputAxons+newAxons <= cfg.Core.InputAxons && u.Profiles+newProfile <= cfg.Core.Profiles
				if fits {
					for _, s := range in {
						stampCore[s] = int32(core + 1)
					}
					u.Synapses += len(in)
					u.InputAxons += newAxons
					u.Profiles += newProfile
					lastPopOnCore = p
					c.neuronCore[g] = uint32(core)
					c.neuronSlot[g] = uint32(u.Neurons)
					u.Neurons++
					break
				}
				if u.Neurons == 0 {
					// an empty core cannot hold it: say which limit
					return c.tooBig(p, i, len(in), newAxons)
				}
				core++
				lastPopOnCore = -1
				if core >= ncores {
					return fmt.Errorf("firmware: population %q does not fit %s: neuron %d of %d and the %d after it need a core beyond the chip's %d (core.neurons %d, %d per core here; synapse memory %d synapses, %d input axons per core)",
						pop.Name, cfg.Name, i, pop.Size, pop.Size-1-i, ncores, cfg.Core.Neurons, per, maxSyn, cfg.Core.InputAxons)
				}
				usage = append(usage, CoreUsage{Core: core})
			}
		}
	}

	// Sources go to the core holding their first target (local traffic),
	// or the nearest later core with a free generator slot.
	firstTarget := make(map[int]int) // source's sender number → core of its first target
	for _, pr := range net.Projections {
		if !net.Populations[pr.Pre].IsSource() {
			continue
		}
		for _, cn := range pr.Conns {
			s := senderOf(pr.Pre, cn.Pre)
			if _, ok := firstTarget[s]; !ok && cn.Weight != 0 {
				firstTarget[s] = int(c.neuronCore[c.popNeuron0[pr.Post]+int(cn.Post)])
			}
		}
	}
	gens := make([]int, ncores)
	type genPlace struct{ core, slot uint32 }
	srcPlace := make([][]genPlace, len(net.Populations))
	for p := range net.Populations {
		pop := &net.Populations[p]
		if !pop.IsSource() {
			continue
		}
		srcPlace[p] = make([]genPlace, pop.Size)
		for i := 0; i < pop.Size; i++ {
			want, ok := firstTarget[sourceBase[p]+i]
			if !ok {
				want = 0
			}
			k := want
			for k < ncores && gens[k] >= cfg.Core.Generators {
				k++
			}
			if k >= ncores {
				for k = 0; k < want && gens[k] >= cfg.Core.Generators; k++ {
				}
				if k >= want {
					return fmt.Errorf("firmware: source population %q does not fit %s: source %d of %d finds no free generator slot (core.generators = %d per core, %d cores)",
						pop.Name, cfg.Name, i, pop.Size, cfg.Core.Generators, ncores)
				}
			}
			srcPlace[p][i] = genPlace{uint32(k), uint32(gens[k])}
			gens[k]++
		}
	}
	used := len(usage)
	for k := range gens {
		if gens[k] > 0 {
			used = max(used, k+1)
		}
	}
	for len(usage) < used {
		usage = append(usage, CoreUsage{Core: len(usage)})
	}
	for k := range usage {
		usage[k].Generators = gens[k]
	}
	c.pl.Cores = usage

	// Pieces, and sender ids: neurons in placement order, then generators
	// in (core, slot) order.
	for p := range net.Populations {
		pop := &net.Populations[p]
		pp := &c.pl.Populations[p]
		for i := 0; i < pop.Size; i++ {
			var co, sl uint32
			if pop.IsSource() {
				co, sl = srcPlace[p][i].core, srcPlace[p][i].slot
			} else {
				g := c.popNeuron0[p] + i
				co, sl = c.neuronCore[g], c.neuronSlot[g]
			}
			if k := len(pp.Pieces) - 1; k >= 0 && pp.Pieces[k].Core == co && pp.Pieces[k].First+pp.Pieces[k].Count == sl {
				pp.Pieces[k].Count++
			} else {
				pp.Pieces = append(pp.Pieces, Piece{Core: co, First: sl, Count: 1, Start: uint32(i)})
			}
		}
	}
	c.senderCore = append([]uint32(nil), c.neuronCore...)
	c.senderSlot = append([]uint32(nil), c.neuronSlot...)
	c.genID = make([][]int32, len(net.Populations))
	type gref struct {
		core, slot uint32
		pop, i     int
	}
	var all []gref
	for p := range net.Populations {
		for i, gp := range srcPlace[p] {
			all = append(all, gref{gp.core, gp.slot, p, i})
		}
		if srcPlace[p] != nil {
			c.genID[p] = make([]int32, len(srcPlace[p]))
		}
	}
	slices.SortFunc(all, func(a, b gref) int {
		if a.core != b.core {
			return int(a.core) - int(b.core)
		}
		return int(a.slot) - int(b.slot)
	})
	for _, g := range all {
		c.genID[g.pop][g.i] = int32(len(c.senderCore))
		c.senderCore = append(c.senderCore, g.core)
		c.senderSlot = append(c.senderSlot, chip.GeneratorID(int(g.slot)))
	}
	c.nSenders = len(c.senderCore)
	c.portBase = make([]int, len(net.Inputs))
	s := c.nSenders
	for i, in := range net.Inputs {
		c.portBase[i] = s
		s += in.Channels
	}
	c.nAll = s
	return nil
}

// tooBig explains why neuron i of population p does not fit an empty core.
func (c *compiler) tooBig(p, i, syn, axons int) error {
	cfg := c.cfg
	name := c.net.Populations[p].Name
	switch {
	case syn > cfg.MaxSynapses():
		return fmt.Errorf("firmware: population %q neuron %d receives %d synapses; a core of %s holds %d (core.synapse_bytes / 4)", name, i, syn, cfg.Name, cfg.MaxSynapses())
	case axons > cfg.Core.InputAxons:
		return fmt.Errorf("firmware: population %q neuron %d receives from %d senders (one input axon each); a core of %s has %d (core.input_axons)", name, i, axons, cfg.Name, cfg.Core.InputAxons)
	}
	return fmt.Errorf("firmware: population %q neuron %d fits no core of %s", name, i, cfg.Name)
}

// sender returns the sender id of member i of population p.
func (c *compiler) sender(p int, i uint32) int {
	if c.genID[p] != nil {
		return int(c.genID[p][i])
	}
	return c.popNeuron0[p] + int(i)
}

// build fills the program: neurons and generators in place, then synapses
// grouped by (sender, destination core, exponent) into input axons.
func (c *compiler) build() {
	net, pl := c.net, c.pl
	prog := &chip.Program{Seed: net.Seed, Cores: make([]chip.CoreProgram, len(pl.Cores))}
	c.prog = prog
	for k := range prog.Cores {
		prog.Cores[k].Neurons = make([]chip.Neuron, 0, pl.Cores[k].Neurons)
	}
	keyBase := 0
	for p := range net.Populations {
		pop := &net.Populations[p]
		pp := &pl.Populations[p]
		for _, pc := range pp.Pieces {
			cp := &prog.Cores[pc.Core]
			if pop.IsSource() {
				for j := uint32(0); j < pc.Count; j++ {
					i := int(pc.Start + j)
					g := *pop.Source
					g.Out = nil
					g.Counts = slices.Clone(pop.Source.Counts)
					g.NoiseKey = uint32(keyBase + i)
					if pop.NoiseKeys != nil {
						g.NoiseKey = pop.NoiseKeys[i]
					}
					for len(cp.Generators) <= int(pc.First+j) {
						cp.Generators = append(cp.Generators, chip.Generator{})
					}
					cp.Generators[pc.First+j] = g
				}
				continue
			}
			prof := uint16(len(cp.Profiles))
			cp.Profiles = append(cp.Profiles, pop.Profile)
			for j := uint32(0); j < pc.Count; j++ {
				i := int(pc.Start + j)
				nr := chip.Neuron{Profile: prof, BiasMant: pop.BiasMant, BiasExp: pop.BiasExp, NoiseKey: uint32(keyBase + i)}
				if pop.Bias != nil {
					nr.BiasMant, nr.BiasExp = pop.Bias[i].Mant, pop.Bias[i].Exp
				}
				if pop.V0 != nil {
					nr.V = pop.V0[i]
				}
				if pop.NoiseKeys != nil {
					nr.NoiseKey = pop.NoiseKeys[i]
				}
				cp.Neurons = append(cp.Neurons, nr)
			}
		}
		keyBase += pop.Size
	}

	// Every synapse is numbered g: list by list (projections, then input
	// ports), connection by connection. One counting sort groups the
	// synapses by sender; within a sender they are sorted by target (the
	// target's global number orders them by destination core, then slot),
	// so each run of one destination core becomes an input axon.
	type list struct {
		conns  []Conn
		pre    int // population, or −1 for an input port
		port   int
		post   int
		typ    uint8
		exp    int8
		rowExp []int8
	}
	lists := make([]list, 0, len(net.Projections)+len(net.Inputs))
	for _, pr := range net.Projections {
		lists = append(lists, list{conns: pr.Conns, pre: pr.Pre, post: pr.Post, typ: pr.Type, exp: pr.WeightExp, rowExp: pr.RowExp})
	}
	for i, in := range net.Inputs {
		lists = append(lists, list{conns: in.Conns, pre: -1, port: i, post: in.Post, typ: in.Type, exp: in.WeightExp, rowExp: in.RowExp})
	}
	listStart := make([]int, len(lists)+1)
	for li, l := range lists {
		listStart[li+1] = listStart[li] + len(l.conns)
	}
	senderOf := func(l *list, pre uint32) int {
		if l.pre < 0 {
			return c.portBase[l.port] + int(pre)
		}
		return c.sender(l.pre, pre)
	}
	start := make([]int, c.nAll+1)
	total := 0
	for li := range lists {
		l := &lists[li]
		for _, cn := range l.conns {
			if cn.Weight == 0 {
				pl.DroppedSynapses++
				continue
			}
			start[senderOf(l, cn.Pre)+1]++
			total++
		}
	}
	pl.Synapses = total
	for k := 0; k < c.nAll; k++ {
		start[k+1] += start[k]
	}
	fill := slices.Clone(start[:c.nAll])
	// packed = target << 32 | g
	packed := make([]uint64, total)
	for li := range lists {
		l := &lists[li]
		base := c.popNeuron0[l.post]
		g0 := uint64(listStart[li])
		for ci, cn := range l.conns {
			if cn.Weight == 0 {
				continue
			}
			sd := senderOf(l, cn.Pre)
			packed[fill[sd]] = uint64(base+int(cn.Post))<<32 | (g0 + uint64(ci))
			fill[sd]++
		}
	}
	fill = nil
	listOf := func(g uint32) int {
		return sort.Search(len(lists), func(k int) bool { return listStart[k+1] > int(g) })
	}

	// One big synapse array, sliced into rows.
	syn := make([]chip.Synapse, total)
	pos := 0
	prog.Inputs = make([]chip.InputPort, len(net.Inputs))
	for i, in := range net.Inputs {
		prog.Inputs[i] = chip.InputPort{Name: in.Name, Channels: make([][]chip.AxonRef, in.Channels)}
	}
	type entry struct {
		slot  uint32
		exp   int8
		typ   uint8
		delay uint8
		w     int32
	}
	var run []entry
	for sd := 0; sd < c.nAll; sd++ {
		bucket := packed[start[sd]:start[sd+1]]
		if !slices.IsSorted(bucket) {
			slices.Sort(bucket)
		}
		for a := 0; a < len(bucket); {
			dc := c.neuronCore[bucket[a]>>32]
			b := a + 1
			for b < len(bucket) && c.neuronCore[bucket[b]>>32] == dc {
				b++
			}
			run = run[:0]
			li := -1
			mixed := false
			for _, x := range bucket[a:b] {
				g := uint32(x)
				if li < 0 || int(g) < listStart[li] || int(g) >= listStart[li+1] {
					li = listOf(g)
				}
				l := &lists[li]
				cn := l.conns[int(g)-listStart[li]]
				e := l.exp
				if l.rowExp != nil {
					e = l.rowExp[cn.Pre]
				}
				if len(run) > 0 && e != run[0].exp {
					mixed = true
				}
				run = append(run, entry{slot: c.neuronSlot[x>>32], exp: e, typ: l.typ, delay: cn.Delay, w: cn.Weight})
			}
			if mixed {
				slices.SortStableFunc(run, func(x, y entry) int { return int(x.exp) - int(y.exp) })
			}
			for x := 0; x < len(run); {
				e := run[x].exp
				y := x + 1
				for y < len(run) && run[y].exp == e {
					y++
				}
				first := pos
				for _, en := range run[x:y] {
					syn[pos] = chip.Synapse{Neuron: en.slot, Type: en.typ, Delay: en.delay, Weight: en.w}
					pos++
				}
				dst := &prog.Cores[dc]
				ref := chip.AxonRef{Core: dc, Axon: uint32(len(dst.Axons))}
				dst.Axons = append(dst.Axons, chip.Axon{WeightExp: e, Synapses: syn[first:pos:pos]})
				if sd < c.nSenders {
					src := &prog.Cores[c.senderCore[sd]]
					slot := c.senderSlot[sd]
					if slot&(1<<31) != 0 {
						g := &src.Generators[slot&^(1<<31)]
						g.Out = append(g.Out, ref)
					} else {
						src.Neurons[slot].Out = append(src.Neurons[slot].Out, ref)
					}
				} else {
					// an input port channel
					pi := sort.Search(len(c.portBase), func(k int) bool { return c.portBase[k] > sd }) - 1
					ch := sd - c.portBase[pi]
					prog.Inputs[pi].Channels[ch] = append(prog.Inputs[pi].Channels[ch], ref)
				}
				x = y
			}
			a = b
		}
	}
	for k := range prog.Cores {
		cp := &prog.Cores[k]
		u := &pl.Cores[k]
		u.Synapses, u.InputAxons, u.Profiles, u.OutputAxons = 0, len(cp.Axons), len(cp.Profiles), 0
		for _, ax := range cp.Axons {
			u.Synapses += len(ax.Synapses)
		}
		for _, nr := range cp.Neurons {
			u.OutputAxons += len(nr.Out)
		}
		for _, g := range cp.Generators {
			u.OutputAxons += len(g.Out)
		}
	}
	for _, out := range net.Outputs {
		op := chip.OutputPort{Name: out.Name}
		if out.Neurons == nil {
			op.Neurons = pl.Refs(out.Pop)
		} else {
			op.Neurons = make([]chip.NeuronRef, len(out.Neurons))
			for ch, i := range out.Neurons {
				op.Neurons[ch] = pl.Locate(out.Pop, int(i))
			}
		}
		prog.Outputs = append(prog.Outputs, op)
	}
}

// explain adds the populations behind each core named in Program.Check's
// errors.
func (c *compiler) explain(err error) error {
	var parts []error
	var joined interface{ Unwrap() []error }
	list := []error{err}
	if errors.As(err, &joined) {
		list = joined.Unwrap()
	}
	for _, e := range list {
		var re *chip.ResourceError
		if errors.As(e, &re) && re.Core >= 0 {
			parts = append(parts, fmt.Errorf("%w (core %d holds %s)", e, re.Core, c.pl.PopulationsOn(re.Core)))
			continue
		}
		parts = append(parts, e)
	}
	return fmt.Errorf("firmware: network does not fit %s: %w", c.cfg.Name, errors.Join(parts...))
}

// Check verifies a network against a chip description before placement:
// sizes, names and references, and every integer against its field width.
// Errors name the population, projection or port and the connection.
func (n *Network) Check(cfg *chip.Config) error {
	var errs []error
	add := func(format string, args ...any) bool {
		if len(errs) < 20 {
			errs = append(errs, fmt.Errorf("firmware: "+format, args...))
		}
		return len(errs) < 20
	}
	names := map[string]bool{}
	for i := range n.Populations {
		p := &n.Populations[i]
		if p.Name == "" {
			add("population %d: no name", i)
		} else if names[p.Name] {
			add("population %d: duplicate name %q", i, p.Name)
		}
		names[p.Name] = true
		if p.Size < 1 || p.Size > 1<<28 {
			add("population %q: size %d, want 1…%d", p.Name, p.Size, 1<<28)
			continue
		}
		for what, l := range map[string]int{"biases": len(p.Bias), "initial membranes": len(p.V0), "noise keys": len(p.NoiseKeys)} {
			if l != 0 && l != p.Size {
				add("population %q: %d %s for %d neurons", p.Name, l, what, p.Size)
			}
		}
		if p.IsSource() && (p.Bias != nil || p.V0 != nil) {
			add("population %q: a source population has no biases or membranes", p.Name)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	checkConns := func(where string, conns []Conn, preSize, postSize int, typ uint8, exps []int8) {
		wlo, whi := weightBounds(cfg, typ) // the sign encoding's widest range (quantize.go)
		if int(typ) >= cfg.Neuron.SynapseTypes {
			add("%s: synapse type %d, the chip has %d (neuron.synapse_types)", where, typ, cfg.Neuron.SynapseTypes)
		}
		for _, e := range exps {
			if int(e) < cfg.Synapse.WeightExpMin || int(e) > cfg.Synapse.WeightExpMax {
				add("%s: weight exponent %d, want %d…%d (synapse.weight_exp_min/max)", where, e, cfg.Synapse.WeightExpMin, cfg.Synapse.WeightExpMax)
				break
			}
		}
		bad, first := 0, ""
		for ci, cn := range conns {
			var msg string
			switch {
			case int(cn.Pre) >= preSize || int(cn.Post) >= postSize:
				msg = fmt.Sprintf("%d → %d out of range (%d → %d)", cn.Pre, cn.Post, preSize, postSize)
			case cn.Weight < wlo || cn.Weight > whi:
				msg = weightRangeMsg(cn.Weight, wlo, whi, typ, cfg)
			case int(cn.Delay) > cfg.Synapse.MaxDelay:
				msg = fmt.Sprintf("delay %d ticks exceeds %d (synapse.max_delay)", cn.Delay, cfg.Synapse.MaxDelay)
			default:
				continue
			}
			if bad == 0 {
				first = fmt.Sprintf("%s connection %d: %s", where, ci, msg)
			}
			bad++
		}
		switch {
		case bad == 1:
			add("%s", first)
		case bad > 1:
			add("%s (and %d more connections)", first, bad-1)
		}
	}
	for j := range n.Projections {
		pr := &n.Projections[j]
		where := fmt.Sprintf("projection %d", j)
		if pr.Name != "" {
			where = fmt.Sprintf("projection %d (%s)", j, pr.Name)
		}
		if pr.Pre < 0 || pr.Pre >= len(n.Populations) || pr.Post < 0 || pr.Post >= len(n.Populations) {
			add("%s: populations %d → %d out of range (%d populations)", where, pr.Pre, pr.Post, len(n.Populations))
			continue
		}
		if n.Populations[pr.Post].IsSource() {
			add("%s: target %q is a source population", where, n.Populations[pr.Post].Name)
			continue
		}
		pre := n.Populations[pr.Pre].Size
		exps := []int8{pr.WeightExp}
		if pr.RowExp != nil {
			if len(pr.RowExp) != pre {
				add("%s: %d row exponents for %d presynaptic neurons", where, len(pr.RowExp), pre)
				continue
			}
			exps = pr.RowExp
		}
		checkConns(where, pr.Conns, pre, n.Populations[pr.Post].Size, pr.Type, exps)
	}
	ports := map[string]bool{}
	for i := range n.Inputs {
		in := &n.Inputs[i]
		where := fmt.Sprintf("input port %d (%s)", i, in.Name)
		if in.Name == "" || ports[in.Name] {
			add("%s: empty or duplicate port name", where)
		}
		ports[in.Name] = true
		if in.Channels < 1 || in.Channels > 1<<24 {
			add("%s: %d channels, want 1…%d", where, in.Channels, 1<<24)
			continue
		}
		if in.Post < 0 || in.Post >= len(n.Populations) || n.Populations[in.Post].IsSource() {
			add("%s: target population %d is not a neuron population", where, in.Post)
			continue
		}
		exps := []int8{in.WeightExp}
		if in.RowExp != nil {
			if len(in.RowExp) != in.Channels {
				add("%s: %d row exponents for %d channels", where, len(in.RowExp), in.Channels)
				continue
			}
			exps = in.RowExp
		}
		checkConns(where, in.Conns, in.Channels, n.Populations[in.Post].Size, in.Type, exps)
	}
	outs := map[string]bool{}
	for i := range n.Outputs {
		out := &n.Outputs[i]
		where := fmt.Sprintf("output port %d (%s)", i, out.Name)
		if out.Name == "" || outs[out.Name] {
			add("%s: empty or duplicate port name", where)
		}
		outs[out.Name] = true
		if out.Pop < 0 || out.Pop >= len(n.Populations) || n.Populations[out.Pop].IsSource() {
			add("%s: population %d is not a neuron population", where, out.Pop)
			continue
		}
		size := n.Populations[out.Pop].Size
		seen := map[uint32]bool{}
		for ch, i := range out.Neurons {
			if int(i) >= size {
				add("%s channel %d: neuron %d outside %q (%d neurons)", where, ch, i, n.Populations[out.Pop].Name, size)
				break
			}
			if seen[i] {
				add("%s channel %d: neuron %d is already channel of this port", where, ch, i)
				break
			}
			seen[i] = true
		}
	}
	if len(errs) == 0 {
		errs = n.rowSignErrors(cfg) // a "row" chip's rule per sender (quantize.go)
	}
	return errors.Join(errs...)
}
