package chip

import "fmt"

// PortEvent is an address event at a port: channel Channel of port Port
// (the index of the port in Program.Inputs or Program.Outputs).
type PortEvent struct {
	Port    uint16
	Channel uint32
}

// InputSource feeds external events into a running system. Events appends
// the events of tick t to dst and returns it; the system calls it once per
// tick, in tick order, at the end of tick t. An event of tick t acts like a
// spike emitted at t: it is integrated at t+1+delay.
type InputSource interface {
	Events(t uint64, dst []PortEvent) ([]PortEvent, error)
}

// OutputSink receives the spikes of output-port neurons, once per tick that
// has any, in (core, neuron) order. ev is reused after the call returns.
type OutputSink interface {
	Spikes(t uint64, ev []PortEvent) error
}

// SetInput sets the source of external events (nil: none).
func (s *System) SetInput(in InputSource) { s.in = in }

// SetOutput sets the sink of output-port spikes (nil: none).
func (s *System) SetOutput(out OutputSink) { s.out = out }

// emitOutputs hands the output-port spikes of tick t to the sink.
func (s *System) emitOutputs(t uint64) {
	if s.out == nil || s.runErr != nil {
		return
	}
	s.outBuf = s.outBuf[:0]
	for _, c := range s.cores {
		if c.outCh == nil {
			continue
		}
		for _, f := range c.fired {
			if f < uint32(c.n) && c.outCh[f] != 0 {
				x := c.outCh[f] - 1
				s.outBuf = append(s.outBuf, PortEvent{Port: uint16(x >> 32), Channel: uint32(x)})
			}
		}
	}
	if len(s.outBuf) > 0 {
		if err := s.out.Spikes(t, s.outBuf); err != nil {
			s.runErr = fmt.Errorf("chip: output at tick %d: %w", t, err)
			s.stopping.Store(true)
		}
	}
}

// fetchInput asks the source for the events of tick t and files them in
// the inboxes of their cores. Events naming no port channel are counted.
func (s *System) fetchInput(t uint64) error {
	if s.in == nil {
		return nil
	}
	var err error
	s.inBuf, err = s.in.Events(t, s.inBuf[:0])
	if err != nil {
		return fmt.Errorf("chip: input at tick %d: %w", t, err)
	}
	for _, ev := range s.inBuf {
		if int(ev.Port) >= len(s.inputs) || int(ev.Channel) >= len(s.inputs[ev.Port]) {
			s.inDrop++
			continue
		}
		for _, r := range s.inputs[ev.Port][ev.Channel] {
			c := s.cores[r.Core]
			c.inbox = append(c.inbox, r.Axon)
		}
	}
	return nil
}
