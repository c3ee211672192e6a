package chip

import (
	"sort"

	"github.com/aerie-neuro/aerie/router"
)

// The seam to the router package. chip imports router, never the reverse:
// router defines the message and the network, and chip, between ticks,
// fills messages from its outboxes (traffic.Each iterates the cores' fired
// lists in emission order, building each message on the fly, so nothing is
// copied), hands them to the network, and removes from the outboxes the
// messages whose fate is not Delivered before the next tick delivers them.
// For the ideal network none of this runs: a System with s.net == nil
// delivers its outboxes as they are.

// buildNetwork builds the description's network (or takes opt), and the
// per-core key tables for networks that route by source key. The chip
// speaks cores only: router.System is the chip's mesh of cores, and the
// router maps core c to its router and local port (noc.cores_per_router
// cores share a router, a block of the mesh: router.Config.Block), so
// messages, keys and fates stay per core however the routers are shared.
func (s *System) buildNetwork(opt router.Network) error {
	n := opt
	if n == nil {
		var err error
		n, err = router.New(&s.cfg.NoC, router.System{Chips: s.cfg.Chips, W: s.cfg.Mesh.Width, H: s.cfg.Mesh.Height}, fanout{s})
		if err != nil {
			return err
		}
	}
	if _, ideal := n.(router.Ideal); ideal {
		return nil
	}
	s.net = n
	s.traffic = traffic{s: s, cursor: make([]int, s.workers)}
	s.keys = make([][]uint32, len(s.cores))
	s.outSyn = make([][]uint32, len(s.cores))
	for i, c := range s.cores {
		s.keys[i] = n.Keys(i)
		// synapse counts of the fan-out entries, read in order by Each
		// (the rows' headers would be a cache miss per message)
		s.outSyn[i] = make([]uint32, len(c.outRef))
		for j, ref := range c.outRef {
			s.outSyn[i][j] = s.cores[ref>>32].syn[uint32(ref)] >> 8
		}
	}
	return nil
}

// fanout shows the router a loaded program's senders: per core the
// neurons, then the generators; a neuron's group is its profile (the
// firmware gives each population on a core its own), the generators are
// one more group.
type fanout struct{ s *System }

func (f fanout) Cores() int { return len(f.s.cores) }

func (f fanout) Senders(c int) int { return f.s.cores[c].n + len(f.s.cores[c].gens) }

func (f fanout) Group(c, i int) int {
	core := f.s.cores[c]
	if i >= core.n {
		return len(core.profiles)
	}
	k := sort.Search(len(core.runs), func(k int) bool { return core.runs[k].hi > i })
	return core.runs[k].profile
}

func (f fanout) Dsts(c, i int, buf []uint32) []uint32 {
	core := f.s.cores[c]
	f0 := uint32(i)
	if i >= core.n {
		f0 = GeneratorID(i - core.n)
	}
	for _, ref := range core.refsOf(f0) {
		buf = append(buf, uint32(ref>>32))
	}
	return buf
}

// traffic is one tick's messages as router.Traffic.
type traffic struct {
	s      *System
	cursor []int     // per destination worker: the next message's place in its outbox row
	lost   []lostRef // messages not delivered, in emission order
}

// lostRef is the place of a message in the outboxes: outbox[par][v][w][i].
type lostRef struct{ v, w, i int }

// Each implements router.Traffic.
func (tr *traffic) Each(fn func(m *router.Message)) {
	s := tr.s
	tr.lost = tr.lost[:0]
	v := -1
	var m router.Message
	for src, c := range s.cores {
		if len(c.fired) == 0 {
			continue
		}
		if s.owner[src] != v {
			v = s.owner[src]
			clear(tr.cursor)
		}
		syn := s.outSyn[src]
		for _, f := range c.fired {
			var key uint32
			if keys := s.keys[src]; keys != nil {
				i := f
				if f&(1<<31) != 0 {
					i = uint32(c.n) + f&^(1<<31)
				}
				key = keys[i]
			}
			refs, at := c.refsOf(f), c.refsStart(f)
			for j, ref := range refs {
				dst := ref >> 32
				m = router.Message{Src: uint32(src), Dst: uint32(dst), Key: key, Synapses: syn[at+j], First: j == 0}
				fn(&m)
				w := 0
				if s.workers > 1 {
					w = s.owner[dst]
				}
				if m.Fate != router.Delivered {
					tr.lost = append(tr.lost, lostRef{v, w, tr.cursor[w]})
				}
				tr.cursor[w]++
			}
		}
	}
}

// EachPair implements router.PairTraffic: Each without keys, synapse
// counts or fates.
func (tr *traffic) EachPair(fn func(src, dst uint32)) {
	for src, c := range tr.s.cores {
		for _, f := range c.fired {
			for _, ref := range c.refsOf(f) {
				fn(uint32(src), uint32(ref>>32))
			}
		}
	}
}

// exchange runs the network for tick t, whose slowest core was busy
// maxBusy cycles, and returns the network's drain time.
func (s *System) exchange(t, maxBusy uint64) uint64 {
	deadline := int64(-1)
	if s.cfg.Sync == "fixed" {
		deadline = max(0, int64(s.cfg.TickCycles)-int64(maxBusy))
	}
	tk := s.net.Exchange(t, deadline, &s.traffic)
	s.netCnt.HopsX += tk.FlitHops[router.LinkX]
	s.netCnt.HopsY += tk.FlitHops[router.LinkY]
	s.netCnt.HopsChip += tk.FlitHops[router.LinkChip]
	s.netCnt.Late += tk.Late
	s.netCnt.Dropped += tk.Dropped
	if lost := s.traffic.lost; len(lost) > 0 {
		// mark, then compact the rows that lost messages
		box := s.outbox[t&1]
		for _, l := range lost {
			box[l.v][l.w][l.i] = lostMark
		}
		for k, l := range lost {
			if k > 0 && lost[k-1].v == l.v && lost[k-1].w == l.w {
				continue
			}
			row := box[l.v][l.w]
			kept := row[:0]
			for _, ref := range row {
				if ref != lostMark {
					kept = append(kept, ref)
				}
			}
			box[l.v][l.w] = kept
		}
		s.traffic.lost = lost[:0]
	}
	return tk.Cycles
}

// lostMark marks an outbox entry the network did not deliver (no core has
// 2^32 − 1 as its number).
const lostMark = ^uint64(0)

// refsStart is the index in outRef of the first fan-out entry of a fired
// neuron or generator (refsOf's slice starts there).
func (c *core) refsStart(f uint32) int {
	if f&(1<<31) != 0 {
		return int(c.gens[f&^(1<<31)].outStart)
	}
	return int(c.outStart[f])
}
