package chip

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// PortEvent is an address event at a port: channel Channel of port Port
// (the index of the port in Program.Inputs or Program.Outputs).
type PortEvent struct {
	Port    uint16
	Channel uint32
}

// InputSource feeds external events into a running system. Events appends
// the events of tick t to dst and returns it; the system calls it once per
// tick, in tick order, at the end of tick t. An event of tick t acts like a
// spike emitted at t: it is integrated at t+1+delay.
type InputSource interface {
	Events(t uint64, dst []PortEvent) ([]PortEvent, error)
}

// OutputSink receives the spikes of output-port neurons, once per tick that
// has any, in (core, neuron) order. ev is reused after the call returns.
type OutputSink interface {
	Spikes(t uint64, ev []PortEvent) error
}

// Interconnect carries one tick's axon messages between cores: the seam
// where the router package's networks-on-chip plug in. Exchange is called
// once per tick, after every core has emitted and before any core receives;
// it returns the cycles the network adds to the tick and the energy it
// spent. It must not change which tick a message lands in; failure modes
// that a chip description enables (drops, late packets) will remove
// messages through Traffic and count them.
type Interconnect interface {
	Exchange(t uint64, tr *Traffic) (cycles uint64, energyPJ float64)
}

// Ideal is the interconnect with zero latency, unlimited bandwidth and no
// energy: every message arrives in time, for free.
type Ideal struct{}

// Exchange implements Interconnect.
func (Ideal) Exchange(uint64, *Traffic) (uint64, float64) { return 0, 0 }

// Traffic is one tick's axon messages, grouped by sending core.
type Traffic struct {
	s      *System
	parity int
}

// Cores is the number of cores that may send.
func (tr *Traffic) Cores() int { return len(tr.s.cores) }

// Each calls fn for every message of the tick in emission order — sending
// core, then firing neuron (generators last), then output-axon entry —
// which does not depend on the worker count, with the sending and receiving
// cores and the number of synapses the message will reach.
func (tr *Traffic) Each(fn func(src, dst, synapses int)) {
	for src, c := range tr.s.cores {
		for _, f := range c.fired {
			for _, ref := range c.refsOf(f) {
				dst := int(ref >> 32)
				fn(src, dst, int(tr.s.cores[dst].syn[uint32(ref)]>>8))
			}
		}
	}
}

// Options tune a System without changing its results.
type Options struct {
	// Workers is the number of goroutines that step the cores, capped at
	// the number of cores. 0 chooses one worker per NeuronsPerWorker
	// neurons, at most runtime.GOMAXPROCS(0): a tick of a few thousand
	// neurons is a few microseconds of work, less than what handing it
	// between processors costs. Results are bit-identical for every value.
	Workers      int
	Interconnect Interconnect // nil: Ideal
}

// NeuronsPerWorker is the work that justifies one more worker when
// Options.Workers is 0 (measured with BenchmarkCUBA: 4,000 neurons run
// faster on one worker than on two).
const NeuronsPerWorker = 16384

// System is a loaded chip (or system of chips) that steps ticks.
type System struct {
	cfg   *Config
	dp    *Datapath
	seed  uint64
	cores []*core
	tick  uint64

	ic Interconnect

	workers int
	owner   []int   // core → worker
	owned   [][]int // worker → cores
	// outbox[parity][v][w]: messages (dst << 32 | row offset) emitted by
	// the cores of worker v at a tick of that parity, for cores owned by
	// worker w. Each worker writes only its own row and reads only its own
	// column, so per tick the workers share W² slice headers, nothing else.
	outbox [2][][][]uint64
	ws     []workerTick

	inputs  [][][]AxonRef // port → channel → axons
	outputs []NeuronRef
	in      InputSource
	out     OutputSink
	inBuf   []PortEvent
	outBuf  []PortEvent
	inDrop  uint64

	traffic  Traffic
	observer SpikeObserver
	stats    Stats
	rec      *SpikeRecord
	trace    *Trace
	tickLog  *TickLog
	runErr   error
	stopping atomic.Bool
}

