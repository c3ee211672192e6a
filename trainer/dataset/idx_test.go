package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadIDXFile(t *testing.T) {
	for _, c := range []struct {
		file       string
		maxRecords int
		dims       []int
		data       []byte
		err        string // "" means success
	}{
		{"labels.idx", 0, []int{5}, []byte{5, 0, 4, 1, 9}, ""},
		{"labels.idx", 2, []int{5}, []byte{5, 0}, ""},
		{"labels.idx", 9, []int{5}, []byte{5, 0, 4, 1, 9}, ""},
		{"images.idx", 0, []int{2, 3, 3}, seq(18), ""},
		{"images.idx", 1, []int{2, 3, 3}, seq(9), ""},
		{"images.idx.gz", 0, []int{2, 3, 3}, seq(18), ""},
		{"truncated.idx", 0, nil, nil, "truncated.idx: byte 29: data ends after 13 of 18 bytes"},
		{"truncated.idx", 1, []int{2, 3, 3}, seq(9), ""}, // the records asked for are there
		{"truncated.idx.gz", 0, nil, nil, "truncated.idx.gz (gunzipped): byte"},
		{"trailing.idx", 0, nil, nil, "trailing.idx: byte 13: trailing data"},
		{"huge-dims.idx", 0, nil, nil, "huge-dims.idx: byte 8: dimensions [60000 65535] hold more than"},
		{"float-type.idx", 0, nil, nil, "float-type.idx: byte 2: element type 0x0d"},
		{"missing.idx", 0, nil, nil, "missing.idx: no such file"},
	} {
		x, err := ReadIDXFile(filepath.Join("testdata", "idx", c.file), c.maxRecords)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "dataset: ") {
				t.Errorf("%s: error %v, want one containing %q", c.file, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s (max %d): %v", c.file, c.maxRecords, err)
			continue
		}
		if !slices.Equal(x.Dims, c.dims) || !bytes.Equal(x.Data, c.data) {
			t.Errorf("%s (max %d): dims %v data %v, want %v %v", c.file, c.maxRecords, x.Dims, x.Data, c.dims, c.data)
		}
		if want := len(c.data) / x.RecordSize(); x.Records() != want {
			t.Errorf("%s: Records() = %d, want %d", c.file, x.Records(), want)
		}
	}
}

func TestReadIDXHeaderErrors(t *testing.T) {
	for _, c := range []struct {
		in  string
		err string
	}{
		{"", "byte 0: header: unexpected end of data"},
		{"\x00\x00\x08", "byte 3: header: unexpected end of data"},
		{"\x01\x00\x08\x01", "byte 0: magic 01 00"},
		{"\x00\x00\x08\x00", "byte 3: 0 dimensions"},
		{"\x00\x00\x08\x09", "byte 3: 9 dimensions"},
		{"\x00\x00\x08\x02\x00\x00\x00\x01\x00", "byte 9: dimensions: unexpected end of data"},
		{"\x1f\x8b\x08", "gzip header"},
	} {
		_, err := ReadIDX(strings.NewReader(c.in), "in", 0)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("ReadIDX(%q): %v, want an error containing %q", c.in, err, c.err)
		}
	}
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// FuzzIDX checks that no input makes the IDX reader panic, and that what it
// accepts is consistent: the data holds whole records and, without a record
// limit, exactly the header's element count.
func FuzzIDX(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "idx", "*"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, 0)
		f.Add(b, 1)
	}
	f.Fuzz(func(t *testing.T, in []byte, maxRecords int) {
		x, err := ReadIDX(bytes.NewReader(in), "fuzz", maxRecords)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "dataset: fuzz") {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		total := 1
		for _, d := range x.Dims {
			total *= d
		}
		rs := x.RecordSize()
		switch {
		case maxRecords <= 0 || maxRecords >= x.Dims[0]:
			if len(x.Data) != total {
				t.Fatalf("dims %v but %d bytes", x.Dims, len(x.Data))
			}
		case len(x.Data) != maxRecords*rs:
			t.Fatalf("limit %d, dims %v, but %d bytes", maxRecords, x.Dims, len(x.Data))
		}
	})
}
