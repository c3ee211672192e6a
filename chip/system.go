package chip

import (
	"sync/atomic"

	"github.com/aerie-neuro/aerie/router"
)

// The system is split by block, so that its seams show in the file list:
//
//	system.go        System, Options and accessors
//	load.go          Load: checking a program, packing synapse memory, fan-out, Reset
//	engine.go        Run: the tick — deliver, update, emit — and the between-ticks work
//	interconnect.go  the seam to the router package: messages out, fates back
//	ports.go         external input and output
//	barrier.go       the workers' barrier
//	probe.go         spike records, traces, tick logs, neuron state
//	stats.go         accounting

// Options tune a System. Workers never changes results; Network replaces
// the network the description's [noc] section builds (tests, studies).
type Options struct {
	// Workers is the number of goroutines that step the cores, capped at
	// the number of cores. 0 chooses AutoWorkers (workers.go): one worker
	// per MinWorkPerWorker neuron updates per tick, at most
	// runtime.GOMAXPROCS(0), since a tick of a thousand neurons is about
	// the work that handing it between processors costs. Results are
	// bit-identical for every value.
	Workers int
	// Network carries the messages between cores (nil: the one the chip
	// description's [noc] section describes, router.New). Without failure
	// modes enabled a network changes a run's cycles and energy, never its
	// spikes.
	Network router.Network
}

// NeuronsPerWorker was the work that justified one more worker when
// Options.Workers is 0, measured on another machine.
//
// Deprecated: Load uses AutoWorkers and MinWorkPerWorker (workers.go),
// measured with BenchmarkScaleWorkers.
const NeuronsPerWorker = MinWorkPerWorker

// System is a loaded chip (or system of chips) that steps ticks.
type System struct {
	cfg   *Config
	dp    *Datapath
	seed  uint64
	cores []*core
	tick  uint64

	// net is the network, nil for the ideal one (which needs no messages)
	net     router.Network
	traffic traffic
	netCnt  Counts     // network events: hops, late and dropped messages
	keys    [][]uint32 // per core, per sender: source keys (networks that route by key)
	outSyn  [][]uint32 // per core, per fan-out entry: synapses of the destination row

	workers int
	sched   *schedule // the adaptive schedule of an automatic worker count (workers.go), or nil
	owner   []int     // core → worker
	owned   [][]int   // worker → cores
	// outbox[parity][v][w]: messages (dst << 32 | row offset) emitted by
	// the cores of worker v at a tick of that parity, for cores owned by
	// worker w. Each worker writes only its own row and reads only its own
	// column, so per tick the workers share W² slice headers, nothing else.
	outbox [2][][][]uint64
	ws     []workerTick

	inputs [][][]AxonRef // port → channel → axons
	in     InputSource
	out    OutputSink
	inBuf  []PortEvent
	outBuf []PortEvent
	inDrop uint64

	observer SpikeObserver
	stats    Stats
	rec      *SpikeRecord
	trace    *Trace
	tickLog  *TickLog
	runErr   error
	stopping atomic.Bool
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

// Network is the network the system runs (router.Ideal when ideal).
func (s *System) Network() router.Network {
	if s.net == nil {
		return router.Ideal{}
	}
	return s.net
}
