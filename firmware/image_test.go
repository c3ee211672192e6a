package firmware

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aerie-neuro/aerie/chip"
)

// -update-image rewrites testdata/golden.aerieimg from goldenImage. The
// file is the format's reference bytes: rewrite it only with a new format
// version, and review it (xxd) before committing.
var updateImage = flag.Bool("update-image", false, "rewrite testdata/golden.aerieimg")

const goldenPath = "testdata/golden.aerieimg"

// imgNetwork is a small network with every feature an image carries: two
// neuron populations, projections with delays and a zero weight, a
// stochastic profile, a Poisson source population, an input and two output
// ports, provenance.
func imgNetwork() *Network {
	esc := chip.SampleEscape(func(x float64) float64 { return 1 / (1 + math.Exp(-x/64)) }, 16, 4, 8)
	return &Network{
		Name: "image-test",
		Seed: 42,
		Populations: []Population{
			{Name: "in", Size: 4, Profile: chip.Profile{Du: [4]uint16{1024, 2048}, Dv: 256, Vth: 40, Refractory: 2}, BiasMant: 3, BiasExp: 2},
			{Name: "hid", Size: 6, Profile: chip.Profile{Du: [4]uint16{512, 512}, Dv: 128, Vth: 20, Escape: esc},
				V0: []int32{0, 10, -10, 20, 0, 5}},
			{Name: "poisson", Size: 3, Source: &chip.Generator{Prob: 3000}},
			{Name: "readout", Size: 2, Profile: chip.Profile{Dv: 300, Readout: true}},
		},
		Projections: []Projection{
			{Name: "in-hid", Pre: 0, Post: 1, WeightExp: 1, Conns: []Conn{
				{Pre: 0, Post: 0, Weight: 100, Delay: 0}, {Pre: 1, Post: 2, Weight: -50, Delay: 3},
				{Pre: 2, Post: 5, Weight: 120, Delay: 7}, {Pre: 3, Post: 1, Weight: 0}, {Pre: 3, Post: 4, Weight: 77, Delay: 1}}},
			{Name: "poisson-hid", Pre: 2, Post: 1, Type: 1, Conns: []Conn{
				{Pre: 0, Post: 0, Weight: 127}, {Pre: 1, Post: 3, Weight: 127, Delay: 2}, {Pre: 2, Post: 5, Weight: 90}}},
			{Name: "poisson-in", Pre: 2, Post: 0, Conns: []Conn{{Pre: 0, Post: 0, Weight: 127}, {Pre: 2, Post: 3, Weight: 127}}},
		},
		Inputs: []InputPort{{Name: "stim", Channels: 3, Post: 0, WeightExp: 2, Conns: []Conn{
			{Pre: 0, Post: 0, Weight: 50}, {Pre: 2, Post: 3, Weight: -20, Delay: 2}}}},
		Outputs:    []OutputPort{{Name: "spikes", Pop: 1}, {Name: "sel", Pop: 0, Neurons: []uint32{3, 1}}},
		Provenance: map[string]string{"trainer": "image_test.go", "accuracy": "0.5", "quantization": "8-bit"},
	}
}

