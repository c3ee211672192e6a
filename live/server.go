package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aerie-neuro/aerie/aer"
	"github.com/aerie-neuro/aerie/chip"
	"github.com/prometheus/client_golang/prometheus"
)

// counters are the server's figures, shared between the intake, the tick
// loop, the metrics endpoint and the status line.
type counters struct {
	packets, bytes, eventsIn, malformed, refused, commands, duplicate atomic.Uint64
	lost                                                              atomic.Int64
	late, dropQueue, dropFuture, dropLate, dropUnmapped, dropShutdown atomic.Uint64
	applied, eventsOut, sendErrors                                    atomic.Uint64
	ticks, overruns                                                   atomic.Uint64
	queueDepth                                                        atomic.Int64
	cycles, energyBits                                                atomic.Uint64
	destinations                                                      atomic.Int64
	paused                                                            atomic.Bool
}

func (c *counters) dropped() uint64 {
	return c.dropQueue.Load() + c.dropFuture.Load() + c.dropLate.Load() + c.dropUnmapped.Load() + c.dropShutdown.Load()
}

// Drops counts dropped input events by reason.
type Drops struct {
	QueueFull uint64 `json:"queue_full"` // the intake's hand-over or the tick queue was full
	Future    uint64 `json:"future"`     // stamped beyond the horizon
	Late      uint64 `json:"late"`       // late, with the drop policy
	Unmapped  uint64 `json:"unmapped"`   // no input port or channel of the image
	Shutdown  uint64 `json:"shutdown"`   // still waiting when the server stopped
}

// Summary is what a server did, printed on exit (aerie serve --json).
type Summary struct {
	Listen   string  `json:"listen"`
	Format   string  `json:"format"`
	Mode     string  `json:"mode"` // "realtime" or "fast"
	PeriodUS float64 `json:"period_us,omitempty"`
	Late     string  `json:"late_policy"`
	Stop     string  `json:"stop"` // interrupt, ticks, duration or error
	Paused   bool    `json:"paused"`

	Ticks      uint64 `json:"ticks"`
	EventsIn   uint64 `json:"events_in"`      // events in valid datagrams from allowed senders
	Applied    uint64 `json:"events_applied"` // events handed to the chip
	EventsOut  uint64 `json:"events_out"`     // output-port spikes
	PacketsIn  uint64 `json:"packets_in"`
	BytesIn    uint64 `json:"bytes_in"`
	LateEvents uint64 `json:"late"`
	Dropped    uint64 `json:"dropped"`
	Drops      Drops  `json:"drops"`
	// Lost counts datagrams missing from sequenced streams (native per
	// sender and port, jAER per sender).
	Lost       int64  `json:"lost"`
	Duplicate  uint64 `json:"duplicate"`
	Malformed  uint64 `json:"malformed"`
	Refused    uint64 `json:"refused"`
	Commands   uint64 `json:"commands"`
	SendErrors uint64 `json:"send_errors"`

	TickP50US   float64 `json:"tick_p50_us"`
	TickP99US   float64 `json:"tick_p99_us"`
	TickMaxUS   float64 `json:"tick_max_us"`
	JitterP50US float64 `json:"jitter_p50_us"`
	JitterP99US float64 `json:"jitter_p99_us"`
	JitterMaxUS float64 `json:"jitter_max_us"`
	Overruns    uint64  `json:"overruns"`

	WallS float64 `json:"wall_s"`
	// RunningS is the wall time spent ticking (pauses excluded); in
	// real-time mode ExpectedTicks = RunningS / period, which Ticks
	// matches within one when the clock did not drift.
	RunningS      float64 `json:"running_s"`
	ExpectedTicks float64 `json:"expected_ticks,omitempty"`

	Cycles  uint64  `json:"emulated_cycles"`
	EnergyJ float64 `json:"energy_j"`

	Keys          *KeySpace         `json:"keys"`
	Destinations  []string          `json:"destinations"`
	RecordStopped bool              `json:"record_stopped,omitempty"`
	PcapStopped   bool              `json:"pcap_stopped,omitempty"`
	SpiNNaker     *SpiNNakerSummary `json:"spinnaker,omitempty"`
}

// chunk is one hand-over of decoded events from the intake to the tick
// loop; Time is the tick stamp or −1 for untimed.
type chunk struct{ evs []aer.Event }

