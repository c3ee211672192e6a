package chip

import (
	"fmt"
	"io"

	"github.com/aerie-neuro/aerie/aer"
)

// EventInput adapts an aer.Reader to an InputSource: event e enters input
// port e.Port, channel e.Channel, at the tick its time names. Streams in
// ticks map one to one; streams in microseconds map to
// floor(time / TickUS). Events must come in time order: an event for a
// tick already run is late — it is counted and applied at the next tick
// (an emulator cannot go back), never dropped silently.
type EventInput struct {
	r      aer.Reader
	unit   aer.Unit
	tickUS float64
	buf    []aer.Event
	pos, n int
	eof    bool
	// Late counts events whose tick had passed when they were read, and
	// Read every event read.
	Late, Read uint64
	// Origin is subtracted from every time before it is converted (the
	// time of the stream's first event when FromFirst is set).
	Origin    int64
	FromFirst bool
	started   bool
}

// NewEventInput reads r, whose times are in unit; tickUS is the length of
// a tick in microseconds (needed for µs streams).
func NewEventInput(r aer.Reader, unit aer.Unit, tickUS float64) (*EventInput, error) {
	if unit == aer.Microsecond && !(tickUS > 0) {
		return nil, fmt.Errorf("chip: a stream in µs needs the tick length (got %v µs)", tickUS)
	}
	return &EventInput{r: r, unit: unit, tickUS: tickUS, buf: make([]aer.Event, 4096)}, nil
}

// Exhausted reports whether the stream has ended and every event was
// handed to the chip.
func (in *EventInput) Exhausted() bool { return in.eof && in.pos == in.n }

// tickOf converts an event time to a tick.
func (in *EventInput) tickOf(time int64) uint64 {
	time -= in.Origin
	if time < 0 {
		return 0
	}
	if in.unit == aer.Tick {
		return uint64(time)
	}
	return uint64(float64(time) / in.tickUS)
}

// Events implements InputSource.
func (in *EventInput) Events(t uint64, dst []PortEvent) ([]PortEvent, error) {
	for {
		if in.pos == in.n {
			if in.eof {
				return dst, nil
			}
			n, err := in.r.Read(in.buf)
			in.pos, in.n = 0, n
			if err == io.EOF {
				in.eof = true
			} else if err != nil {
				return dst, err
			}
			if n == 0 {
				continue
			}
			if !in.started && in.FromFirst {
				in.Origin = in.buf[0].Time
			}
			in.started = true
		}
		e := in.buf[in.pos]
		et := in.tickOf(e.Time)
		if et > t {
			return dst, nil
		}
		if et < t {
			in.Late++
		}
		in.Read++
		dst = append(dst, PortEvent{Port: e.Port, Channel: e.Channel})
		in.pos++
	}
}

// EventOutput adapts an aer.Writer to an OutputSink: every output spike
// becomes an event with the tick as its time, the output port as Port and
// the channel as Channel.
type EventOutput struct {
	w       aer.Writer
	buf     []aer.Event
	Written uint64
}

// NewEventOutput writes to w, whose stream is in ticks.
func NewEventOutput(w aer.Writer) *EventOutput { return &EventOutput{w: w} }

// Spikes implements OutputSink.
func (o *EventOutput) Spikes(t uint64, ev []PortEvent) error {
	o.buf = o.buf[:0]
	for _, e := range ev {
		o.buf = append(o.buf, aer.Event{Time: int64(t), Port: e.Port, Channel: e.Channel})
	}
	o.Written += uint64(len(ev))
	_, err := o.w.Write(o.buf)
	return err
}
