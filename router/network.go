package router

import (
	"fmt"
	"slices"
)

// Fate is what became of a message in the network.
type Fate uint8

const (
	Delivered Fate = iota // arrived in time: the chip delivers it
	Late                  // arrived after a fixed tick's deadline, and the description drops late packets
	Dropped               // lost in the network (blocked past the wait limits, or a deadlock broken)
)

func (f Fate) String() string {
	switch f {
	case Delivered:
		return "delivered"
	case Late:
		return "late"
	case Dropped:
		return "dropped"
	}
	return fmt.Sprintf("fate(%d)", uint8(f))
}

// Message is one axon message of a tick: a spike of sender Sender on core
// Src for the input axon of core Dst whose row has Synapses synapses. Key
// is the sender's source key (Network.Keys; 0 when the network has none).
// First marks the first message of a spike: the messages of one spike are
// consecutive, and with table routing they travel as one multicast packet.
// The network sets Fate; the chip delivers only Delivered messages.
type Message struct {
	Src, Dst uint32
	Key      uint32
	Synapses uint32
	First    bool
	Fate     Fate
}

// Traffic is one tick's messages as the chip holds them. Each calls fn for
// every message in emission order (sending core, firing neuron, fan-out
// entry), which does not depend on how the chip schedules its cores. A
// network may call Each more than once in one Exchange; the fates set in
// the last call are the ones that count.
type Traffic interface {
	Each(fn func(m *Message))
}

// PairTraffic is what a Traffic may offer networks that need only where
// each message goes and set no fate: EachPair calls fn with the sending
// and receiving core of every message, in Each's order, and costs less
// than Each (the chip's exchange with the analytic network uses it).
type PairTraffic interface {
	EachPair(fn func(src, dst uint32))
}

// Tick is what a network reports for one tick.
type Tick struct {
	// Cycles is the network's drain time: from the start of the exchange
	// until the last packet has arrived. The chip adds it to the tick.
	Cycles uint64
	// FlitHops by link class, for the energy account.
	FlitHops [3]uint64
	// Late and Dropped count messages (a late message is counted whether
	// or not the description drops it).
	Late, Dropped uint64
}

// Network carries the messages of each tick between cores.
type Network interface {
	// Exchange carries tick t's messages. deadline is the cycles the
	// network has before the tick ends (fixed-tick chips), or < 0 for
	// none.
	Exchange(t uint64, deadline int64, tr Traffic) Tick
	// Keys returns the source key of every sender of core c (indexed as
	// Fanout numbers them), or nil when the network routes without keys.
	Keys(c int) []uint32
	// Stats are the network's figures since it was built; cycles is the
	// run's length, the denominator of link utilisation.
	Stats(cycles uint64) *Stats
}

// Ideal is the network with zero latency, unlimited bandwidth and no
// energy: every message arrives in time, for free. The chip does not even
// build messages for it.
type Ideal struct{}

// Exchange implements Network.
func (Ideal) Exchange(uint64, int64, Traffic) Tick { return Tick{} }

// Keys implements Network.
func (Ideal) Keys(int) []uint32 { return nil }

// Stats implements Network.
func (Ideal) Stats(uint64) *Stats { return nil }

// Fanout is the sender/destination structure of a loaded program, what
// routing tables are generated from. Senders of core c are numbered
// 0 … Senders(c)−1 (the chip numbers neurons first, then generators);
// senders of one group share a key block (the chip groups a core's
// neurons by parameter profile, which the firmware gives each population
// on a core, so a group is a piece of a population, as sPyNNaker's machine
// vertices are).
type Fanout interface {
	Cores() int
	Senders(c int) int
	Group(c, sender int) int
	// Dsts appends the destination cores of a sender's messages to buf.
	Dsts(c, sender int, buf []uint32) []uint32
}

// System is the shape of the system a network serves.
type System struct {
	Chips, W, H int // chips of W × H cores (the chip's mesh of cores)
}