// Load checks p against cfg and loads it: state initialised, synapses
// packed, accumulators cleared, tick 0.
func Load(cfg *Config, p *Program, opt Options) (*System, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("chip: %w", err)
	}
	if err := p.Check(cfg); err != nil {
		return nil, fmt.Errorf("chip: program does not fit %s: %w", cfg.Name, err)
	}
	s := &System{cfg: cfg, dp: NewDatapath(cfg), seed: p.Seed, ic: opt.Interconnect}
	if s.ic == nil {
		s.ic = Ideal{}
	}
	for i := range p.Cores {
		c, err := s.loadCore(uint32(i), &p.Cores[i])
		if err != nil {
			return nil, err
		}
		s.cores = append(s.cores, c)
	}
	for i := range p.Cores {
		s.linkFanout(s.cores[i], &p.Cores[i])
	}
	for _, in := range p.Inputs {
		s.inputs = append(s.inputs, in.Channels)
	}
	for pi, out := range p.Outputs {
		for ch, r := range out.Neurons {
			c := s.cores[r.Core]
			if c.outCh == nil {
				c.outCh = make([]uint64, c.n)
			}
			c.outCh[r.Neuron] = uint64(pi)<<32 | uint64(ch) + 1
		}
	}
	w := opt.Workers
	if w <= 0 {
		neurons := 0
		for _, c := range s.cores {
			neurons += c.n
		}
		w = min(runtime.GOMAXPROCS(0), 1+neurons/NeuronsPerWorker)
	}
	w = max(1, min(w, len(s.cores)))
	s.workers = w
	s.partition()
	for par := range s.outbox {
		s.outbox[par] = make([][][]uint64, w)
		for v := range w {
			s.outbox[par][v] = make([][]uint64, w)
		}
	}
	s.ws = make([]workerTick, w)
	return s, nil
}

// partition gives each worker a contiguous block of cores of about equal
// work (neurons + synapses). Any partition gives the same results.
func (s *System) partition() {
	weight := func(c *core) int { return c.n + len(c.syn)/4 + 1 }
	total := 0
	for _, c := range s.cores {
		total += weight(c)
	}
	s.owner = make([]int, len(s.cores))
	s.owned = make([][]int, s.workers)
	acc, w := 0, 0
	for i, c := range s.cores {
		// move to the next worker once this one has its share, keeping at
		// least one core for each remaining worker
		if w < s.workers-1 && (acc*s.workers >= total*(w+1) || len(s.cores)-i <= s.workers-1-w) && len(s.owned[w]) > 0 {
			w++
		}
		s.owner[i] = w
		s.owned[w] = append(s.owned[w], i)
		acc += weight(c)
	}
}

