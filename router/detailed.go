package router

import (
	"math/bits"
	"slices"
)

// detailed is the flit-level model: every router has an input unit per port
// and virtual channel (a FIFO of buffer_flits flits); each cycle, in
// round-robin order over its input units, a router routes the head flit at
// the front of a unit (dimension order, an emergency detour, or the key's
// tree), allocates the downstream units of every output the packet takes
// (all at once: wormhole, the units stay the packet's until its tail has
// passed), and moves front flits to outputs whose link is free and whose
// downstream unit has room (credits: a buffer slot is taken when the flit
// is sent and freed when it leaves). A multicast packet is replicated: the
// front flit leaves its unit once every output has taken it. One flit per
// output port per cycle; a chip-to-chip link is busy ⌈flit_bits /
// width_bits⌉ cycles per flit. A flit sent at cycle c is at the front of
// the next router's unit at c + hop cycles; a packet's latency ends when
// its tail is ejected into the destination core.
type detailed struct {
	cfg  *Config
	topo *Topology
	net  *net
	F    int32
	B    int32
	V    int
	np   int // ports per router: Local, E, W, N, S, then the other cores' local ports
	nu   int // units per router (np·V)
	K    int // cores per router

	units []dunit
	outs  []int32   // per unit and output port: the downstream unit (unit·numPorts + port)
	buf   []dflit   // unit i's ring is buf[i·R : (i+1)·R], R = ringMask + 1
	rs    []drouter // per router

	niQ    [][]int32 // per core: packets waiting for injection
	niHead []int32
	niSent []int32  // flits of the front packet already injected
	injAct []uint64 // the routers with cores with packets waiting, as a bitmap

	// routers with work this cycle and the next, as bitmaps (ascending
	// order is the processing order: deterministic, and no sort)
	act, next []uint64
	usedLinks []int32 // output ports (node·numPorts + p) this run used (their state is reset at its end)
	dn        []int32 // per router and output port: the neighbour's input unit of VC 0 (−1: none)
	left      []int32 // per packet: destinations its tail has not reached
	pdst      []int32 // per packet: its destination core (dimension order), or −1 (a tree)
	order     []int32 // packets by injection time
	ringMask  int32   // rings are a power of two ≥ B long

	reroute bool
	w1, w2  int32
}

type dunit struct {
	head, n uint16
	alloc   bool  // owned by the packet an upstream router is sending
	discard bool  // dropping the flits of the packet at the front
	route   Route // outputs of the packet at the front (0: not routed)
	pending Route // outputs that have not yet taken the front flit
	ctl     uint8 // emergency ports the packet's head carries onward
	want    Route // the route of a blocked head (0: not computed)
	wantCtl uint8
	wait    int32 // cycles the front head has been blocked
}

// drouter is a router's state: its input units that hold flits (ne), the
// unit its round-robin starts at (rr), its cores with packets waiting for
// injection (inj: bit l for local port l) and its output ports.
type drouter struct {
	ne, inj uint32
	rr      int32
	lp      [numPorts]dlp
}

// dlp is a router's output port: its link's state in a run (when it is
// free again, in cycles since the run's start, and the flits it carried),
// what it leads to (the neighbour and its input unit of VC 0) and the
// link's class.
type dlp struct {
	busy  int32
	flits uint32
	du    int32
	nbr   int32
	hop   int32 // cycles from this router's output to the neighbour's unit
	k     int32 // cycles the link is busy per flit
	class LinkClass
	bit   uint8 // du's bit in the neighbour's ne (a VC v > 0 is bit + v)
}

// dflit is a flit in a buffer, packed in one word (one load, one store):
// its packet (bits 0–31), the cycle (mod 2^16, since the run's start) when
// it is at the front (32–47), its place in the packet (48–55) and, on a
// head, the emergency detour: next forced port (bits 56–58), then the one
// after (59–61); bit 63 marks the tail.
type dflit uint64

func mkFlit(pkt int32, ready uint16, seq, ctl uint8, tail bool) dflit {
	f := dflit(uint32(pkt)) | dflit(ready)<<32 | dflit(seq)<<48 | dflit(ctl)<<56
	if tail {
		f |= 1 << 63
	}
	return f
}

func (f dflit) pkt() int32    { return int32(uint32(f)) }
func (f dflit) ready() uint16 { return uint16(f >> 32) }
func (f dflit) seq() uint8    { return uint8(f >> 48) }
func (f dflit) ctl() uint8    { return uint8(f>>56) & 63 }
func (f dflit) tail() bool    { return int64(f) < 0 }

