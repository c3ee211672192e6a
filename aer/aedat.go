package aer

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strings"
)

// AEDAT2Layout says how a 32-bit AEDAT 2.0 / jAER address maps onto an Event.
type AEDAT2Layout uint8

// AEDAT 2.0 address layouts (jAER's DVS128 and DAVIS extractors; x and y
// are taken as stored, without jAER's display flips).
const (
	// AEDAT2Raw keeps the address in Channel.
	AEDAT2Raw AEDAT2Layout = iota
	// AEDAT2DVS128: polarity bit 0, x bits 7..1, y bits 14..8.
	AEDAT2DVS128
	// AEDAT2DAVIS: DVS events have bit 31 clear; y bits 30..22, x bits
	// 21..12, polarity bit 11. Other events (APS, IMU) are skipped.
	AEDAT2DAVIS
)

// ParseAEDAT2Layout parses "raw", "dvs128" or "davis".
func ParseAEDAT2Layout(s string) (AEDAT2Layout, error) {
	switch strings.ToLower(s) {
	case "raw", "":
		return AEDAT2Raw, nil
	case "dvs128":
		return AEDAT2DVS128, nil
	case "davis":
		return AEDAT2DAVIS, nil
	}
	return 0, errors.New("aer: unknown AEDAT 2 layout " + s + " (want raw, dvs128 or davis)")
}

func (l AEDAT2Layout) decode(addr uint32) (Event, bool) {
	switch l {
	case AEDAT2DVS128:
		return Event{Channel: XY(uint16(addr>>1&0x7F), uint16(addr>>8&0x7F)), Payload: addr & 1}, true
	case AEDAT2DAVIS:
		if addr>>31 != 0 {
			return Event{}, false
		}
		return Event{Channel: XY(uint16(addr>>12&0x3FF), uint16(addr>>22&0x1FF)), Payload: addr >> 11 & 1}, true
	}
	return Event{Channel: addr}, true
}

// encode packs e's address; it fails with a *RangeError (index i) when x,
// y or the polarity do not fit the layout's fields.
func (l AEDAT2Layout) encode(e Event, i int64) (uint32, error) {
	x, y := SplitXY(e.Channel)
	var xMax, yMax int64
	switch l {
	case AEDAT2DVS128:
		xMax, yMax = 0x7F, 0x7F
	case AEDAT2DAVIS:
		xMax, yMax = 0x3FF, 0x1FF
	default:
		return e.Channel, nil
	}
	if int64(x) <= xMax && int64(y) <= yMax && e.Payload <= 1 {
		if l == AEDAT2DVS128 {
			return uint32(y)<<8 | uint32(x)<<1 | e.Payload, nil
		}
		return uint32(y)<<22 | uint32(x)<<12 | e.Payload<<11, nil
	}
	for _, f := range []struct {
		name   string
		v, max int64
	}{{"x", int64(x), xMax}, {"y", int64(y), yMax}, {"polarity", int64(e.Payload), 1}} {
		if err := checkField("aedat2", i, f.name, f.v, 0, f.max, ""); err != nil {
			return 0, err
		}
	}
	panic("unreachable")
}

// AEDAT2Reader reads AEDAT 2.0 files (jAER): '#' header lines, then
// big-endian int32 address and int32 µs timestamp per event.
type AEDAT2Reader struct {
	r       *bufio.Reader
	layout  AEDAT2Layout
	off     int64
	buf     []byte
	err     error
	Header  []string // header lines without line ends
	Skipped int64    // events skipped by the layout (non-DVS DAVIS events)
}

// NewAEDAT2Reader reads the header. A file without "#!AER-DAT" is read as
// AEDAT 1.0/2.0 raw events, as jAER does.
func NewAEDAT2Reader(r io.Reader, layout AEDAT2Layout) (*AEDAT2Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	lines, n, err := readHeaderLines(br, "aedat2", "")
	if err != nil {
		return nil, err
	}
	if len(lines) > 0 && strings.HasPrefix(lines[0], "#!AER-DAT") && !strings.HasPrefix(lines[0], "#!AER-DAT2.") && !strings.HasPrefix(lines[0], "#!AER-DAT1.") {
		return nil, corrupt("aedat2", 0, "version line %q is not AEDAT 1 or 2", lines[0])
	}
	return &AEDAT2Reader{r: br, layout: layout, off: n, Header: lines, buf: make([]byte, 8*4096)}, nil
}

