package router

import (
	"math/bits"
	"slices"
)

// The fast kernel of the flit-level model: the same cycle-by-cycle rules
// as run (detailed.go), for the common case where none of run's general
// machinery is needed — destination-addressed packets (one output per
// packet), one virtual channel, no emergency routing. There, a packet
// holds at most one downstream unit, so a unit's state is its front
// packet's output port and the downstream unit it holds; a flit is one
// word (ready cycle, sequence number, packet); and a router's step is a
// loop over its non-empty units with no multicast bookkeeping.
// TestDetailedMatchesReference holds both kernels to the same arrivals and
// counters, cycle for cycle.

// funit is an input unit of the fast kernel.
type funit struct {
	head, n uint16
	port    int8 // output port of the front packet, −1 before its head is routed
	alloc   bool // owned by the packet an upstream router is sending
	_       [2]byte
	di      int32 // the downstream unit the front packet holds (port ≠ Local)
}

// a flit of the fast kernel: bits 0–15 the cycle (mod 2^16) when it is at
// the front of its unit, 16–23 its place in the packet, 32–63 the packet
const (
	fSeqShift = 16
	fPktShift = 32
)

func (d *detailed) fastOK() bool {
	return d.V == 1 && d.K == 1 && !d.reroute && d.net.rt == nil && !d.general
}

