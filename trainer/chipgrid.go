package trainer

import (
	"fmt"

	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
)

// GridChange is one time constant moved onto a chip's decay grid.
type GridChange struct {
	What     string  `json:"what"` // e.g. "hidden 0 tau_mem"
	FromMS   float64 `json:"from_ms"`
	ToMS     float64 `json:"to_ms"`
	Constant uint16  `json:"constant"` // the chip's decay constant
}

// SnapToChip prepares a network spec for training on the chip described by
// cfg: every time constant becomes the one the chip's decay grid realises
// (firmware.DecayConstant), so the float model trains with the decays the
// chip will run, and whatever the chip cannot do is refused now, before the
// first epoch — decay or current modes, threshold comparison, reset,
// stochastic neurons, synapse types, more neurons than the chip has, a
// fan-in beyond a core's synapse memory.
func SnapToChip(s *Spec, cfg *chip.Config) ([]GridChange, error) {
	s.Defaults()
	if err := deployable(s, cfg); err != nil {
		return nil, err
	}
	dtMS := s.DT * 1000
	var changes []GridChange
	snap := func(what string, tau *float64, current bool) error {
		d, eff, err := firmware.DecayConstant(*tau*1000, dtMS, current, cfg)
		if err != nil {
			return fmt.Errorf("trainer: %s on chip %s: %w", what, cfg.Name, err)
		}
		changes = append(changes, GridChange{What: what, FromMS: *tau * 1000, ToMS: eff, Constant: d})
		*tau = eff / 1000
		return nil
	}
	neurons := s.Readout.Size
	nin := s.Inputs
	for l := range s.Hidden {
		h := &s.Hidden[l]
		if err := snap(fmt.Sprintf("hidden %d tau_mem", l), &h.TauMem, false); err != nil {
			return nil, err
		}
		if err := snap(fmt.Sprintf("hidden %d tau_syn", l), &h.TauSyn, true); err != nil {
			return nil, err
		}
		if h.TauSyn2 > 0 {
			if err := snap(fmt.Sprintf("hidden %d tau_syn2", l), &h.TauSyn2, true); err != nil {
				return nil, err
			}
		}
		fanIn := nin * h.synTypes()
		if h.Recurrent {
			fanIn += h.Size * h.synTypes()
		}
		if fanIn > cfg.MaxSynapses() {
			return nil, fmt.Errorf("trainer: hidden layer %d: each neuron receives %d synapses; a core of %s holds %d (core.synapse_bytes / 4)", l, fanIn, cfg.Name, cfg.MaxSynapses())
		}
		neurons += h.Size
		nin = h.Size
	}
	if err := snap("readout tau_mem", &s.Readout.TauMem, false); err != nil {
		return nil, err
	}
	if err := snap("readout tau_syn", &s.Readout.TauSyn, true); err != nil {
		return nil, err
	}
	if nin > cfg.MaxSynapses() {
		return nil, fmt.Errorf("trainer: the readout receives %d synapses per unit; a core of %s holds %d (core.synapse_bytes / 4)", nin, cfg.Name, cfg.MaxSynapses())
	}
	if have := cfg.Cores() * cfg.Core.Neurons; neurons > have {
		return nil, fmt.Errorf("trainer: the network has %d neurons; chip %s has %d (%d cores × core.neurons %d)", neurons, cfg.Name, have, cfg.Cores(), cfg.Core.Neurons)
	}
	return changes, nil
}