// Control commands from the intake to the tick loop.
const (
	ctlStart = aer.EIEIOCommandStartResume
	ctlStop  = aer.EIEIOCommandStopPause
)

// Server runs a loaded chip live. New binds the sockets; Run serves until
// its context is done or a limit of the Config is reached.
type Server struct {
	cfg   Config
	sys   *chip.System
	prog  *chip.Program
	keys  *KeySpace
	conn  *net.UDPConn
	local netip.AddrPort
	log   *slog.Logger
	c     counters

	free, full chan *chunk
	ctl        chan uint16

	// intake state (the intake goroutine only)
	cur      *chunk
	scratch  []aer.Event
	trackers map[seqKey]*aer.SeqTracker
	stopping atomic.Bool

	// tick loop state
	q         *tickQueue
	next      uint64
	watermark int64
	immediate bool
	tail      int
	drain     int
	paused    bool
	tickHist  durHist
	jitHist   durHist
	running   time.Duration // time spent ticking, pauses excluded
	runStart  time.Time
	lastStats time.Time

	out  *outputs
	rec  *recorder
	pcap *pcapTap

	reg      *prometheus.Registry
	promTick prometheus.Histogram
	metrics  *metricsServer
	spin     *spinnaker

	runOnce sync.Once
}

type seqKey struct {
	from netip.AddrPort
	port uint16
}

// maxTrackers bounds the sequence trackers (one per sender and port).
const maxTrackers = 4096