// at is the flit without detour, at the front at cycle ready.
func (f dflit) at(ready uint16) dflit {
	return f&(1<<32-1|0xff<<48|1<<63) | dflit(ready)<<32
}

func newDetailed(cfg *Config, topo *Topology, n *net) *detailed {
	d := &detailed{cfg: cfg, topo: topo, net: n, F: int32(cfg.Flits()), B: int32(cfg.BufferFlits), V: cfg.VirtualChannels,
		reroute: cfg.Blocked == "reroute", w1: int32(cfg.Wait1Cycles), w2: int32(cfg.Wait2Cycles)}
	if d.V < 1 {
		d.V = 1
	}
	d.K = topo.K
	d.np = numPorts - 1 + d.K
	d.nu = d.np * d.V
	nodes := topo.Nodes()
	ring := int32(1)
	for ring < d.B {
		ring <<= 1
	}
	d.ringMask = ring - 1
	d.rs = make([]drouter, topo.Nodes())
	d.dn = make([]int32, topo.Nodes()*numPorts)
	for i := range d.dn {
		d.dn[i] = -1
		if p := i % numPorts; p != Local && topo.nbr[i] >= 0 {
			d.dn[i] = d.unit(int(topo.nbr[i]), opposite[p], 0)
		}
		cl := topo.class[i]
		lk := &d.rs[i/numPorts].lp[i%numPorts]
		*lk = dlp{du: d.dn[i], nbr: topo.nbr[i], class: cl, hop: int32(hopCycles(cfg, cl)), k: int32(cyclesPerFlit(cfg, cl))}
		if d.dn[i] >= 0 {
			lk.bit = uint8(int(d.dn[i]) - int(topo.nbr[i])*d.nu)
		}
	}
	d.niQ = make([][]int32, topo.Cores())
	d.niHead = make([]int32, topo.Cores())
	d.niSent = make([]int32, topo.Cores())
	d.injAct = make([]uint64, (nodes+63)/64)
	d.act = make([]uint64, (nodes+63)/64)
	d.next = make([]uint64, (nodes+63)/64)
	return d
}

func (d *detailed) unit(node, port, vc int) int32 { return int32((node*d.np+port)*d.V + vc) }

// leftOf is the detour port of an emergency route around port p: the
// packet goes left, then on in direction p, then right, and is back on
// its path one hop on (SpiNNaker detours over the two other edges of a
// triangle; a square mesh needs three hops).
var leftOf = [numPorts]int{Local, North, South, West, East}

func dimOf(p int) int {
	switch p {
	case East, West:
		return 1
	case North, South:
		return 2
	}
	return 0
}

