package aer

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// AEDAT 4.0 (iniVation dv-processing), read only:
//
//	"#!AER-DAT4.0\r\n"                      14 bytes
//	u32 size | IOHeader FlatBuffer "IOHE"    compression i32, dataTablePosition i64, infoNode string
//	packets until dataTablePosition (or EOF):
//	  i32 stream id | i32 size | size bytes: one FlatBuffer, compressed as the
//	  IOHeader says (0 none, 1/2 LZ4 frame, 3/4 Zstandard frame)
//	FileDataTable "FTAB" (seek index, ignored)
//
// Event packets carry the identifier "EVTS": a table whose field 0 is a
// vector of 16-byte structs {i64 t µs, i16 x, i16 y, bool on, 3 pad}. Other
// packets (frames, IMU, triggers) are skipped and counted. The FlatBuffers
// are parsed by hand, with every offset checked against the buffer.
const (
	aedat4Version = "#!AER-DAT4.0\r\n"
	// aedat4MaxPacket caps a packet's compressed and decompressed sizes.
	aedat4MaxPacket = 1 << 25
)

// AEDAT4Reader reads the event streams of an AEDAT 4.0 file.
type AEDAT4Reader struct {
	r           *bufio.Reader
	off         int64
	compression int32
	tablePos    int64
	raw, plain  []byte
	packetQueue
	zd *zstd.Decoder
	lz *lz4.Reader
	// Info is the XML description of the streams from the IOHeader.
	Info string
	// SkippedPackets counts packets that are not events.
	SkippedPackets int64
}

// NewAEDAT4Reader reads the version line and the IOHeader.
func NewAEDAT4Reader(r io.Reader) (*AEDAT4Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	v := make([]byte, len(aedat4Version))
	if err := readFull(br, v, "aedat4", 0, "version line"); err != nil {
		if err == io.EOF {
			err = truncated("aedat4", 0, "empty file")
		}
		return nil, err
	}
	if string(v) != aedat4Version {
		return nil, corrupt("aedat4", 0, "version line %q, want %q", v, aedat4Version)
	}
	off := int64(len(v))
	var sz [4]byte
	if err := readFull(br, sz[:], "aedat4", off, "IOHeader size"); err != nil {
		if err == io.EOF {
			err = truncated("aedat4", off, "no IOHeader")
		}
		return nil, err
	}
	size := binary.LittleEndian.Uint32(sz[:])
	if size > maxHeaderBytes {
		return nil, corrupt("aedat4", off, "IOHeader of %d bytes exceeds %d", size, maxHeaderBytes)
	}
	buf, err := readBlock(br, nil, int(size), "aedat4", off+4, "IOHeader")
	if err != nil {
		return nil, err
	}
	ar := &AEDAT4Reader{r: br, off: off + 4 + int64(size), tablePos: -1}
	t, err := fbRoot(buf, "IOHE")
	if err != nil {
		return nil, fbErr(err, off+4)
	}
	if p, ok := t.field(0, 4); ok {
		ar.compression = int32(binary.LittleEndian.Uint32(buf[p:]))
	}
	if p, ok := t.field(1, 8); ok {
		ar.tablePos = int64(binary.LittleEndian.Uint64(buf[p:]))
	}
	if ar.Info, err = t.str(2); err != nil {
		return nil, fbErr(err, off+4)
	}
	if ar.tablePos >= 0 && ar.tablePos < ar.off {
		return nil, corrupt("aedat4", off+4, "data table position %d lies inside the header", ar.tablePos)
	}
	if ar.compression < 0 || ar.compression > 4 {
		return nil, corrupt("aedat4", off+4, "unknown compression %d", ar.compression)
	}
	return ar, nil
}

// Unit is always Microsecond.
func (ar *AEDAT4Reader) Unit() Unit { return Microsecond }

// Compression is the IOHeader's compression type (0 none, 1 LZ4, 2 LZ4
// high, 3 Zstd, 4 Zstd high).
func (ar *AEDAT4Reader) Compression() int { return int(ar.compression) }

// Read implements Reader.
func (ar *AEDAT4Reader) Read(dst []Event) (int, error) { return ar.read(dst, ar.packet) }

func (ar *AEDAT4Reader) packet() error {
	start := ar.off
	if ar.tablePos > 0 && start >= ar.tablePos {
		return io.EOF
	}
	var h [8]byte
	if err := readFull(ar.r, h[:], "aedat4", start, "packet header"); err != nil {
		return err
	}
	size := int32(binary.LittleEndian.Uint32(h[4:]))
	if size < 0 || size > aedat4MaxPacket {
		return corrupt("aedat4", start+4, "packet size %d outside 0..%d", size, aedat4MaxPacket)
	}
	var err error
	ar.raw, err = readBlock(ar.r, ar.raw, int(size), "aedat4", start+8, "packet")
	if err != nil {
		return err
	}
	ar.off = start + 8 + int64(size)
	plain, err := ar.decompress(ar.raw)
	if err != nil {
		return corrupt("aedat4", start+8, "packet: %v", err)
	}
	t, err := fbRoot(plain, "EVTS")
	if err == errFBIdentifier {
		ar.SkippedPackets++
		return nil
	}
	if err != nil {
		return fbErr(err, start+8)
	}
	vec, n, err := t.vector(0, 16)
	if err != nil {
		return fbErr(err, start+8)
	}
	ar.pending = growEvents(ar.pending[:0], n)
	for i := 0; i < n; i++ {
		e := t.buf[vec+i*16 : vec+i*16+16] // t.buf: without a size prefix
		x, y := binary.LittleEndian.Uint16(e[8:]), binary.LittleEndian.Uint16(e[10:])
		var on uint32
		if e[12] != 0 {
			on = 1
		}
		ar.pending = append(ar.pending, Event{Time: int64(binary.LittleEndian.Uint64(e)), Channel: XY(x, y), Payload: on})
	}
	return nil
}

