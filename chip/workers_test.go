package chip

import (
	"context"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestAutoWorkers holds the automatic rule to its table: one worker per
// MinWorkPerWorker of work, capped by processors and cores.
func TestAutoWorkers(t *testing.T) {
	for _, c := range []struct {
		neurons, synapses, cores, procs int
		want                            int
	}{
		{0, 0, 1, 2, 1},
		{500, 40000, 16, 2, 1},        // below the crossover
		{1000, 80000, 16, 2, 1},       // 1000 + 78 < 2048
		{2000, 160000, 16, 2, 2},      // 2000 + 156 ≥ 2048
		{2047, 0, 16, 2, 1},           // neurons alone, one short
		{2048, 0, 16, 2, 2},           // neurons alone, at the threshold
		{1024, 1024 * 1024, 16, 2, 2}, // synapse-heavy: 1024 + 1024
		{4000, 320000, 16, 2, 2},      // CUBA
		{4000, 320000, 16, 8, 4},      // CUBA with more processors: 4312 / 1024
		{4000, 320000, 16, 1, 1},      // one processor
		{64000, 5120000, 1, 8, 1},     // one core
		{256000, 0, 400, 64, 64},      // processors cap
	} {
		if got := AutoWorkers(c.neurons, c.synapses, c.cores, c.procs); got != c.want {
			t.Errorf("AutoWorkers(%d neurons, %d synapses, %d cores, %d procs) = %d, want %d", c.neurons, c.synapses, c.cores, c.procs, got, c.want)
		}
	}
}

// TestLoadUsesAutoWorkers: Load with Workers 0 chooses AutoWorkers of the
// loaded program.
func TestLoadUsesAutoWorkers(t *testing.T) {
	cfg := Default()
	for _, n := range []int{64, 600} {
		p := randomProgram(cfg, 42, 9, n)
		s, err := Load(cfg, p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := s.Memory()
		if want := AutoWorkers(m.Neurons, m.Synapses, 9, runtime.GOMAXPROCS(0)); s.Workers() != want {
			t.Errorf("%d neurons, %d synapses: %d workers, want %d", m.Neurons, m.Synapses, s.Workers(), want)
		}
	}
}

// TestBarrierSleepers runs more workers than processors through many
// generations, so that waiters go to sleep and the releaser must wake them
// (the path that takes the mutex), and checks that every serial section ran
// once per generation with every worker's phase of it done.
func TestBarrierSleepers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const workers, rounds = 5, 2000
	b := newBarrier(workers)
	done := make([]int, workers) // phases done per worker
	serials := 0
	bad := 0
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := range rounds {
				done[w] = r + 1
				b.wait(func() {
					for _, d := range done {
						if d != r+1 {
							bad++
						}
					}
					serials++
				})
			}
		}(w)
	}
	wg.Wait()
	if serials != rounds || bad != 0 {
		t.Errorf("%d serial sections, %d with a worker's phase missing; want %d and 0", serials, bad, rounds)
	}
}

