package dataset

import (
	"math"
	"math/rand/v2"
	"slices"
)

// encodeChunk is the number of images one worker encodes into one backing
// array of events.
const encodeChunk = 512

// encodeImages encodes images of `units` pixels each (row-major bytes,
// 0…255) into a set, in parallel over chunks. Sample i's events depend only
// on its pixels, cfg and (for the rate code) the stream (Seed, split, i).
func encodeImages(name string, pixels, labels []byte, units, classes int, split uint64, cfg *MNISTConfig) *Set {
	n := len(labels)
	set := &Set{Name: name, Units: units, Steps: cfg.Steps, Classes: classes, Samples: make([]Sample, n)}
	for i, l := range labels {
		set.Samples[i].Label = int(l)
	}
	lat := latencyTable(cfg)
	rate := rateTable(cfg)
	parallel((n+encodeChunk-1)/encodeChunk, func(c int) {
		lo, hi := c*encodeChunk, min((c+1)*encodeChunk, n)
		arena := make([]Event, 0, expectedEvents(pixels[lo*units:hi*units], cfg, &lat, &rate))
		ends := make([]int, hi-lo)
		counts := make([]int32, cfg.Steps+1)
		var active []rateUnit
		for i := lo; i < hi; i++ {
			img := pixels[i*units : (i+1)*units]
			if cfg.Coding == CodingRate {
				arena, active = appendRate(arena, img, &rate, cfg.Steps, newPCG(cfg.Seed, streamRate, split, uint64(i)), active)
			} else {
				arena = appendLatency(arena, img, &lat, counts)
			}
			ends[i-lo] = len(arena)
		}
		start := 0
		for i, end := range ends {
			set.Samples[lo+i].Events = arena[start:end:end]
			start = end
		}
	})
	return set
}

// expectedEvents is the number of events the images will take (exact for
// the latency code; the mean plus four standard deviations and a margin
// for the rate code), so that the arena rarely grows.
func expectedEvents(pixels []byte, cfg *MNISTConfig, lat *[256]int32, rate *[256]uint64) int {
	var hist [256]int
	for _, p := range pixels {
		hist[p]++
	}
	n := 0.0
	if cfg.Coding == CodingRate {
		for p, c := range hist {
			n += float64(c) * float64(rate[p]) / (1 << 64)
		}
		n *= float64(cfg.Steps)
		return int(n+4*math.Sqrt(n)) + 64
	}
	for p, c := range hist {
		if lat[p] >= 0 {
			n += float64(c)
		}
	}
	return int(n)
}

// latencyTable maps a pixel value p to its spike step, or −1 for none:
//
//	x = p/255;  x < θ → no spike;  else step = min(round(τ·(1 − x)), T−1)
//
// (snnTorch spikegen.latency with linear=True, clip=True; normalize=True is
// τ = T−1), with round half away from zero (math.Round).
func latencyTable(cfg *MNISTConfig) (tab [256]int32) {
	for p := range tab {
		x := float64(p) / 255
		if x < cfg.Threshold {
			tab[p] = -1
			continue
		}
		tab[p] = int32(min(math.Round(cfg.Tau*float64(255-p)/255), float64(cfg.Steps-1)))
	}
	return tab
}

// appendLatency appends one image's latency events, sorted by (step, unit)
// with a counting sort over steps. counts has Steps+1 entries.
func appendLatency(dst []Event, img []byte, tab *[256]int32, counts []int32) []Event {
	clear(counts)
	for _, p := range img {
		if s := tab[p]; s >= 0 {
			counts[s+1]++
		}
	}
	for s := 1; s < len(counts); s++ { // counts[s] = first slot of step s
		counts[s] += counts[s-1]
	}
	base, n := len(dst), int(counts[len(counts)-1])
	dst = slices.Grow(dst, n)[:base+n]
	out := dst[base:]
	for u, p := range img {
		if s := tab[p]; s >= 0 {
			out[counts[s]] = Event{Step: s, Unit: int32(u)}
			counts[s]++
		}
	}
	return dst
}

// rateTable maps a pixel value p to the threshold t such that a uniform
// uint64 r < t with probability p/255·MaxRate (0 for p = 0). Probability 1
// is rounded down to 1 − 2⁻⁶⁴.
func rateTable(cfg *MNISTConfig) (tab [256]uint64) {
	for p := range tab {
		if v := float64(p) / 255 * cfg.MaxRate * (1 << 64); v >= 1<<64 {
			tab[p] = math.MaxUint64
		} else {
			tab[p] = uint64(v)
		}
	}
	return tab
}

// appendRate appends one image's rate-code events: at every step, in unit
// order, pixel u spikes if a draw from rng is below its threshold. Only
// pixels with a non-zero threshold draw, so the stream is a function of the
// image.
// active is scratch space for the image's pixels that can spike.
func appendRate(dst []Event, img []byte, tab *[256]uint64, steps int, rng *rand.PCG, active []rateUnit) ([]Event, []rateUnit) {
	active = active[:0]
	for u, p := range img {
		if t := tab[p]; t != 0 {
			active = append(active, rateUnit{unit: int32(u), thresh: t})
		}
	}
	for s := range steps {
		for _, a := range active {
			if rng.Uint64() < a.thresh {
				dst = append(dst, Event{Step: int32(s), Unit: a.unit})
			}
		}
	}
	return dst, active
}

type rateUnit struct {
	unit   int32
	thresh uint64
}
