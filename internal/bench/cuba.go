package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
)

// CUBAParams are the float parameters of the CUBA network.
type CUBAParams struct {
	NExc, NInh    int
	P             float64 // connection probability per ordered pair
	DtMS          float64
	TauMMS        float64
	TauEMS        float64
	TauIMS        float64
	RefractoryMS  float64
	VThreshMV     float64 // relative to reset
	ELMV          float64 // rest, relative to reset
	WeMV, WiMV    float64 // jumps of ge and gi per spike
	Seed          uint64
	WarmupSeconds float64 // statistics ignore spikes before this time
}

// DefaultCUBA returns the Brian variant's parameters.
func DefaultCUBA() CUBAParams {
	return CUBAParams{NExc: 3200, NInh: 800, P: 0.02, DtMS: 0.1, TauMMS: 20, TauEMS: 5, TauIMS: 10,
		RefractoryMS: 5, VThreshMV: 10, ELMV: 11, WeMV: 1.62, WiMV: -9, Seed: 1, WarmupSeconds: 0.1}
}

// decayConst is the 12-bit decay constant closest to the exact propagator
// e^(−dt/τ), minus the chip's hidden offset.
func decayConst(dt, tau float64, offset int) uint16 {
	d := int(math.Round(4096*(1-math.Exp(-dt/tau)))) - offset
	return uint16(max(0, d))
}

// CUBANetwork maps the CUBA parameters onto the integer datapath of cfg
// (see the package doc) and draws the connectivity from p.Seed. The
// description must have two synapse types and mul12 decay.
func CUBANetwork(p CUBAParams, cfg *chip.Config) (*firmware.Network, error) {
	n := cfg.Neuron
	if n.SynapseTypes < 2 || n.Decay != "mul12" || n.Current != "decay" {
		return nil, fmt.Errorf("bench: CUBA needs two decaying synapse types with mul12 decay; %s has %d types, decay %q, current %q",
			cfg.Name, n.SynapseTypes, n.Decay, n.Current)
	}
	dv := decayConst(p.DtMS, p.TauMMS, 0)
	due := decayConst(p.DtMS, p.TauEMS, n.UDecayOffset)
	dui := decayConst(p.DtMS, p.TauIMS, n.UDecayOffset)
	// weights: keep the ratio of the jumps with the largest inhibitory
	// mantissa that fits, then derive the voltage unit from w_e.
	wmax := float64(int(1)<<cfg.Synapse.WeightBits - 1)
	ratio := p.WiMV / p.WeMV
	we, wi := 0, 0
	bestErr := math.Inf(1)
	for e := 1; e <= int(wmax); e++ { // the best pair with |w_i| ≤ wmax
		i := math.Round(float64(e) * ratio)
		if math.Abs(i) > wmax {
			break
		}
		if err := math.Abs(i/float64(e)-ratio) / math.Abs(ratio); err < bestErr-1e-12 || (err <= bestErr+1e-12 && math.Abs(i) > math.Abs(float64(wi))) {
			we, wi, bestErr = e, int(i), err
		}
	}
	if we == 0 {
		return nil, fmt.Errorf("bench: weights do not fit %d bits", cfg.Synapse.WeightBits)
	}
	unitPerMV := float64(we) * math.Ldexp(1, n.ActShift) * 4096 / (float64(dv) * p.WeMV)
	vth := math.Round(p.VThreshMV * unitPerMV / math.Ldexp(1, n.VthShift))
	if vth > float64(int64(1)<<n.VthBits-1) {
		return nil, fmt.Errorf("bench: threshold %.0f does not fit %d bits", vth, n.VthBits)
	}
	bias := p.ELMV * float64(dv) / 4096 * unitPerMV
	biasMax := float64(int64(1)<<(n.BiasBits-1) - 1)
	exp := 0
	for math.Round(bias/math.Ldexp(1, exp)) > biasMax {
		exp++
	}
	if exp > n.BiasExpMax {
		return nil, fmt.Errorf("bench: bias %.0f does not fit %d bits ≪ %d", bias, n.BiasBits, n.BiasExpMax)
	}
	// Brian integrates again k = round(refractory/dt) steps after a spike
	// (timestep(t − lastspike, dt) ≥ timestep(refractory, dt)); aerie's
	// counter holds v for the ticks after the spike, so it is k − 1.
	refr := int(math.Round(p.RefractoryMS/p.DtMS)) - 1
	if refr > 1<<n.RefractoryBits-1 {
		return nil, fmt.Errorf("bench: refractory period %d ticks does not fit %d bits", refr, n.RefractoryBits)
	}
	prof := chip.Profile{Du: [4]uint16{due, dui}, Dv: dv, Vth: int32(vth), Refractory: uint16(refr)}

	rng := rand.New(rand.NewPCG(p.Seed, 0xC0BA))
	vthUnits := int64(vth) << n.VthShift
	pop := func(name string, size int) firmware.Population {
		v0 := make([]int32, size)
		for i := range v0 {
			v0[i] = int32(rng.Int64N(vthUnits)) // U[reset, threshold)
		}
		return firmware.Population{Name: name, Size: size, Profile: prof,
			BiasMant: int32(math.Round(bias / math.Ldexp(1, exp))), BiasExp: uint8(exp), V0: v0}
	}
	net := &firmware.Network{Seed: p.Seed}
	net.Populations = []firmware.Population{pop("exc", p.NExc), pop("inh", p.NInh)}
	// connectivity: every ordered pair (self included, as Brian's
	// connect(p=…)) with probability P, drawn by geometric skips.
	ntot := p.NExc + p.NInh
	lq := math.Log1p(-p.P)
	for pre := 0; pre < 2; pre++ {
		size, w, typ := p.NExc, we, uint8(0)
		if pre == 1 {
			size, w, typ = p.NInh, wi, 1
		}
		var toE, toI []firmware.Conn
		for i := 0; i < size; i++ {
			j := -1
			for {
				j += 1 + int(math.Floor(math.Log(1-rng.Float64())/lq))
				if j >= ntot || j < 0 {
					break
				}
				if j < p.NExc {
					toE = append(toE, firmware.Conn{Pre: uint32(i), Post: uint32(j), Weight: int32(w)})
				} else {
					toI = append(toI, firmware.Conn{Pre: uint32(i), Post: uint32(j - p.NExc), Weight: int32(w)})
				}
			}
		}
		net.Projections = append(net.Projections,
			firmware.Projection{Pre: pre, Post: 0, Type: typ, Conns: toE},
			firmware.Projection{Pre: pre, Post: 1, Type: typ, Conns: toI})
	}
	return net, nil
}

