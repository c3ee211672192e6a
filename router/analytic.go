package router

// analytic is the default timing model. Per packet and destination:
//
//	latency = Σ hop cycles along the path + serialisation + contention
//	serialisation = (F − 1)·k_max + 1   (F flits, k_max the cycles per flit of the narrowest link)
//	contention    = Σ over the path's links, the injection and ejection port, of a wait per link:
//	  steady traffic (link load ρ = flits·k / span < 1): the M/D/1 wait ρ·F·k / (2(1 − ρ));
//	  a burst (ρ ≥ 1, as every tick's exchange is: all packets start at cycle 0):
//	  the packet's place i in the link's queue (emission order) times F·k.
//
// With blocked = "reroute", a packet that waits longer than wait1 at a link
// takes an emergency detour (counted, two more hops of energy) and one that
// waits longer than wait1 + wait2 is dropped.
type analytic struct {
	cfg  *Config
	topo *Topology
	net  *net
	F    int64
	// per link id, and per router for the injection (ports 0) and
	// ejection (ports 1) ports: flits this run, and the queue place counter
	load    []int64
	loadIn  []int64 // per slot and input port: the part of load that arrives through that port
	place   []int64
	touched []int32
	hop     [numClasses]int64
	k       [numClasses]int64
	path    []int32
	lclass  []LinkClass // per link id
	pcOff   []int32     // path cache: pair → offset in pcLinks (−1: not yet)
	pcLen   []uint8
	pcLinks []int32
	span    int64
	cores   int32
	cr      []int32 // per core: its router
	reroute bool
	w1, w2  int64
}

func newAnalytic(cfg *Config, topo *Topology, n *net) *analytic {
	a := &analytic{cfg: cfg, topo: topo, net: n, F: int64(cfg.Flits()), reroute: cfg.Blocked == "reroute",
		w1: int64(cfg.Wait1Cycles), w2: int64(cfg.Wait2Cycles)}
	slots := topo.Links() + 2*topo.Cores()
	a.load = make([]int64, slots)
	a.loadIn = make([]int64, slots*numPorts)
	a.place = make([]int64, slots)
	for k := LinkClass(0); k < numClasses; k++ {
		a.hop[k] = int64(hopCycles(cfg, k))
		a.k[k] = int64(cyclesPerFlit(cfg, k))
	}
	a.cores = int32(topo.Cores())
	a.cr = topo.coreRouter
	a.lclass = make([]LinkClass, topo.Links())
	for l := range a.lclass {
		a.lclass[l] = topo.class[(l/4)*numPorts+l%4+1]
	}
	if n := topo.Nodes(); n <= pathCacheNodes && topo.Diameter() < 256 {
		a.pcOff = make([]int32, n*n)
		a.pcLen = make([]uint8, n*n)
		for i := range a.pcOff {
			a.pcOff[i] = -1
		}
	}
	return a
}

// slots: links 0 … Links()−1, then the cores' injection ports, then
// their ejection ports (one of each per core, however many share a router)
func (a *analytic) inj(c int32) int32 { return int32(a.topo.Links()) + c }
func (a *analytic) ej(c int32) int32  { return int32(a.topo.Links()) + a.cores + c }

func (a *analytic) bump(slot int32, in int, flits int64) {
	if a.load[slot] == 0 {
		a.touched = append(a.touched, slot)
	}
	a.load[slot] += flits
	a.loadIn[int(slot)*numPorts+in] += flits
}

// xyPath appends the link ids from src to dst to path.
func (a *analytic) xyPath(src, dst int32, path []int32) []int32 {
	t := a.topo
	for cur := int(src); cur != int(dst); {
		p := t.xyPort(cur, int(dst))
		path = append(path, int32(cur*4+p-1))
		cur = t.Neighbor(cur, p)
	}
	return path
}

func (a *analytic) classOf(link int32) LinkClass { return a.lclass[link] }