// New builds the network a [noc] section describes for a system and a
// program. It returns Ideal for the ideal model. Routing tables are
// generated, minimised and checked here: a table that does not fit its
// router is an error naming the router and the count.
func New(cfg *Config, sys System, fo Fanout) (Network, error) {
	if errs := cfg.ValidateSystem(sys); len(errs) > 0 {
		return nil, fmt.Errorf("router: %w", joinErrs(errs))
	}
	if cfg.IsIdeal() {
		return Ideal{}, nil
	}
	bx, by := cfg.Block()
	topo, err := NewConcentrated(sys.W, sys.H, bx, by, sys.Chips, cfg.ChipsX, cfg.ChipsY, cfg.topology() == "torus")
	if err != nil {
		return nil, err
	}
	if cfg.Model == "detailed" {
		if cfg.BufferFlits > maxDetailedBuffer {
			return nil, fmt.Errorf("router: the detailed model holds at most %d flits per input buffer; noc.buffer_flits = %d", maxDetailedBuffer, cfg.BufferFlits)
		}
		for k := LinkClass(0); k < numClasses; k++ {
			if h := hopCycles(cfg, k); h >= 1<<15 {
				return nil, fmt.Errorf("router: the detailed model times hops of < %d cycles; %s links take %d", 1<<15, k, h)
			}
		}
		if slots := int64(topo.Nodes()) * int64(numPorts-1+topo.K) * int64(cfg.VirtualChannels) * int64(cfg.BufferFlits); slots > maxBufferSlots {
			return nil, fmt.Errorf("router: the detailed model needs %d buffer slots (%d routers × %d ports × %d channels × buffer_flits %d), want ≤ %d: lower noc.buffer_flits or use model = \"analytic\"",
				slots, topo.Nodes(), numPorts-1+topo.K, cfg.VirtualChannels, cfg.BufferFlits, maxBufferSlots)
		}
	}
	n := newNet(cfg, topo)
	if cfg.routing() == "table" {
		if fo == nil {
			return nil, fmt.Errorf("router: table routing needs the program's fan-out")
		}
		rt, err := GenerateTables(topo, fo, cfg.TableEntries)
		if err != nil {
			return nil, err
		}
		n.rt = rt
	}
	return n, nil
}

// maxDetailedBuffer bounds one input buffer of the detailed model.
const maxDetailedBuffer = 4096

// maxBufferSlots bounds the flit buffers the detailed model allocates.
const maxBufferSlots = 1 << 24

// packet is one packet of a timing run: from router src to the routers of
// dests[d0:d1] (one for dimension-order routing; a tree's local cores for
// table routing).
type packet struct {
	src    int32
	tree   int32 // index into routes.trees, or −1 (dimension order)
	inject int64
	d0, d1 int32
}

// batch is the input and output of one timing run.
type batch struct {
	pkts  []packet
	dests []int32 // destination routers
	// arrive[i] is the cycle after the tail of the packet reached dests[i]
	// (its latency is arrive − inject), or −1 if it never did.
	arrive []int64
	// burst: every packet is injected at cycle 0 (the chip's exchange)
	burst    bool
	deadline int64
	// summary: a model that sets summed has done Exchange's pass over
	// arrive (drain, latency histogram, late count; nothing lost)
	summed bool
	drain  int64
	late   uint64
}

func (b *batch) reset() {
	b.burst, b.summed, b.drain, b.late, b.deadline = false, false, 0, 0, -1
	b.pkts = b.pkts[:0]
	b.dests = b.dests[:0]
	b.arrive = b.arrive[:0]
}

func (b *batch) add(src, tree int32, inject int64, dests ...int32) {
	d0 := int32(len(b.dests))
	b.dests = append(b.dests, dests...)
	for range dests {
		b.arrive = append(b.arrive, -1)
	}
	b.pkts = append(b.pkts, packet{src: src, tree: tree, inject: inject, d0: d0, d1: int32(len(b.dests))})
}

// addOne adds a packet with one destination.
func (b *batch) addOne(src, dst int32, inject int64) {
	d0 := int32(len(b.dests))
	b.dests = append(b.dests, dst)
	b.arrive = append(b.arrive, -1)
	b.pkts = append(b.pkts, packet{src: src, tree: -1, inject: inject, d0: d0, d1: d0 + 1})
}

// model is a timing model: it runs a batch, filling arrive, and adds its
// flit-hops, link loads and queue depths to the counters.
type model interface {
	run(b *batch, c *counters)
}

// counters are what timing models add to.
type counters struct {
	flitHops  [numClasses]uint64
	linkFlits []uint64 // per link id
	maxQueue  int
	emergency uint64
	deadlocks uint64
}

// net is every non-ideal network: routing, a timing model and statistics.
type net struct {
	cfg   *Config
	topo  *Topology
	rt    *Routes // table routing; nil for dimension order
	model model
	b     batch
	c     counters
	st    Stats
	hist  histogram
	drop  bool // late packets are dropped
}

func newNet(cfg *Config, topo *Topology) *net {
	n := &net{cfg: cfg, topo: topo, drop: cfg.Late == "drop"}
	n.c.linkFlits = make([]uint64, topo.Links())
	if cfg.Model == "detailed" {
		n.model = newDetailed(cfg, topo, n)
	} else {
		n.model = newAnalytic(cfg, topo, n)
	}
	n.st = Stats{Model: cfg.Model, Topology: cfg.topology(), Routing: cfg.routing(), Routers: topo.Nodes(),
		NX: topo.NX, NY: topo.NY, ChipW: topo.W, ChipH: topo.H, CoresPerRouter: topo.K, Flits: cfg.Flits()}
	return n
}

// Keys implements Network.
func (n *net) Keys(c int) []uint32 {
	if n.rt == nil || c >= len(n.rt.keys) {
		return nil
	}
	return n.rt.keys[c]
}

