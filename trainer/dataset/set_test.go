package dataset

import (
	"slices"
	"strings"
	"testing"
)

// tinySet has n samples; sample i has label i%classes and one event (i%steps, i%units).
func tinySet(n int) *Set {
	s := &Set{Name: "tiny", Units: 4, Steps: 5, Classes: 3}
	for i := range n {
		s.Samples = append(s.Samples, Sample{Label: i % 3, Events: []Event{{Step: int32(i % 5), Unit: int32(i % 4)}}})
	}
	return s
}

func TestValidate(t *testing.T) {
	ev := func(pairs ...int32) []Event {
		var e []Event
		for i := 0; i < len(pairs); i += 2 {
			e = append(e, Event{Step: pairs[i], Unit: pairs[i+1]})
		}
		return e
	}
	for _, c := range []struct {
		name string
		set  Set
		want string // "" means valid
	}{
		{"ok", Set{Units: 4, Steps: 5, Classes: 2, Samples: []Sample{{0, ev(0, 0, 0, 3, 4, 1)}, {1, nil}}}, ""},
		{"zero units", Set{Units: 0, Steps: 5, Classes: 2, Samples: []Sample{{0, nil}}}, "all must be positive"},
		{"zero classes", Set{Units: 1, Steps: 5, Classes: 0, Samples: []Sample{{0, nil}}}, "all must be positive"},
		{"empty", Set{Units: 1, Steps: 5, Classes: 2}, "no samples"},
		{"label", Set{Units: 4, Steps: 5, Classes: 2, Samples: []Sample{{0, nil}, {2, nil}}}, "sample 1: label 2 outside [0, 2)"},
		{"negative label", Set{Units: 4, Steps: 5, Classes: 2, Samples: []Sample{{-1, nil}}}, "sample 0: label -1"},
		{"step", Set{Units: 4, Steps: 5, Classes: 2, Samples: []Sample{{0, ev(5, 0)}}}, "sample 0: event 0: step 5 outside [0, 5)"},
		{"negative step", Set{Units: 4, Steps: 5, Classes: 2, Samples: []Sample{{0, ev(-1, 0)}}}, "step -1"},
		{"unit", Set{Units: 4, Steps: 5, Classes: 2, Samples: []Sample{{0, ev(0, 1, 1, 4)}}}, "sample 0: event 1: unit 4 outside [0, 4)"},
		{"order step", Set{Units: 4, Steps: 5, Classes: 2, Samples: []Sample{{0, ev(2, 0, 1, 0)}}}, "event 1: (step 1, unit 0) after (step 2, unit 0)"},
		{"order unit", Set{Units: 4, Steps: 5, Classes: 2, Samples: []Sample{{0, ev(2, 3, 2, 1)}}}, "not sorted"},
		{"duplicate", Set{Units: 4, Steps: 5, Classes: 2, Samples: []Sample{{0, nil}, {1, ev(2, 3, 2, 3)}}}, "sample 1: event 1: duplicate (step 2, unit 3)"},
	} {
		err := c.set.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: Validate() = %v, want an error containing %q", c.name, err, c.want)
		case err != nil && !strings.HasPrefix(err.Error(), "dataset: "):
			t.Errorf("%s: error %q lacks the dataset: prefix", c.name, err)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		n     int
		fracs []float64
		want  []int
	}{
		{10000, []float64{0.8, 0.1, 0.1}, []int{8000, 1000, 1000}},
		{15000, []float64{0.8, 0.1, 0.1}, []int{12000, 1500, 1500}},
		{10, []float64{0.7, 0.3}, []int{7, 3}},
		{100, []float64{0.29, 0.71}, []int{29, 71}},
		{7, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, []int{2, 3, 2}},
		{10, []float64{0.5}, []int{5}},
		{10, []float64{0, 1}, []int{0, 10}},
		{0, []float64{0.5, 0.5}, []int{0, 0}},
		{10, nil, []int{}},
	} {
		s := tinySet(c.n)
		parts := s.Split(c.fracs...)
		got := []int{}
		next := 0
		for i, p := range parts {
			got = append(got, len(p.Samples))
			if p.Units != s.Units || p.Steps != s.Steps || p.Classes != s.Classes {
				t.Errorf("n=%d %v: part %d has shape %d/%d/%d", c.n, c.fracs, i, p.Units, p.Steps, p.Classes)
			}
			for j, smp := range p.Samples { // consecutive, in order, sharing events
				if &smp.Events[0] != &s.Samples[next].Events[0] {
					t.Fatalf("n=%d %v: part %d sample %d is not sample %d of the set", c.n, c.fracs, i, j, next)
				}
				next++
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("n=%d Split(%v) sizes %v, want %v", c.n, c.fracs, got, c.want)
		}
	}
}

func TestSplitOwnsSamples(t *testing.T) {
	s := tinySet(10)
	before := hashSet(s)
	parts := s.Split(0.5, 0.5)
	parts[0].Shuffle(3)
	parts[1].Samples[0].Label = 2
	if hashSet(s) != before {
		t.Error("shuffling or editing a part changed the parent set")
	}
}

func TestSplitPanics(t *testing.T) {
	for _, fracs := range [][]float64{{0.8, 0.3}, {-0.1}, {nan()}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Split(%v) did not panic", fracs)
				}
			}()
			tinySet(10).Split(fracs...)
		}()
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestShuffle(t *testing.T) {
	a, b, c := tinySet(100), tinySet(100), tinySet(100)
	orig := hashSet(a)
	a.Shuffle(7)
	b.Shuffle(7)
	c.Shuffle(8)
	if hashSet(a) != hashSet(b) {
		t.Error("same seed, different orders")
	}
	if hashSet(a) == orig || hashSet(a) == hashSet(c) {
		t.Error("shuffle did not change the order, or seeds 7 and 8 gave the same order")
	}
	// A permutation: same multiset of samples.
	if got, want := a.Stats(), tinySet(100).Stats(); !slices.Equal(got.PerClass, want.PerClass) || got.Events != want.Events {
		t.Errorf("stats after shuffle %v, want %v", got, want)
	}
	// Frozen: the order of a shuffle is part of the data set's definition.
	var labels []int
	for _, smp := range a.Samples[:10] {
		labels = append(labels, smp.Label)
	}
	if want := []int{2, 1, 2, 2, 2, 0, 0, 2, 1, 0}; !slices.Equal(labels, want) {
		t.Errorf("first labels after Shuffle(7) %v, want %v", labels, want)
	}
}

