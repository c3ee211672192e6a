package chip

// The automatic worker count.
//
// A second worker halves a tick's work and adds a synchronisation: the
// barrier (BenchmarkBarrier: about 0.2 µs on this project's 2-vCPU Xeon
// when both workers spin) plus the cache-line transfers of the messages
// that cross from one worker's cores to the other's. So a worker pays only
// once its share of a tick's work is well above that cost. The work of a
// tick is nearly all neuron updates: at CUBA's rates (≈ 5 Hz, 0.1 ms ticks)
// a synapse carries an event once in about 2,000 ticks, and an event costs
// a few neuron updates, so the work is counted as neurons + synapses/1024.
//
// MinWorkPerWorker was measured with BenchmarkScaleWorkers (internal/bench:
// CUBA's statistics from 500 to 64,000 neurons on one and two workers;
// docs/scaling.md has the table): two workers lose below about 1,000
// neurons (a tick is then about 2 µs of work, close to the cost of handing
// it over), and win from about 2,000 neurons on. The rule gives the second
// worker at 2,048 units of work.

import (
	"runtime"
	"time"
)

// MinWorkPerWorker is the work per tick, in neuron updates (a synapse
// counts 1/1024 of one), that each worker must have for Load's automatic
// worker count to add it (docs/scaling.md).
const MinWorkPerWorker = 1024

// AutoWorkers is the worker count Load chooses when Options.Workers is 0,
// for a program of the given neurons and synapses on the given number of
// cores with procs processors: one worker per MinWorkPerWorker of work per
// tick, at least one, at most procs and at most one per core.
func AutoWorkers(neurons, synapses, cores, procs int) int {
	work := neurons + synapses/1024
	return max(1, min(work/MinWorkPerWorker, procs, cores))
}

// autoWorkers is AutoWorkers for the loaded system, on GOMAXPROCS
// processors; with more than one worker, Run then follows the adaptive
// schedule below.
func (s *System) autoWorkers() int {
	neurons, synapses := 0, 0
	for _, c := range s.cores {
		neurons += c.n
		synapses += len(c.syn) - len(c.axons)
	}
	w := AutoWorkers(neurons, synapses, len(s.cores), runtime.GOMAXPROCS(0))
	if w > 1 {
		s.sched = newSchedule()
	}
	return w
}

// The adaptive schedule of an automatic worker count.
//
// A fixed rule cannot know the machine's load: on a shared machine a
// partner worker is often descheduled, and a tick that waits for it at the
// barrier costs tens of microseconds (measured on the project's 2-vCPU VM
// under a load average of 5–12: CUBA on two workers 3–10× slower than on
// one). So when Load chose the worker count, Run measures both ways of
// stepping — the workers in parallel, or one goroutine running every
// worker's phase in turn, which computes the same thing — chunk by chunk,
// and keeps the faster. The other way is re-measured now and then, every
// probe-th chunk, with probe doubling (8 … 64 chunks) while the measurement
// confirms the choice and falling back to 8 when it does not, so a wrong
// choice costs at most one chunk in eight and a right one about one in
// sixty-four; a probe runs a quarter of a chunk, and when the other way
// costs r times as much per tick, probes come at most every 8·r chunks
// (up to 1024), so that they never take more than 1/32 of the time.
// Wall-clock time decides only which goroutine runs a core's phase, never
// what the phase computes: results stay bit-identical.

const (
	scheduleChunk      = 256 // ticks per measured chunk (Run checks ctx as often)
	scheduleProbeTicks = 64  // ticks of a probe: the other way may be 20× slower
	scheduleMinTicks   = 32  // shorter chunks (the end of a Run) are not measured
	scheduleWarmTicks  = 8   // a chunk's first ticks are not measured (adaptive.warmUp)
	scheduleProbeMin   = 8
	scheduleProbeMax   = 64
	scheduleProbeFar   = 1024 // the most chunks between probes when the other way is much slower
)

// schedule holds the measured cost per tick of the two ways of stepping.
type schedule struct {
	par, one         float64 // nanoseconds per tick, estimated (0: not measured yet)
	lastPar, lastOne float64 // the last chunk's raw figure of each way
	since, probe     int     // chunks since the last probe; chunks between probes
	parTicks, oneTks uint64  // ticks run each way
	probing          bool    // the chunk being run is a probe
}

func newSchedule() *schedule { return &schedule{probe: scheduleProbeMin} }

// next says how to run the next chunk — on one goroutine (solo) or on the
// workers — and for how many ticks: a probe of the way not chosen (and the
// first measurement of each way) runs scheduleProbeTicks only, since on a
// loaded machine the parallel way can cost 20× the other per tick (a
// parallel tick waiting ≈ 55 µs for a descheduled partner), and a full
// chunk of it every few chunks would cost more than the schedule saves.
func (p *schedule) next() (solo bool, ticks uint64) {
	solo = p.solo()
	if p.probing || p.par == 0 {
		return solo, scheduleProbeTicks
	}
	return solo, scheduleChunk
}

func (p *schedule) solo() bool {
	switch {
	case p.par == 0:
		return false
	case p.one == 0:
		p.probing = true
		return true
	}
	best := p.one < p.par
	p.since++
	// a probe of the worse way costs its ratio to the better one: space
	// the probes so that they take at most 1/32 of the time between them
	// (a quarter chunk each, at ratio r: every 8·r chunks)
	ratio := max(p.one, p.par) / min(p.one, p.par)
	if p.since >= max(p.probe, min(int(8*ratio), scheduleProbeFar)) {
		p.since = 0
		p.probing = true
		return !best
	}
	p.probing = false
	return best
}

// record adds a chunk's measurement: d for its last ticks ticks, of total
// ticks run.
func (p *schedule) record(solo bool, d time.Duration, ticks, total uint64) {
	if solo {
		p.oneTks += total
	} else {
		p.parTicks += total
	}
	if ticks < scheduleMinTicks {
		return
	}
	per := float64(d.Nanoseconds()) / float64(ticks)
	before := p.one < p.par
	cur, last := &p.par, &p.lastPar
	if solo {
		cur, last = &p.one, &p.lastOne
	}
	if *cur == 0 || p.probing {
		*cur = per // a probe's figure is fresh; the old one may be minutes old
	} else {
		// The lesser of the last two chunks: a chunk's time only ever
		// grows by noise (a descheduled thread, a collection), so one slow
		// chunk must not switch ways — the other way's figure is not
		// re-measured until the next probe — while a slowdown that lasts
		// two chunks does.
		*cur = min(per, *last)
	}
	*last = per
	if p.probing && p.par > 0 && p.one > 0 {
		if (p.one < p.par) == before {
			p.probe = min(2*p.probe, scheduleProbeMax)
		} else {
			p.probe = scheduleProbeMin
		}
	}
	p.probing = false
}

// Schedule reports how the ticks run so far were stepped: on the workers
// in parallel, or on one goroutine (only an automatic worker count
// switches; with Options.Workers set, or one worker, every tick is of one
// kind).
func (s *System) Schedule() (parallel, solo uint64) {
	if s.sched == nil {
		if s.workers == 1 {
			return 0, s.stats.Ticks
		}
		return s.stats.Ticks, 0
	}
	return s.sched.parTicks, s.sched.oneTks
}