// TestAdaptiveScheduleIsExact: an automatic worker count steps chunks on
// the workers and on one goroutine (the first chunk one way, the probe the
// other), and the run equals the one-worker run spike for spike, state for
// state and counter for counter.
func TestAdaptiveScheduleIsExact(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	cfg := Default()
	p := randomProgram(cfg, 42, 9, 300) // 2,700 neurons: two workers
	const ticks = 5 * scheduleChunk     // the first chunks are probes: both ways run
	want := runProgram(t, cfg, p, 1, ticks)
	s, err := Load(cfg, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Workers() != 2 || s.sched == nil {
		t.Fatalf("%d workers, schedule %v: want 2, adaptive", s.Workers(), s.sched != nil)
	}
	rec, err := s.RecordSpikes(nil)
	if err != nil {
		t.Fatal(err)
	}
	out := &collectOutput{}
	s.SetInput(periodicInput{})
	s.SetOutput(out)
	ctx := context.Background()
	for _, n := range []uint64{100, 3 * scheduleChunk, ticks - 100 - 3*scheduleChunk} { // chunks across Run calls
		if err := s.Run(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if par, one := s.Schedule(); par == 0 || one == 0 || par+one != ticks {
		t.Errorf("%d ticks on the workers, %d on one goroutine: want both, %d in all", par, one, ticks)
	}
	if !reflect.DeepEqual(rec.Spikes, want.spikes) {
		t.Errorf("spikes differ (%d vs %d)", len(rec.Spikes), len(want.spikes))
	}
	if !reflect.DeepEqual(out.got, want.out) {
		t.Error("output events differ")
	}
	if got := s.Stats(); !reflect.DeepEqual(got, want.stats) {
		t.Errorf("stats differ:\n got %+v\nwant %+v", got, want.stats)
	}
	for ci := range p.Cores {
		for i := range p.Cores[ci].Neurons {
			st, _ := s.State(NeuronRef{uint32(ci), uint32(i)})
			if st != want.states[0] {
				t.Fatalf("core %d neuron %d: state %+v, want %+v", ci, i, st, want.states[0])
			}
			want.states = want.states[1:]
		}
	}
}

// TestScheduleKeepsTheFaster feeds the schedule measurements: it must run
// nearly every chunk the faster way, probe the other less and less often
// while the measurements agree, and turn when they change.
func TestScheduleKeepsTheFaster(t *testing.T) {
	p := newSchedule()
	cost := map[bool]time.Duration{false: 50 * time.Microsecond, true: 5 * time.Microsecond} // per tick: parallel slow (a loaded machine)
	run := func(chunks int) (solo int) {
		for range chunks {
			one, ticks := p.next()
			if one {
				solo++
			}
			if p.probing != (ticks == scheduleProbeTicks) && p.par != 0 {
				t.Fatalf("probing %v, chunk of %d ticks", p.probing, ticks)
			}
			p.record(one, cost[one]*time.Duration(ticks), ticks, ticks)
		}
		return solo
	}
	if solo := run(200); solo < 200-200/scheduleProbeMin {
		t.Errorf("parallel 10× slower: %d of 200 chunks on one goroutine, want at least %d", solo, 200-200/scheduleProbeMin)
	}
	if p.probe != scheduleProbeMax {
		t.Errorf("probe interval %d after agreeing probes, want %d", p.probe, scheduleProbeMax)
	}
	cost[false], cost[true] = 2*time.Microsecond, 5*time.Microsecond // the machine is quiet again
	if solo := run(200); solo > 2*scheduleProbeMax/2+200/scheduleProbeMin {
		t.Errorf("parallel faster: %d of 200 chunks on one goroutine, want few", solo)
	}
	if p.one < p.par {
		t.Errorf("smoothed costs: one goroutine %.0f ns, parallel %.0f ns per tick: want parallel faster", p.one, p.par)
	}
	// short chunks count ticks but are not measured
	par := p.par
	p.record(false, time.Second, scheduleMinTicks-1, scheduleMinTicks-1)
	if p.par != par {
		t.Errorf("a chunk of %d ticks changed the measurement", scheduleMinTicks-1)
	}
}

// TestAdaptiveRunStops: a cancelled context stops an adaptive Run, parked
// workers included, and the system runs on afterwards.
func TestAdaptiveRunStops(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	cfg := Default()
	s, err := Load(cfg, randomProgram(cfg, 7, 9, 300), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.sched == nil {
		t.Fatal("no adaptive schedule")
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if err := s.Run(ctx, 1<<40); err != context.Canceled {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	tick := s.Tick()
	if err := s.Run(context.Background(), 1000); err != nil || s.Tick() != tick+1000 {
		t.Errorf("after the cancel: %v, tick %d, want %d", err, s.Tick(), tick+1000)
	}
}
