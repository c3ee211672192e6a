package chip

import (
	"context"
	"sync"
	"time"
)

// Run steps n ticks, or until ctx is cancelled (checked every 256 ticks) or
// the input source or output sink fails. Each tick: every core delivers the
// messages and the external input events of the previous tick into its
// accumulators, updates its neurons (reading and clearing slot t) and emits
// messages; then, between ticks, the interconnect prices the messages, the
// tick's cycles are accounted and the input source is asked for the events
// of the tick just run.
//
// With an automatic worker count (Options.Workers 0) and more than one
// worker, Run steps in chunks of ticks (workers.go) and runs each chunk
// either on the workers or on the calling goroutine alone, whichever the
// schedule (workers.go) has measured faster: a loaded machine, where a
// partner worker is often descheduled, then loses nothing. Running every
// worker's phase in turn on one goroutine is the same computation as
// running them in parallel, so results do not depend on the choice.
func (s *System) Run(ctx context.Context, n uint64) error {
	if n == 0 {
		return nil
	}
	s.runErr = nil
	s.stopping.Store(false)
	end := s.tick + n
	switch {
	case s.workers == 1:
		s.runSolo(ctx, end)
	case s.sched == nil:
		s.runParallel(ctx, end)
	default:
		s.runAdaptive(ctx, end)
	}
	return s.runErr
}

// adaptive is one Run of an automatic worker count: the workers live for
// the whole Run, and in a chunk run on one goroutine the others are parked
// at the barrier (they arrive and sleep there; the leader's arrival at the
// chunk's end releases them). parked is written only in a barrier's serial
// section (or before the workers start), so every worker reads the same
// value after each release; while they are parked only the leader, worker
// 0, touches the system.
type adaptive struct {
	s        *System
	ctx      context.Context
	end      uint64
	b        *barrier
	parked   bool
	solo     bool // the current chunk's way
	chunkEnd uint64
	warm     uint64 // the chunk's clock starts after this tick (warmUp)
	first    uint64 // the chunk's first tick
	t0       uint64 // the first measured tick
	start    time.Time
	tick     func() // serial section of a parallel tick
	unpark   func() // serial section that ends a parked generation
}

func (s *System) runAdaptive(ctx context.Context, end uint64) {
	a := &adaptive{s: s, ctx: ctx, end: end, b: newBarrier(s.workers)}
	a.tick = a.afterTick
	a.unpark = func() { a.parked = false }
	a.begin()
	a.parked = a.solo
	var wg sync.WaitGroup
	for w := 1; w < s.workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			a.worker(w)
		}(w)
	}
	a.leader()
	wg.Wait()
}

func (a *adaptive) done() bool { return a.s.tick >= a.end || a.s.stopping.Load() }

// begin decides the next chunk and starts its clock.
func (a *adaptive) begin() {
	solo, ticks := a.s.sched.next()
	a.solo, a.chunkEnd, a.first, a.t0, a.start = solo, min(a.end, a.s.tick+ticks), a.s.tick, a.s.tick, time.Now()
	a.warm = a.s.tick + scheduleWarmTicks
}

// warmUp restarts the chunk's clock once its first scheduleWarmTicks ticks
// have run: waking parked workers (or, going solo, their caches' loss)
// costs the first ticks of a chunk tens of microseconds that the way
// itself would not cost, and a probe of 64 ticks would count them against
// it.
func (a *adaptive) warmUp() {
	if a.s.tick == a.warm && a.warm < a.chunkEnd {
		a.t0, a.start = a.s.tick, time.Now()
	}
}

func (a *adaptive) finish() {
	a.s.sched.record(a.solo, time.Since(a.start), a.s.tick-a.t0, a.s.tick-a.first)
}

// afterTick is the serial section of a parallel tick: the between-ticks
// work, and at a chunk's end the schedule's next decision.
func (a *adaptive) afterTick() {
	a.s.between(a.ctx, a.end)
	a.warmUp()
	if a.s.tick >= a.chunkEnd || a.done() {
		a.finish()
		if !a.done() {
			a.begin()
			a.parked = a.solo
		}
	}
}

func (a *adaptive) worker(w int) {
	for {
		if a.parked {
			a.b.wait(a.unpark)
			continue
		}
		if a.done() {
			return
		}
		a.s.phase(w)
		a.b.wait(a.tick)
	}
}

func (a *adaptive) leader() {
	s := a.s
	for {
		if a.parked {
			for {
				for s.tick < a.chunkEnd && !s.stopping.Load() {
					for w := range s.workers {
						s.phase(w)
					}
					s.between(a.ctx, a.end)
					a.warmUp()
				}
				a.finish()
				if a.done() {
					break
				}
				a.begin()
				if !a.solo {
					break
				}
			}
			a.b.wait(a.unpark)
			continue
		}
		if a.done() {
			return
		}
		s.phase(0)
		a.b.wait(a.tick)
	}
}

