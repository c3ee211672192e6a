package trainer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
	"github.com/aerie-neuro/aerie/trainer/dataset"
)

// ChipEvalConfig tunes EvaluateOnChip.
type ChipEvalConfig struct {
	// Seed keys every sample's noise: sample i of trial k runs under
	// SampleSeed(Seed, i, k).
	Seed    uint64
	Trials  int // noise trials per sample (0: 1)
	Workers int // chip.Options.Workers (0: automatic)
	// Parity also runs the trainer's integer evaluation (IntegerNet) on
	// every sample and compares every spike of every layer and the
	// decision.
	Parity bool
}

// ChipEvalResult is an evaluation of a deployed network on the emulated
// chip.
type ChipEvalResult struct {
	Samples      int     `json:"samples"`
	Trials       int     `json:"trials"`
	ChipAccuracy float64 `json:"chip_accuracy"`
	// Parity is the fraction of sample trials whose spikes (every layer,
	// every tick) and decision are identical between IntegerNet and the
	// chip: 1 means bit-exact. Nil without ChipEvalConfig.Parity.
	Parity          *float64 `json:"parity"`
	IntegerAccuracy *float64 `json:"integer_accuracy,omitempty"`
	FirstMismatch   string   `json:"first_mismatch,omitempty"`
	// RatesHz is the mean firing rate of each hidden layer on the chip.
	RatesHz []float64 `json:"rates_hz"`
	// Per inference (one sample trial): synaptic events, emulated cycles,
	// emulated latency (cycles at the chip's clock) and energy.
	SynapticEventsPerInference float64 `json:"synaptic_events_per_inference"`
	CyclesPerInference         float64 `json:"cycles_per_inference"`
	LatencyPerInferenceS       float64 `json:"latency_per_inference_s"`
	EnergyPerInferenceJ        float64 `json:"energy_per_inference_j"`
	WallS                      float64 `json:"wall_s"`
	SamplesPerS                float64 `json:"samples_per_s"`
}

type portInput func(t uint64) []chip.PortEvent

func (f portInput) Events(t uint64, dst []chip.PortEvent) ([]chip.PortEvent, error) {
	return append(dst, f(t)...), nil
}