func (s *System) loadCore(id uint32, cp *CoreProgram) (*core, error) {
	cfg, dp := s.cfg, s.dp
	types := cfg.Neuron.SynapseTypes
	n := len(cp.Neurons)
	stride := (n + 7) &^ 7
	c := &core{id: id, n: n, types: types, stride: stride, kn: types * stride}
	c.v = make([]int32, stride)
	c.u = make([]int32, types*stride)
	c.ref = make([]int32, stride)
	c.bias = make([]int32, stride)
	c.profiles = append([]Profile(nil), cp.Profiles...)
	for _, pr := range cp.Profiles {
		if pr.Escape != nil && c.noise == nil {
			c.noise = make([]uint32, stride)
		}
		if pr.Readout && c.vmax == nil {
			c.vmax = make([]int32, stride)
			for i := range c.vmax {
				c.vmax[i] = VMaxStart
			}
		}
	}
	for i := range cp.Neurons {
		nr := &cp.Neurons[i]
		c.v[i] = nr.V
		if nr.V != 0 && c.v0 == nil {
			c.v0 = make([]int32, stride)
		}
		if c.v0 != nil {
			c.v0[i] = nr.V
		}
		if c.noise != nil {
			c.noise[i] = nr.NoiseKey
		}
		c.bias[i] = nr.BiasMant << nr.BiasExp // fits: Check
		if i == 0 || int(nr.Profile) != c.runs[len(c.runs)-1].profile {
			c.runs = append(c.runs, run{lo: i, hi: i + 1, profile: int(nr.Profile)})
		} else {
			c.runs[len(c.runs)-1].hi = i + 1
		}
	}

	for i := range c.runs {
		r := &c.runs[i]
		pr := &c.profiles[r.profile]
		if pr.Escape == nil && !pr.Readout && types == 2 && !dp.instant && dp.decay == decayMul12 && !dp.nearest && c.vectorOK(dp, r.lo, r.hi) {
			r.kernel = newKernelConsts(dp, pr)
		}
	}

	// synapse memory
	lowBits := uint32(bitsFor(types*padNeurons(cfg.Core.Neurons) - 1))
	dBits := uint32(bitsFor(cfg.Synapse.MaxDelay))
	c.lowMask = uint32(1)<<lowBits - 1
	c.delayShift = lowBits
	c.delayMask = uint32(1)<<dBits - 1
	c.weightShift = 32 - uint32(cfg.Synapse.WeightBits+1)
	maxDelay := 0
	total := 0
	for a := range cp.Axons {
		total += len(cp.Axons[a].Synapses)
	}
	c.syn = make([]uint32, 0, total+len(cp.Axons))
	c.axons = make([]uint32, len(cp.Axons))
	worst := make([]int64, types*stride) // worst-case |input| per (type, neuron)
	for a := range cp.Axons {
		ax := &cp.Axons[a]
		c.axons[a] = uint32(len(c.syn))
		c.syn = append(c.syn, uint32(len(ax.Synapses))<<8|uint32(uint8(ax.WeightExp)))
		for _, sy := range ax.Synapses {
			low := uint32(sy.Type)*uint32(stride) + sy.Neuron
			c.syn = append(c.syn, packSynapse(low, uint32(sy.Delay), sy.Weight, c.delayShift, c.weightShift))
			maxDelay = max(maxDelay, int(sy.Delay))
			w := int64(sy.Weight)
			if w < 0 {
				w = -w
			}
			if ax.WeightExp >= 0 {
				w <<= uint(ax.WeightExp)
			} else {
				w >>= uint(-ax.WeightExp)
			}
			worst[low] += w
		}
	}
	for i, w := range worst {
		if w > int64(dp.accMax) {
			c.accCheck = true
		}
		if w > 1<<31-1 {
			return nil, &ResourceError{int(id), fmt.Sprintf("neuron %d type %d worst-case input sum", i%stride, i/stride), w,
				"2^31−1 (the emulator's 32-bit accumulators; lower weights, exponents or fan-in)"}
		}
	}
	slots := 1
	for slots < maxDelay+1 {
		slots <<= 1
	}
	c.slotMask = uint64(slots - 1)
	c.acc = make([]int32, slots*c.kn)

	return c, nil
}

// linkFanout resolves a core's output axons to (destination core, row
// offset) once every core's synapse memory is laid out.
func (s *System) linkFanout(c *core, cp *CoreProgram) {
	ref := func(r AxonRef) uint64 { return uint64(r.Core)<<32 | uint64(s.cores[r.Core].axons[r.Axon]) }
	c.outStart = make([]uint32, c.n+1)
	for i := range cp.Neurons {
		c.outStart[i] = uint32(len(c.outRef))
		for _, r := range cp.Neurons[i].Out {
			c.outRef = append(c.outRef, ref(r))
		}
	}
	c.outStart[c.n] = uint32(len(c.outRef))
	for g := range cp.Generators {
		gen := &cp.Generators[g]
		lg := loadedGen{seed: gen.Seed, prob: gen.Prob, period: gen.Period, phase: gen.Phase, key: gen.NoiseKey,
			counts: append([]uint32(nil), gen.Counts...), outStart: uint32(len(c.outRef))}
		if len(gen.Counts) == 0 {
			lg.counts = nil
		}
		for _, r := range gen.Out {
			c.outRef = append(c.outRef, ref(r))
		}
		lg.outEnd = uint32(len(c.outRef))
		c.gens = append(c.gens, lg)
	}
}

