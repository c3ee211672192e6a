package live

import "github.com/aerie-neuro/aerie/chip"

// tickQueue holds the input events that wait for their tick: a ring of
// per-tick slots over the ticks [next, next+horizon), bounded in the total
// number of events. An emptied slot gives its slice back to a small pool
// that the next slot to fill takes from, so that a steady stream allocates
// nothing once warm, and memory follows the events waiting (a slot that
// kept its slice would hold a tick's peak for every tick of the horizon).
// Only the tick loop touches it.
type tickQueue struct {
	slots [][]chip.PortEvent
	pool  [][]chip.PortEvent
	mask  uint64
	n     int // events queued
	limit int
}

// maxPool bounds the slices kept for reuse.
const maxPool = 64

// newTickQueue returns a queue for stamps up to horizon ticks ahead
// (rounded up to a power of two) holding at most limit events.
func newTickQueue(horizon, limit int) *tickQueue {
	size := 1
	for size < horizon {
		size <<= 1
	}
	return &tickQueue{slots: make([][]chip.PortEvent, size), mask: uint64(size - 1), limit: limit}
}

// horizon is how many ticks ahead (from the next tick) an event may be.
func (q *tickQueue) horizon() uint64 { return q.mask + 1 }

// push queues ev for tick t; the caller keeps t within the horizon. It
// reports false, queuing nothing, when the queue is full.
func (q *tickQueue) push(t uint64, ev chip.PortEvent) bool {
	if q.n >= q.limit {
		return false
	}
	s := &q.slots[t&q.mask]
	if *s == nil && len(q.pool) > 0 {
		*s = q.pool[len(q.pool)-1]
		q.pool = q.pool[:len(q.pool)-1]
	}
	*s = append(*s, ev)
	q.n++
	return true
}

// take appends the events of tick t to dst and empties the slot.
func (q *tickQueue) take(t uint64, dst []chip.PortEvent) []chip.PortEvent {
	s := &q.slots[t&q.mask]
	if *s == nil {
		return dst
	}
	dst = append(dst, *s...)
	q.n -= len(*s)
	if len(q.pool) < maxPool {
		q.pool = append(q.pool, (*s)[:0])
	}
	*s = nil
	return dst
}

// clear drops everything and returns how many events were queued.
func (q *tickQueue) clear() int {
	n := q.n
	for i := range q.slots {
		q.slots[i] = nil
	}
	q.n = 0
	return n
}