// Unit is always Microsecond.
func (ar *AEDAT2Reader) Unit() Unit { return Microsecond }

// Read implements Reader.
func (ar *AEDAT2Reader) Read(dst []Event) (int, error) {
	n := 0
	for n < len(dst) && ar.err == nil {
		want := min(len(dst)-n, len(ar.buf)/8) * 8
		k, err := io.ReadFull(ar.r, ar.buf[:want])
		whole := k &^ 7
		for i := 0; i < whole; i += 8 {
			e, ok := ar.layout.decode(binary.BigEndian.Uint32(ar.buf[i:]))
			if !ok {
				ar.Skipped++
				continue
			}
			e.Time = int64(int32(binary.BigEndian.Uint32(ar.buf[i+4:])))
			dst[n] = e
			n++
		}
		ar.off += int64(whole)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			if k != whole {
				ar.err = truncated("aedat2", ar.off, "last event has %d of 8 bytes", k-whole)
			} else {
				ar.err = io.EOF
			}
		case err != nil:
			ar.err = err
		}
	}
	if n > 0 {
		return n, nil
	}
	return 0, ar.err
}

// AEDAT2Writer writes AEDAT 2.0 files. The format has one ambiguity that
// jAER shares: a first event whose address has '#' (0x23) as its top byte
// reads back as a header line.
//
// Time stamps are int32 µs, so an event outside −2147483648…2147483647 µs
// (about ±35 minutes) is refused with a *RangeError, as are x, y and
// polarity values too large for the dvs128 (x, y ≤ 127) and davis (x ≤ 1023,
// y ≤ 511) layouts; the raw layout stores Channel as it is and has no place
// for Payload.
type AEDAT2Writer struct {
	w      *bufio.Writer
	layout AEDAT2Layout
	n      int64 // events written
	closed bool
}

// NewAEDAT2Writer writes the header lines jAER expects.
func NewAEDAT2Writer(w io.Writer, layout AEDAT2Layout) (*AEDAT2Writer, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	_, err := bw.WriteString("#!AER-DAT2.0\r\n" +
		"# This is a raw AE data file created by aerie\r\n" +
		"# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event\r\n" +
		"# Timestamps tick is 1 us\r\n")
	if err != nil {
		return nil, err
	}
	return &AEDAT2Writer{w: bw, layout: layout}, nil
}

// Write implements Writer. An event the format cannot hold stops Write
// with a *RangeError; the events before it are written.
func (aw *AEDAT2Writer) Write(evs []Event) (int, error) {
	if aw.closed {
		return 0, errors.New("aer: write to closed aedat2 writer")
	}
	var b [8]byte
	for i, e := range evs {
		addr, err := aw.layout.encode(e, aw.n)
		if err == nil {
			err = checkField("aedat2", aw.n, "time", e.Time, math.MinInt32, math.MaxInt32, " µs (int32)")
		}
		if err != nil {
			return i, err
		}
		binary.BigEndian.PutUint32(b[:], addr)
		binary.BigEndian.PutUint32(b[4:], uint32(e.Time))
		if _, err := aw.w.Write(b[:]); err != nil {
			return i, err
		}
		aw.n++
	}
	return len(evs), nil
}

// Flush implements Writer.
func (aw *AEDAT2Writer) Flush() error { return aw.w.Flush() }

// Close implements Writer.
func (aw *AEDAT2Writer) Close() error { aw.closed = true; return aw.w.Flush() }

// AEDAT 3.1 event types read and written by aerie (libcaer).
const (
	AEDAT3Polarity = 1  // polarity events: Channel = XY(x, y), Payload = polarity
	AEDAT3Spike    = 12 // spike events: Channel = neuron id, Port = chip id<<5 | core id
	aedat3HdrLen   = 28
	// aedat3MaxBody caps one packet's body (eventSize × eventCapacity).
	aedat3MaxBody = 1 << 26
	aedat3Version = "#!AER-DAT3.1"
	aedat3End     = "#!END-HEADER"
)

