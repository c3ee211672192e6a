package aer

import (
	"errors"
	"io"
	"math"
)

// Summary describes an event stream: what `aerie inspect` prints.
type Summary struct {
	Events     int64   `json:"events"`
	FirstTime  int64   `json:"first_tick"` // first event's Time, in the stream's unit
	LastTime   int64   `json:"last_tick"`
	MinTime    int64   `json:"min_time"`
	MaxTime    int64   `json:"max_time"`
	Unit       string  `json:"unit"`
	MinChannel uint32  `json:"min_channel"`
	MaxChannel uint32  `json:"max_channel"`
	MinX       uint16  `json:"min_x"` // for camera streams: Channel as XY
	MaxX       uint16  `json:"max_x"`
	MinY       uint16  `json:"min_y"`
	MaxY       uint16  `json:"max_y"`
	Ports      []int   `json:"ports"`
	OutOfOrder int64   `json:"out_of_order"` // events earlier than their predecessor
	Rate       float64 `json:"rate"`         // events per second (µs streams) or per tick
}

// maxSummaryPorts caps the port list (there are at most 65536 anyway).
const maxSummaryPorts = 1 << 16

// Summarize reads r to its end. On a read error it returns the summary of
// the events read so far together with the error.
func Summarize(r Reader, unit Unit) (Summary, error) {
	s := Summary{Unit: unit.String(), MinTime: math.MaxInt64}
	var seen [maxSummaryPorts / 64]uint64
	buf := make([]Event, 4096)
	var err error
	for {
		var n int
		n, err = r.Read(buf)
		for _, e := range buf[:n] {
			if s.Events == 0 {
				s.FirstTime, s.MaxTime, s.MinChannel, s.MaxChannel = e.Time, e.Time, e.Channel, e.Channel
				s.MinX, s.MinY = math.MaxUint16, math.MaxUint16
			} else if e.Time < s.LastTime {
				s.OutOfOrder++
			}
			s.LastTime = e.Time
			s.Events++
			s.MinTime = min(s.MinTime, e.Time)
			s.MaxTime = max(s.MaxTime, e.Time)
			s.MinChannel = min(s.MinChannel, e.Channel)
			s.MaxChannel = max(s.MaxChannel, e.Channel)
			x, y := SplitXY(e.Channel)
			s.MinX, s.MaxX = min(s.MinX, x), max(s.MaxX, x)
			s.MinY, s.MaxY = min(s.MinY, y), max(s.MaxY, y)
			seen[e.Port/64] |= 1 << (e.Port % 64)
		}
		if err != nil {
			break
		}
	}
	if s.Events == 0 {
		s.MinTime = 0
	}
	for i, w := range seen {
		for b := 0; w != 0; b++ {
			if w&1 != 0 {
				s.Ports = append(s.Ports, i*64+b)
			}
			w >>= 1
		}
	}
	if span := s.MaxTime - s.MinTime; span > 0 {
		s.Rate = float64(s.Events) / float64(span)
		if unit == Microsecond {
			s.Rate *= 1e6
		}
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return s, err
}
