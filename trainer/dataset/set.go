package dataset

import (
	"cmp"
	"fmt"
	"github.com/aerie-neuro/aerie/chip"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Event is one input spike of a sample: unit Unit fires at time step Step.
type Event struct{ Step, Unit int32 }

// Sample is one labelled spike raster. Events are sorted by (Step, Unit), with
// no duplicates (collisions merged), Step in [0, Set.Steps), Unit in
// [0, Set.Units).
type Sample struct {
	Label  int
	Events []Event
}

// Set is a labelled collection of samples of the same shape.
type Set struct {
	Name    string
	Units   int // input channels
	Steps   int // time steps per sample
	Classes int
	Samples []Sample
}

// Validate checks every invariant of the set: a positive shape, at least one
// sample, labels in [0, Classes), events in range, sorted by (Step, Unit) and
// without duplicates. The error names the sample index and what is wrong.
func (s *Set) Validate() error {
	if s.Units <= 0 || s.Steps <= 0 || s.Classes <= 0 {
		return fmt.Errorf("dataset: set %q: shape units=%d steps=%d classes=%d: all must be positive",
			s.Name, s.Units, s.Steps, s.Classes)
	}
	if s.Units > math.MaxInt32 || s.Steps > math.MaxInt32 {
		return fmt.Errorf("dataset: set %q: shape units=%d steps=%d exceeds int32", s.Name, s.Units, s.Steps)
	}
	if len(s.Samples) == 0 {
		return fmt.Errorf("dataset: set %q has no samples", s.Name)
	}
	units, steps := int32(s.Units), int32(s.Steps)
	for i, smp := range s.Samples {
		if smp.Label < 0 || smp.Label >= s.Classes {
			return fmt.Errorf("dataset: set %q: sample %d: label %d outside [0, %d)", s.Name, i, smp.Label, s.Classes)
		}
		for j, e := range smp.Events {
			if e.Step < 0 || e.Step >= steps {
				return fmt.Errorf("dataset: set %q: sample %d: event %d: step %d outside [0, %d)", s.Name, i, j, e.Step, steps)
			}
			if e.Unit < 0 || e.Unit >= units {
				return fmt.Errorf("dataset: set %q: sample %d: event %d: unit %d outside [0, %d)", s.Name, i, j, e.Unit, units)
			}
			if j == 0 {
				continue
			}
			p := smp.Events[j-1]
			switch {
			case p == e:
				return fmt.Errorf("dataset: set %q: sample %d: event %d: duplicate (step %d, unit %d)", s.Name, i, j, e.Step, e.Unit)
			case p.Step > e.Step || (p.Step == e.Step && p.Unit > e.Unit):
				return fmt.Errorf("dataset: set %q: sample %d: event %d: (step %d, unit %d) after (step %d, unit %d): not sorted by (step, unit)",
					s.Name, i, j, e.Step, e.Unit, p.Step, p.Unit)
			}
		}
	}
	return nil
}

// header returns a copy of s without samples.
func (s *Set) header(name string, samples []Sample) *Set {
	return &Set{Name: name, Units: s.Units, Steps: s.Steps, Classes: s.Classes, Samples: samples}
}

// Split cuts s into consecutive parts, in order, whose sizes are the given
// fractions of len(s.Samples): part i holds the samples from
// round(c_{i-1}·n) to round(c_i·n), where c_i is the sum of the first i+1
// fractions (rounding the cumulative sums makes the sizes add up exactly, and
// fractions summing to 1 cover every sample). Parts are named
// "<name>[i]". Each part has its own Samples slice (shuffling a part leaves s
// alone) but shares the Event slices with s.
//
// Split panics if a fraction is negative or NaN or the fractions sum to more
// than 1 (a caller mistake, not a data problem).
func (s *Set) Split(fracs ...float64) []*Set {
	n := len(s.Samples)
	parts := make([]*Set, len(fracs))
	cum, lo := 0.0, 0
	for i, f := range fracs {
		if !(f >= 0) {
			panic(fmt.Sprintf("dataset: Split: fraction %d is %v, want ≥ 0", i, f))
		}
		cum += f
		if cum > 1+1e-9 {
			panic(fmt.Sprintf("dataset: Split: fractions %v sum to more than 1", fracs))
		}
		hi := min(int(math.Round(cum*float64(n))), n)
		parts[i] = s.header(fmt.Sprintf("%s[%d]", s.Name, i), slices.Clone(s.Samples[lo:hi]))
		lo = hi
	}
	return parts
}

// Shuffle permutes the samples in place with a Fisher–Yates shuffle driven by
// a math/rand/v2 PCG seeded from seed (see newPCG): the same seed gives the
// same order on every machine and Go version that keeps PCG's definition.
func (s *Set) Shuffle(seed uint64) {
	r := rand.New(newPCG(seed, streamShuffle))
	r.Shuffle(len(s.Samples), func(i, j int) { s.Samples[i], s.Samples[j] = s.Samples[j], s.Samples[i] })
}

// Subset returns a set with the first n samples of s (all of them if n ≥
// len(s.Samples)). Its Samples slice is its own; Event slices are shared.
// Subset panics if n is negative.
func (s *Set) Subset(n int) *Set {
	if n < 0 {
		panic(fmt.Sprintf("dataset: Subset(%d): negative size", n))
	}
	n = min(n, len(s.Samples))
	return s.header(s.Name, slices.Clone(s.Samples[:n]))
}

// Stats summarises a set.
type Stats struct {
	Samples    int
	Events     int
	MeanEvents float64 // events per sample
	MaxEvents  int     // most events in one sample
	Density    float64 // events / (samples·units·steps): the fraction of raster cells that spike
	PerClass   []int   // samples per label, len Classes; labels outside [0, Classes) are not counted
}

// Stats counts samples, events and samples per class.
func (s *Set) Stats() Stats {
	st := Stats{Samples: len(s.Samples), PerClass: make([]int, max(s.Classes, 0))}
	for _, smp := range s.Samples {
		st.Events += len(smp.Events)
		st.MaxEvents = max(st.MaxEvents, len(smp.Events))
		if smp.Label >= 0 && smp.Label < len(st.PerClass) {
			st.PerClass[smp.Label]++
		}
	}
	if st.Samples > 0 {
		st.MeanEvents = float64(st.Events) / float64(st.Samples)
		if cells := float64(st.Samples) * float64(s.Units) * float64(s.Steps); cells > 0 {
			st.Density = float64(st.Events) / cells
		}
	}
	return st
}

// String formats the statistics on one line.
func (st Stats) String() string {
	return fmt.Sprintf("%d samples, %d events (%.1f per sample, max %d), density %.4f, per class %v",
		st.Samples, st.Events, st.MeanEvents, st.MaxEvents, st.Density, st.PerClass)
}

// Stream identifiers: each use of randomness in this package draws from its
// own PCG stream, derived from the user's seed and a path of these ids, so
// that no two uses share a sequence and adding one never shifts another.
const (
	streamShuffle  = 0x5348_5546 // "SHUF"
	streamManifold = 0x4d41_4e49 // "MANI": Randman manifold parameters (class, k)
	streamLatent   = 0x4c41_5445 // "LATE": Randman latent points (class)
	streamRate     = 0x5241_5445 // "RATE": MNIST rate code (split, sample)
)

// newPCG returns a math/rand/v2 PCG whose two state words are derived from
// seed and path by the splitmix64 finaliser: hi = seed, lo = a hash of seed
// and every path element. Deriving the state this way (rather than, say,
// seed+i) keeps related streams statistically unrelated.
func newPCG(seed uint64, path ...uint64) *rand.PCG {
	h := mix64(seed ^ 0x9e37_79b9_7f4a_7c15)
	for _, p := range path {
		h = mix64(h ^ mix64(p+0x9e37_79b9_7f4a_7c15))
	}
	return rand.NewPCG(seed, h)
}

// mix64 is the splitmix64 finaliser (Steele, Lea, Flood 2014), a bijection on
// uint64 with good avalanche: chip.Mix64, the one copy in the tree.
func mix64(z uint64) uint64 { return chip.Mix64(z) }

// sortEvents sorts events by (Step, Unit) and removes duplicates in place,
// returning the shortened slice.
func sortEvents(ev []Event) []Event {
	slices.SortFunc(ev, func(a, b Event) int {
		if c := cmp.Compare(a.Step, b.Step); c != 0 {
			return c
		}
		return cmp.Compare(a.Unit, b.Unit)
	})
	return slices.Compact(ev)
}

// parallel calls fn(i) for i in [0, n) on min(GOMAXPROCS, n) goroutines.
// Callers make fn(i) depend on i only, so results do not depend on the
// number of workers.
func parallel(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		})
	}
	wg.Wait()
}