// AEDAT3Reader reads AEDAT 3.1 files: a text header ending in
// "#!END-HEADER", then packets of a 28-byte little-endian header and
// eventCapacity × eventSize bytes. Polarity and spike packets are decoded;
// other packet types (frames, IMU, special events) are skipped and counted.
type AEDAT3Reader struct {
	r    *bufio.Reader
	off  int64
	body []byte
	packetQueue
	Header []string
	// SkippedPackets counts packets of other event types.
	SkippedPackets int64
}

// NewAEDAT3Reader reads and checks the header.
func NewAEDAT3Reader(r io.Reader) (*AEDAT3Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	lines, n, err := readHeaderLines(br, "aedat3", aedat3End)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "#!AER-DAT3.") {
		return nil, corrupt("aedat3", 0, "missing #!AER-DAT3.x version line")
	}
	return &AEDAT3Reader{r: br, off: n, Header: lines}, nil
}

// Unit is always Microsecond.
func (ar *AEDAT3Reader) Unit() Unit { return Microsecond }

// Read implements Reader.
func (ar *AEDAT3Reader) Read(dst []Event) (int, error) { return ar.read(dst, ar.packet) }

// packetQueue serves the events of a packet-structured stream: fill decodes
// the next packet into pending, or returns the error that ends the stream
// (returned once the events before it are read).
type packetQueue struct {
	pending []Event
	head    int
	err     error
}

func (q *packetQueue) read(dst []Event, fill func() error) (int, error) {
	n := 0
	for n < len(dst) {
		if q.head < len(q.pending) {
			k := copy(dst[n:], q.pending[q.head:])
			q.head += k
			n += k
			continue
		}
		if q.err != nil {
			break
		}
		q.pending, q.head = q.pending[:0], 0
		q.err = fill()
	}
	if n > 0 {
		return n, nil
	}
	return 0, q.err
}

// packet reads one packet into pending.
func (ar *AEDAT3Reader) packet() error {
	var h [aedat3HdrLen]byte
	start := ar.off
	if err := readFull(ar.r, h[:], "aedat3", start, "packet header"); err != nil {
		return err
	}
	typ := int16(binary.LittleEndian.Uint16(h[0:]))
	size := int32(binary.LittleEndian.Uint32(h[4:]))
	tsOff := int32(binary.LittleEndian.Uint32(h[8:]))
	overflow := int32(binary.LittleEndian.Uint32(h[12:]))
	capacity := int32(binary.LittleEndian.Uint32(h[16:]))
	number := int32(binary.LittleEndian.Uint32(h[20:]))
	valid := int32(binary.LittleEndian.Uint32(h[24:]))
	switch {
	case size <= 0 || size > 1<<16:
		return corrupt("aedat3", start+4, "event size %d", size)
	case tsOff < 0 || tsOff > size-4:
		return corrupt("aedat3", start+8, "timestamp offset %d outside a %d-byte event", tsOff, size)
	case overflow < 0:
		return corrupt("aedat3", start+12, "negative timestamp overflow %d", overflow)
	case capacity < 0 || int64(capacity)*int64(size) > aedat3MaxBody:
		return corrupt("aedat3", start+16, "capacity %d × size %d exceeds %d bytes", capacity, size, aedat3MaxBody)
	case number < 0 || number > capacity:
		return corrupt("aedat3", start+20, "event number %d outside 0..%d", number, capacity)
	case valid < 0 || valid > number:
		return corrupt("aedat3", start+24, "valid count %d outside 0..%d", valid, number)
	}
	bodyLen := int(capacity) * int(size)
	var err error
	ar.body, err = readBlock(ar.r, ar.body, bodyLen, "aedat3", start+aedat3HdrLen, "packet body")
	if err != nil {
		return err
	}
	ar.off = start + aedat3HdrLen + int64(bodyLen)
	if (typ != AEDAT3Polarity && typ != AEDAT3Spike) || size != 8 {
		ar.SkippedPackets++
		return nil
	}
	hi := int64(overflow) << 31
	ar.pending = growEvents(ar.pending[:0], int(number))
	for i := 0; i < int(number); i++ {
		e := ar.body[i*8 : i*8+8]
		d := binary.LittleEndian.Uint32(e)
		if d&1 == 0 {
			continue // invalid event
		}
		ts := hi | int64(binary.LittleEndian.Uint32(e[tsOff:])&0x7FFFFFFF)
		if typ == AEDAT3Polarity {
			ar.pending = append(ar.pending, Event{Time: ts, Channel: XY(uint16(d>>17), uint16(d>>2&0x7FFF)), Payload: d >> 1 & 1})
		} else {
			ar.pending = append(ar.pending, Event{Time: ts, Channel: d >> 12, Port: uint16(d >> 1 & 0x7FF)})
		}
	}
	return nil
}

