package aer

import (
	"errors"
	"fmt"
	"io"
)

// Event is one address event as it travels through aerie.
//
// The struct is 24 bytes on 64-bit machines (Time 8, Channel 4, Payload 4,
// Port 2, padding 6). A 16-byte layout would force a 32-bit time, which wraps
// after 71 minutes of microseconds and cannot carry AEDAT's 64-bit time
// stamps; the extra 8 bytes cost less than the special cases.
type Event struct {
	// Time is the event's time stamp in the stream's Unit: emulator ticks
	// or microseconds. Codecs without time stamps leave it 0.
	Time int64
	// Channel is the address within Port: a channel index, a full
	// SpiNNaker routing key, a jAER raw address, a packed camera pixel
	// (see XY) or a neuron id, as the codec documents.
	Channel uint32
	// Payload is the optional 32-bit payload: EIEIO payloads, the
	// polarity (0 or 1) of camera events, 0 otherwise.
	Payload uint32
	// Port is the logical port (an image's input or output port), or the
	// chip/core address of AEDAT spike events.
	Port uint16
}

// Unit is the unit of Event.Time in a stream.
type Unit uint8

const (
	// Tick is an emulator time step.
	Tick Unit = 0
	// Microsecond is used by cameras and by every AEDAT, jAER and N-MNIST stream.
	Microsecond Unit = 1
)

func (u Unit) String() string {
	switch u {
	case Tick:
		return "tick"
	case Microsecond:
		return "us"
	}
	return fmt.Sprintf("unit(%d)", uint8(u))
}

// XY packs camera pixel coordinates into a Channel: y in the upper 16 bits,
// x in the lower 16 bits.
func XY(x, y uint16) uint32 { return uint32(y)<<16 | uint32(x) }

// SplitXY is the inverse of XY.
func SplitXY(channel uint32) (x, y uint16) { return uint16(channel), uint16(channel >> 16) }

// Reader is a stream of events in the shape of io.Reader: Read fills dst
// with up to len(dst) events and returns how many it wrote. At the end of
// the stream it returns 0, io.EOF. A reader may return n > 0 together with
// an error; the n events are valid.
type Reader interface {
	Read(dst []Event) (n int, err error)
}

// Writer is a sink of events. Write consumes all events or returns an error;
// Flush pushes buffered events to the underlying writer or connection; Close
// flushes, writes any trailer and releases the writer (it does not close an
// underlying io.Writer that the caller passed in).
type Writer interface {
	Write(events []Event) (n int, err error)
	Flush() error
	Close() error
}

// ReadAll reads r until io.EOF. maxEvents caps the result (0 means no cap):
// reading past it is an error, so a corrupt or hostile file cannot make
// ReadAll allocate without bound.
func ReadAll(r Reader, maxEvents int) ([]Event, error) {
	var out []Event
	buf := make([]Event, 4096)
	for {
		n, err := r.Read(buf)
		if maxEvents > 0 && len(out)+n > maxEvents {
			return out, fmt.Errorf("aer: more than %d events", maxEvents)
		}
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// Copy writes every event of r to w and returns the number copied. It does
// not Close w.
func Copy(w Writer, r Reader) (int64, error) {
	buf := make([]Event, 4096)
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// SliceReader reads events from a slice.
type SliceReader struct{ Events []Event }

// Read implements Reader.
func (s *SliceReader) Read(dst []Event) (int, error) {
	if len(s.Events) == 0 {
		return 0, io.EOF
	}
	n := copy(dst, s.Events)
	s.Events = s.Events[n:]
	return n, nil
}

// SliceWriter collects events in memory.
type SliceWriter struct{ Events []Event }

// Write implements Writer.
func (s *SliceWriter) Write(events []Event) (int, error) {
	s.Events = append(s.Events, events...)
	return len(events), nil
}

// Flush implements Writer.
func (s *SliceWriter) Flush() error { return nil }

// Close implements Writer.
func (s *SliceWriter) Close() error { return nil }

// ErrCorrupt is matched (errors.Is) by every error about malformed bytes:
// truncated, oversized or inconsistent packets and files.
var ErrCorrupt = errors.New("aer: corrupt data")

// ErrTruncated is matched by errors about input that ends too early. It
// also matches ErrCorrupt.
var ErrTruncated = errors.New("aer: truncated data")

// FormatError describes malformed input: which format, the byte offset from
// the start of the packet or file, and what is wrong.
type FormatError struct {
	Format    string // "native", "eieio", "aedat3", ...
	Offset    int64  // byte offset of the problem
	Msg       string
	Truncated bool
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("aer: %s: %s at offset %d", e.Format, e.Msg, e.Offset)
}

// Is reports ErrCorrupt for every FormatError and ErrTruncated for
// truncation.
func (e *FormatError) Is(target error) bool {
	return target == ErrCorrupt || (e.Truncated && target == ErrTruncated)
}

// RangeError is an event that a writer cannot represent: a field of the
// event does not fit the field the format has for it (writers never cut a
// value to fit). Index counts the events given to the writer, from 0, over
// all calls to Write.
type RangeError struct {
	Format string // "aedat2", "aedat3", "aedat4"
	Index  int64
	Field  string // "time", "x", "y", "polarity", "neuron id", "chip/core id"
	Value  int64
	Limit  string // what the format holds, e.g. "0…32767"
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("aer: %s: event %d: %s %d outside %s", e.Format, e.Index, e.Field, e.Value, e.Limit)
}

// checkField returns a *RangeError unless lo ≤ v ≤ hi.
func checkField(format string, index int64, field string, v, lo, hi int64, unit string) error {
	if v >= lo && v <= hi {
		return nil
	}
	return &RangeError{Format: format, Index: index, Field: field, Value: v, Limit: fmt.Sprintf("%d…%d%s", lo, hi, unit)}
}

func corrupt(format string, off int64, msg string, args ...any) error {
	if len(args) > 0 {
		msg = fmt.Sprintf(msg, args...)
	}
	return &FormatError{Format: format, Offset: off, Msg: msg}
}

func truncated(format string, off int64, msg string, args ...any) error {
	if len(args) > 0 {
		msg = fmt.Sprintf(msg, args...)
	}
	return &FormatError{Format: format, Offset: off, Msg: msg, Truncated: true}
}