func (d *detailed) run(b *batch, c *counters) {
	if d.units == nil {
		// the model's state, made on its first run
		d.units = make([]dunit, d.topo.Nodes()*d.nu)
		d.outs = make([]int32, len(d.units)*numPorts)
		d.buf = make([]dflit, len(d.units)*int(d.ringMask+1))
	}
	t := d.topo
	rt := d.net.rt
	// packets by injection time (stable: emission order among equals)
	order := d.order[:0]
	for i := range b.pkts {
		order = append(order, int32(i))
	}
	d.order = order
	if !slices.IsSortedFunc(b.pkts, func(x, y packet) int { return int(x.inject - y.inject) }) {
		slices.SortStableFunc(order, func(x, y int32) int {
			return int(b.pkts[x].inject - b.pkts[y].inject)
		})
	}
	next := 0
	now := b.pkts[order[0]].inject
	t0 := now
	var maxQ int32
	left := d.left[:0]
	pdst := d.pdst[:0]
	for i := range b.pkts {
		pk := &b.pkts[i]
		left = append(left, pk.d1-pk.d0)
		dst := int32(-1)
		if pk.tree < 0 {
			dst = b.dests[pk.d0]
		}
		pdst = append(pdst, dst)
	}
	d.left, d.pdst = left, pdst
	inFlight := 0 // packets not yet finished (injected or waiting)
	lastMove := now
	clear(d.act)
	clear(d.next)
	F := d.F
	// the hot state in locals (the compiler reloads fields after stores)
	units, buf, rs := d.units, d.buf, d.rs
	B, nu, rmask := uint16(d.B), d.nu, uint16(d.ringMask)
	outs := d.outs
	rlen := int(rmask) + 1

	niQ, niHead, niSent, injAct := d.niQ, d.niHead, d.niSent, d.injAct
	dn := d.dn
	v1, V := d.V == 1, d.V
	xs, ys, torus := t.xs, t.ys, t.Torus
	act, nxt := d.act, d.next
	K, cr, cLoc, rCore := d.K, t.coreRouter, t.coreLocal, t.routerCore
	for next < len(order) || inFlight > 0 {
		for next < len(order) && b.pkts[order[next]].inject <= now {
			pi := order[next]
			s := b.pkts[pi].src
			niQ[s] = append(niQ[s], pi)
			r := cr[s]
			rs[r].inj |= 1 << cLoc[s]
			injAct[r>>6] |= 1 << (r & 63)
			nxt[r>>6] |= 1 << (r & 63)
			inFlight++
			next++
		}
		act, nxt = nxt, act
		any := false
		for _, w := range act {
			if w != 0 {
				any = true
				break
			}
		}
		if !any {
			if next < len(order) {
				now = b.pkts[order[next]].inject
				lastMove = now
				continue
			}
			break
		}
		moved := false
		rel := int32(now - t0)
		// injection, before the routers move flits (it only touches the
		// cores' own local units): one flit per cycle and core
		for wi, word := range injAct {
			for word != 0 {
				node := wi<<6 + bits.TrailingZeros64(word)
				word &= word - 1
				ro := &rs[node]
				for im := ro.inj; im != 0; im &= im - 1 {
					l := bits.TrailingZeros32(im)
					core := rCore[node*K+l]
					q := niQ[core]
					lk := localPort(l) * V
					li := node*nu + lk // the core's local unit of VC 0
					if lu := &units[li]; lu.n < B {
						pi := q[niHead[core]]
						buf[li*rlen+int((lu.head+lu.n)&rmask)] = mkFlit(pi, uint16(rel), uint8(niSent[core]), 0, niSent[core] == F-1)
						ro.ne |= 1 << lk
						lu.n++
						niSent[core]++
						maxQ = max(maxQ, int32(lu.n))
						moved = true
						if niSent[core] == F {
							niSent[core] = 0
							niHead[core]++
							if int(niHead[core]) == len(q) {
								niQ[core] = q[:0]
								niHead[core] = 0
								if ro.inj &^= 1 << l; ro.inj == 0 {
									injAct[wi] &^= 1 << (node & 63)
								}
							}
						}
					}
				}
			}
		}
		for wi, word := range act {
			act[wi] = 0
			for word != 0 {
				n := int32(wi<<6 + bits.TrailingZeros64(word))
				word &= word - 1
				node := int(n)
				ro := &rs[node]
				work := ro.inj != 0 // (a router with packets waiting is active)
				var used Route
				base := node * nu
				start := int(ro.rr)
				// the non-empty units in round-robin order from start
				// (units start… in the low half, then …start−1 in the high one)
				m := uint64(ro.ne)
				lowm := uint64(1)<<(start&31) - 1
				rot := m&^lowm | (m&lowm)<<32
				if rot != 0 {
					work = true
				}
				for rot != 0 {
					k := bits.TrailingZeros64(rot) & 31
					rot &= rot - 1
					ui := int32(base + k)
					u := &units[ui]
					f := buf[int(ui)*rlen+int(u.head)]
					if int16(f.ready()-uint16(rel)) > 0 { // not yet (hops are < 2^15 cycles)
						continue
					}

					if u.discard {
						tail := f.tail()
						u.head = (u.head + 1) & rmask
						if u.n--; u.n == 0 {
							ro.ne &^= 1 << k
						}
						moved = true
						if tail {
							u.discard = false
						}
						continue
					}
					if u.route == 0 {
						// a head: route it and allocate its outputs
						inPort, inVC := k, 0
						if !v1 {
							inPort, inVC = k/V, k%V
						}
						// the route of a blocked head is kept for its next try
						r, ctl := u.want, u.wantCtl
						if r == 0 {
							ctl = f.ctl()
							switch {
							case ctl != 0:
								r = 1 << (ctl & 7)
								ctl >>= 3
							case pdst[f.pkt()] >= 0:
								dst := cr[pdst[f.pkt()]]
								if dst == n {
									r = 1 << localPort(int(cLoc[pdst[f.pkt()]]))
									break
								}
								if torus {
									r = 1 << t.xyPort(node, int(dst))
									break
								}
								// dimension order on a mesh (xyPort, inlined)
								if x, dx := xs[node], xs[dst]; dx > x {
									r = 1 << East
								} else if dx < x {
									r = 1 << West
								} else if y, dy := ys[node], ys[dst]; dy > y {
									r = 1 << North
								} else if dy < y {
									r = 1 << South
								} else {
									r = 1 << Local
								}
							default:
								r = rt.trees[b.pkts[f.pkt()].tree].routeAt(n)
							}
							u.want, u.wantCtl = r, ctl
						}
						var ok bool
						if v1 {
							// one virtual channel: the downstream units are fixed
							ok = true
							for pm := r &^ localRoutes; pm != 0; pm &= pm - 1 {
								if di := dn[node*numPorts+bits.TrailingZeros8(uint8(pm))]; di < 0 || units[di].alloc {
									ok = false
									break
								}
							}
							if ok {
								for pm := r &^ localRoutes; pm != 0; pm &= pm - 1 {
									p := bits.TrailingZeros8(uint8(pm))
									di := dn[node*numPorts+p]
									units[di].alloc = true
									outs[int(ui)*numPorts+p] = di
								}
								u.route, u.pending = r, r
							}
						} else {
							ok = d.allocate(ui, node, inPort, inVC, r)
						}
						if !ok {
							u.wait++
							if d.reroute && u.wait >= d.w1 {
								if u.wait >= d.w1+d.w2 {
									u.discard = true
									u.wait = 0
									u.want = 0
									continue
								}
								if u.wait == d.w1 && ctl == 0 && f.ctl() == 0 && bitsOne(r) && r&localRoutes == 0 {
									p := portOf(r)
									q := leftOf[p]
									if a := t.Neighbor(node, q); a >= 0 && t.Neighbor(a, p) >= 0 && d.allocate(ui, node, inPort, inVC, 1<<q) {
										c.emergency++
										u.ctl = uint8(p) | uint8(opposite[q])<<3
										u.wait = 0
										u.want = 0
									}
								}
							}
							if u.route == 0 {
								continue
							}
						} else {
							u.ctl = ctl
							u.wait = 0
							u.want = 0
						}
					}
					if r := u.route; r&(r-1) == 0 && r&localRoutes == 0 {
						// one link output, the common case: send the front
						// flit if it can go and take it off the unit
						p := bits.TrailingZeros8(uint8(r))
						lk := &ro.lp[p]
						if used&r != 0 || lk.busy > rel {
							continue
						}
						di, bit := lk.du, lk.bit
						if !v1 {
							di = outs[int(ui)*numPorts+p]
							bit += uint8(di - lk.du)
						}
						du := &units[di]
						if du.n >= B {
							continue
						}
						nf := f.at(uint16(rel + lk.hop))
						if f.seq() == 0 {
							nf |= dflit(u.ctl) << 56
						}
						nb := int(lk.nbr)
						buf[int(di)*rlen+int((du.head+du.n)&rmask)] = nf
						rs[nb].ne |= 1 << (bit & 31)
						du.n++
						maxQ = max(maxQ, int32(du.n))
						if lk.flits == 0 {
							d.usedLinks = append(d.usedLinks, int32(node*numPorts+p))
						}
						lk.busy = rel + lk.k
						lk.flits++
						used |= r
						nxt[nb>>6] |= 1 << (nb & 63)
						moved = true
						// (branch-free where the outcome is data-dependent)
						u.head = (u.head + 1) & rmask
						u.n--
						ro.ne &^= uint32(b2i(u.n == 0)) << k
						tail := f.tail()
						du.alloc = du.alloc && !tail
						var tm Route
						if tail {
							tm = ^Route(0)
						}
						u.route &^= tm
						u.pending = u.route
						continue
					}
					// send the front flit to every output that can take it
					// (several: a multicast packet, replicated here; the
					// link send below is the one-output branch's, kept
					// inline in both: a call here costs more than it saves)
					pm := u.pending &^ used
					for lm := pm & localRoutes; lm != 0; lm &= lm - 1 {
						// ejection into a core of this router
						p := bits.TrailingZeros32(uint32(lm))
						used |= 1 << p
						u.pending &^= 1 << p
						if f.tail() {
							pk := &b.pkts[f.pkt()]
							di := pk.d0
							if pk.d1-pk.d0 > 1 {
								if x, ok := slices.BinarySearch(b.dests[pk.d0:pk.d1], rCore[node*K+localOf(p)]); ok {
									di += int32(x)
								}
							}
							b.arrive[di] = now + 1
							if d.left[f.pkt()]--; d.left[f.pkt()] == 0 {
								inFlight--
							}
						}
					}
					for pm &^= localRoutes; pm != 0; pm &= pm - 1 {
						p := bits.TrailingZeros8(uint8(pm))
						lk := &ro.lp[p]
						if lk.busy > rel {
							continue
						}
						di, bit := lk.du, lk.bit
						if !v1 {
							di = outs[int(ui)*numPorts+p]
							bit += uint8(di - lk.du)
						}
						du := &units[di]
						if du.n >= B {
							continue
						}
						nf := f.at(uint16(rel + lk.hop))
						if f.seq() == 0 {
							nf |= dflit(u.ctl) << 56 // (a body flit carries none)
						}
						nb := int(lk.nbr)
						buf[int(di)*rlen+int((du.head+du.n)&rmask)] = nf
						rs[nb].ne |= 1 << (bit & 31)
						du.n++
						maxQ = max(maxQ, int32(du.n))
						if lk.flits == 0 {
							d.usedLinks = append(d.usedLinks, int32(node*numPorts+p))
						}
						lk.busy = rel + lk.k
						lk.flits++
						used |= 1 << p
						u.pending &^= 1 << p
						nxt[nb>>6] |= 1 << (nb & 63)
					}
					if u.pending == 0 {
						moved = true
						// (branch-free where the outcome is data-dependent)
						var tm Route // all ports if the flit is the tail
						if f.tail() {
							tm = ^Route(0)
						}
						u.head = (u.head + 1) & rmask
						u.n--
						var e uint32
						if u.n == 0 {
							e = 1
						}
						ro.ne &^= e << k
						// the tail frees the downstream units
						for pm := u.route &^ localRoutes & tm; pm != 0; pm &= pm - 1 {
							units[outs[int(ui)*numPorts+bits.TrailingZeros8(uint8(pm))]].alloc = false
						}
						u.route &^= tm
						u.pending = u.route
					}
				}
				if start++; start == nu {
					start = 0
				}
				ro.rr = int32(start)
				if work {
					nxt[wi] |= 1 << (n & 63)
				}
			}
		}
		if moved {
			lastMove = now
		} else if now-lastMove > deadlockCycles {
			// every packet still in the network is lost: its
			// destinations stay unreached (dropped, and counted)
			d.act, d.next = act, nxt
			d.breakDeadlock(b, c)
			inFlight = 0
			lastMove = now
		}
		now++
	}
	d.act, d.next = act, nxt
	clear(d.act)
	clear(d.next)
	c.maxQueue = max(c.maxQueue, int(maxQ))
	// every run starts its own clock
	for _, s := range d.usedLinks {
		lk := &d.rs[s/numPorts].lp[s%numPorts]
		c.flitHops[lk.class] += uint64(lk.flits)
		c.linkFlits[int(s)/numPorts*4+int(s)%numPorts-1] += uint64(lk.flits)
		lk.busy, lk.flits = 0, 0
	}
	d.usedLinks = d.usedLinks[:0]
}