// AEDAT3Writer writes AEDAT 3.1 files of polarity or spike packets. An
// event whose fields do not fit is refused with a *RangeError: time
// outside 0…2⁶²−1 µs (31 bits per event and a 31-bit overflow counter per
// packet), x or y above 32767 or a polarity above 1 (polarity events), a
// neuron id (Channel) above 2²⁰−1 or a chip/core id (Port) above 2047
// (spike events). Polarity events have no place for Port, spike events
// none for Payload.
type AEDAT3Writer struct {
	w       *bufio.Writer
	typ     int16
	pending []Event
	buf     []byte
	n       int64 // events accepted
	err     error
	closed  bool
}

// aedat3MaxTime is the largest time stamp AEDAT 3.1 holds: a 31-bit
// overflow counter (the reader takes the field as int32 ≥ 0) above the
// 31-bit event time stamp.
const aedat3MaxTime = 1<<62 - 1

// check refuses an event the packet type cannot hold.
func (aw *AEDAT3Writer) check(e Event) error {
	x, y := SplitXY(e.Channel)
	if e.Time >= 0 && e.Time <= aedat3MaxTime && (aw.typ == AEDAT3Polarity && x <= 0x7FFF && y <= 0x7FFF && e.Payload <= 1 ||
		aw.typ == AEDAT3Spike && e.Channel <= 0xFFFFF && e.Port <= 0x7FF) {
		return nil
	}
	if err := checkField("aedat3", aw.n, "time", e.Time, 0, aedat3MaxTime, " µs"); err != nil {
		return err
	}
	type field struct {
		name   string
		v, max int64
	}
	var fs []field
	if aw.typ == AEDAT3Polarity {
		fs = []field{{"x", int64(x), 0x7FFF}, {"y", int64(y), 0x7FFF}, {"polarity", int64(e.Payload), 1}}
	} else {
		fs = []field{{"neuron id", int64(e.Channel), 0xFFFFF}, {"chip/core id", int64(e.Port), 0x7FF}}
	}
	for _, f := range fs {
		if err := checkField("aedat3", aw.n, f.name, f.v, 0, f.max, ""); err != nil {
			return err
		}
	}
	return nil
}

// aedat3PacketEvents is the number of events per packet written.
const aedat3PacketEvents = 4096