func imgCompiled(t testing.TB) *Image {
	t.Helper()
	img, err := NewImage(imgNetwork(), chip.Default())
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func mustMarshal(t testing.TB, img *Image) []byte {
	t.Helper()
	b, err := img.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenImage is a hand-written image (no compiler involved, so that only
// a change of the format changes its bytes) with one of everything.
func goldenImage() *Image {
	esc := &chip.Escape{Shift: 2, Offset: 3, Table: []uint32{0, 1000, 30000, 65536}}
	prog := &chip.Program{
		Seed: 0x1234,
		Cores: []chip.CoreProgram{
			{
				Profiles: []chip.Profile{{Du: [4]uint16{100, 200}, Dv: 50, Vth: 1000, Refractory: 1}, {Dv: 10, Vth: 500, Escape: esc}},
				Neurons: []chip.Neuron{
					{Profile: 0, BiasMant: -5, BiasExp: 1, V: 7, NoiseKey: 0, Out: []chip.AxonRef{{Core: 1, Axon: 0}}},
					{Profile: 1, NoiseKey: 1, Out: []chip.AxonRef{{Core: 0, Axon: 0}, {Core: 1, Axon: 1}}},
				},
				Axons: []chip.Axon{{WeightExp: -2, Synapses: []chip.Synapse{{Neuron: 0, Type: 1, Delay: 3, Weight: -100}, {Neuron: 1, Weight: 254}}}},
				Generators: []chip.Generator{{Seed: 9, Counts: []uint32{1 << 30, 1 << 31, 0xffffffff}, NoiseKey: 5,
					Out: []chip.AxonRef{{Core: 0, Axon: 0}}}},
			},
			{
				Profiles: []chip.Profile{{Vth: 10, Escape: esc}},
				Neurons:  []chip.Neuron{{NoiseKey: 2}, {NoiseKey: 3}, {NoiseKey: 4, Out: []chip.AxonRef{{Core: 1, Axon: 1}}}},
				Axons: []chip.Axon{
					{Synapses: []chip.Synapse{{Neuron: 2, Delay: 1, Weight: 3}}},
					{WeightExp: 1, Synapses: []chip.Synapse{{Neuron: 0, Weight: -2}, {Neuron: 1, Type: 1, Weight: 2}}},
				},
				Generators: []chip.Generator{{Period: 10, Phase: 3, NoiseKey: 6}},
			},
		},
		Inputs:  []chip.InputPort{{Name: "stim", Channels: [][]chip.AxonRef{{{Core: 0, Axon: 0}}, nil, {{Core: 1, Axon: 0}, {Core: 1, Axon: 1}}}}},
		Outputs: []chip.OutputPort{{Name: "out", Neurons: []chip.NeuronRef{{Core: 1, Neuron: 2}, {Core: 0, Neuron: 1}}}},
	}
	pl := &Placement{
		Populations: []PlacedPopulation{
			{Name: "a", Size: 2, Pieces: []Piece{{Core: 0, First: 0, Count: 2, Start: 0}}},
			{Name: "b", Size: 3, Pieces: []Piece{{Core: 1, First: 0, Count: 3, Start: 0}}},
			{Name: "src", Size: 2, Source: true, Pieces: []Piece{{Core: 0, First: 0, Count: 1, Start: 0}, {Core: 1, First: 0, Count: 1, Start: 1}}},
		},
		Cores:           coreUsage(prog),
		Synapses:        5,
		DroppedSynapses: 1,
	}
	return &Image{
		Version:            currentVersion,
		Chip:               "default",
		Fingerprint:        0xa963e3ee4e66200e, // chip.Default().Fingerprint(), frozen in chip's tests
		FingerprintVersion: 1,
		Program:            prog,
		Placement:          pl,
		Provenance:         map[string]string{"made-by": "firmware/image_test.go goldenImage", "note": "hand-written program"},
	}
}

func checkSameImage(t *testing.T, got, want *Image) {
	t.Helper()
	if got.Version != want.Version || got.Chip != want.Chip || got.Fingerprint != want.Fingerprint || got.FingerprintVersion != want.FingerprintVersion {
		t.Errorf("header: got version %d chip %q fingerprint %016x/%d, want %d %q %016x/%d", got.Version, got.Chip, got.Fingerprint, got.FingerprintVersion,
			want.Version, want.Chip, want.Fingerprint, want.FingerprintVersion)
	}
	if !reflect.DeepEqual(got.Program, want.Program) {
		t.Errorf("program differs:\ngot  %+v\nwant %+v", got.Program, want.Program)
	}
	if !reflect.DeepEqual(got.Placement.Populations, want.Placement.Populations) {
		t.Errorf("populations differ:\ngot  %+v\nwant %+v", got.Placement.Populations, want.Placement.Populations)
	}
	if !reflect.DeepEqual(got.Placement.Cores, want.Placement.Cores) {
		t.Errorf("core usage differs:\ngot  %+v\nwant %+v", got.Placement.Cores, want.Placement.Cores)
	}
	if got.Placement.Synapses != want.Placement.Synapses || got.Placement.DroppedSynapses != want.Placement.DroppedSynapses {
		t.Errorf("synapses %d dropped %d, want %d and %d", got.Placement.Synapses, got.Placement.DroppedSynapses,
			want.Placement.Synapses, want.Placement.DroppedSynapses)
	}
	if !reflect.DeepEqual(got.Provenance, want.Provenance) {
		t.Errorf("provenance %v, want %v", got.Provenance, want.Provenance)
	}
}

func TestImageRoundTrip(t *testing.T) {
	cfg := chip.Default()
	img := imgCompiled(t)
	b := mustMarshal(t, img)
	back, err := DecodeImage(b)
	if err != nil {
		t.Fatal(err)
	}
	checkSameImage(t, back, img)
	if back.Placement.DroppedSynapses != 1 || back.Placement.Synapses != 11 {
		t.Errorf("dropped %d, placed %d synapses; want 1 and 11", back.Placement.DroppedSynapses, back.Placement.Synapses)
	}
	if err := back.CheckChip(cfg); err != nil {
		t.Fatal(err)
	}
	// the decoded program runs exactly as the compiled one
	spikes := func(p *chip.Program) []chip.Spike {
		s, err := chip.Load(cfg, p, chip.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var all []chip.NeuronRef
		for i, pp := range img.Placement.Populations {
			if !pp.Source {
				all = append(all, img.Placement.Refs(i)...)
			}
		}
		rec, err := s.RecordSpikes(all)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Run(context.Background(), 200); err != nil {
			t.Fatal(err)
		}
		return rec.Spikes
	}
	want := spikes(img.Program)
	if len(want) == 0 {
		t.Fatal("the test network does not spike; make it")
	}
	if got := spikes(back.Program); !reflect.DeepEqual(got, want) {
		t.Errorf("decoded program: %d spikes, compiled %d; they differ", len(got), len(want))
	}
}

func TestImageDtMSAndOptions(t *testing.T) {
	net := imgNetwork()
	net.DtMS = 0.1
	img, err := NewImageWith(net, chip.Default(), Options{NeuronsPerCore: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Program.Cores) != 1 {
		t.Errorf("NeuronsPerCore 1024 gives %d cores, want 1", len(img.Program.Cores))
	}
	back, err := DecodeImage(mustMarshal(t, img))
	if err != nil {
		t.Fatal(err)
	}
	if got := back.DtMS(); got != 0.1 || back.Provenance["dt_ms"] != "0.1" || back.Provenance["trainer"] != "image_test.go" {
		t.Errorf("DtMS %v, provenance %v; want 0.1 and the network's entries", got, back.Provenance)
	}
	if _, ok := net.Provenance["dt_ms"]; ok {
		t.Error("NewImageWith wrote into the network's provenance")
	}
	if got := goldenImage().DtMS(); got != 0 {
		t.Errorf("DtMS without the entry = %v, want 0", got)
	}
}

func TestImageDeterministic(t *testing.T) {
	img := imgCompiled(t)
	a, b := mustMarshal(t, img), mustMarshal(t, img)
	if !bytes.Equal(a, b) {
		t.Fatal("two encodings of one image differ")
	}
	if c := mustMarshal(t, imgCompiled(t)); !bytes.Equal(a, c) {
		t.Fatal("two compilations of one network encode differently")
	}
	prefix := []byte("prefix")
	d, err := img.AppendBinary(append([]byte(nil), prefix...))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d[:len(prefix)], prefix) || !bytes.Equal(d[len(prefix):], a) {
		t.Fatal("AppendBinary after a prefix differs from MarshalBinary")
	}
	// two escape tables with one content are stored once
	g := goldenImage()
	e := *g.Program.Cores[0].Profiles[1].Escape
	e.Table = append([]uint32(nil), e.Table...)
	g.Program.Cores[1].Profiles[0].Escape = &e
	if got := g.Stats().EscapeTables; got != 1 {
		t.Errorf("%d escape tables for one content, want 1", got)
	}
	if !bytes.Equal(mustMarshal(t, g), mustMarshal(t, goldenImage())) {
		t.Error("an image with a copied escape table encodes differently from one sharing the table")
	}
}

func TestImageGolden(t *testing.T) {
	img := goldenImage()
	b := mustMarshal(t, img)
	if *updateImage {
		if err := os.WriteFile(goldenPath, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update-image to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("goldenImage encodes to %d bytes that differ from %s (%d bytes): the format changed; if on purpose, bump the format version and rerun with -update-image", len(b), goldenPath, len(want))
	}
	back, err := DecodeImage(want)
	if err != nil {
		t.Fatal(err)
	}
	checkSameImage(t, back, img)
	if err := back.CheckChip(chip.Default()); err != nil {
		t.Error(err)
	}
	// the first bytes, by hand: magic, version 1, min reader 1, flags 0
	if got := fmt.Sprintf("%q % x", want[:8], want[8:16]); got != `"AERIEIMG" 01 00 01 00 00 00 00 00` {
		t.Errorf("header starts %s", got)
	}
}

func TestImageStats(t *testing.T) {
	for _, img := range []*Image{goldenImage(), imgCompiled(t)} {
		b := mustMarshal(t, img)
		st := img.Stats()
		if st.Bytes != int64(len(b)) {
			t.Errorf("Stats says %d bytes, encoding has %d", st.Bytes, len(b))
		}
		raw := parseRaw(t, b)
		if st.Sections[0].Name != "header" || st.Sections[0].Bytes != int64(raw.headerLen) {
			t.Errorf("header: stats %+v, encoded %d bytes", st.Sections[0], raw.headerLen)
		}
		for i, s := range raw.sections {
			if got := st.Sections[i+1]; got.Name != kindName(s.kind) || got.Bytes != int64(len(s.body)) {
				t.Errorf("section %d: stats %+v, encoded %s of %d bytes", i, got, kindName(s.kind), len(s.body))
			}
		}
	}
	st := goldenImage().Stats()
	want := ImageStats{Version: 1, Chip: "default", Fingerprint: "a963e3ee4e66200e", CoresUsed: 2, Neurons: 5, Generators: 2, Profiles: 3,
		EscapeTables: 1, Synapses: 5, InputAxons: 3, OutputAxons: 5, InputPorts: 1, OutputPorts: 1, Populations: 3, Provenance: 2}
	st.Bytes, st.Sections = 0, nil
	if !reflect.DeepEqual(st, want) {
		t.Errorf("stats\n%+v, want\n%+v", st, want)
	}
}

// rawImage is an image taken apart by the test's own reading of the
// format, to build images the encoder would not write.
type rawImage struct {
	version, minReader uint16
	flags              uint32
	fp                 uint64
	fpVersion          uint16
	name               string
	sections           []rawSection
	headerLen          int
}

type rawSection struct {
	kind uint16
	body []byte
}

func parseRaw(t *testing.T, b []byte) rawImage {
	t.Helper()
	le := binary.LittleEndian
	r := rawImage{version: le.Uint16(b[8:]), minReader: le.Uint16(b[10:]), flags: le.Uint32(b[12:]), fp: le.Uint64(b[16:]), fpVersion: le.Uint16(b[24:])}
	n := int(le.Uint16(b[26:]))
	r.name = string(b[28 : 28+n])
	k := int(le.Uint16(b[28+n:]))
	for i := 0; i < k; i++ {
		e := b[30+n+24*i:]
		off, length := le.Uint64(e[4:]), le.Uint64(e[12:])
		r.sections = append(r.sections, rawSection{le.Uint16(e), append([]byte(nil), b[off:off+length]...)})
	}
	r.headerLen = 30 + n + 24*k + 4
	return r
}

// bytes assembles the image with correct offsets and CRCs.
func (r rawImage) bytes() []byte {
	le := binary.LittleEndian
	b := []byte("AERIEIMG")
	b = le.AppendUint16(b, r.version)
	b = le.AppendUint16(b, r.minReader)
	b = le.AppendUint32(b, r.flags)
	b = le.AppendUint64(b, r.fp)
	b = le.AppendUint16(b, r.fpVersion)
	b = le.AppendUint16(b, uint16(len(r.name)))
	b = append(b, r.name...)
	b = le.AppendUint16(b, uint16(len(r.sections)))
	off := uint64(len(b) + 24*len(r.sections) + 4)
	tab := crc32.MakeTable(crc32.Castagnoli)
	for _, s := range r.sections {
		b = le.AppendUint16(b, s.kind)
		b = le.AppendUint16(b, 0)
		b = le.AppendUint64(b, off)
		b = le.AppendUint64(b, uint64(len(s.body)))
		b = le.AppendUint32(b, crc32.Checksum(s.body, tab))
		off += uint64(len(s.body))
	}
	b = le.AppendUint32(b, crc32.Checksum(b, tab))
	for _, s := range r.sections {
		b = append(b, s.body...)
	}
	return b
}

func (r *rawImage) section(kind uint16) *rawSection {
	for i := range r.sections {
		if r.sections[i].kind == kind {
			return &r.sections[i]
		}
	}
	return nil
}

func TestImageRawAssemblyMatches(t *testing.T) {
	b := mustMarshal(t, goldenImage())
	if got := parseRaw(t, b).bytes(); !bytes.Equal(got, b) {
		t.Fatal("the test's own assembly of the golden image differs from the encoder's")
	}
}

func wantCorrupt(t *testing.T, b []byte, section, msg string) {
	t.Helper()
	img, err := DecodeImage(b)
	if err == nil {
		t.Fatalf("decoded %+v, want an error about %q", img, msg)
	}
	var ie *ImageError
	if !errors.As(err, &ie) || !errors.Is(err, ErrCorruptImage) {
		t.Fatalf("error %v (%T) is not an *ImageError matching ErrCorruptImage", err, err)
	}
	if ie.Section != section || !strings.Contains(err.Error(), msg) {
		t.Fatalf("error %q, want one in section %q containing %q", err, section, msg)
	}
}

func TestImageBitFlips(t *testing.T) {
	for _, img := range []*Image{goldenImage(), imgCompiled(t)} {
		b := mustMarshal(t, img)
		for i := range b {
			for bit := 0; bit < 8; bit++ {
				b[i] ^= 1 << bit
				_, err := DecodeImage(b)
				if err == nil {
					t.Fatalf("flipping bit %d of byte %d (of %d) goes unnoticed", bit, i, len(b))
				}
				if !errors.Is(err, ErrCorruptImage) && !errors.Is(err, ErrImageVersion) {
					t.Fatalf("flipping bit %d of byte %d: error %v is neither corrupt nor version", bit, i, err)
				}
				b[i] ^= 1 << bit
			}
		}
	}
}

func TestImageTruncated(t *testing.T) {
	b := mustMarshal(t, imgCompiled(t))
	for n := 0; n < len(b); n++ {
		if _, err := DecodeImage(b[:n]); !errors.Is(err, ErrCorruptImage) {
			t.Fatalf("image cut to %d of %d bytes: error %v, want ErrCorruptImage", n, len(b), err)
		}
	}
	wantCorrupt(t, append(b, 0), "header", "1 trailing bytes after the last section")
	wantCorrupt(t, []byte("GIF89a"), "header", "not an aerie configuration image")
}

func TestImageVersions(t *testing.T) {
	b := mustMarshal(t, goldenImage())
	for _, tc := range []struct {
		version, minReader uint16
		want               string
	}{
		{2, 2, "firmware: image: image version 2 needs aerie that reads version ≥ 2; this one reads 1…1"},
		{9, 3, "firmware: image: image version 9 needs aerie that reads version ≥ 3; this one reads 1…1"},
	} {
		raw := parseRaw(t, b)
		raw.version, raw.minReader = tc.version, tc.minReader
		_, err := DecodeImage(raw.bytes())
		var ve *VersionError
		if !errors.As(err, &ve) || !errors.Is(err, ErrImageVersion) || errors.Is(err, ErrCorruptImage) || err.Error() != tc.want {
			t.Errorf("version %d min reader %d: error %v, want %q", tc.version, tc.minReader, err, tc.want)
		}
	}
	raw := parseRaw(t, b)
	raw.version, raw.minReader = 0, 0
	wantCorrupt(t, raw.bytes(), "header", "minimum reader version 0 of a version 0 image")

	// a later version that a version 1 reader may read: its unknown
	// section is skipped
	raw = parseRaw(t, b)
	raw.version = 2
	raw.sections = append(raw.sections, rawSection{100, []byte("a section of version 2")})
	img, err := DecodeImage(raw.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if img.Version != 2 {
		t.Errorf("decoded version %d, want 2", img.Version)
	}
	checkSameImage(t, &Image{Version: 2, Chip: img.Chip, Fingerprint: img.Fingerprint, FingerprintVersion: img.FingerprintVersion,
		Program: goldenImage().Program, Placement: goldenImage().Placement, Provenance: goldenImage().Provenance}, img)
	if again := mustMarshal(t, img); !bytes.Equal(again, b) {
		t.Error("re-encoding a version 2 image does not give the version 1 encoding")
	}
	// in a version 1 image, an unknown kind is an error
	raw.version = 1
	wantCorrupt(t, raw.bytes(), "header", "unknown kind 100 (format version 1 has kinds 1…6)")
	// as are a missing section, flags, and sections out of order
	raw = parseRaw(t, b)
	raw.sections = raw.sections[1:]
	wantCorrupt(t, raw.bytes(), "header", "no cores section")
	raw = parseRaw(t, b)
	raw.flags = 4
	wantCorrupt(t, raw.bytes(), "header", "flags 0x4")
	raw = parseRaw(t, b)
	raw.sections[0], raw.sections[1] = raw.sections[1], raw.sections[0]
	wantCorrupt(t, raw.bytes(), "header", "section 1 has kind 1 after kind 2")
}

func TestImageSectionTable(t *testing.T) {
	b := mustMarshal(t, goldenImage())
	le := binary.LittleEndian
	n := int(le.Uint16(b[26:]))
	entry := 30 + n // first table entry
	fix := func(c []byte) []byte {
		k := int(le.Uint16(c[28+n:]))
		h := 30 + n + 24*k
		le.PutUint32(c[h:], crc32.Checksum(c[:h], castagnoli))
		return c
	}
	c := bytes.Clone(b)
	le.PutUint64(c[entry+4:], le.Uint64(c[entry+4:])+1) // cores starts one byte late: a gap
	wantCorrupt(t, fix(c), "header", "without gaps or overlaps")
	c = bytes.Clone(b)
	le.PutUint64(c[entry+24+4:], le.Uint64(c[entry+24+4:])-1) // escape overlaps cores
	wantCorrupt(t, fix(c), "header", "without gaps or overlaps")
	c = bytes.Clone(b)
	le.PutUint64(c[entry+12:], 1<<40) // cores runs past the end
	wantCorrupt(t, fix(c), "header", "run past the image's end")
	c = bytes.Clone(b)
	le.PutUint16(c[entry+2:], 1) // reserved
	wantCorrupt(t, fix(c), "header", "reserved field 0x1")
	c = bytes.Clone(b)
	c[len(c)-1] ^= 1 // the last byte of provenance
	wantCorrupt(t, c, "provenance", "crc32c")
	c = bytes.Clone(b)
	c[20] ^= 1 // the fingerprint
	wantCorrupt(t, c, "header", "header crc32c")
}

func TestImageCheckChip(t *testing.T) {
	img := imgCompiled(t)
	loihi, err := chip.Preset("loihi")
	if err != nil {
		t.Fatal(err)
	}
	err = img.CheckChip(loihi)
	var me *ChipMismatchError
	if !errors.As(err, &me) || !errors.Is(err, ErrChipMismatch) {
		t.Fatalf("CheckChip(loihi) = %v, want a *ChipMismatchError", err)
	}
	want := fmt.Sprintf(`firmware: image was compiled for chip "default" (fingerprint %016x), not for chip "loihi" (fingerprint %016x): recompile the network for loihi or run the image on default`,
		chip.Default().Fingerprint(), loihi.Fingerprint())
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	// the same name, another datapath
	c := chip.Default()
	c.Synapse.WeightBits = 7
	if err := img.CheckChip(c); err == nil || !strings.Contains(err.Error(), "the description changed") {
		t.Errorf("CheckChip(edited default) = %v", err)
	}
	// a renamed, re-costed description is the same chip
	c = chip.Default()
	c.Name, c.Cost.EnergyPJ.Synop = "mine", 1
	if err := img.CheckChip(c); err != nil {
		t.Errorf("CheckChip(renamed default) = %v", err)
	}
	// an older fingerprint version
	img.FingerprintVersion = 0
	if err := img.CheckChip(chip.Default()); err == nil || !strings.Contains(err.Error(), "carries a version 0 chip fingerprint; this aerie computes version 1") {
		t.Errorf("CheckChip with fingerprint version 0 = %v", err)
	}
	// a program that does not fit (forged fingerprint)
	img = goldenImage()
	img.Program.Cores[0].Axons[0].Synapses[1].Weight = 1000
	if err := img.CheckChip(chip.Default()); err == nil || !strings.Contains(err.Error(), "weight") {
		t.Errorf("CheckChip of an oversized weight = %v", err)
	}
}

// encodeUnchecked writes an image the encoder would refuse.
func encodeUnchecked(img *Image) []byte {
	lay, _ := img.layout(false)
	return img.appendLayout(nil, lay)
}

// TestImageInvalidReferences breaks one rule at a time: the encoder
// refuses the image and the decoder rejects the bytes, naming the problem.
func TestImageInvalidReferences(t *testing.T) {
	for _, tc := range []struct {
		name, section, msg string
		edit               func(img *Image)
	}{
		{"neuron profile", "cores", "neuron 1 of core 1: profile 3 ≥ 1 profiles", func(img *Image) { img.Program.Cores[1].Neurons[1].Profile = 3 }},
		{"out core", "cores", "neuron 0 of core 0: ref 0: core 2 ≥ 2 cores", func(img *Image) { img.Program.Cores[0].Neurons[0].Out[0].Core = 2 }},
		{"out axon", "cores", "neuron 1 of core 0: ref 1: axon 5 ≥ core 1's 2 axons", func(img *Image) { img.Program.Cores[0].Neurons[1].Out[1].Axon = 5 }},
		{"generator out", "cores", "generator 0 of core 0: ref 0: axon 1 ≥ core 0's 1 axons", func(img *Image) { img.Program.Cores[0].Generators[0].Out[0].Axon = 1 }},
		{"synapse neuron", "cores", "axon 1 of core 1: synapse 1: neuron 3 ≥ 3 neurons", func(img *Image) { img.Program.Cores[1].Axons[1].Synapses[1].Neuron = 3 }},
		{"input ref", "ports", "input port 0 (stim) channel 2: ref 1: axon 2 ≥ core 1's 2 axons", func(img *Image) { img.Program.Inputs[0].Channels[2][1].Axon = 2 }},
		{"output neuron", "ports", "output port 0 (out) channel 0: core 1 neuron 3 is not a neuron of the program", func(img *Image) { img.Program.Outputs[0].Neurons[0].Neuron = 3 }},
		{"output core", "ports", "channel 1: core 7 neuron 1 is not a neuron", func(img *Image) { img.Program.Outputs[0].Neurons[1].Core = 7 }},
		{"piece slots", "placement", "population 1 (b): piece 0: neuron slots 1…3 outside core 1's 3", func(img *Image) { img.Placement.Populations[1].Pieces[0].First = 1 }},
		{"piece generator slots", "placement", "population 2 (src): piece 1: generator slots 0…1 outside core 1's 1", func(img *Image) {
			img.Placement.Populations[2].Pieces[1].Count = 2
			img.Placement.Populations[2].Size = 3
		}},
		{"piece core", "placement", "piece 0: core 5 ≥ 2 cores", func(img *Image) { img.Placement.Populations[0].Pieces[0].Core = 5 }},
		{"piece overlap", "placement", "population 1 (b): piece 0: core 0 neuron slot 0 belongs to another piece", func(img *Image) {
			img.Placement.Populations[1].Pieces[0] = Piece{Core: 0, First: 0, Count: 1, Start: 0}
			img.Placement.Populations[1].Size = 1
		}},
		{"piece gap", "placement", "piece 1 starts at member 2, want 1", func(img *Image) {
			img.Placement.Populations[2].Pieces[1].Start = 2
		}},
		{"coverage", "placement", "population 1 (b): pieces cover 3 members of 4", func(img *Image) { img.Placement.Populations[1].Size = 4 }},
		{"empty piece", "placement", "piece 0 is empty", func(img *Image) { img.Placement.Populations[0].Pieces[0].Count = 0 }},
		{"synapse count", "placement", "6 synapses, the program holds 5", func(img *Image) { img.Placement.Synapses = 6 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := goldenImage()
			tc.edit(img)
			if _, err := img.MarshalBinary(); err == nil {
				t.Errorf("MarshalBinary accepted the image")
			}
			wantCorrupt(t, encodeUnchecked(img), tc.section, tc.msg)
		})
	}
	// names too long for the format
	img := goldenImage()
	img.Chip = strings.Repeat("x", 256)
	if _, err := img.MarshalBinary(); err == nil || !strings.Contains(err.Error(), "chip name of 256 bytes, at most 255") {
		t.Errorf("MarshalBinary with a 256-byte chip name = %v", err)
	}
	img = goldenImage()
	img.Provenance["big"] = strings.Repeat("x", 1<<16)
	if _, err := img.MarshalBinary(); err == nil {
		t.Error("MarshalBinary accepted a 64 KiB provenance value")
	}
}

// TestImageCanonical rejects bytes the encoder never writes, so that what
// decodes re-encodes identically.
func TestImageCanonical(t *testing.T) {
	b := mustMarshal(t, goldenImage())
	le := binary.LittleEndian
	edit := func(kind uint16, f func(body []byte) []byte) []byte {
		raw := parseRaw(t, b)
		s := raw.section(kind)
		s.body = f(bytes.Clone(s.body))
		return raw.bytes()
	}
	// a second copy of the escape table
	wantCorrupt(t, edit(kindEscape, func(body []byte) []byte {
		le.PutUint32(body, 2)
		return append(body, body[4:]...)
	}), "escape", "table 1 repeats table 0")
	// an escape table no profile uses
	wantCorrupt(t, edit(kindEscape, func(body []byte) []byte {
		le.PutUint32(body, 2)
		return append(body, 1, 0, 0, 0, 0, 0, 0, 0, 0)
	}), "cores", "the profiles use 1 of the 2 escape tables")
	// a source flag other than 0 or 1; provenance out of order
	raw := parseRaw(t, b)
	pl := raw.section(kindPlacement).body
	// population 0 starts after synapses, dropped and count (20 bytes):
	// name "a" (3 bytes), size (4), flags
	pl[20+3+4] = 2
	wantCorrupt(t, raw.bytes(), "placement", "population 0 (a): flags 0x2, want 0 or 1")
	wantCorrupt(t, edit(kindProvenance, func(body []byte) []byte {
		// swap the two entries
		k0 := 2 + int(le.Uint16(body[4:]))
		v0 := 2 + int(le.Uint16(body[4+k0:]))
		first := bytes.Clone(body[4 : 4+k0+v0])
		return append(append(body[:4:4], body[4+k0+v0:]...), first...)
	}), "provenance", "keys are sorted and distinct")
	wantCorrupt(t, edit(kindRouters, func(body []byte) []byte { return []byte{1, 0, 0, 0} }), "routers", "1 routing tables")
	wantCorrupt(t, edit(kindRouters, func(body []byte) []byte { return append(body, 0) }), "routers", "1 trailing bytes")
	wantCorrupt(t, edit(kindCores, func(body []byte) []byte { return append(body, 0, 0) }), "cores", "2 trailing bytes")
}

// TestImageHugeCounts: a count that the rest of the section cannot hold is
// refused before anything is allocated for it.
func TestImageHugeCounts(t *testing.T) {
	b := mustMarshal(t, goldenImage())
	le := binary.LittleEndian
	for _, tc := range []struct {
		name    string
		kind    uint16
		body    []byte
		section string
		msg     string
	}{
		{"cores", kindCores, le.AppendUint32(make([]byte, 8), math.MaxUint32), "cores", "4294967295 cores of ≥ 24 bytes need"},
		{"synapses", kindCores, func() []byte {
			c := le.AppendUint32(make([]byte, 8), 1)
			return append(c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0)
		}(), "cores", "core 0: 0 profiles, 0 neurons, 0 axons, 0 generators, 4294967295 synapses and 0 output refs need"},
		{"escape tables", kindEscape, le.AppendUint32(nil, math.MaxUint32), "escape", "4294967295 escape tables of ≥ 9 bytes need"},
		{"escape entries", kindEscape, le.AppendUint32(append(le.AppendUint32(nil, 1), 0, 0, 0, 0, 0), math.MaxUint32), "escape", "table 0: 4294967295 entries"},
		{"ports", kindPorts, le.AppendUint32(nil, math.MaxUint32), "ports", "4294967295 input ports"},
		{"channels", kindPorts, le.AppendUint32(append(le.AppendUint32(nil, 1), 0, 0), math.MaxUint32), "ports", "input port 0: 4294967295 channels"},
		{"populations", kindPlacement, le.AppendUint32(le.AppendUint64(le.AppendUint64(nil, 5), 1), math.MaxUint32), "placement", "4294967295 populations"},
		{"provenance", kindProvenance, le.AppendUint32(nil, math.MaxUint32), "provenance", "4294967295 provenance entries"},
		{"provenance cap", kindProvenance, append(le.AppendUint32(nil, 4097), make([]byte, 4*4097)...), "provenance", "4097 provenance entries, at most 4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := parseRaw(t, b)
			raw.section(tc.kind).body = tc.body
			img := raw.bytes()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			wantCorrupt(t, img, tc.section, tc.msg)
			runtime.ReadMemStats(&after)
			if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
				t.Errorf("decoding allocated %d bytes", got)
			}
		})
	}
}

func TestReadImage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "net.aerieimg")
	b := mustMarshal(t, goldenImage())
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := ReadImage(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSameImage(t, img, goldenImage())
	b[len(b)-1] ^= 1
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadImage(path)
	if !errors.Is(err, ErrCorruptImage) || !strings.HasPrefix(err.Error(), "firmware: image "+path+": provenance section: crc32c") {
		t.Errorf("ReadImage of a corrupt file: %v", err)
	}
	if _, err := ReadImage(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("ReadImage of a missing file: %v", err)
	}
}

func FuzzImage(f *testing.F) {
	golden := mustMarshal(f, goldenImage())
	f.Add(golden)
	f.Add(mustMarshal(f, imgCompiled(f)))
	f.Add(mustMarshal(f, &Image{Program: &chip.Program{}}))
	f.Add(golden[:len(golden)/2])
	f.Add([]byte("AERIEIMG"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzDecode(t, b)
		// most mutations break a CRC; with the CRCs made right again they
		// reach the section decoders
		if fixed := fixCRCs(b); fixed != nil {
			fuzzDecode(t, fixed)
		}
	})
}

func fuzzDecode(t *testing.T, b []byte) {
	img, err := DecodeImage(b)
	if err != nil {
		if !errors.Is(err, ErrCorruptImage) && !errors.Is(err, ErrImageVersion) {
			t.Fatalf("error %v (%T) is neither corrupt nor version", err, err)
		}
		return
	}
	again, err := img.MarshalBinary()
	if err != nil {
		t.Fatalf("a decoded image does not encode: %v", err)
	}
	if img.Version == currentVersion && !bytes.Equal(again, b) {
		t.Fatalf("decoded and re-encoded image differs from the input (%d vs %d bytes)", len(again), len(b))
	}
	_ = img.Stats()
	_ = img.CheckChip(chip.Default())
}

// fixCRCs returns a copy of b with every CRC of its section table and its
// header recomputed, or nil if the header cannot be read that far.
func fixCRCs(b []byte) []byte {
	le := binary.LittleEndian
	if len(b) < 28 {
		return nil
	}
	n := int(le.Uint16(b[26:]))
	if len(b) < 30+n {
		return nil
	}
	k := int(le.Uint16(b[28+n:]))
	h := 30 + n + 24*k
	if len(b) < h+4 {
		return nil
	}
	c := bytes.Clone(b)
	for i := 0; i < k; i++ {
		e := c[30+n+24*i:]
		off, length := le.Uint64(e[4:]), le.Uint64(e[12:])
		if off <= uint64(len(c)) && length <= uint64(len(c))-off {
			le.PutUint32(e[20:], crc32.Checksum(c[off:off+length], castagnoli))
		}
	}
	le.PutUint32(c[h:], crc32.Checksum(c[:h], castagnoli))
	return c
}

// bench network: 1000 → 1000 all to all on the loihi preset, 10⁶ synapses.
var benchImage = sync.OnceValues(func() (*Image, error) {
	const n = 1000
	conns := make([]Conn, 0, n*n)
	x := uint32(1)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			x = x*1664525 + 1013904223
			conns = append(conns, Conn{Pre: uint32(i), Post: uint32(j), Weight: int32(x>>24) - 128 | 1, Delay: uint8(x>>8) % 16})
		}
	}
	prof := chip.Profile{Du: [4]uint16{1024}, Dv: 256, Vth: 100}
	net := &Network{
		Populations: []Population{{Name: "pre", Size: n, Profile: prof}, {Name: "post", Size: n, Profile: prof}},
		Projections: []Projection{{Pre: 0, Post: 1, Conns: conns}},
		Provenance:  map[string]string{"benchmark": "1000 × 1000 all to all"},
	}
	cfg, err := chip.Preset("loihi")
	if err != nil {
		return nil, err
	}
	return NewImage(net, cfg)
})

func BenchmarkDecodeImage(b *testing.B) {
	img, err := benchImage()
	if err != nil {
		b.Fatal(err)
	}
	data := mustMarshal(b, img)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeImage(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(img.Placement.Synapses), "synapses")
}

func BenchmarkEncodeImage(b *testing.B) {
	img, err := benchImage()
	if err != nil {
		b.Fatal(err)
	}
	buf := mustMarshal(b, img)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if buf, err = img.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
