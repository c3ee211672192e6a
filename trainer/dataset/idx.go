package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// IDX is a decoded IDX file of unsigned bytes, the format of the MNIST files
// (LeCun et al., http://yann.lecun.com/exdb/mnist/):
//
//	offset  size  field
//	0       2     0x00 0x00
//	2       1     element type: 0x08 = unsigned byte (the only type read here)
//	3       1     number of dimensions d (1…maxIDXDims)
//	4       4·d   dimension sizes, uint32 big-endian
//	4+4d    Π     the elements, row-major, last dimension fastest
//
// MNIST images are magic 0x00000803 (dims n, 28, 28), labels 0x00000801 (n).
type IDX struct {
	Dims []int // as in the header; Dims[0] counts records
	// Data holds the first Records() records, each the product of Dims[1:]
	// bytes long: all of them, unless the reader was given a record limit.
	Data []byte
}

// RecordSize is the number of elements per record: the product of Dims[1:].
func (x *IDX) RecordSize() int {
	n := 1
	for _, d := range x.Dims[1:] {
		n *= d
	}
	return n
}

// Records is the number of records held in Data.
func (x *IDX) Records() int {
	if rs := x.RecordSize(); rs > 0 {
		return len(x.Data) / rs
	}
	return x.Dims[0]
}

// Limits of the IDX reader, checked before allocation.
const (
	maxIDXDims  = 8
	maxIDXBytes = 1 << 28 // element bytes; MNIST's largest file holds 47,040,000
)

// gzipMagic opens every gzip stream (RFC 1952).
var gzipMagic = []byte{0x1f, 0x8b}

// ReadIDX decodes an IDX file of unsigned bytes from r, gunzipping it first if
// it starts with the gzip magic. name is used in errors, which give byte
// offsets into the (decompressed) IDX stream. If maxRecords > 0, only the
// first maxRecords records are read and the rest of the stream is left
// unread; otherwise the whole file is read and trailing bytes are an error.
func ReadIDX(r io.Reader, name string, maxRecords int) (*IDX, error) {
	return readIDXHint(r, name, maxRecords, -1)
}

// readIDXHint is ReadIDX with the size of the decoded stream if known (else
// −1): with it the data buffer is allocated once, without it the buffer
// starts at 1 MiB and doubles as data arrives, so a header that lies about
// its size costs little more memory than the data actually present.
func readIDXHint(r io.Reader, name string, maxRecords int, sizeHint int64) (*IDX, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == gzipMagic[0] && head[1] == gzipMagic[1] {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("dataset: %s: gzip header: %v", name, err)
		}
		defer zr.Close()
		return readIDX(zr, name+" (gunzipped)", maxRecords, sizeHint)
	}
	return readIDX(br, name, maxRecords, sizeHint)
}

func readIDX(r io.Reader, name string, maxRecords int, sizeHint int64) (*IDX, error) {
	var head [4]byte
	if n, err := io.ReadFull(r, head[:]); err != nil {
		return nil, fmt.Errorf("dataset: %s: byte %d: header: %v", name, n, eofErr(err))
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, fmt.Errorf("dataset: %s: byte 0: magic %02x %02x, want 00 00: not an IDX file", name, head[0], head[1])
	}
	if head[2] != 0x08 {
		return nil, fmt.Errorf("dataset: %s: byte 2: element type 0x%02x, want 0x08 (unsigned byte)", name, head[2])
	}
	nd := int(head[3])
	if nd < 1 || nd > maxIDXDims {
		return nil, fmt.Errorf("dataset: %s: byte 3: %d dimensions, want 1…%d", name, nd, maxIDXDims)
	}
	dimBytes := make([]byte, 4*nd)
	if n, err := io.ReadFull(r, dimBytes); err != nil {
		return nil, fmt.Errorf("dataset: %s: byte %d: dimensions: %v", name, 4+n, eofErr(err))
	}
	x := &IDX{Dims: make([]int, nd)}
	total := uint64(1)
	for i := range nd {
		d := binary.BigEndian.Uint32(dimBytes[4*i:])
		x.Dims[i] = int(d)
		total *= uint64(d) // each factor < 2^32 and total stays ≤ maxIDXBytes: no overflow
		if total > maxIDXBytes {
			return nil, fmt.Errorf("dataset: %s: byte %d: dimensions %v hold more than %d bytes", name, 4+4*i, x.Dims[:i+1], maxIDXBytes)
		}
	}
	want := int64(total)
	rs := x.RecordSize()
	if maxRecords > 0 && maxRecords < x.Dims[0] {
		want = int64(maxRecords) * int64(rs)
	}
	start := int64(4 + 4*nd)
	first := min(want, 1<<20)
	if sizeHint >= 0 {
		first = min(want, max(sizeHint-start, 0))
	}
	data := make([]byte, 0, first)
	for int64(len(data)) < want {
		if len(data) == cap(data) {
			data = slices.Grow(data, int(min(want-int64(len(data)), int64(len(data))+1)))
		}
		n, err := r.Read(data[len(data):min(int64(cap(data)), want)])
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("dataset: %s: byte %d: %v", name, start+int64(len(data)), eofErr(err))
		}
	}
	if int64(len(data)) < want {
		return nil, fmt.Errorf("dataset: %s: byte %d: data ends after %d of %d bytes (dimensions %v)",
			name, start+int64(len(data)), len(data), want, x.Dims)
	}
	x.Data = data
	if want == int64(total) {
		// Whole file: it must end here. Reading on also makes gzip check its CRC.
		var one [1]byte
		n, err := io.ReadFull(r, one[:])
		switch {
		case n > 0:
			return nil, fmt.Errorf("dataset: %s: byte %d: trailing data after the %v elements", name, start+want, x.Dims)
		case err != io.EOF:
			return nil, fmt.Errorf("dataset: %s: byte %d: %v", name, start+want, err)
		}
	}
	return x, nil
}

// eofErr turns a bare EOF into "unexpected end of data".
func eofErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of data")
	}
	return err
}

// ReadIDXFile opens and decodes the IDX file at path (gzipped or not).
func ReadIDXFile(path string, maxRecords int) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %v", err)
	}
	defer f.Close()
	return readIDXHint(f, path, maxRecords, decodedSize(f))
}

// decodedSize returns the size of f's contents after gunzipping (from the
// gzip trailer's ISIZE field, RFC 1952, exact below 4 GiB), or −1.
func decodedSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	var b [4]byte
	if _, err := f.ReadAt(b[:2], 0); err != nil || b[0] != gzipMagic[0] || b[1] != gzipMagic[1] {
		return st.Size()
	}
	if st.Size() < 18 {
		return -1
	}
	if _, err := f.ReadAt(b[:], st.Size()-4); err != nil {
		return -1
	}
	return int64(binary.LittleEndian.Uint32(b[:]))
}