// pathOf returns the links from src to dst, cached per pair on systems of
// up to pathCacheNodes routers (the chip's exchange calls it twice per
// message per tick).
func (a *analytic) pathOf(src, dst int32) []int32 {
	if a.pcOff == nil {
		a.path = a.xyPath(src, dst, a.path[:0])
		return a.path
	}
	i := int(src)*a.topo.Nodes() + int(dst)
	if a.pcOff[i] < 0 {
		a.pcOff[i] = int32(len(a.pcLinks))
		a.pcLinks = a.xyPath(src, dst, a.pcLinks)
		a.pcLen[i] = uint8(len(a.pcLinks) - int(a.pcOff[i]))
	}
	return a.pcLinks[a.pcOff[i] : a.pcOff[i]+int32(a.pcLen[i])]
}

const pathCacheNodes = 256

func (a *analytic) run(b *batch, c *counters) {
	if b.burst && !a.reroute && a.net.rt == nil {
		a.runBurstXY(b, c)
		return
	}
	F := a.F
	// pass 1: loads
	lo, hi := b.pkts[0].inject, b.pkts[0].inject
	for i := range b.pkts {
		p := &b.pkts[i]
		lo, hi = min(lo, p.inject), max(hi, p.inject)
		a.bump(a.inj(p.src), Local, F)
		if p.tree < 0 {
			in := Local
			for _, l := range a.pathOf(a.cr[p.src], a.cr[b.dests[p.d0]]) {
				a.bump(l, in, F*a.k[a.classOf(l)])
				in = opposite[l%4+1]
			}
			a.bump(a.ej(b.dests[p.d0]), in, F)
		} else {
			tr := &a.net.rt.trees[p.tree]
			for _, tn := range tr.nodes[1:] {
				a.bump(tn.link, int(tr.nodes[tn.parent].in), F*a.k[a.classOf(tn.link)])
			}
			for di, ni := range tr.destNode {
				a.bump(a.ej(tr.dests[di]), int(tr.nodes[ni].in), F)
			}
		}
	}
	span := hi - lo + 1
	a.span = span
	// pass 2: latencies, in emission order
	maxQ := int64(0)
	for i := range b.pkts {
		p := &b.pkts[i]
		var base waits
		a.wait(&base, a.inj(p.src), -1, 1, true)
		if p.tree < 0 {
			dst := b.dests[p.d0]
			lat, kmax, w := int64(0), int64(1), base
			dropped := false
			in := Local
			for _, l := range a.pathOf(a.cr[p.src], a.cr[dst]) {
				cl := a.classOf(l)
				lat += a.hop[cl]
				kmax = max(kmax, a.k[cl])
				c.flitHops[cl] += uint64(F)
				c.linkFlits[l] += uint64(F)
				x := a.wait(&w, l, in, a.k[cl], true)
				in = opposite[l%4+1]
				if a.reroute && x > a.w1 {
					if x > a.w1+a.w2 {
						dropped = true
						break
					}
					c.emergency++
					c.flitHops[cl] += 2 * uint64(F) // the detour's two extra hops
					lat += 2 * a.hop[cl]
				}
			}
			if dropped {
				continue
			}
			a.wait(&w, a.ej(dst), in, 1, true)
			b.arrive[p.d0] = p.inject + lat + (F-1)*kmax + 1 + w.total()
			continue
		}
		tr := &a.net.rt.trees[p.tree]
		for _, tn := range tr.nodes[1:] {
			cl := a.classOf(tn.link)
			c.flitHops[cl] += uint64(F)
			c.linkFlits[tn.link] += uint64(F)
		}
		for di, ni := range tr.destNode {
			lat, kmax, w := int64(0), int64(1), base
			dropped := false
			for j := ni; tr.nodes[j].parent >= 0; j = tr.nodes[j].parent {
				l := tr.nodes[j].link
				cl := a.classOf(l)
				lat += a.hop[cl]
				kmax = max(kmax, a.k[cl])
				// a burst's queue place is per link, not per destination:
				// the places move on once the whole tree is done
				if x := a.wait(&w, l, int(tr.nodes[tr.nodes[j].parent].in), a.k[cl], false); a.reroute && x > a.w1+a.w2 {
					dropped = true
				}
			}
			if dropped {
				continue
			}
			a.wait(&w, a.ej(tr.dests[di]), int(tr.nodes[ni].in), 1, true)
			b.arrive[p.d0+int32(di)] = p.inject + lat + (F-1)*kmax + 1 + w.total()
		}
		for _, tn := range tr.nodes[1:] {
			if a.load[tn.link] >= span {
				a.place[tn.link]++
			}
		}
	}
	for _, s := range a.touched {
		if a.load[s] >= span {
			maxQ = max(maxQ, a.load[s]-F) // a burst: all but the first packet queue
		}
		a.load[s], a.place[s] = 0, 0
		clear(a.loadIn[int(s)*numPorts : int(s)*numPorts+numPorts])
	}
	c.maxQueue = max(c.maxQueue, int(maxQ))
	a.touched = a.touched[:0]
}