// deadlockCycles without any flit moving while packets are in flight is
// taken as a deadlock (possible with multicast or emergency detours): every
// flit in the network is dropped and counted.
const deadlockCycles = 1 << 16

func (d *detailed) breakDeadlock(b *batch, c *counters) {
	c.deadlocks++
	for i := range d.units {
		d.units[i] = dunit{}
	}
	for i := range d.rs {
		d.rs[i].ne, d.rs[i].inj = 0, 0
	}
	for n := range d.niQ {
		d.niQ[n] = d.niQ[n][:0]
		d.niHead[n], d.niSent[n] = 0, 0
	}
	clear(d.injAct)
	clear(d.act)
	clear(d.next)
}

// allocate takes the downstream units of every link port of r for the
// packet at the front of unit ui (all or none).
func (d *detailed) allocate(ui int32, node, inPort, inVC int, r Route) bool {
	t := d.topo
	u := &d.units[ui]
	var outs [numPorts]int32
	for p := East; p <= South; p++ {
		if !r.Has(p) {
			continue
		}
		nb := t.Neighbor(node, p)
		if nb < 0 {
			return false // cannot happen for checked routes
		}
		vc := 0
		if d.V > 1 {
			if dimOf(inPort) == dimOf(p) {
				vc = inVC
			}
			if t.wraps(node, p) {
				vc = 1
			}
		}
		di := d.unit(nb, opposite[p], vc)
		if d.units[di].alloc {
			return false
		}
		outs[p] = di
	}
	for p := East; p <= South; p++ {
		if r.Has(p) {
			d.units[outs[p]].alloc = true
			d.outs[int(ui)*numPorts+p] = outs[p]
		}
	}
	u.route, u.pending = r, r
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func bitsOne(r Route) bool { return r != 0 && r&(r-1) == 0 }

func portOf(r Route) int {
	for p := 0; p < numPorts; p++ {
		if r.Has(p) {
			return p
		}
	}
	return -1
}

// routeAt is the tree's route at router n.
func (tr *tree) routeAt(n int32) Route {
	if i, ok := slices.BinarySearch(tr.sorted, n); ok {
		return tr.sortedRoute[i]
	}
	return 0
}