func (d *detailed) runFast(b *batch, c *counters) {
	t := d.topo
	nodes := t.Nodes()
	if d.funits == nil {
		d.funits = make([]funit, nodes*numPorts)
		ring := 1
		for ring < int(d.B) {
			ring <<= 1
		}
		d.frshift = uint(bits.TrailingZeros(uint(ring)))
		d.fmask = uint16(ring - 1)
		d.fring = make([]uint64, len(d.funits)<<d.frshift)
		for i := range d.funits {
			d.funits[i].port = -1
		}
	}
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
	pdst := d.pdst[:0]
	for i := range b.pkts {
		pdst = append(pdst, b.dests[b.pkts[i].d0])
	}
	d.pdst = pdst
	next := 0
	now := b.pkts[order[0]].inject
	t0 := now
	var maxQ uint16
	inFlight := 0
	lastMove := now
	F := uint64(d.F)
	last := F - 1 // sequence number of a tail
	units := d.funits
	rs := d.frshift
	ring := d.fring
	rmask := d.fmask
	B := uint16(d.B)
	lp, ne, dn := d.lp, d.ne, d.dn
	hopc, kc := d.hop, d.k
	niQ, niHead, niSent, rr := d.niQ, d.niHead, d.niSent, d.rr
	xs, ys, torus := t.xs, t.ys, t.Torus
	usedLinks := d.usedLinks
	act, nxt := d.act, d.next
	cr := t.coreRouter
	clear(act)
	clear(nxt)
	arrive := b.arrive
	pkts := b.pkts
	for next < len(order) || inFlight > 0 {
		for next < len(order) && pkts[order[next]].inject <= now {
			pi := order[next]
			s := pkts[pi].src
			niQ[s] = append(niQ[s], pi)
			r := cr[s]
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
				now = pkts[order[next]].inject
				lastMove = now
				continue
			}
			break
		}
		moved := false
		rel := int32(now - t0)
		rel16 := uint16(rel)
		for wi, word := range act {
			act[wi] = 0
			var again uint64 // routers of this word with work the next cycle
			for word != 0 {
				n := int32(wi<<6 + bits.TrailingZeros64(word))
				word &= word - 1
				node := int(n)
				base := node * numPorts // the router's units and links
				work := false
				// injection: one flit per cycle into the local unit
				if q := niQ[node]; int(niHead[node]) < len(q) {
					if lu := &units[base]; lu.n < B {
						pi := q[niHead[node]]
						s := niSent[node]
						ring[base<<rs|int((lu.head+lu.n)&rmask)] = uint64(rel16) | uint64(s)<<fSeqShift | uint64(pi)<<fPktShift
						ne[node] |= 1
						lu.n++
						maxQ = max(maxQ, lu.n)
						moved = true
						if s++; s == int32(F) {
							s = 0
							niHead[node]++
							if int(niHead[node]) == len(q) {
								niQ[node] = q[:0]
								niHead[node] = 0
							}
						}
						niSent[node] = s
					}
					work = true
				}
				m := uint32(ne[node])
				if m == 0 {
					if work {
						again |= 1 << (n & 63)
					}
					if rr[node]++; rr[node] == numPorts {
						rr[node] = 0
					}
					continue
				}
				start := int(rr[node])
				lowm := uint32(1)<<start - 1
				rot := m&^lowm | (m&lowm)<<16
				var used uint8
				x := xs[node]
				y := ys[node]
				for rot != 0 {
					k := bits.TrailingZeros32(rot) & 15
					rot &= rot - 1
					ui := base + k
					u := &units[ui]
					fw := ring[ui<<rs|int(u.head)]
					if int16(uint16(fw)-rel16) > 0 { // not yet (hops are < 2^15 cycles)
						continue
					}
					p := int(u.port)
					if p < 0 {
						// a head: route it (dimension order) and take its downstream unit
						dst := pdst[fw>>fPktShift]
						if torus {
							p = t.xyPort(node, int(dst))
						} else {
							p = xyPortMesh(x, y, xs[dst], ys[dst])
						}
						if p != Local {
							di := dn[base+p]
							if di < 0 || units[di].alloc {
								continue
							}
							units[di].alloc = true
							u.di = di
						}
						u.port = int8(p)
					}
					bit := uint8(1) << p
					if used&bit != 0 {
						continue
					}
					tail := (fw>>fSeqShift)&0xff == last
					if p == Local {
						if tail {
							pi := fw >> fPktShift
							arrive[pkts[pi].d0] = now + 1
							inFlight--
						}
					} else {
						li := base + p
						lk := &lp[li]
						if lk.busy > rel {
							continue
						}
						di := int(u.di)
						du := &units[di]
						if du.n >= B {
							continue
						}
						cl := lk.class
						nf := fw&^0xffff | uint64(uint16(rel+hopc[cl]))
						ring[di<<rs|int((du.head+du.n)&rmask)] = nf
						nb := int(lk.nbr)
						ne[nb] |= 1 << (di - nb*numPorts)
						du.n++
						maxQ = max(maxQ, du.n)
						if lk.flits == 0 {
							usedLinks = append(usedLinks, int32(li))
						}
						lk.busy = rel + kc[cl]
						lk.flits++
						nxt[nb>>6] |= 1 << (nb & 63)
						if tail {
							du.alloc = false
						}
					}
					used |= bit
					moved = true
					h := (u.head + 1) & rmask
					u.head = h
					if u.n--; u.n == 0 {
						ne[node] &^= 1 << k
					}
					if tail {
						u.port = -1
					}
				}
				if start++; start == numPorts {
					start = 0
				}
				rr[node] = int32(start)
				again |= 1 << (n & 63)
			}
			nxt[wi] |= again
		}
		if moved {
			lastMove = now
		} else if now-lastMove > deadlockCycles {
			d.act, d.next = act, nxt
			c.deadlocks++
			d.breakDeadlockFast()
			inFlight = 0
			lastMove = now
		}
		now++
	}
	d.act, d.next = act, nxt
	clear(d.act)
	clear(d.next)
	c.maxQueue = max(c.maxQueue, int(maxQ))
	for _, s := range usedLinks {
		lk := &d.lp[s]
		c.flitHops[lk.class] += uint64(lk.flits)
		c.linkFlits[int(s)/numPorts*4+int(s)%numPorts-1] += uint64(lk.flits)
		lk.busy, lk.flits = 0, 0
	}
	d.usedLinks = usedLinks[:0]
}

func (d *detailed) breakDeadlockFast() {
	for i := range d.funits {
		d.funits[i] = funit{port: -1}
	}
	clear(d.ne)
	for n := range d.niQ {
		d.niQ[n] = d.niQ[n][:0]
		d.niHead[n], d.niSent[n] = 0, 0
	}
	clear(d.act)
	clear(d.next)
}

// xyPortMesh is dimension order's output port on a mesh at (x, y) for a
// packet to (dx, dy).
func xyPortMesh(x, y, dx, dy int32) int {
	switch {
	case dx > x:
		return East
	case dx < x:
		return West
	case dy > y:
		return North
	case dy < y:
		return South
	}
	return Local
}