func (ar *AEDAT4Reader) decompress(b []byte) ([]byte, error) {
	switch ar.compression {
	case 0:
		return b, nil
	case 1, 2:
		if ar.lz == nil {
			ar.lz = lz4.NewReader(nil)
		}
		ar.lz.Reset(bytes.NewReader(b))
		return ar.readCapped(ar.lz)
	default:
		if ar.zd == nil {
			d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(aedat4MaxPacket))
			if err != nil {
				return nil, err
			}
			ar.zd = d
		}
		if err := ar.zd.Reset(bytes.NewReader(b)); err != nil {
			return nil, err
		}
		return ar.readCapped(ar.zd)
	}
}

// readCapped reads a decompressor to its end, refusing more than
// aedat4MaxPacket bytes.
func (ar *AEDAT4Reader) readCapped(r io.Reader) ([]byte, error) {
	buf := bytes.NewBuffer(ar.plain[:0])
	n, err := io.Copy(buf, io.LimitReader(r, aedat4MaxPacket+1))
	ar.plain = buf.Bytes()
	if err != nil {
		return nil, err
	}
	if n > aedat4MaxPacket {
		return nil, fmt.Errorf("decompresses to more than %d bytes", aedat4MaxPacket)
	}
	return ar.plain, nil
}

// Close releases the decompressors.
func (ar *AEDAT4Reader) Close() error {
	if ar.zd != nil {
		ar.zd.Close()
	}
	return nil
}

// fbTable is a FlatBuffers table inside buf, with its vtable located.
type fbTable struct {
	buf   []byte
	pos   int // table start
	vt    int // vtable start
	vtLen int // vtable length in bytes
}

var errFBIdentifier = fmt.Errorf("wrong file identifier")

// fbError is a FlatBuffers problem at an offset inside the buffer.
type fbError struct {
	off int
	msg string
}

func (e *fbError) Error() string { return e.msg }

func fbErr(err error, base int64) error {
	if fe, ok := err.(*fbError); ok {
		return corrupt("aedat4", base+int64(fe.off), "flatbuffer: %s", fe.msg)
	}
	return corrupt("aedat4", base, "flatbuffer: %v", err)
}

// fbRoot finds the root table of buf, a FlatBuffer with identifier id,
// either plain or size-prefixed (dv-processing writes both forms).
func fbRoot(buf []byte, id string) (fbTable, error) {
	switch {
	case len(buf) >= 8 && string(buf[4:8]) == id:
	case len(buf) >= 12 && string(buf[8:12]) == id && int(binary.LittleEndian.Uint32(buf)) == len(buf)-4:
		buf = buf[4:]
	case len(buf) < 8:
		return fbTable{}, &fbError{0, fmt.Sprintf("%d bytes is too short", len(buf))}
	default:
		return fbTable{}, errFBIdentifier
	}
	pos := int(binary.LittleEndian.Uint32(buf))
	t := fbTable{buf: buf, pos: pos}
	if pos < 8 || pos > len(buf)-4 {
		return t, &fbError{0, fmt.Sprintf("root offset %d outside %d bytes", pos, len(buf))}
	}
	vt := int64(pos) - int64(int32(binary.LittleEndian.Uint32(buf[pos:])))
	if vt < 0 || vt > int64(len(buf)-4) {
		return t, &fbError{pos, fmt.Sprintf("vtable at %d outside %d bytes", vt, len(buf))}
	}
	t.vt = int(vt)
	t.vtLen = int(binary.LittleEndian.Uint16(buf[t.vt:]))
	tblLen := int(binary.LittleEndian.Uint16(buf[t.vt+2:]))
	if t.vtLen < 4 || t.vtLen%2 != 0 || t.vt+t.vtLen > len(buf) || tblLen < 4 || pos+tblLen > len(buf) {
		return t, &fbError{t.vt, "bad vtable"}
	}
	return t, nil
}

// field returns the absolute position of field i if present and if width
// bytes fit in the buffer there.
func (t fbTable) field(i, width int) (int, bool) {
	slot := 4 + 2*i
	if slot+2 > t.vtLen {
		return 0, false
	}
	off := int(binary.LittleEndian.Uint16(t.buf[t.vt+slot:]))
	if off == 0 || t.pos+off+width > len(t.buf) {
		return 0, false
	}
	return t.pos + off, true
}

// vector returns the start of the elements and the length of the vector
// in field i (n = 0 if the field is absent), checking that n elements of
// elemSize bytes fit.
func (t fbTable) vector(i, elemSize int) (start, n int, err error) {
	p, ok := t.field(i, 4)
	if !ok {
		return 0, 0, nil
	}
	v := int64(p) + int64(binary.LittleEndian.Uint32(t.buf[p:]))
	if v+4 > int64(len(t.buf)) {
		return 0, 0, &fbError{p, fmt.Sprintf("vector at %d outside %d bytes", v, len(t.buf))}
	}
	cnt := int64(binary.LittleEndian.Uint32(t.buf[v:]))
	if v+4+cnt*int64(elemSize) > int64(len(t.buf)) {
		return 0, 0, &fbError{int(v), fmt.Sprintf("vector of %d × %d bytes overruns %d bytes", cnt, elemSize, len(t.buf))}
	}
	return int(v + 4), int(cnt), nil
}

// str returns the string in field i.
func (t fbTable) str(i int) (string, error) {
	s, n, err := t.vector(i, 1)
	if err != nil {
		return "", err
	}
	return string(t.buf[s : s+n]), nil
}
