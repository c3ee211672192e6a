package chip

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

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