// CUBAResult are the figures of one CUBA run: the run's figures plus the
// two populations' rates and CV(ISI) under the names the benchmark reports.
// A figure that a run too short cannot give (no spike after the warm-up, no
// neuron with two intervals) is null in JSON, never NaN.
type CUBAResult struct {
	*Result
	Seed      uint64   `json:"seed"`
	RateExcHz *float64 `json:"rate_exc_hz"`
	RateInhHz *float64 `json:"rate_inh_hz"`
	CVISI     *float64 `json:"cv_isi"` // over both populations' neurons
	CVISIExc  *float64 `json:"cv_isi_exc"`
	CVISIInh  *float64 `json:"cv_isi_inh"`
}

func cubaResult(seed uint64, seconds float64, r *Result) *CUBAResult {
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

// RunCUBA builds CUBA on cfg and runs it for seconds of biological time.
func RunCUBA(ctx context.Context, p CUBAParams, cfg *chip.Config, seconds float64, workers int) (*CUBAResult, error) {
	net, err := CUBANetwork(p, cfg)
	if err != nil {
		return nil, err
	}
	prog, pl, err := firmware.Compile(net, cfg)
	if err != nil {
		return nil, err
	}
	ticks := uint64(math.Round(seconds * 1000 / p.DtMS))
	warm := uint64(math.Round(p.WarmupSeconds * 1000 / p.DtMS))
	res, err := Run(ctx, cfg, prog, pl, RunOptions{Ticks: ticks, Workers: workers, DtMS: p.DtMS, WarmupTicks: warm})
	if err != nil {
		return nil, err
	}
	return cubaResult(p.Seed, seconds, res), nil
}