// Reset starts the system again at tick 0 from its initial state — every
// membrane at its program value, currents, refractory counters,
// accumulators and pending messages and input cleared — under a new noise
// seed, without reloading synapses: what a sample of an inference run needs
// (each sample from the state the trainer assumes, with its own seed).
// Accounting (Stats) and probes keep accumulating across resets.
func (s *System) Reset(seed uint64) {
	s.seed = seed
	s.tick = 0
	for _, c := range s.cores {
		if c.v0 != nil {
			copy(c.v, c.v0)
		} else {
			clear(c.v)
		}
		clear(c.u)
		clear(c.ref)
		clear(c.acc)
		for i := range c.vmax {
			c.vmax[i] = VMaxStart
		}
		c.inbox = c.inbox[:0]
		c.fired = c.fired[:0]
		c.firedNeurons = 0
	}
	for par := range s.outbox {
		for _, row := range s.outbox[par] {
			for w := range row {
				row[w] = row[w][:0]
			}
		}
	}
}

// Seed is the noise seed the system runs under (the program's, or the last
// Reset's).
func (s *System) Seed() uint64 { return s.seed }

// Config returns the chip description the system runs.
func (s *System) Config() *Config { return s.cfg }

// Tick is the next tick to run.
func (s *System) Tick() uint64 { return s.tick }

// Workers is the number of goroutines that step the cores.
func (s *System) Workers() int { return s.workers }

// SetInput sets the source of external events (nil: none).
func (s *System) SetInput(in InputSource) { s.in = in }

// SetOutput sets the sink of output-port spikes (nil: none).
func (s *System) SetOutput(out OutputSink) { s.out = out }

// Run steps n ticks, or until ctx is cancelled (checked every 256 ticks) or
// the input source or output sink fails. Each tick: every core delivers the
// messages and the external input events of the previous tick into its
// accumulators, updates its neurons (reading and clearing slot t) and emits
// messages; then, between ticks, the interconnect prices the messages, the
// tick's cycles are accounted and the input source is asked for the events
// of the tick just run.
func (s *System) Run(ctx context.Context, n uint64) error {
	if n == 0 {
		return nil
	}
	s.runErr = nil
	s.stopping.Store(false)
	end := s.tick + n
	if s.workers == 1 {
		for s.tick < end && !s.stopping.Load() {
			s.phase(0)
			s.between(ctx, end)
		}
		return s.runErr
	}
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
	return s.runErr
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
		c.totals.add(&c.cnt)
		c.cnt = Counts{}
		maxBusy = max(maxBusy, busy)
		spikes += uint64(len(c.fired))
	}
	s.ws[w] = workerTick{maxBusy: maxBusy, spikes: spikes}
}

// workerTick is one worker's summary of a tick, read between ticks; padded
// to a cache line so that workers do not share lines.
type workerTick struct {
	maxBusy, spikes uint64
	_               [48]byte
}