func TestSubset(t *testing.T) {
	s := tinySet(10)
	for _, c := range []struct{ n, want int }{{0, 0}, {3, 3}, {10, 10}, {20, 10}} {
		sub := s.Subset(c.n)
		if len(sub.Samples) != c.want {
			t.Errorf("Subset(%d) has %d samples, want %d", c.n, len(sub.Samples), c.want)
		}
		if c.want > 0 && &sub.Samples[0] == &s.Samples[0] {
			t.Errorf("Subset(%d) shares the Samples array", c.n)
		}
	}
}

func TestStats(t *testing.T) {
	s := &Set{Units: 4, Steps: 5, Classes: 3, Samples: []Sample{
		{0, []Event{{0, 0}, {1, 1}}},
		{2, []Event{{0, 0}, {1, 1}, {2, 2}, {3, 3}}},
		{2, nil},
	}}
	got := s.Stats()
	want := Stats{Samples: 3, Events: 6, MeanEvents: 2, MaxEvents: 4, Density: 6.0 / 60, PerClass: []int{1, 0, 2}}
	if got.Samples != want.Samples || got.Events != want.Events || got.MeanEvents != want.MeanEvents ||
		got.MaxEvents != want.MaxEvents || got.Density != want.Density || !slices.Equal(got.PerClass, want.PerClass) {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	if z := (&Set{}).Stats(); z.Samples != 0 || z.MeanEvents != 0 || z.Density != 0 {
		t.Errorf("empty Stats() = %+v", z)
	}
}

func TestSortEvents(t *testing.T) {
	got := sortEvents([]Event{{3, 1}, {0, 2}, {3, 0}, {0, 2}, {1, 5}, {3, 1}})
	want := []Event{{0, 2}, {1, 5}, {3, 0}, {3, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("sortEvents = %v, want %v", got, want)
	}
}