// New binds cfg.Listen and prepares to serve sys, which must have been
// loaded from prog. The caller owns the files behind Record and Pcap.
func New(sys *chip.System, prog *chip.Program, cfg Config) (*Server, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	keys, err := AllocateKeys(prog)
	if err != nil {
		return nil, err
	}
	laddr, err := net.ResolveUDPAddr("udp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("live: listen address: %w", err)
	}
	if laddr.IP == nil {
		return nil, fmt.Errorf("live: listen address %q names no host: give 127.0.0.1:PORT, or 0.0.0.0:PORT to listen on every interface", cfg.Listen)
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	s := &Server{cfg: cfg, sys: sys, prog: prog, keys: keys, conn: conn, log: cfg.Logger,
		trackers: map[seqKey]*aer.SeqTracker{}, watermark: -1, ctl: make(chan uint16, 16)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.local = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	s.free = make(chan *chunk, DefaultChunks)
	s.full = make(chan *chunk, DefaultChunks)
	for range DefaultChunks {
		s.free <- &chunk{evs: make([]aer.Event, 0, DefaultChunk)}
	}
	s.scratch = make([]aer.Event, 0, 8192)
	s.q = newTickQueue(cfg.Horizon, cfg.Queue)
	s.drain = cfg.Drain
	if s.drain == 0 {
		s.drain = maxDelay(prog) + 2
	}
	if s.drain < 0 {
		s.drain = 0
	}
	s.paused = cfg.Paused || cfg.SpiNNaker != nil
	s.c.paused.Store(s.paused)
	fail := func(err error) (*Server, error) {
		conn.Close()
		if s.metrics != nil {
			s.metrics.close()
		}
		return nil, err
	}
	if cfg.Pcap != nil {
		if s.pcap, err = newPcapTap(cfg.Pcap, cfg.PcapMax, s.log); err != nil {
			return fail(fmt.Errorf("live: pcap: %w", err))
		}
	}
	if cfg.Record != nil {
		if s.rec, err = newRecorder(cfg.Record, cfg.RecordFormat, cfg.RecordOpts, cfg.RecordMax, s.log); err != nil {
			return fail(fmt.Errorf("live: record: %w", err))
		}
	}
	s.out = newOutputs(s)
	sys.SetInput(s)
	sys.SetOutput(s.out)
	s.next = sys.Tick()
	for _, to := range cfg.To {
		ap, err := resolveUDP(to)
		if err != nil {
			return fail(fmt.Errorf("live: destination %q: %w", to, err))
		}
		s.out.add(ap)
	}
	s.initMetrics()
	if cfg.SpiNNaker != nil {
		if s.spin, err = newSpiNNaker(s, cfg.SpiNNaker); err != nil {
			return fail(err)
		}
	}
	return s, nil
}

func resolveUDP(hostport string) (netip.AddrPort, error) {
	ua, err := net.ResolveUDPAddr("udp", hostport)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap := ua.AddrPort()
	if !ap.Addr().IsValid() || ap.Port() == 0 {
		return netip.AddrPort{}, errors.New("want HOST:PORT with a host and a port")
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// maxDelay is the longest synaptic delay of the program, in ticks.
func maxDelay(p *chip.Program) int {
	d := 0
	for i := range p.Cores {
		for j := range p.Cores[i].Axons {
			for _, sy := range p.Cores[i].Axons[j].Synapses {
				d = max(d, int(sy.Delay))
			}
		}
	}
	return d
}

// Addr is the address the server listens on.
func (s *Server) Addr() netip.AddrPort { return s.local }

// Keys is the key allocation of the image's ports.
func (s *Server) Keys() *KeySpace { return s.keys }

// Run serves until ctx is done or a limit is reached, then shuts down in
// order — intake stopped, the current tick finished (fast mode: the
// queued input run through the chip), output flushed, recordings closed,
// sockets closed — and returns the summary. It may be called once.
func (s *Server) Run(ctx context.Context) (Summary, error) {
	var sum Summary
	err := errors.New("live: Run called twice")
	s.runOnce.Do(func() { sum, err = s.run(ctx) })
	return sum, err
}

func (s *Server) run(ctx context.Context) (Summary, error) {
	start := time.Now()
	intakeDone := make(chan struct{})
	go func() {
		defer close(intakeDone)
		s.intake()
	}()
	statusDone := make(chan struct{})
	var statusWG sync.WaitGroup
	if s.cfg.Status != nil {
		statusWG.Add(1)
		go func() {
			defer statusWG.Done()
			s.statusLoop(statusDone)
		}()
	}
	if s.metrics != nil {
		s.metrics.start()
	}
	hsCtx, hsCancel := context.WithCancel(ctx)
	var hsWG sync.WaitGroup
	if s.spin != nil {
		hsWG.Add(1)
		go func() {
			defer hsWG.Done()
			s.spin.handshake(hsCtx)
		}()
	}
	s.log.Info("serving", "listen", s.local.String(), "format", s.cfg.Format.String(), "mode", s.modeName())

	stop, loopErr := s.loop(ctx, start)
	if !s.paused {
		s.running += time.Since(s.runStart)
	}

	// Shutdown: stop intake, take what it handed over, finish the work.
	hsCancel()
	hsWG.Wait()
	s.stopping.Store(true)
	// what has reached the socket before the stop is still read
	s.conn.SetReadDeadline(time.Now().Add(stopGrace))
	<-intakeDone
	s.drainArrivals()
	if s.cfg.Fast && loopErr == nil && stop != "ticks" {
		s.finishFast()
	}
	s.c.dropShutdown.Add(uint64(s.q.clear()))
	s.c.queueDepth.Store(0)
	var errs []error
	if loopErr != nil {
		errs = append(errs, loopErr)
	}
	if err := s.out.close(); err != nil {
		errs = append(errs, err)
	}
	if s.spin != nil {
		s.spin.stop()
	}
	if s.rec != nil {
		if err := s.rec.close(); err != nil {
			errs = append(errs, fmt.Errorf("live: record: %w", err))
		}
	}
	if s.pcap != nil {
		if err := s.pcap.close(); err != nil {
			errs = append(errs, fmt.Errorf("live: pcap: %w", err))
		}
	}
	s.conn.Close()
	if s.metrics != nil {
		s.metrics.close()
	}
	close(statusDone)
	statusWG.Wait()
	s.updateChipStats()
	sum := s.snapshot(true)
	sum.Stop = stop
	if len(errs) > 0 {
		sum.Stop = "error"
	}
	sum.WallS = time.Since(start).Seconds()
	return sum, errors.Join(errs...)
}

func (s *Server) modeName() string {
	if s.cfg.Fast {
		return "fast"
	}
	return "realtime"
}

// Snapshot returns the counters so far; it is safe while Run runs. The
// tick percentiles and the running time belong to the tick loop and are
// only in the summary that Run returns.
func (s *Server) Snapshot() Summary { return s.snapshot(false) }

func (s *Server) snapshot(final bool) Summary {
	c := &s.c
	sum := Summary{Listen: s.local.String(), Format: s.cfg.Format.String(), Mode: s.modeName(), Late: s.cfg.Late.String(),
		Ticks: c.ticks.Load(), EventsIn: c.eventsIn.Load(), Applied: c.applied.Load(), EventsOut: c.eventsOut.Load(),
		PacketsIn: c.packets.Load(), BytesIn: c.bytes.Load(), LateEvents: c.late.Load(), Dropped: c.dropped(),
		Drops: Drops{QueueFull: c.dropQueue.Load(), Future: c.dropFuture.Load(), Late: c.dropLate.Load(),
			Unmapped: c.dropUnmapped.Load(), Shutdown: c.dropShutdown.Load()},
		Lost: c.lost.Load(), Duplicate: c.duplicate.Load(), Malformed: c.malformed.Load(), Refused: c.refused.Load(),
		Commands: c.commands.Load(), SendErrors: c.sendErrors.Load(), Overruns: c.overruns.Load(),
		Cycles: c.cycles.Load(), EnergyJ: math.Float64frombits(c.energyBits.Load()),
		Keys: s.keys, Destinations: s.out.names(), Paused: c.paused.Load()}
	if s.cfg.Period > 0 {
		sum.PeriodUS = float64(s.cfg.Period) / float64(time.Microsecond)
	}
	if final {
		sum.TickP50US, sum.TickP99US, sum.TickMaxUS = s.tickHist.quantile(0.5), s.tickHist.quantile(0.99), float64(s.tickHist.max)
		sum.JitterP50US, sum.JitterP99US, sum.JitterMaxUS = s.jitHist.quantile(0.5), s.jitHist.quantile(0.99), float64(s.jitHist.max)
		sum.RunningS = s.running.Seconds()
		if s.cfg.Period > 0 {
			sum.ExpectedTicks = math.Floor(float64(s.running) / float64(s.cfg.Period))
		}
	}
	if s.rec != nil {
		sum.RecordStopped = s.rec.stopped.Load()
	}
	if s.pcap != nil {
		sum.PcapStopped = s.pcap.isStopped()
	}
	if s.spin != nil {
		sum.SpiNNaker = s.spin.summary()
	}
	return sum
}

// loop is the tick loop: it places the intake's events in the tick queue
// and runs ticks when the mode says so, until a stop condition.
func (s *Server) loop(ctx context.Context, start time.Time) (string, error) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var stopC <-chan time.Time
	if s.cfg.Duration > 0 {
		st := time.NewTimer(s.cfg.Duration)
		defer st.Stop()
		stopC = st.C
	}
	var anchor time.Time // real time: tick k after anchor is due at anchor + k·period
	var k int64
	resume := func() {
		anchor, k = time.Now(), 0
		s.runStart = anchor
	}
	if !s.paused {
		resume()
	}
	lastTick := time.Now()
	control := func(id uint16) {
		switch {
		case id == ctlStart && s.paused:
			s.paused = false
			s.c.paused.Store(false)
			resume()
			lastTick = time.Now()
			s.log.Info("started")
		case id == ctlStop && !s.paused:
			s.paused = true
			s.c.paused.Store(true)
			s.running += time.Since(s.runStart)
			s.log.Info("paused")
		}
	}
	for {
		s.drainArrivals()
		for polled := false; !polled; {
			select {
			case id := <-s.ctl:
				control(id)
			default:
				polled = true
			}
		}
		if s.cfg.Ticks > 0 && s.c.ticks.Load() >= s.cfg.Ticks {
			return "ticks", nil
		}
		if err := ctx.Err(); err != nil {
			return "interrupt", nil
		}
		if s.cfg.Duration > 0 && time.Since(start) >= s.cfg.Duration {
			return "duration", nil
		}
		var wait time.Duration = -1 // −1: block until an arrival or a command
		now := time.Now()
		switch {
		case s.paused:
		case s.cfg.Fast:
			if int64(s.next) < s.watermark || s.immediate || s.tail > 0 {
				wait = 0
			} else if s.cfg.Idle > 0 {
				wait = max(0, lastTick.Add(s.cfg.Idle).Sub(now))
			}
		default:
			due := anchor.Add(time.Duration(k) * s.cfg.Period)
			wait = max(0, due.Sub(now))
			if wait == 0 {
				s.jitHist.observe(now.Sub(due))
			}
		}
		if wait == 0 {
			t0 := time.Now()
			if err := s.runTick(); err != nil {
				return "error", err
			}
			if !s.cfg.Fast {
				k++
				if time.Since(t0) > s.cfg.Period {
					s.c.overruns.Add(1)
				}
			}
			lastTick = time.Now()
			continue
		}
		if !s.paused && !s.cfg.Fast && wait > 0 && wait <= preciseWindow {
			// the last stretch before a real-time tick: sleep the thread
			// (see preciseSleep); arrivals wait in their channel meanwhile
			preciseSleep(wait)
			continue
		}
		var timerC <-chan time.Time
		if wait > 0 {
			if !s.cfg.Fast && !s.paused {
				wait -= preciseWindow // wake up early, then sleep precisely
			}
			timer.Reset(wait)
			timerC = timer.C
		}
		select {
		case c := <-s.full:
			s.place(c)
		case id := <-s.ctl:
			control(id)
		case <-ctx.Done():
			return "interrupt", nil
		case <-stopC:
			return "duration", nil
		case <-timerC:
			if s.cfg.Fast && !s.paused {
				// idle: nothing said the next tick's input is complete,
				// but time must move on.
				if err := s.runTick(); err != nil {
					return "error", err
				}
				lastTick = time.Now()
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// stopGrace is how long the intake goes on reading after a stop, so that
// datagrams already in the socket's buffer are not lost.
const stopGrace = 10 * time.Millisecond

// preciseWindow is how long before a real-time tick the loop stops
// waiting on Go timers (millisecond resolution) and sleeps the thread.
const preciseWindow = 1500 * time.Microsecond

// finishFast runs the queued input through the chip after a stop (fast
// mode): every queued tick, then Drain more.
func (s *Server) finishFast() {
	limit := s.next + s.q.horizon() + uint64(s.drain) + 1
	for (s.q.n > 0 || int64(s.next) <= s.watermark) && s.next < limit {
		if s.runTick() != nil {
			return
		}
	}
	for range s.drain {
		if s.runTick() != nil {
			return
		}
	}
}

// runTick runs tick s.next and sends its output.
func (s *Server) runTick() error {
	t0 := time.Now()
	had := s.immediate
	s.immediate = false
	if err := s.sys.Run(context.Background(), 1); err != nil {
		return fmt.Errorf("live: tick %d: %w", s.next, err)
	}
	s.out.flush()
	s.next++
	if had {
		s.tail = s.drain
	} else if s.tail > 0 {
		s.tail--
	}
	d := time.Since(t0)
	s.tickHist.observe(d)
	s.promTick.Observe(d.Seconds())
	s.c.ticks.Add(1)
	s.c.queueDepth.Store(int64(s.q.n))
	if time.Since(s.lastStats) > 100*time.Millisecond {
		s.updateChipStats()
	}
	return nil
}

func (s *Server) updateChipStats() {
	st := s.sys.Stats()
	s.c.cycles.Store(st.Cycles)
	s.c.energyBits.Store(math.Float64bits(st.Energy.Total))
	s.lastStats = time.Now()
}

// Events implements chip.InputSource: the queued events of tick t.
func (s *Server) Events(t uint64, dst []chip.PortEvent) ([]chip.PortEvent, error) {
	n := len(dst)
	dst = s.q.take(t, dst)
	s.c.applied.Add(uint64(len(dst) - n))
	return dst, nil
}

// drainArrivals places every chunk the intake has handed over.
func (s *Server) drainArrivals() {
	for {
		select {
		case c := <-s.full:
			s.place(c)
		default:
			return
		}
	}
}

// place puts a chunk's events in the tick queue and returns the chunk.
func (s *Server) place(c *chunk) {
	n := s.next
	h := s.q.horizon()
	var late, dropLate, future, full uint64
	for _, e := range c.evs {
		ev := chip.PortEvent{Port: e.Port, Channel: e.Channel}
		t := n
		switch {
		case e.Time < 0:
			s.immediate = true
		case uint64(e.Time) < n:
			late++
			if s.cfg.Late == LateDrop {
				dropLate++
				continue
			}
			s.immediate = true
		default:
			t = uint64(e.Time)
			if t-n >= h {
				future++
				continue
			}
			if e.Time > s.watermark {
				s.watermark = e.Time
			}
		}
		if !s.q.push(t, ev) {
			full++
		}
	}
	c.evs = c.evs[:0]
	s.free <- c
	s.c.late.Add(late)
	s.c.dropLate.Add(dropLate)
	s.c.dropFuture.Add(future)
	s.c.dropQueue.Add(full)
	s.c.queueDepth.Store(int64(s.q.n))
}