// EvaluateOnChip compiles net for cfg, loads it on a chip.System and runs
// every sample of set through it: System.Reset(SampleSeed(…)) then
// set.Steps+1 ticks (the chip integrates an input event one tick after the
// float model does), reading the decision from the readout units'
// registers. The deployed network must come from Deploy (a population
// named "readout", an input port of set.Units channels).
func EvaluateOnChip(ctx context.Context, net *firmware.Network, cfg *chip.Config, set *dataset.Set, opt ChipEvalConfig) (*ChipEvalResult, error) {
	ro := -1
	for p := range net.Populations {
		if net.Populations[p].Name == "readout" && net.Populations[p].Profile.Readout {
			ro = p
		}
	}
	if ro < 0 {
		return nil, fmt.Errorf("trainer: evaluate on chip: the network has no readout population (deploy it with trainer.Deploy)")
	}
	if len(net.Inputs) == 0 || net.Inputs[0].Channels != set.Units {
		return nil, fmt.Errorf("trainer: evaluate on chip: the data has %d input units; the network's input port has %d", set.Units, portChannels(net))
	}
	if net.Populations[ro].Size < set.Classes {
		return nil, fmt.Errorf("trainer: evaluate on chip: %d classes, %d readout units", set.Classes, net.Populations[ro].Size)
	}
	prog, pl, err := firmware.Compile(net, cfg)
	if err != nil {
		return nil, err
	}
	sys, err := chip.Load(cfg, prog, chip.Options{Workers: opt.Workers})
	if err != nil {
		return nil, err
	}
	trials := max(1, opt.Trials)
	roRefs := pl.Refs(ro)
	vmax := make([]int32, len(roRefs))
	res := &ChipEvalResult{Samples: len(set.Samples), Trials: trials, RatesHz: make([]float64, ro)}
	var spikesChip, spikesInt []uint64 // tick << 40 | pop << 24 | neuron, sorted per sample
	layerSpikes := make([]uint64, ro)
	sys.ObserveSpikes(func(t uint64, core int, neurons []uint32) {
		for _, nr := range neurons {
			p, i, ok := pl.Owner(chip.NeuronRef{Core: uint32(core), Neuron: nr})
			if !ok {
				continue
			}
			if p < ro {
				layerSpikes[p]++
			}
			if opt.Parity {
				spikesChip = append(spikesChip, t<<40|uint64(p)<<24|uint64(i))
			}
		}
	})
	var in *IntegerNet
	if opt.Parity {
		if in, err = NewIntegerNet(net, cfg); err != nil {
			return nil, err
		}
	}
	ticks := uint64(set.Steps) + 1
	correct, intCorrect, same := 0, 0, 0
	start := time.Now()
	for i := range set.Samples {
		smp := &set.Samples[i]
		for k := 0; k < trials; k++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			seed := SampleSeed(opt.Seed, i, k)
			spikesChip = spikesChip[:0]
			sys.Reset(seed)
			sys.SetInput(portInput(SampleInput(smp.Events)))
			if err := sys.Run(ctx, ticks); err != nil {
				return nil, err
			}
			for c, r := range roRefs {
				st, err := sys.State(r)
				if err != nil {
					return nil, err
				}
				vmax[c] = st.VMax
			}
			dec := decisionOf(vmax[:set.Classes])
			if dec == smp.Label {
				correct++
			}
			if !opt.Parity {
				continue
			}
			spikesInt = spikesInt[:0]
			in.Reset(seed)
			in.Run(ticks, SampleInput(smp.Events), func(t uint64, p int, neurons []int32) {
				for _, n := range neurons {
					spikesInt = append(spikesInt, t<<40|uint64(p)<<24|uint64(n))
				}
			})
			ivmax := make([]int32, len(roRefs))
			for c := range ivmax {
				ivmax[c] = in.State(ro, c).VMax
			}
			idec := decisionOf(ivmax[:set.Classes])
			if idec == smp.Label {
				intCorrect++
			}
			slices.Sort(spikesChip)
			slices.Sort(spikesInt)
			switch {
			case slices.Equal(spikesChip, spikesInt) && slices.Equal(vmax, ivmax) && dec == idec:
				same++
			case res.FirstMismatch == "":
				res.FirstMismatch = fmt.Sprintf("sample %d trial %d: chip %d spikes, decision %d; integer evaluation %d spikes, decision %d", i, k, len(spikesChip), dec, len(spikesInt), idec)
			}
		}
	}
	wall := time.Since(start).Seconds()
	n := float64(len(set.Samples) * trials)
	if n > 0 {
		res.ChipAccuracy = float64(correct) / n
		if opt.Parity {
			p, a := float64(same)/n, float64(intCorrect)/n
			res.Parity, res.IntegerAccuracy = &p, &a
		}
		st := sys.Stats()
		res.SynapticEventsPerInference = float64(st.Counts.Synops) / n
		res.CyclesPerInference = float64(st.Cycles) / n
		res.LatencyPerInferenceS = st.Seconds / n
		res.EnergyPerInferenceJ = st.Energy.Total / n
		for l := range res.RatesHz {
			res.RatesHz[l] = float64(layerSpikes[l]) / n / float64(net.Populations[l].Size) / (float64(set.Steps) * net.DtMS / 1000)
		}
	}
	res.WallS = wall
	if wall > 0 {
		res.SamplesPerS = n / wall
	}
	return res, nil
}

func portChannels(net *firmware.Network) int {
	if len(net.Inputs) == 0 {
		return 0
	}
	return net.Inputs[0].Channels
}
