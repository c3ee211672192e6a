package aer

import (
	"bufio"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// Native event file constants (layout in doc.go).
const (
	// FileMagic opens every native event file. Like PNG's, it has a high
	// byte, a CR LF and a ^Z so that text-mode transfers are detected.
	FileMagic = "\x8aAER\r\n\x1a\n"
	// FileVersion is the current version: 16-byte header, records of
	// version-1 native packets each followed by a CRC-32C.
	FileVersion     = 1
	fileHeaderLen   = 16
	fileRecordExtra = 8 // length before, CRC after
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// FileWriter writes a native event file. Events are packed into native
// packets exactly as on the wire; a packet carries payloads only if one of
// its events has a non-zero payload. Events with the same Time on several
// ports are grouped by port (stably), which keeps time order and saves
// packets; events are otherwise written in the order given.
type FileWriter struct {
	w       *bufio.Writer
	unit    Unit
	pending []Event
	rec     []byte
	seq     uint32
	err     error
	closed  bool
}

// NewFileWriter writes the file header to w and returns a writer of events
// whose times are in unit.
func NewFileWriter(w io.Writer, unit Unit) (*FileWriter, error) {
	fw := &FileWriter{w: bufio.NewWriterSize(w, 1<<16), unit: unit,
		pending: make([]Event, 0, 2*NativeMaxEvents), rec: make([]byte, 0, NativeMaxPacket+fileRecordExtra)}
	var h [fileHeaderLen]byte
	copy(h[:], FileMagic)
	binary.LittleEndian.PutUint16(h[8:], FileVersion)
	h[10] = byte(unit)
	if _, err := fw.w.Write(h[:]); err != nil {
		return nil, err
	}
	return fw, nil
}

// Write implements Writer.
func (fw *FileWriter) Write(evs []Event) (int, error) {
	if fw.err != nil {
		return 0, fw.err
	}
	if fw.closed {
		return 0, errors.New("aer: write to closed file writer")
	}
	done := 0
	for len(evs) > 0 {
		k := min(cap(fw.pending)-len(fw.pending), len(evs))
		at := len(fw.pending)
		fw.pending = append(fw.pending, evs[:k]...)
		if mixedTies(fw.pending[at:]) {
			groupTies(fw.pending[at:])
		}
		evs = evs[k:]
		done += k
		for len(fw.pending) >= NativeMaxEvents {
			if err := fw.emit(); err != nil {
				return done, err
			}
		}
	}
	return done, nil
}

// emit writes one packet from the head of pending.
func (fw *FileWriter) emit() error {
	flags := packetFlags(fw.unit, fw.pending)
	fw.rec = binary.LittleEndian.AppendUint32(fw.rec[:0], 0)
	var n int
	fw.rec, n = AppendNative(fw.rec, flags, fw.seq, fw.pending)
	fw.seq++
	pkt := fw.rec[4:]
	binary.LittleEndian.PutUint32(fw.rec, uint32(len(pkt)))
	fw.rec = binary.LittleEndian.AppendUint32(fw.rec, crc32.Checksum(pkt, castagnoli))
	if _, err := fw.w.Write(fw.rec); err != nil {
		fw.err = err
		return err
	}
	m := copy(fw.pending, fw.pending[n:])
	fw.pending = fw.pending[:m]
	return nil
}

// packetFlags chooses the native flags for the packet that starts evs.
func packetFlags(unit Unit, evs []Event) uint8 {
	var flags uint8
	if unit == Microsecond {
		flags |= NativeFlagMicroseconds
	}
	n := NativeFit(flags, evs)
	for i := range evs[:n] {
		if evs[i].Payload != 0 {
			return flags | NativeFlagPayload
		}
	}
	return flags
}

// Flush writes every pending event and flushes the underlying writer.
func (fw *FileWriter) Flush() error {
	if fw.err != nil {
		return fw.err
	}
	for len(fw.pending) > 0 {
		if err := fw.emit(); err != nil {
			return err
		}
	}
	if err := fw.w.Flush(); err != nil {
		fw.err = err
	}
	return fw.err
}

// Close flushes; the file needs no trailer, so a file cut after any record
// is still valid.
func (fw *FileWriter) Close() error {
	if fw.closed {
		return fw.err
	}
	err := fw.Flush()
	fw.closed = true
	return err
}

// FileReader reads a native event file.
type FileReader struct {
	r       *bufio.Reader
	unit    Unit
	off     int64 // file offset of the next record
	pktOff  int64 // file offset of the last packet read
	rec     []byte
	pending []Event // events decoded but not yet returned (a window of pendBuf)
	pendBuf []Event
	err     error
	// Packets is the number of records read so far.
	Packets int64
}

// NewFileReader reads and checks the file header.
func NewFileReader(r io.Reader) (*FileReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var h [fileHeaderLen]byte
	if n, err := io.ReadFull(br, h[:]); err != nil {
		return nil, truncated("file", int64(n), "header needs %d bytes", fileHeaderLen)
	}
	if string(h[:8]) != FileMagic {
		return nil, corrupt("file", 0, "bad magic %q", h[:8])
	}
	if v := binary.LittleEndian.Uint16(h[8:]); v != FileVersion {
		return nil, corrupt("file", 8, "unsupported version %d", v)
	}
	if h[10] > byte(Microsecond) {
		return nil, corrupt("file", 10, "unknown time unit %d", h[10])
	}
	return &FileReader{r: br, unit: Unit(h[10]), off: fileHeaderLen,
		rec: make([]byte, NativeMaxPacket+4), pendBuf: make([]Event, 0, NativeMaxEvents)}, nil
}

// Unit is the time unit written in the header.
func (fr *FileReader) Unit() Unit { return fr.unit }

// Read implements Reader. A corrupt record stops the reader with an error
// that gives its file offset; the events before it have been returned.
func (fr *FileReader) Read(dst []Event) (int, error) {
	n := 0
	for n < len(dst) {
		if len(fr.pending) > 0 {
			k := copy(dst[n:], fr.pending)
			fr.pending = fr.pending[k:]
			n += k
			continue
		}
		if fr.err != nil {
			break
		}
		pkt, err := fr.next()
		if err != nil {
			fr.err = err
			break
		}
		if cnt := int(binary.LittleEndian.Uint16(pkt[6:])); len(dst)-n >= cnt {
			// Decode straight into the caller's slice.
			_, out, err := DecodeNative(pkt, dst[n:n])
			if err != nil {
				fr.err = fr.wrap(err)
				break
			}
			n += len(out)
		} else {
			_, fr.pending, err = DecodeNative(pkt, fr.pendBuf[:0])
			if err != nil {
				fr.err = fr.wrap(err)
				fr.pending = fr.pending[:0]
				break
			}
		}
	}
	if n > 0 {
		return n, nil
	}
	return 0, fr.err
}

// next reads one record and checks its length and CRC.
func (fr *FileReader) next() ([]byte, error) {
	start := fr.off
	lb := fr.rec[:4] // a local array would escape through io.Reader
	k, err := io.ReadFull(fr.r, lb)
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, truncated("file", start+int64(k), "record length cut short")
	}
	size := int(binary.LittleEndian.Uint32(lb))
	if size < NativeHeaderLen || size > NativeMaxPacket {
		return nil, corrupt("file", start, "record length %d outside %d..%d", size, NativeHeaderLen, NativeMaxPacket)
	}
	buf := fr.rec[:size+4]
	if k, err := io.ReadFull(fr.r, buf); err != nil {
		return nil, truncated("file", start+4+int64(k), "record of %d bytes cut short", size)
	}
	pkt := buf[:size]
	if got, want := crc32.Checksum(pkt, castagnoli), binary.LittleEndian.Uint32(buf[size:]); got != want {
		return nil, corrupt("file", start+4+int64(size), "crc %#08x, want %#08x", got, want)
	}
	fr.pktOff = start + 4
	fr.off += int64(size) + fileRecordExtra
	fr.Packets++
	return pkt, nil
}

// wrap moves a packet error to its file offset.
func (fr *FileReader) wrap(err error) error {
	var fe *FormatError
	if errors.As(err, &fe) {
		return &FormatError{Format: "file", Offset: fr.pktOff + fe.Offset, Msg: "packet: " + fe.Msg, Truncated: fe.Truncated}
	}
	return err
}
