package live

import (
	"math/bits"
	"time"
)

// durHist is a histogram of durations in microseconds with 32 sub-buckets
// per power of two (about 3 % resolution) from 0 to 2^31 µs: enough for
// p50/p99 of tick durations and jitter without keeping samples.
type durHist struct {
	counts [32 * 32]uint64
	n      uint64
	max    uint64
}

const histSub = 32

func histIndex(us uint64) int {
	if us < histSub {
		return int(us)
	}
	e := bits.Len64(us) - 6 // us >> e is in [32, 64)
	if e >= 31 {
		return len(durHist{}.counts) - 1
	}
	return (e+1)*histSub + int(us>>uint(e)) - histSub
}

// lower bound of bucket i, in µs
func histValue(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	e := i/histSub - 1
	return uint64(i%histSub+histSub) << uint(e)
}

func (h *durHist) observe(d time.Duration) {
	us := uint64(0)
	if d > 0 {
		us = uint64(d / time.Microsecond)
	}
	h.counts[histIndex(us)]++
	h.n++
	h.max = max(h.max, us)
}

// quantile returns the q-quantile (0..1) in µs: the lower edge of the
// bucket holding it.
func (h *durHist) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n-1)) + 1
	var acc uint64
	for i, c := range h.counts {
		acc += c
		if acc >= rank {
			return float64(histValue(i))
		}
	}
	return float64(h.max)
}
