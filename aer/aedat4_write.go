package aer

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// AEDAT4Writer writes polarity events as an AEDAT 4.0 file with one event
// stream (id 0, "EVTS"), following dv-processing's schemas: the version
// line, a size-prefixed IOHeader FlatBuffer with the stream's XML
// description, then packets {i32 stream id, i32 size, size-prefixed
// EventPacket FlatBuffer, compressed as announced}. No FileDataTable is
// written (dataTablePosition = -1), so readers go through the packets in
// order. All scalars are aligned as the FlatBuffers verifier requires.
// aerie's reader reads these files back; they have not been checked
// against iniVation's DV software.
type AEDAT4Writer struct {
	w           *bufio.Writer
	compression int32
	pending     []Event
	fb, zbuf    []byte
	comp        bytes.Buffer
	lz          *lz4.Writer
	zenc        *zstd.Encoder
	width       int
	height      int
	n           int64 // events accepted
	err         error
	closed      bool
}

// aedat4PacketEvents is the number of events per packet written.
const aedat4PacketEvents = 8192

var aedat4CompressionNames = []string{"NONE", "LZ4", "LZ4_HIGH", "ZSTD", "ZSTD_HIGH"}

// NewAEDAT4Writer writes the header of a file whose sensor is width ×
// height pixels. compression is 0 (none), 1 (LZ4) or 3 (Zstandard); 2 and
// 4, the "high" variants, compress harder.
func NewAEDAT4Writer(w io.Writer, compression, width, height int) (*AEDAT4Writer, error) {
	if compression < 0 || compression > 4 {
		return nil, fmt.Errorf("aer: aedat4: unknown compression %d", compression)
	}
	if width <= 0 || height <= 0 || width > 1<<15 || height > 1<<15 {
		return nil, fmt.Errorf("aer: aedat4: sensor size %d×%d outside 1..32768", width, height)
	}
	aw := &AEDAT4Writer{w: bufio.NewWriterSize(w, 1<<16), compression: int32(compression),
		pending: make([]Event, 0, aedat4PacketEvents), width: width, height: height}
	switch compression {
	case 1, 2:
		aw.lz = lz4.NewWriter(nil)
		if compression == 2 {
			if err := aw.lz.Apply(lz4.CompressionLevelOption(lz4.Level9)); err != nil {
				return nil, err
			}
		}
	case 3, 4:
		level := zstd.SpeedDefault
		if compression == 4 {
			level = zstd.SpeedBestCompression
		}
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		aw.zenc = enc
	}
	info := fmt.Sprintf(`<dv version="2.0"><node name="outInfo" path="/mainloop/aerie/outInfo/">`+
		`<node name="0" path="/mainloop/aerie/outInfo/0/">`+
		`<attr key="compression" type="string">%s</attr>`+
		`<attr key="originalModuleName" type="string">aerie</attr>`+
		`<attr key="originalOutputName" type="string">events</attr>`+
		`<attr key="typeDescription" type="string">Array of events (polarity ON/OFF).</attr>`+
		`<attr key="typeIdentifier" type="string">EVTS</attr>`+
		`<node name="info" path="/mainloop/aerie/outInfo/0/info/">`+
		`<attr key="sizeX" type="int">%d</attr><attr key="sizeY" type="int">%d</attr>`+
		`<attr key="source" type="string">aerie</attr><attr key="tsOffset" type="long">0</attr>`+
		`</node></node></node></dv>`, aedat4CompressionNames[compression], width, height)
	aw.w.WriteString(aedat4Version)
	if _, err := aw.w.Write(fbIOHeader(int32(compression), info)); err != nil {
		return nil, err
	}
	return aw, nil
}