// NewAEDAT3Writer writes the header; typ is AEDAT3Polarity or AEDAT3Spike.
func NewAEDAT3Writer(w io.Writer, typ int) (*AEDAT3Writer, error) {
	if typ != AEDAT3Polarity && typ != AEDAT3Spike {
		return nil, errors.New("aer: aedat3 writer takes polarity (1) or spike (12) events")
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	src := "aerie"
	if typ == AEDAT3Polarity {
		src = "aerie polarity events"
	}
	if _, err := bw.WriteString(aedat3Version + "\r\n#Format: RAW\r\n#Source 1: " + src + "\r\n" + aedat3End + "\r\n"); err != nil {
		return nil, err
	}
	return &AEDAT3Writer{w: bw, typ: int16(typ), pending: make([]Event, 0, aedat3PacketEvents)}, nil
}

// Write implements Writer. Times must be µs in 0…2⁶²−1; an event the
// format cannot hold stops Write with a *RangeError (the events before it
// are kept).
func (aw *AEDAT3Writer) Write(evs []Event) (int, error) {
	if aw.closed {
		return 0, errors.New("aer: write to closed aedat3 writer")
	}
	for i, e := range evs {
		if err := aw.check(e); err != nil {
			return i, err
		}
		if len(aw.pending) > 0 && (len(aw.pending) == aedat3PacketEvents || aw.pending[0].Time>>31 != e.Time>>31) {
			if err := aw.emit(); err != nil {
				return i, err
			}
		}
		aw.pending = append(aw.pending, e)
		aw.n++
	}
	return len(evs), nil
}

// emit writes pending as one packet; all its events share one overflow.
func (aw *AEDAT3Writer) emit() error {
	if aw.err != nil || len(aw.pending) == 0 {
		return aw.err
	}
	n := len(aw.pending)
	b := aw.buf[:0]
	b = binary.LittleEndian.AppendUint16(b, uint16(aw.typ))
	b = binary.LittleEndian.AppendUint16(b, 1) // source id
	b = binary.LittleEndian.AppendUint32(b, 8) // event size
	b = binary.LittleEndian.AppendUint32(b, 4) // timestamp offset
	b = binary.LittleEndian.AppendUint32(b, uint32(aw.pending[0].Time>>31))
	for range 3 { // capacity, number, valid
		b = binary.LittleEndian.AppendUint32(b, uint32(n))
	}
	for _, e := range aw.pending {
		var d uint32
		if aw.typ == AEDAT3Polarity { // fields checked by Write
			x, y := SplitXY(e.Channel)
			d = uint32(x)<<17 | uint32(y)<<2 | e.Payload<<1 | 1
		} else {
			d = e.Channel<<12 | uint32(e.Port)<<1 | 1
		}
		b = binary.LittleEndian.AppendUint32(b, d)
		b = binary.LittleEndian.AppendUint32(b, uint32(e.Time&0x7FFFFFFF))
	}
	aw.buf = b
	if _, err := aw.w.Write(b); err != nil {
		aw.err = err
		return err
	}
	aw.pending = aw.pending[:0]
	return nil
}

// Flush writes the pending packet and flushes.
func (aw *AEDAT3Writer) Flush() error {
	if err := aw.emit(); err != nil {
		return err
	}
	return aw.w.Flush()
}

// Close implements Writer.
func (aw *AEDAT3Writer) Close() error { aw.closed = true; return aw.Flush() }

// N-MNIST .bin files (Orchard et al. 2015): 5 bytes per event, x, y, then
// polarity in bit 7 of byte 2 and a 23-bit µs timestamp in the rest of
// bytes 2..4 (big-endian). Records with y = 240 mark a timestamp overflow.
//
// Overflow adds 2¹³ µs to every later time stamp, as in the dataset's own
// reader (Read_Ndataset.m) and Tonic's read_mnist_file, although the field
// is 23 bits wide; real N-MNIST samples (≈300 ms) never overflow.
const nmnistOverflow = 1 << 13

// NMNISTReader reads an N-MNIST .bin file.
type NMNISTReader struct {
	r   *bufio.Reader
	off int64
	add int64
	buf []byte
	err error
}

// NewNMNISTReader returns a reader of r.
func NewNMNISTReader(r io.Reader) *NMNISTReader {
	return &NMNISTReader{r: bufio.NewReaderSize(r, 1<<16), buf: make([]byte, 5*4096)}
}

// Unit is always Microsecond.
func (nr *NMNISTReader) Unit() Unit { return Microsecond }

// Read implements Reader.
func (nr *NMNISTReader) Read(dst []Event) (int, error) {
	n := 0
	for n < len(dst) && nr.err == nil {
		want := min(len(dst)-n, len(nr.buf)/5) * 5
		k, err := io.ReadFull(nr.r, nr.buf[:want])
		whole := k / 5 * 5
		for i := 0; i < whole; i += 5 {
			b := nr.buf[i : i+5]
			if b[1] == 240 {
				nr.add += nmnistOverflow
				continue
			}
			ts := int64(b[2]&0x7F)<<16 | int64(b[3])<<8 | int64(b[4])
			dst[n] = Event{Time: ts + nr.add, Channel: XY(uint16(b[0]), uint16(b[1])), Payload: uint32(b[2] >> 7)}
			n++
		}
		nr.off += int64(whole)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			if k != whole {
				nr.err = truncated("nmnist", nr.off, "last event has %d of 5 bytes", k-whole)
			} else {
				nr.err = io.EOF
			}
		case err != nil:
			nr.err = err
		}
	}
	if n > 0 {
		return n, nil
	}
	return 0, nr.err
}