// between runs on one goroutine while every worker waits: the interconnect,
// the tick's accounting, probes, output and the next tick's input.
func (s *System) between(ctx context.Context, end uint64) {
	t := s.tick
	s.traffic = Traffic{s: s, parity: int(t & 1)}
	icCycles, icPJ := s.ic.Exchange(t, &s.traffic)
	var maxBusy, spikes uint64
	for i := range s.ws {
		maxBusy = max(maxBusy, s.ws[i].maxBusy)
		spikes += s.ws[i].spikes
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
	st.InterconnectPJ += icPJ
	st.Ticks++
	if s.tickLog != nil {
		s.tickLog.Ticks = append(s.tickLog.Ticks, TickStats{Tick: t, Cycles: tickCycles, MaxCoreBusy: maxBusy, Spikes: spikes})
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
	if s.out != nil && s.runErr == nil {
		s.outBuf = s.outBuf[:0]
		for _, c := range s.cores {
			if c.outCh == nil {
				continue
			}
			for _, f := range c.fired {
				if f < uint32(c.n) && c.outCh[f] != 0 {
					x := c.outCh[f] - 1
					s.outBuf = append(s.outBuf, PortEvent{Port: uint16(x >> 32), Channel: uint32(x)})
				}
			}
		}
		if len(s.outBuf) > 0 {
			if err := s.out.Spikes(t, s.outBuf); err != nil {
				s.runErr = fmt.Errorf("chip: output at tick %d: %w", t, err)
				s.stopping.Store(true)
			}
		}
	}
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

func (s *System) fetchInput(t uint64) error {
	if s.in == nil {
		return nil
	}
	var err error
	s.inBuf, err = s.in.Events(t, s.inBuf[:0])
	if err != nil {
		return fmt.Errorf("chip: input at tick %d: %w", t, err)
	}
	for _, ev := range s.inBuf {
		if int(ev.Port) >= len(s.inputs) || int(ev.Channel) >= len(s.inputs[ev.Port]) {
			s.inDrop++
			continue
		}
		for _, r := range s.inputs[ev.Port][ev.Channel] {
			c := s.cores[r.Core]
			c.inbox = append(c.inbox, r.Axon)
		}
	}
	return nil
}

// barrier is a reusable barrier for the workers of one Run. The last worker
// to arrive runs the serial function before releasing the others, so the
// between-ticks work needs no second barrier. Waiters spin first (a tick is
// microseconds), then yield, then sleep on a condition variable, so more
// workers than processors, or a loaded machine, still progress without
// burning the processor the late worker needs.
type barrier struct {
	n       int32
	arrived atomic.Int32
	gen     atomic.Uint32
	mu      sync.Mutex
	cond    sync.Cond
}

// A waiter spins for up to barrierSpin of wall time (a CUBA tick on two
// workers is about 3 µs of work, so a partner is nearly always that close),
// then yields barrierYields times, then sleeps. Sleeping costs a futex
// wake-up of tens of microseconds, so it is the last resort for loaded
// machines and for more workers than processors.
const (
	barrierSpin   = 50 * time.Microsecond
	barrierYields = 20
)

func newBarrier(n int) *barrier {
	b := &barrier{n: int32(n)}
	b.cond.L = &b.mu
	return b
}

func (b *barrier) wait(serial func()) {
	g := b.gen.Load()
	if b.arrived.Add(1) == b.n {
		serial()
		b.arrived.Store(0)
		b.mu.Lock()
		b.gen.Store(g + 1)
		b.cond.Broadcast()
		b.mu.Unlock()
		return
	}
	start := time.Now()
	for i := 1; ; i++ {
		if b.gen.Load() != g {
			return
		}
		if i&127 == 0 && time.Since(start) > barrierSpin {
			break
		}
	}
	for i := 0; i < barrierYields; i++ {
		runtime.Gosched()
		if b.gen.Load() != g {
			return
		}
	}
	b.mu.Lock()
	for b.gen.Load() == g {
		b.cond.Wait()
	}
	b.mu.Unlock()
}

// ErrNoSuchNeuron is returned by probes given a neuron the program lacks.
var ErrNoSuchNeuron = errors.New("chip: no such neuron")

func (s *System) checkRefs(refs []NeuronRef) error {
	for _, r := range refs {
		if int(r.Core) >= len(s.cores) || int(r.Neuron) >= s.cores[r.Core].n {
			return fmt.Errorf("%w: core %d neuron %d", ErrNoSuchNeuron, r.Core, r.Neuron)
		}
	}
	return nil
}

// State returns neuron r's current state.
func (s *System) State(r NeuronRef) (NeuronState, error) {
	if err := s.checkRefs([]NeuronRef{r}); err != nil {
		return NeuronState{}, err
	}
	c := s.cores[r.Core]
	st := NeuronState{V: c.v[r.Neuron], Ref: c.ref[r.Neuron], VMax: VMaxStart}
	if c.vmax != nil {
		st.VMax = c.vmax[r.Neuron]
	}
	for k := 0; k < c.types; k++ {
		st.U[k] = c.u[k*c.stride+int(r.Neuron)]
	}
	return st, nil
}