// fbIOHeader builds the size-prefixed IOHeader FlatBuffer. Positions are
// from the start of the size prefix, where the verifier checks alignment:
//
//	0 size | 4 root → 24 | 8 "IOHE" | 12 vtable (10 bytes) | 22 pad
//	24 table: soffset → 12 | 28 compression i32 | 32 dataTablePosition i64 = -1
//	40 infoNode → 44 | 44 string length, bytes, NUL, padding to 8
func fbIOHeader(compression int32, info string) []byte {
	b := make([]byte, 0, 56+len(info))
	b = binary.LittleEndian.AppendUint32(b, 0)  // size, set below
	b = binary.LittleEndian.AppendUint32(b, 20) // root table at 4+20
	b = append(b, "IOHE"...)
	b = append(b, 10, 0, 20, 0, 4, 0, 8, 0, 16, 0, 0, 0) // vtable: size 10, table 20, fields at 4, 8, 16; pad
	b = binary.LittleEndian.AppendUint32(b, 12)          // table at 24: vtable at 24-12
	b = binary.LittleEndian.AppendUint32(b, uint32(compression))
	b = binary.LittleEndian.AppendUint64(b, ^uint64(0)) // no data table
	b = binary.LittleEndian.AppendUint32(b, 4)          // string at 40+4
	b = binary.LittleEndian.AppendUint32(b, uint32(len(info)))
	b = append(b, info...)
	b = append(b, 0)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	binary.LittleEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// appendFBEventPacket appends a size-prefixed EventPacket FlatBuffer:
//
//	0 size | 4 root → 20 | 8 "EVTS" | 12 vtable (6 bytes) | 18 pad
//	20 table: soffset → 12 | 24 elements → 28 | 28 count | 32 16-byte events
func appendFBEventPacket(b []byte, evs []Event) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(28+16*len(evs)))
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = append(b, "EVTS"...)
	b = append(b, 6, 0, 8, 0, 4, 0, 0, 0) // vtable: size 6, table 8, field 0 at 4; pad
	b = binary.LittleEndian.AppendUint32(b, 8)
	b = binary.LittleEndian.AppendUint32(b, 4)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(evs)))
	for _, e := range evs {
		x, y := SplitXY(e.Channel)
		b = binary.LittleEndian.AppendUint64(b, uint64(e.Time))
		b = binary.LittleEndian.AppendUint16(b, x)
		b = binary.LittleEndian.AppendUint16(b, y)
		b = append(b, byte(e.Payload&1), 0, 0, 0)
	}
	return b
}

// Write implements Writer. Time must be in µs; an event outside the
// sensor that the header announces (x ≥ width or y ≥ height) or with a
// polarity above 1 stops Write with a *RangeError (the events before it
// are kept). AEDAT 4.0 has no place for Port.
func (aw *AEDAT4Writer) Write(evs []Event) (int, error) {
	if aw.closed {
		return 0, errors.New("aer: write to closed aedat4 writer")
	}
	for i, e := range evs {
		if x, y := SplitXY(e.Channel); int(x) >= aw.width || int(y) >= aw.height || e.Payload > 1 {
			size := fmt.Sprintf(" (the sensor is %d×%d)", aw.width, aw.height)
			err := checkField("aedat4", aw.n, "x", int64(x), 0, int64(aw.width-1), size)
			if err == nil {
				err = checkField("aedat4", aw.n, "y", int64(y), 0, int64(aw.height-1), size)
			}
			if err == nil {
				err = checkField("aedat4", aw.n, "polarity", int64(e.Payload), 0, 1, "")
			}
			return i, err
		}
		if len(aw.pending) == aedat4PacketEvents {
			if err := aw.emit(); err != nil {
				return i, err
			}
		}
		aw.pending = append(aw.pending, e)
		aw.n++
	}
	return len(evs), nil
}

func (aw *AEDAT4Writer) emit() error {
	if aw.err != nil || len(aw.pending) == 0 {
		return aw.err
	}
	aw.fb = appendFBEventPacket(aw.fb[:0], aw.pending)
	body := aw.fb
	switch {
	case aw.lz != nil:
		aw.comp.Reset()
		aw.lz.Reset(&aw.comp)
		if _, err := aw.lz.Write(body); err != nil {
			aw.err = err
			return err
		}
		if err := aw.lz.Close(); err != nil {
			aw.err = err
			return err
		}
		body = aw.comp.Bytes()
	case aw.zenc != nil:
		aw.zbuf = aw.zenc.EncodeAll(body, aw.zbuf[:0])
		body = aw.zbuf
	}
	var h [8]byte
	binary.LittleEndian.PutUint32(h[4:], uint32(len(body))) // stream id 0
	aw.w.Write(h[:])
	if _, err := aw.w.Write(body); err != nil {
		aw.err = err
		return err
	}
	aw.pending = aw.pending[:0]
	return nil
}

// Flush writes the pending packet and flushes.
func (aw *AEDAT4Writer) Flush() error {
	if err := aw.emit(); err != nil {
		return err
	}
	return aw.w.Flush()
}

// Close implements Writer.
func (aw *AEDAT4Writer) Close() error {
	if aw.closed {
		return aw.err
	}
	aw.closed = true
	err := aw.Flush()
	if aw.zenc != nil {
		aw.zenc.Close()
	}
	return err
}
