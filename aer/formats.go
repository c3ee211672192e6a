package aer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Format is a file format that aerie reads or writes.
type Format uint8

// File formats.
const (
	FormatUnknown Format = iota
	FormatNative         // native event file (.aer): read, write
	FormatCSV            // CSV (.csv): read, write
	FormatAEDAT2         // AEDAT 2.0 (.aedat, .dat): read, write
	FormatAEDAT3         // AEDAT 3.1 (.aedat, .aedat3): read, write
	FormatAEDAT4         // AEDAT 4.0 (.aedat4): read, write (polarity events)
	FormatNMNIST         // N-MNIST (.bin): read
	FormatPcap           // pcap / pcapng capture (.pcap, .pcapng): read AER datagrams
)

var formatNames = []string{"unknown", "native", "csv", "aedat2", "aedat3", "aedat4", "nmnist", "pcap"}

func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// Writable reports whether aerie can write f.
func (f Format) Writable() bool {
	return f == FormatNative || f == FormatCSV || f == FormatAEDAT2 || f == FormatAEDAT3 || f == FormatAEDAT4
}

// ParseFormat parses a format name as printed by String ("aedat3.1" and
// "aedat31" also name AEDAT 3.1).
func ParseFormat(s string) (Format, error) {
	s = strings.ToLower(s)
	switch s {
	case "aedat3.1", "aedat31":
		return FormatAEDAT3, nil
	case "pcapng":
		return FormatPcap, nil
	}
	for i, n := range formatNames[1:] {
		if s == n {
			return Format(i + 1), nil
		}
	}
	return FormatUnknown, fmt.Errorf("aer: unknown format %q (want %s)", s, strings.Join(formatNames[1:], ", "))
}

// FormatFromName guesses the format from a file name's extension. For
// ".aedat", which all AEDAT versions use, it returns FormatUnknown: sniff
// the content with DetectFormat (for writing, AEDAT 3.1 is assumed).
func FormatFromName(name string) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".aer":
		return FormatNative
	case ".csv":
		return FormatCSV
	case ".aedat2", ".dat":
		return FormatAEDAT2
	case ".aedat3":
		return FormatAEDAT3
	case ".aedat4":
		return FormatAEDAT4
	case ".bin":
		return FormatNMNIST
	case ".pcap", ".pcapng", ".cap":
		return FormatPcap
	}
	return FormatUnknown
}

// DetectFormat recognises a format from the first bytes of a file (at
// least 16 are needed; 64 are enough). N-MNIST has no magic and is never
// detected.
func DetectFormat(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, []byte(FileMagic)):
		return FormatNative
	case bytes.HasPrefix(head, []byte("#!AER-DAT4.")):
		return FormatAEDAT4
	case bytes.HasPrefix(head, []byte("#!AER-DAT3.")):
		return FormatAEDAT3
	case bytes.HasPrefix(head, []byte("#!AER-DAT2.")), bytes.HasPrefix(head, []byte("#!AER-DAT1.")):
		return FormatAEDAT2
	case bytes.HasPrefix(bytes.TrimPrefix(head, []byte(utf8BOM)), []byte(csvHeaderTick)),
		bytes.HasPrefix(bytes.TrimPrefix(head, []byte(utf8BOM)), []byte(csvHeaderUS)):
		return FormatCSV
	case len(head) >= 4:
		switch m := uint32(head[0]) | uint32(head[1])<<8 | uint32(head[2])<<16 | uint32(head[3])<<24; m {
		case 0xA1B2C3D4, 0xD4C3B2A1, 0xA1B23C4D, 0x4D3CB2A1, 0x0A0D0D0A:
			return FormatPcap
		}
	}
	return FormatUnknown
}

// StreamReader is a Reader that knows the unit of its times.
type StreamReader interface {
	Reader
	Unit() Unit
}

// ReadOptions tune OpenReader.
type ReadOptions struct {
	AEDAT2Layout AEDAT2Layout // address layout of AEDAT 2.0 files
	Wire         *WireFormat  // pcap: decode every UDP datagram with this format
}

// OpenReader returns a reader of r in format f. FormatUnknown sniffs the
// first bytes with DetectFormat.
func OpenReader(r io.Reader, f Format, opt ReadOptions) (StreamReader, Format, error) {
	if f == FormatUnknown {
		br := bufio.NewReaderSize(r, 1<<16)
		head, _ := br.Peek(64)
		if f = DetectFormat(head); f == FormatUnknown {
			return nil, f, fmt.Errorf("aer: unrecognised file format (name it with --from)")
		}
		r = br
	}
	var sr StreamReader
	var err error
	switch f {
	case FormatNative:
		sr, err = NewFileReader(r)
	case FormatCSV:
		sr, err = NewCSVReader(r)
	case FormatAEDAT2:
		sr, err = NewAEDAT2Reader(r, opt.AEDAT2Layout)
	case FormatAEDAT3:
		sr, err = NewAEDAT3Reader(r)
	case FormatAEDAT4:
		sr, err = NewAEDAT4Reader(r)
	case FormatNMNIST:
		sr = NewNMNISTReader(r)
	case FormatPcap:
		var pe *PcapEvents
		pe, err = NewPcapEvents(r)
		if err == nil {
			pe.Force = opt.Wire
			sr = pe
		}
	default:
		return nil, f, fmt.Errorf("aer: cannot read format %v", f)
	}
	if err != nil {
		return nil, f, err
	}
	return sr, f, nil
}

// WriteOptions tune OpenWriter.
type WriteOptions struct {
	AEDAT2Layout AEDAT2Layout
	// AEDAT3Type is AEDAT3Polarity (the default) or AEDAT3Spike.
	AEDAT3Type int
	// AEDAT4Compression is 0 (none), 1 (LZ4), 2 (LZ4 high), 3 (Zstd) or
	// 4 (Zstd high).
	AEDAT4Compression int
	// Width and Height are the sensor size AEDAT 4.0 records (required).
	Width, Height int
}

// OpenWriter returns a writer of format f to w, for events whose times are
// in unit. AEDAT files are in µs: ticks are written as µs unchanged.
func OpenWriter(w io.Writer, f Format, unit Unit, opt WriteOptions) (Writer, error) {
	switch f {
	case FormatNative:
		return NewFileWriter(w, unit)
	case FormatCSV:
		return NewCSVWriter(w, unit)
	case FormatAEDAT2:
		return NewAEDAT2Writer(w, opt.AEDAT2Layout)
	case FormatAEDAT3:
		t := opt.AEDAT3Type
		if t == 0 {
			t = AEDAT3Polarity
		}
		return NewAEDAT3Writer(w, t)
	case FormatAEDAT4:
		return NewAEDAT4Writer(w, opt.AEDAT4Compression, opt.Width, opt.Height)
	}
	return nil, fmt.Errorf("aer: cannot write format %v (writable: native, csv, aedat2, aedat3, aedat4)", f)
}
