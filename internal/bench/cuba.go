package bench

import (
	"context"
	"fmt"
	"math"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/examples/networks"
	"github.com/aerie-neuro/aerie/firmware"
)

// CUBAWarmupSeconds is left out of CUBA's statistics, as in the reference
// runs (statistics over 0.1–10 s).
const CUBAWarmupSeconds = 0.1

// CUBAResult are the figures of one CUBA run: the run's figures plus the
// two populations' rates and CV(ISI) under the names the benchmark reports.
// A figure that a run too short cannot give (no window after the warm-up,
// no neuron with two intervals) is null in JSON, never NaN.
type CUBAResult struct {
	*Result
	Seed      uint64   `json:"seed"`
	RateExcHz *float64 `json:"rate_exc_hz"`
	RateInhHz *float64 `json:"rate_inh_hz"`
	CVISI     *float64 `json:"cv_isi"` // over both populations' neurons
	CVISIExc  *float64 `json:"cv_isi_exc"`
	CVISIInh  *float64 `json:"cv_isi_inh"`
}

// CUBANetwork parses the embedded examples/networks/cuba.toml for cfg with
// the given seed (connectivity and initial membranes).
func CUBANetwork(seed uint64, cfg *chip.Config) (*firmware.Network, error) {
	src, err := networks.Source("cuba")
	if err != nil {
		return nil, err
	}
	net, _, err := firmware.ParseNetworkWith("cuba.toml", src, cfg, firmware.ParseOptions{Seed: &seed})
	return net, err
}

// RunCUBA builds CUBA on cfg and runs it for seconds of biological time.
func RunCUBA(ctx context.Context, seed uint64, cfg *chip.Config, seconds float64, workers int) (*CUBAResult, error) {
	net, err := CUBANetwork(seed, cfg)
	if err != nil {
		return nil, err
	}
	if !(net.DtMS > 0) || !(seconds >= 0) {
		return nil, fmt.Errorf("bench: cuba: tick length %v ms, %v s: want both positive", net.DtMS, seconds)
	}
	prog, pl, err := firmware.Compile(net, cfg)
	if err != nil {
		return nil, err
	}
	ticks := uint64(math.Round(seconds * 1000 / net.DtMS))
	warm := uint64(math.Round(CUBAWarmupSeconds * 1000 / net.DtMS))
	res, err := Run(ctx, cfg, prog, pl, RunOptions{Ticks: ticks, Workers: workers, DtMS: net.DtMS, WarmupTicks: warm})
	if err != nil {
		return nil, err
	}
	return cubaResult(seed, res), nil
}

func cubaResult(seed uint64, r *Result) *CUBAResult {
	c := &CUBAResult{Result: r, Seed: seed}
	e, i := r.Populations[0], r.Populations[1]
	c.RateExcHz, c.RateInhHz = e.RateHz, i.RateHz
	c.CVISIExc, c.CVISIInh = e.CVISI, i.CVISI
	if k := e.CVISINeurons + i.CVISINeurons; k > 0 {
		var sum float64
		for _, p := range []PopulationStats{e, i} {
			if p.CVISI != nil {
				sum += *p.CVISI * float64(p.CVISINeurons)
			}
		}
		c.CVISI = ptr(sum / float64(k))
	}
	return c
}
