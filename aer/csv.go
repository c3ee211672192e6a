package aer

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"
)

// CSV event files: one header line, then one event per line.
//
//	tick,port,channel,payload        (or time_us,port,channel,payload)
//	1000,0,5,0
//
// The first column's name gives the unit. Lines may end in LF or CR LF;
// lines longer than csvMaxLine bytes are errors. A UTF-8 byte-order mark
// before the header (as spreadsheet programs write) is skipped. Every
// Event is representable: time spans the whole int64 range, port, channel
// and payload their unsigned widths.
const csvMaxLine = 256

// utf8BOM is the byte-order mark some programs put before a UTF-8 text.
const utf8BOM = "\xef\xbb\xbf"

var (
	csvHeaderTick = "tick,port,channel,payload"
	csvHeaderUS   = "time_us,port,channel,payload"
)

// CSVWriter writes events as CSV.
type CSVWriter struct {
	w      *bufio.Writer
	line   []byte
	closed bool
}

// NewCSVWriter writes the header line for unit.
func NewCSVWriter(w io.Writer, unit Unit) (*CSVWriter, error) {
	cw := &CSVWriter{w: bufio.NewWriterSize(w, 1<<16), line: make([]byte, 0, 64)}
	h := csvHeaderTick
	if unit == Microsecond {
		h = csvHeaderUS
	}
	if _, err := cw.w.WriteString(h + "\n"); err != nil {
		return nil, err
	}
	return cw, nil
}

// Write implements Writer.
func (cw *CSVWriter) Write(evs []Event) (int, error) {
	if cw.closed {
		return 0, errors.New("aer: write to closed csv writer")
	}
	for i, e := range evs {
		l := strconv.AppendInt(cw.line[:0], e.Time, 10)
		l = append(l, ',')
		l = strconv.AppendUint(l, uint64(e.Port), 10)
		l = append(l, ',')
		l = strconv.AppendUint(l, uint64(e.Channel), 10)
		l = append(l, ',')
		l = strconv.AppendUint(l, uint64(e.Payload), 10)
		l = append(l, '\n')
		cw.line = l
		if _, err := cw.w.Write(l); err != nil {
			return i, err
		}
	}
	return len(evs), nil
}

// Flush implements Writer.
func (cw *CSVWriter) Flush() error { return cw.w.Flush() }

// Close implements Writer.
func (cw *CSVWriter) Close() error {
	cw.closed = true
	return cw.w.Flush()
}

// CSVReader reads CSV event files.
type CSVReader struct {
	r    *bufio.Reader
	unit Unit
	off  int64
	line int
	err  error
}

// NewCSVReader reads and checks the header line.
func NewCSVReader(r io.Reader) (*CSVReader, error) {
	cr := &CSVReader{r: bufio.NewReaderSize(r, 1<<16)}
	if b, _ := cr.r.Peek(len(utf8BOM)); string(b) == utf8BOM {
		cr.r.Discard(len(utf8BOM))
		cr.off = int64(len(utf8BOM))
	}
	l, err := cr.readLine()
	if err != nil {
		if err == io.EOF {
			return nil, truncated("csv", 0, "no header line")
		}
		return nil, err
	}
	switch string(l) {
	case csvHeaderTick:
		cr.unit = Tick
	case csvHeaderUS:
		cr.unit = Microsecond
	default:
		return nil, corrupt("csv", 0, "line 1: header %q, want %q or %q", l, csvHeaderTick, csvHeaderUS)
	}
	return cr, nil
}

// Unit is the unit named by the header.
func (cr *CSVReader) Unit() Unit { return cr.unit }

// readLine returns the next line without its end; it advances off and line.
func (cr *CSVReader) readLine() ([]byte, error) {
	l, err := cr.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull || len(l) > csvMaxLine {
		return nil, corrupt("csv", cr.off, "line %d longer than %d bytes", cr.line+1, csvMaxLine)
	}
	if err == io.EOF && len(l) == 0 {
		return nil, io.EOF
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	cr.off += int64(len(l))
	cr.line++
	l = bytes.TrimSuffix(l, []byte("\n"))
	l = bytes.TrimSuffix(l, []byte("\r"))
	return l, nil
}

// Read implements Reader. Empty lines are skipped.
func (cr *CSVReader) Read(dst []Event) (int, error) {
	n := 0
	for n < len(dst) && cr.err == nil {
		start := cr.off
		l, err := cr.readLine()
		if err != nil {
			cr.err = err
			break
		}
		if len(l) == 0 {
			continue
		}
		var f [4]uint64
		var neg bool
		i := 0
		for k := range f {
			if k > 0 {
				if i >= len(l) || l[i] != ',' {
					cr.err = corrupt("csv", start+int64(i), "line %d: want 4 fields", cr.line)
					break
				}
				i++
			}
			if k == 0 && i < len(l) && l[i] == '-' {
				neg = true
				i++
			}
			j := i
			for i < len(l) && l[i] >= '0' && l[i] <= '9' {
				i++
			}
			v, err := strconv.ParseUint(string(l[j:i]), 10, 64)
			limit := [4]uint64{1<<63 - 1, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF}[k]
			if k == 0 && neg {
				limit = 1 << 63 // −9223372036854775808
			}
			if err != nil || v > limit {
				if k == 0 {
					cr.err = corrupt("csv", start+int64(j), "line %d: field 1 (time) is not a number in %d..%d", cr.line, int64(math.MinInt64), int64(math.MaxInt64))
				} else {
					cr.err = corrupt("csv", start+int64(j), "line %d: field %d is not a number in 0..%d", cr.line, k+1, limit)
				}
				break
			}
			f[k] = v
		}
		if cr.err != nil {
			break
		}
		if i != len(l) {
			cr.err = corrupt("csv", start+int64(i), "line %d: unexpected %q", cr.line, l[i:])
			break
		}
		t := int64(f[0])
		if neg {
			t = -t // also right for 1<<63: −MinInt64 wraps to MinInt64
		}
		dst[n] = Event{Time: t, Port: uint16(f[1]), Channel: uint32(f[2]), Payload: uint32(f[3])}
		n++
	}
	if n > 0 {
		return n, nil
	}
	return 0, cr.err
}
