package dataset

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aerie-neuro/aerie/aer"
)

// writeEvents writes evs to dir/name in the format given by the extension.
func writeEvents(t *testing.T, dir, name string, unit aer.Unit, evs []aer.Event) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := aer.OpenWriter(f, aer.FormatFromName(name), unit, aer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(evs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func ev(time int64, ch uint32) aer.Event { return aer.Event{Time: time, Channel: ch} }

// eventsDir makes a small labelled set: two native files in ticks and one
// µs CSV file.
func eventsDir(t *testing.T) (dir, labels string) {
	dir = t.TempDir()
	writeEvents(t, dir, "a.aer", aer.Tick, []aer.Event{ev(0, 3), ev(0, 1), ev(2, 3), ev(2, 3), ev(7, 0)})
	writeEvents(t, dir, "b.aer", aer.Tick, []aer.Event{ev(1, 5)})
	writeEvents(t, dir, "c.csv", aer.Microsecond, []aer.Event{ev(1500, 2), ev(1999, 2), ev(4000, 4)})
	labels = writeFile(t, dir, "labels.csv", "file,label\n# comment\n\na.aer,1\nb.aer, 0\nsub/../c.csv,2\n")
	return dir, labels
}

func TestLoadEvents(t *testing.T) {
	dir, labels := eventsDir(t)
	s, err := LoadEvents(dir, labels, EventsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Units != 6 || s.Steps != 8 || s.Classes != 3 || len(s.Samples) != 3 {
		t.Fatalf("shape units=%d steps=%d classes=%d samples=%d, want 6 8 3 3", s.Units, s.Steps, s.Classes, len(s.Samples))
	}
	want := []Sample{
		{1, []Event{{0, 1}, {0, 3}, {2, 3}, {7, 0}}}, // sorted, duplicate (2, 3) merged
		{0, []Event{{1, 5}}},
		{2, []Event{{1, 2}, {4, 4}}}, // 1500 and 1999 µs both in step 1
	}
	for i, w := range want {
		if got := s.Samples[i]; got.Label != w.Label || !slices.Equal(got.Events, w.Events) {
			t.Errorf("sample %d = %v, want %v", i, got, w)
		}
	}
}

func TestLoadEventsWindow(t *testing.T) {
	dir, labels := eventsDir(t)
	// Fixed shape; steps ≥ 3 dropped; µs bins of 500; align to the first event.
	s, err := LoadEvents(dir, labels, EventsConfig{Steps: 3, Units: 10, TickUS: 500, AlignFirst: true, Seed: 0})
	if err != nil {
		t.Fatal(err)
	}
	if s.Units != 10 || s.Steps != 3 {
		t.Fatalf("shape %d/%d, want 10/3", s.Units, s.Steps)
	}
	want := [][]Event{{{0, 1}, {0, 3}, {2, 3}}, {{0, 5}}, {{0, 2}}}
	for i, w := range want {
		if got := s.Samples[i].Events; !slices.Equal(got, w) {
			t.Errorf("sample %d events %v, want %v", i, got, w)
		}
	}
	// Seed shuffles deterministically.
	a, _ := LoadEvents(dir, labels, EventsConfig{Seed: 5})
	b, _ := LoadEvents(dir, labels, EventsConfig{Seed: 5})
	if hashSet(a) != hashSet(b) {
		t.Error("same seed, different order")
	}
}

// TestLoadEventsNMNIST reads hand-made N-MNIST .bin files (5 bytes per
// event: x, y, polarity<<7 | ts[22:16], ts[15:8], ts[7:0]) with the xyp map.
func TestLoadEventsNMNIST(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "0.bin", string([]byte{
		1, 0, 0x80, 0x00, 0x10, // x 1, y 0, on, 16 µs
		33, 33, 0x00, 0x07, 0xD0, // x 33, y 33, off, 2000 µs
	}))
	labels := writeFile(t, dir, "train.csv", "0.bin,7\n")
	s, err := LoadEvents(dir, labels, EventsConfig{Map: MapXYP, Width: 34, Units: 34 * 34 * 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{{0, 2*1 + 1}, {2, 2 * (33*34 + 33)}}
	if got := s.Samples[0].Events; !slices.Equal(got, want) || s.Classes != 8 {
		t.Errorf("events %v classes %d, want %v and 8", got, s.Classes, want)
	}
	s, err = LoadEvents(dir, labels, EventsConfig{Map: MapXY, Width: 34})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Event{{0, 1}, {2, 33*34 + 33}}; !slices.Equal(s.Samples[0].Events, want) || s.Units != 33*34+34 {
		t.Errorf("xy: events %v units %d, want %v and %d", s.Samples[0].Events, s.Units, want, 33*34+34)
	}
}

func TestLoadEventsErrors(t *testing.T) {
	dir, _ := eventsDir(t)
	writeFile(t, dir, "bad.aer", "\x8aAER\r\n\x1a\n\x01\x00garbage-garbage")
	writeEvents(t, dir, "empty.aer", aer.Tick, nil)
	writeEvents(t, dir, "late.aer", aer.Tick, []aer.Event{ev(1<<24, 0)})
	for _, c := range []struct {
		name, labels string
		cfg          EventsConfig
		want         string
	}{
		{"missing file", "a.aer,1\nnope.aer,0\n", EventsConfig{}, "L.csv:2: " + filepath.Join(dir, "nope.aer") + ": open: no such file"},
		{"not an integer", "file,label\na.aer,1\nb.aer,x\n", EventsConfig{}, `L.csv:3: label "x" is not an integer`},
		{"negative", "a.aer,-1\n", EventsConfig{}, "L.csv:1: label -1"},
		{"no comma", "a.aer\n", EventsConfig{}, `L.csv:1: "a.aer": want file,label`},
		{"extra column", "a.aer,1,2\n", EventsConfig{}, "want file,label"},
		{"duplicate", "a.aer,1\nb.aer,0\na.aer,1\n", EventsConfig{}, "L.csv:3: a.aer is listed again (first on line 1)"},
		{"empty labels", "# nothing\n", EventsConfig{}, "L.csv lists no files"},
		{"header only", "file,label\n", EventsConfig{}, "L.csv lists no files"},
		{"units", "a.aer,1\nb.aer,0\n", EventsConfig{Units: 4}, "L.csv:2: b.aer: unit 5 at step 1, but units is 4"},
		{"no events", "empty.aer,0\n", EventsConfig{}, "hold no events"},
		{"corrupt", "a.aer,0\nbad.aer,1\n", EventsConfig{}, "L.csv:2: " + filepath.Join(dir, "bad.aer") + ": aer: file:"},
		{"map", "a.aer,0\n", EventsConfig{Map: "polar"}, `map "polar"`},
		{"width", "a.aer,0\n", EventsConfig{Map: MapXY}, "needs the sensor width"},
		{"x beyond width", "a.aer,0\n", EventsConfig{Map: MapXY, Width: 2}, "x = 3, but the width is 2"},
		{"steps", "a.aer,0\n", EventsConfig{Steps: -1}, "steps -1"},
		{"labels missing", "", EventsConfig{}, "no such file"},
		{"step cap", "late.aer,0\n", EventsConfig{}, "time 16777216 tick is step 16777216, more than the cap"},
	} {
		labels := filepath.Join(dir, "L.csv")
		os.Remove(labels)
		if c.labels != "" {
			writeFile(t, dir, "L.csv", c.labels)
		}
		_, err := LoadEvents(dir, labels, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "dataset: ") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// FuzzLabels checks that no labels file makes readLabels panic and that
// what it accepts is well formed.
func FuzzLabels(f *testing.F) {
	for _, s := range []string{"file,label\na.aer,1\n", "a,0\r\nb,2\n", "# c\n\nx,-1\n", "a,1,2\n", "a\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		p := filepath.Join(t.TempDir(), "l.csv")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		entries, err := readLabels(p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "dataset: ") {
				t.Fatalf("error %q lacks the prefix", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if e.file == "" || e.label < 0 || seen[e.file] || e.line < 1 {
				t.Fatalf("bad entry %+v", e)
			}
			seen[e.file] = true
		}
	})
}
