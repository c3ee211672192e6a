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
//
// The release takes the mutex and broadcasts only when a waiter has gone to
// sleep (sleepers > 0): in the common case, both workers spinning, a tick's
// synchronisation is two atomic updates and the cache-line transfers they
// imply. A sleeper counts itself under the mutex before it checks gen, and
// the releaser stores gen before it reads sleepers; both are sequentially
// consistent atomics, so either the releaser sees the sleeper and
// broadcasts under the mutex, or the sleeper sees the new generation and
// never waits.
type barrier struct {
	n        int32
	arrived  atomic.Int32
	_        [56]byte // arrivals and the generation on separate cache lines
	gen      atomic.Uint32
	sleepers atomic.Int32
	mu       sync.Mutex
	cond     sync.Cond
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
		b.gen.Store(g + 1)
		if b.sleepers.Load() > 0 {
			b.mu.Lock()
			b.cond.Broadcast()
			b.mu.Unlock()
		}
		return
	}
	// the clock is read only once the first 128 spins have not sufficed:
	// two reads of it would cost more than a partner's usual lateness
	var start time.Time
	for i := 1; ; i++ {
		if b.gen.Load() != g {
			return
		}
		if i&127 == 0 {
			if start.IsZero() {
				start = time.Now()
			} else if time.Since(start) > barrierSpin {
				break
			}
		}
	}
	for i := 0; i < barrierYields; i++ {
		runtime.Gosched()
		if b.gen.Load() != g {
			return
		}
	}
	b.mu.Lock()
	b.sleepers.Add(1)
	for b.gen.Load() == g {
		b.cond.Wait()
	}
	b.sleepers.Add(-1)
	b.mu.Unlock()
}