// runSolo steps to tick end on the calling goroutine, running every
// worker's phase in worker order.
func (s *System) runSolo(ctx context.Context, end uint64) {
	for s.tick < end && !s.stopping.Load() {
		for w := range s.workers {
			s.phase(w)
		}
		s.between(ctx, end)
	}
}

// runParallel steps to tick end on the workers, one barrier per tick.
func (s *System) runParallel(ctx context.Context, end uint64) {
	b := newBarrier(s.workers)
	var wg sync.WaitGroup
	for w := 1; w < s.workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s.loop(w, b, ctx, end)
		}(w)
	}
	s.loop(0, b, ctx, end)
	wg.Wait()
}

func (s *System) loop(w int, b *barrier, ctx context.Context, end uint64) {
	serial := func() { s.between(ctx, end) }
	for {
		// s.tick and s.stopping change only inside the barrier's serial
		// section, which every worker waits for.
		if s.tick >= end || s.stopping.Load() {
			return
		}
		s.phase(w)
		b.wait(serial)
	}
}

// phase is one worker's part of tick s.tick: deliver, update, emit.
func (s *System) phase(w int) {
	t := s.tick
	cur := int(t & 1)
	prev := cur ^ 1
	// deliver the messages of tick t−1 into the accumulators of our cores
	if t > 0 {
		for _, row := range s.outbox[prev] {
			for _, ref := range row[w] {
				s.cores[ref>>32].deliverRow(uint32(ref), t)
			}
		}
	}
	costs := &s.cfg.Cost.Cycles
	out := s.outbox[cur][w]
	for i := range out {
		out[i] = out[i][:0]
	}
	var maxBusy, spikes uint64
	for _, ci := range s.owned[w] {
		c := s.cores[ci]
		c.deliverDirect()
		for _, ax := range c.inbox {
			c.deliverRow(c.axons[ax], t)
		}
		c.inbox = c.inbox[:0]
		c.update(s.dp, s.seed, t)
		for _, f := range c.fired {
			refs := c.refsOf(f)
			if len(out) == 1 {
				out[0] = append(out[0], refs...)
			} else {
				for _, ref := range refs {
					dw := s.owner[ref>>32]
					out[dw] = append(out[dw], ref)
				}
			}
			c.cnt.Messages += uint64(len(refs))
		}
		busy := c.cnt.Cycles(costs)
		c.busyTotal += busy
		c.totals.addCore(&c.cnt)
		c.cnt = Counts{}
		maxBusy = max(maxBusy, busy)
		spikes += uint64(len(c.fired)) + c.direct
	}
	s.ws[w] = workerTick{maxBusy: maxBusy, spikes: spikes}
}

// workerTick is one worker's summary of a tick, read between ticks; padded
// to a cache line so that workers do not share lines.
type workerTick struct {
	maxBusy, spikes uint64
	_               [48]byte
}

// between runs on one goroutine while every worker waits: the network,
// the tick's accounting, probes, output and the next tick's input.
func (s *System) between(ctx context.Context, end uint64) {
	t := s.tick
	var maxBusy, spikes uint64
	for i := range s.ws {
		maxBusy = max(maxBusy, s.ws[i].maxBusy)
		spikes += s.ws[i].spikes
	}
	var icCycles uint64
	if s.net != nil {
		icCycles = s.exchange(t, maxBusy)
	}
	st := &s.stats
	work := maxBusy + icCycles
	var tickCycles uint64
	if s.cfg.Sync == "fixed" {
		tickCycles = s.cfg.TickCycles
		if work > tickCycles {
			st.Overruns++
			tickCycles = work
		}
	} else {
		barrier := s.cfg.Cost.BarrierCycles + s.cfg.Cost.BarrierCyclesPerHop*2*uint64(s.cfg.Diameter())
		tickCycles = work + barrier
		st.BarrierCycles += barrier
	}
	st.Cycles += tickCycles
	st.InterconnectCycles += icCycles
	st.Ticks++
	if s.tickLog != nil {
		s.tickLog.Ticks = append(s.tickLog.Ticks, TickStats{Tick: t, Cycles: tickCycles, MaxCoreBusy: maxBusy, Network: icCycles, Spikes: spikes})
	}
	if s.rec != nil {
		s.rec.collect(s, t)
	}
	if s.observer != nil {
		for ci, c := range s.cores {
			if c.firedNeurons > 0 {
				s.observer(t, ci, c.fired[:c.firedNeurons])
			}
		}
	}
	if s.trace != nil {
		s.trace.collect(s)
	}
	s.emitOutputs(t)
	// This tick's external events act like spikes emitted at t: they are
	// delivered with the next tick's messages and integrated at t+1+delay.
	if s.runErr == nil {
		if err := s.fetchInput(t); err != nil {
			s.runErr = err
			s.stopping.Store(true)
		}
	}
	s.tick++
	if s.tick&255 == 0 && ctx.Err() != nil {
		s.runErr = ctx.Err()
		s.stopping.Store(true)
	}
}