// waits are the contention of one packet: steady waits add up along the
// path; burst waits do not (once the bottleneck has spaced a burst out, the
// links after it carry it without queueing), so only the largest counts.
type waits struct {
	steady float64
	burst  int64
}

func (w waits) total() int64 { return int64(w.steady+0.5) + w.burst }

// wait adds the wait at slot (a link of k cycles per flit, or a port) to w
// and returns it; advance moves the slot's burst queue on.
func (a *analytic) wait(w *waits, slot int32, in int, k int64, advance bool) int64 {
	load := a.load[slot]
	if load < a.span {
		// M/D/1, counting only the traffic that joins from other inputs:
		// packets that come in behind this one through its own input are
		// already spaced out (Draper & Ghosh's wormhole refinement)
		rho := float64(load) / float64(a.span)
		other := rho
		if in >= 0 {
			other -= float64(a.loadIn[int(slot)*numPorts+in]) / float64(a.span)
		}
		x := other * float64(a.F*k) / (2 * (1 - rho))
		w.steady += x
		return int64(x + 0.5)
	}
	x := a.place[slot] * a.F * k
	if advance {
		a.place[slot]++
	}
	w.burst = max(w.burst, x)
	return x
}

// runBurstXY is run for the common case of the chip's exchange: every
// packet injected at cycle 0, destination-addressed, no reroutes. Every
// port and link of a burst is in the burst regime, so the loads of pass 1
// are not needed: a packet's wait at a slot is the packets before it there
// (emission order) times F·k, and its contention the largest such wait.
func (a *analytic) runBurstXY(b *batch, c *counters) {
	hist := &a.net.hist
	var drain int64
	var late uint64
	for i := range b.pkts {
		p := &b.pkts[i]
		arr := a.burstOne(p.src, b.dests[p.d0])
		b.arrive[p.d0] = arr
		drain = max(drain, arr)
		hist.add(uint64(arr))
		if b.deadline >= 0 && arr > b.deadline {
			late++
		}
	}
	a.finishBurst(c)
	b.summed, b.drain, b.late = true, drain, late
}

// burstOne is the arrival of the next packet (in emission order) of a
// burst from core src to core dst.
func (a *analytic) burstOne(src, dst int32) int64 {
	F := a.F
	place := a.place
	nl := int32(len(a.lclass))
	s := nl + src
	x := place[s]
	if x == 0 {
		a.touched = append(a.touched, s)
	}
	place[s] = x + 1
	w := x * F
	lat, kmax := int64(0), int64(1)
	for _, l := range a.pathOf(a.cr[src], a.cr[dst]) {
		cl := a.lclass[l]
		k := a.k[cl]
		lat += a.hop[cl]
		kmax = max(kmax, k)
		x := place[l]
		if x == 0 {
			a.touched = append(a.touched, l)
		}
		place[l] = x + 1
		w = max(w, x*F*k)
	}
	s = nl + a.cores + dst
	x = place[s]
	if x == 0 {
		a.touched = append(a.touched, s)
	}
	place[s] = x + 1
	w = max(w, x*F)
	return lat + (F-1)*kmax + 1 + w
}

// finishBurst counts a burst's flits from its queue places (a slot's
// place is its packets) and clears them.
func (a *analytic) finishBurst(c *counters) {
	F := a.F
	place := a.place
	nl := int32(len(a.lclass))
	maxQ := int64(0)
	for _, s := range a.touched {
		n := place[s]
		maxQ = max(maxQ, (n-1)*F)
		if s < nl {
			c.flitHops[a.lclass[s]] += uint64(n * F)
			c.linkFlits[s] += uint64(n * F)
		}
		place[s] = 0
	}
	c.maxQueue = max(c.maxQueue, int(maxQ))
	a.touched = a.touched[:0]
}