// Exchange implements Network: one packet per message (dimension order) or
// per spike (table routing), all injected at cycle 0 of the exchange.
func (n *net) Exchange(t uint64, deadline int64, tr Traffic) Tick {
	if a, ok := n.model.(*analytic); ok && n.rt == nil && !a.reroute {
		return n.exchangeOnline(a, deadline, tr)
	}
	b := &n.b
	b.reset()
	b.burst = true
	b.deadline = deadline
	if pt, ok := tr.(PairTraffic); ok && n.rt == nil {
		pt.EachPair(func(src, dst uint32) { b.addOne(int32(src), int32(dst), 0) })
	} else if n.rt == nil {
		tr.Each(func(m *Message) { b.addOne(int32(m.Src), int32(m.Dst), 0) })
	} else {
		rt := n.rt
		tr.Each(func(m *Message) {
			if m.First {
				g := rt.treeOf(m.Key)
				b.add(int32(m.Src), int32(g), 0, rt.trees[g].dests...)
			}
		})
	}
	if len(b.pkts) == 0 {
		n.st.Ticks++
		return Tick{}
	}
	before := n.c.flitHops
	n.model.run(b, &n.c)
	var tk Tick
	for k := range tk.FlitHops {
		tk.FlitHops[k] = n.c.flitHops[k] - before[k]
	}
	var drain int64
	lost, late := false, false
	if b.summed {
		drain, late, tk.Late = b.drain, b.late > 0, b.late
		n.st.Deliveries += uint64(len(b.arrive))
	}
	for _, a := range b.arrive {
		if b.summed {
			break
		}
		if a < 0 {
			lost = true
			continue
		}
		drain = max(drain, a)
		n.hist.add(uint64(a - b.pkts[0].inject))
		n.st.Deliveries++
		if deadline >= 0 && a > deadline {
			late = true
			tk.Late++ // per packet copy; recounted per message below when that differs
		}
	}
	tk.Cycles = uint64(drain)
	// fates, message by message: only when some can differ from Delivered,
	// or lateness must be counted per message (a multicast copy serves
	// every message of its spike to that core)
	if lost || (late && (n.drop || n.rt != nil)) {
		tk.Late = 0
		pi := -1
		tr.Each(func(m *Message) {
			var a int64
			if n.rt == nil {
				pi++
				a = b.arrive[pi]
			} else {
				if m.First {
					pi++
				}
				p := &b.pkts[pi]
				a = -1
				if k, ok := slices.BinarySearch(b.dests[p.d0:p.d1], int32(m.Dst)); ok {
					a = b.arrive[int(p.d0)+k]
				}
			}
			switch {
			case a < 0:
				m.Fate = Dropped
				tk.Dropped++
			case deadline >= 0 && a > deadline:
				tk.Late++
				if n.drop {
					m.Fate = Late
				}
			}
		})
	}
	n.st.Packets += uint64(len(b.pkts))
	n.st.Late += tk.Late
	n.st.Dropped += tk.Dropped
	n.st.Ticks++
	n.st.DrainCycles += tk.Cycles
	n.st.DrainMax = max(n.st.DrainMax, tk.Cycles)
	return tk
}

// exchangeOnline is Exchange for the analytic model with
// destination-addressed packets and no reroutes, the chip's common case:
// a burst's latencies depend only on the packets before each one, so they
// are computed as the chip shows the messages, with no batch.
func (n *net) exchangeOnline(a *analytic, deadline int64, tr Traffic) Tick {
	b := &n.b
	b.reset()
	keep := n.drop && deadline >= 0
	var drain int64
	var late, pk uint64
	hist := &n.hist
	one := func(src, dst uint32) {
		arr := a.burstOne(int32(src), int32(dst))
		pk++
		drain = max(drain, arr)
		hist.add(uint64(arr))
		if deadline >= 0 && arr > deadline {
			late++
		}
		if keep {
			b.arrive = append(b.arrive, arr)
		}
	}
	if pt, ok := tr.(PairTraffic); ok {
		pt.EachPair(one)
	} else {
		tr.Each(func(m *Message) { one(m.Src, m.Dst) })
	}
	n.st.Ticks++
	if pk == 0 {
		return Tick{}
	}
	before := n.c.flitHops
	a.finishBurst(&n.c)
	tk := Tick{Cycles: uint64(drain), Late: late}
	for k := range tk.FlitHops {
		tk.FlitHops[k] = n.c.flitHops[k] - before[k]
	}
	if keep && late > 0 {
		i := 0
		tr.Each(func(m *Message) {
			if b.arrive[i] > deadline {
				m.Fate = Late
			}
			i++
		})
	}
	n.st.Packets += pk
	n.st.Deliveries += pk
	n.st.Late += late
	n.st.DrainCycles += tk.Cycles
	n.st.DrainMax = max(n.st.DrainMax, tk.Cycles)
	return tk
}
